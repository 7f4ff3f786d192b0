"""Codes that name people in the audit log without their Telegram id: S-7KQ2MX.

A refused attempt must say who tried, also when it is someone whose role was revoked (no
longer staff, not a participant either). The code is a keyed hash of the Telegram user id:
the same person always gets the same code, the grant and revoke entries carry it too (so an
admin can tell who it was), and without the key, kept beside the database readable by its
owner only, nobody can get from a code back to the Telegram id.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

# The participant codes' alphabet: no 0/O, 1/I/L or U, easy to read out.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 6
KEY_BYTES = 32


class StaffCodeError(Exception):
    """The key file cannot be read or made; the message names it."""


def key_path(database: Path) -> Path:
    """Return where the key lives: beside the database."""
    return database.with_name(database.name + ".key")


class StaffCodes:
    """Turn Telegram user ids into stable codes with a secret key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def beside(cls, database: Path) -> StaffCodes:
        """Read the key beside the database, making it (owner-only) the first time."""
        path = key_path(database)
        try:
            return cls(_read_or_make(path))
        except OSError as error:
            reason = error.strerror or str(error)
            raise StaffCodeError(f"cannot read or make the audit key {path}: {reason}") from None

    @classmethod
    def ephemeral(cls) -> StaffCodes:
        """Return codes that hold for this process only (a key kept nowhere)."""
        return cls(secrets.token_bytes(KEY_BYTES))

    def code(self, user_id: int) -> str:
        """Return the code of a Telegram user."""
        digest = hmac.new(self._key, str(user_id).encode(), hashlib.sha256).digest()
        number = int.from_bytes(digest[:8], "big")
        letters = []
        for _ in range(LENGTH):
            number, index = divmod(number, len(ALPHABET))
            letters.append(ALPHABET[index])
        return "S-" + "".join(letters)


def _read_or_make(path: Path) -> bytes:
    """Return the key in `path`, first writing a new one there if there is none."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        descriptor = None
    if descriptor is None:
        key = path.read_bytes()
        if len(key) < KEY_BYTES:
            raise OSError(0, f"shorter than {KEY_BYTES} bytes (delete it to make a new one)")
        return key
    key = secrets.token_bytes(KEY_BYTES)
    with os.fdopen(descriptor, "wb") as out:
        out.write(key)
        out.flush()
        os.fsync(out.fileno())
    return key
