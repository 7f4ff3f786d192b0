"""One bot per database: `heard run` holds a lock beside the database while it runs.

Two bots on one database send everything twice and split Telegram's updates between them. The
lock is `flock` on `HEARD_DATABASE.lock`, which also holds the process id of the bot holding
it; the operating system lets the lock go when that process ends, however it ends (SIGKILL
too), so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from storage.private_files import tighten


class InstanceLocked(Exception):
    """Another process holds the lock; `pid` says which, if it could be read."""

    def __init__(self, database: Path, pid: int | None) -> None:
        self.pid = pid
        who = f"process {pid}" if pid is not None else "another process"
        super().__init__(
            f"HEARD_DATABASE: {database} is in use by another heard run ({who}); one bot per "
            "database: stop that one first"
        )


class InstanceLock:
    """The lock, while held; `release` lets it go."""

    def __init__(self, descriptor: int, path: Path) -> None:
        self._descriptor: int | None = descriptor
        self.path = path

    @classmethod
    def take(cls, database: Path) -> InstanceLock:
        """Take the lock for a database, or raise InstanceLocked naming who holds it."""
        path = database.with_name(database.name + ".lock")
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        tighten(descriptor)  # a lock file an older version made 0644
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            written = os.pread(descriptor, 32, 0).decode("ascii", "replace").strip()
            os.close(descriptor)
            raise InstanceLocked(database, int(written) if written.isdigit() else None) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode("ascii"), 0)
        return cls(descriptor, path)

    def release(self) -> None:
        """Let the lock go (the file stays: removing it could let two bots in at once)."""
        if self._descriptor is None:
            return
        os.ftruncate(self._descriptor, 0)
        fcntl.flock(self._descriptor, fcntl.LOCK_UN)
        os.close(self._descriptor)
        self._descriptor = None
