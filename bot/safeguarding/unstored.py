"""Words of risk the database could not take yet: kept in memory and in a small spool file.

When a write fails (the database locked by another program, the disk full), the person still
gets the urgent support lines and staff are still alerted, from here; the flag is stored as
soon as the database takes writes again. The spool file sits beside the database, readable by
its owner only, and goes when the last entry is stored, so a restart loses nothing either. If
even the spool file cannot be written (the same full disk), the entry lives in memory and the
alert says so.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from storage.private_files import create_private
from storage.safety import FlagSource, NewFlag

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Unstored:
    """A flag waiting for the database, with what staff were told of it."""

    ref: str
    user_id: int
    participant_code: str | None
    run_id: int | None
    step_id: str | None
    conversation: str
    phrase: str
    text: str
    source: FlagSource
    written_at: datetime
    problem: str
    alerted_at: datetime | None = None
    # (chat id, message id) of each alert posted about it from memory.
    posts: tuple[tuple[int, int], ...] = field(default=())

    def flag(self, participant_code: str) -> NewFlag:
        """Return the flag to store for it, once the participant's code is known."""
        return NewFlag(
            participant_code,
            self.run_id,
            self.step_id,
            self.phrase,
            self.text,
            self.written_at,
            self.source,
            self.alerted_at,
        )


def new_ref() -> str:
    """Return a short reference for an alert not stored yet, such as U-3F9A2C."""
    return "U-" + secrets.token_hex(3).upper()


def unstored_alert(item: Unstored, durable: bool) -> str:
    """Describe words of risk that could not be stored yet, for staff."""
    kept = (
        "It is kept in a file beside the database"
        if durable
        else "It is kept only in the bot's memory (the spool file could not be written either)"
    )
    code = item.participant_code or "not known yet (the database is not answering)"
    said = (
        "They pressed “I need help now”."
        if item.source == "help_button"
        else f"Matched: {item.phrase}\nThey wrote: {item.text[:1500]}"
    )
    return (
        f"URGENT: safeguarding alert {item.ref}, NOT STORED YET\n"
        f"Participant: {code}\n"
        f"Conversation: {item.conversation}\n"
        f"{said}\n"
        f"Time: {item.written_at.strftime('%Y-%m-%d %H:%M UTC')}\n\n"
        "They were shown urgent support lines (999, A&E and crisis lines).\n"
        f"Heard could not store this: {item.problem}. {kept}, and it will be stored as a "
        "flag as soon as the database takes writes again; a reply to this message will give "
        "its flag number."
    )


def stored_note(item: Unstored, flag_id: int) -> str:
    """Say that an alert sent from memory is now a stored flag."""
    return f"{item.ref} is now stored as F-{flag_id}. Record an outcome with /flags."


class FlagSpool:
    """Flags waiting for the database, in memory and (where it can be written) on disk."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._items: dict[str, Unstored] = {}
        self.durable = path is not None
        if path is not None and path.exists():
            self._load(path)

    def __len__(self) -> int:
        return len(self._items)

    def get(self, ref: str) -> Unstored | None:
        """Return a waiting flag by its reference, if it still waits."""
        return self._items.get(ref)

    def items(self) -> list[Unstored]:
        """Return the waiting flags, oldest first."""
        return sorted(self._items.values(), key=lambda item: item.written_at)

    def add(self, item: Unstored) -> None:
        """Keep a flag until the database takes it."""
        self._items[item.ref] = item
        self._write()

    def update(self, item: Unstored) -> None:
        """Replace a waiting flag (once staff were told of it)."""
        if item.ref in self._items:
            self._items[item.ref] = item
            self._write()

    def alerted(self, item: Unstored, at: datetime, chat_id: int, message_id: int) -> Unstored:
        """Note an alert posted about a waiting flag; return it as now kept."""
        done = replace(
            item, alerted_at=item.alerted_at or at, posts=(*item.posts, (chat_id, message_id))
        )
        self.update(done)
        return done

    def remove(self, ref: str) -> None:
        """Forget a flag the database now holds."""
        if self._items.pop(ref, None) is not None:
            self._write()

    def _write(self) -> None:
        """Write every waiting flag to the spool file (or remove it when none is left)."""
        if self.path is None:
            return
        try:
            if not self._items:
                self.path.unlink(missing_ok=True)
                return
            spare = self.path.with_name(self.path.name + ".new")
            lines = "".join(json.dumps(_json(item)) + "\n" for item in self.items())
            with create_private(spare).open("w", encoding="utf-8") as out:
                out.write(lines)
                out.flush()
                os.fsync(out.fileno())
            os.replace(spare, self.path)
            self.durable = True
        except OSError as error:
            # The disk that refused the database may refuse this too: memory must do.
            self.durable = False
            log.error("could not write the safeguarding spool %s: %s", self.path, error)

    def _load(self, path: Path) -> None:
        try:
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    item = _item(json.loads(line))
                    self._items[item.ref] = item
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.error("could not read the safeguarding spool %s: %s", path, error)
        if self._items:
            log.warning("%d safeguarding flag(s) waiting in %s", len(self._items), path)


def _json(item: Unstored) -> dict[str, Any]:
    data = asdict(item)
    data["written_at"] = item.written_at.isoformat()
    data["alerted_at"] = item.alerted_at.isoformat() if item.alerted_at else None
    data["posts"] = [list(post) for post in item.posts]
    return data


def _item(data: dict[str, Any]) -> Unstored:
    data = dict(data)
    data["written_at"] = datetime.fromisoformat(data["written_at"])
    data["alerted_at"] = datetime.fromisoformat(data["alerted_at"]) if data["alerted_at"] else None
    data["posts"] = tuple((int(chat), int(message)) for chat, message in data["posts"])
    return Unstored(**data)
