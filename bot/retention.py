"""The retention purge: delete what is older than HEARD_RETENTION_DAYS, and audit the counts."""

from __future__ import annotations

import logging

from bot.clock import Clock
from bot.settings import Settings
from storage.repository import Purged, Repository

log = logging.getLogger("heard")


async def purge_expired(
    repository: Repository, settings: Settings, clock: Clock, actor: str, dry_run: bool = False
) -> Purged:
    """Delete what is older than HEARD_RETENTION_DAYS, and audit the counts."""
    purged = await repository.purge(clock.now(), settings.heard_retention_days, dry_run=dry_run)
    if not dry_run:
        detail = (
            f"older than {settings.heard_retention_days} days: runs {purged.runs}, "
            f"answers {purged.answers}, participants {purged.participants}"
        )
        await repository.audit(actor, "purge", detail, clock.now())
        log.info("retention purge %s", detail)
    return purged
