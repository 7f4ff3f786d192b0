"""`heard purge [--yes]`: say what the retention purge would delete, and delete it with --yes.

The daily purge holds itself back when the clock looks wrong or it would delete too much
(bot/purge_guard.py); this is how a person looks, decides, and ends the hold.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from collections.abc import Callable

from bot.clock import SystemClock
from bot.purge_guard import DONE, HELD, hold_reason
from bot.retention import purge_expired
from bot.settings import Settings
from storage.sqlite import SQLiteRepository


def add_parser(new_command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add `heard purge` to the `heard` command."""
    purge = new_command(
        "purge",
        help="delete answers older than HEARD_RETENTION_DAYS (with --yes)",
        description="Say how many conversations last touched more than HEARD_RETENTION_DAYS "
        "ago would be deleted, with their answers and people left with nothing, and whether "
        "that looks wrong; with --yes, delete them and audit the counts (this also ends a "
        "hold on the daily purge). The running bot purges once a day by itself, unless the "
        "clock looks wrong or it would delete more than a quarter of all conversations.",
    )
    purge.add_argument("--yes", action="store_true", help="delete them (without: only count)")
    purge.add_argument(
        "--dry-run", action="store_true", help="only count, even with --yes (the default)"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run `heard purge` with parsed arguments."""
    database = settings.heard_database
    if not database.exists():
        print(f"heard: HEARD_DATABASE: there is no database at {database}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(purge(settings, args.yes and not args.dry_run))
    except sqlite3.DatabaseError as error:
        print(f"heard: HEARD_DATABASE: cannot read {database}: {error}", file=sys.stderr)
        return 2


async def purge(settings: Settings, yes: bool) -> int:
    """Print what is past retention; delete it (audited) only if `yes`."""
    clock = SystemClock()
    days = settings.heard_retention_days
    repository = await SQLiteRepository.open(settings.heard_database)
    try:
        found = await purge_expired(repository, settings, clock, "heard purge", not yes)
        reason = hold_reason(found, await repository.activity(), clock.now(), days)
        last = await repository.latest_audit((HELD, DONE))
    finally:
        await repository.close()
    counts = (
        f"{found.runs} conversation(s), {found.answers} answer(s) and "
        f"{found.participants} participant(s) older than {days} days"
    )
    if yes:
        print(f"deleted {counts}")
        return 0
    print(f"would delete {counts}")
    if last is not None and last.action == HELD:
        print(f"the daily purge is held since {last.at:%Y-%m-%d %H:%M}: {last.detail}")
    elif reason is not None:
        print(f"the daily purge would hold back: {reason}")
    print("nothing was deleted: check the clock, then run `heard purge --yes` to delete them")
    return 0
