"""The retention purge: delete what is older than HEARD_RETENTION_DAYS, and audit the counts."""

from __future__ import annotations

import logging

from bot.clock import Clock
from bot.settings import Settings
from storage.audit import Audit
from storage.repository import Purged, Repository

log = logging.getLogger("heard")


async def purge_expired(
    repository: Repository, settings: Settings, clock: Clock, actor: str, dry_run: bool = False
) -> Purged:
    """Delete what is older than HEARD_RETENTION_DAYS, and audit the counts."""
    now, days = clock.now(), settings.heard_retention_days

    def entry(purged: Purged) -> Audit:
        return Audit(actor, "purge", _detail(purged, days), now)

    purged = await repository.purge(now, days, dry_run=dry_run, audit=entry)
    if not dry_run:
        log.info("retention purge %s", _detail(purged, days))
    return purged


def _detail(purged: Purged, days: int) -> str:
    return (
        f"older than {days} days: runs {purged.runs}, "
        f"answers {purged.answers}, participants {purged.participants}"
    )
