"""Daily backups into HEARD_BACKUP_DIR, keeping the newest HEARD_BACKUP_KEEP of them.

Each is a `heard backup` (consistent while the bot writes, verified, owner-only), named by its
UTC time so names sort as times do. Older ones are removed only after a new one is verified,
and only files named as these backups are, so a failing backup never costs a good one. A
failure is logged and told to the admins; the bot goes on.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC
from pathlib import Path

from bot.admin_notice import Notice
from bot.backup import Backup, BackupError, take_backup
from bot.clock import Clock
from conversations.catalog import catalog
from storage.private_files import database_files
from storage.repository import Repository, StorageUnavailable

log = logging.getLogger("heard")
NAMED = re.compile(r"^heard-\d{8}-\d{6}\.db$")


def backup_name(stamp: str) -> str:
    """Return the file name of a scheduled backup taken at `stamp` (YYYYmmdd-HHMMSS, UTC)."""
    return f"heard-{stamp}.db"


class ScheduledBackups:
    """Take one backup now, remove the oldest beyond the number to keep, audit, or tell."""

    def __init__(
        self,
        database: Path,
        folder: Path,
        keep: int,
        repository: Repository,
        clock: Clock,
        notice: Notice,
    ) -> None:
        self.database = database
        self.folder = folder
        self.keep = keep
        self.repository = repository
        self.clock = clock
        self.notice = notice

    async def take(self) -> Backup | None:
        """Take today's backup and prune old ones; on failure log, tell the admins, go on."""
        now = self.clock.now()
        target = self.folder / backup_name(now.astimezone(UTC).strftime("%Y%m%d-%H%M%S"))
        try:
            made = await asyncio.to_thread(take_backup, self.database, target)
            removed = await asyncio.to_thread(self.prune)
        except (BackupError, OSError) as error:
            await self._failed(str(error))
            return None
        rows = sum(made.tables.values())
        detail = (
            f"to {made.path}: {len(made.tables)} tables, {rows} rows; "
            f"kept the newest {self.keep}, removed {len(removed)}"
        )
        try:
            await self.repository.audit("daily job", "backup", detail, now)
        except StorageUnavailable as error:
            log.warning("the backup was taken, but not audited: %s", error)
        log.info("scheduled backup %s", detail)
        return made

    def prune(self) -> list[Path]:
        """Remove scheduled backups beyond the newest `keep`; return those removed."""
        own = database_files(self.database)
        found = sorted(
            path
            for path in self.folder.iterdir()
            if NAMED.match(path.name) and path.is_file() and path.resolve() not in own
        )
        old = found[: max(0, len(found) - self.keep)]
        for path in old:
            path.unlink()
        return old

    async def _failed(self, error: str) -> None:
        log.error("scheduled backup failed: %s", error)
        try:
            await self.repository.audit("daily job", "backup failed", error, self.clock.now())
        except StorageUnavailable as unavailable:
            log.warning("the failed backup could not be audited: %s", unavailable)
        await self.notice.tell(catalog("en")("backup_failed", error=error, folder=self.folder))
