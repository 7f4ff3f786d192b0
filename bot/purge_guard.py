"""The daily purge, guarded: held when the clock looks wrong or it would delete too much.

With the clock three years ahead, an unguarded purge deletes every participant and answer as
"routine". So the daily job first counts what it would delete, and holds back (deleting
nothing, auditing why, telling the admins) when the clock is behind the newest stored data,
when nothing at all seems written for longer than the retention period, or when more than a
quarter of all conversations would go at once. A held purge waits for a person: `heard purge`
shows what would go, and `heard purge --yes` deletes it, which also ends the hold.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from bot.admin_notice import Notice
from bot.clock import Clock
from bot.retention import purge_expired
from bot.settings import Settings
from bot.startup_checks import CLOCK_SLACK
from conversations.catalog import catalog
from storage.repository import Purged, Repository
from storage.vitals import Activity

log = logging.getLogger("heard")
HELD = "purge held"
DONE = "purge"  # what purge_expired audits: a purge that was done ends a hold
MOST = 0.25  # more than this share of all runs at once is held
FEW = 3  # a purge of this many runs or fewer is never held for its size


def hold_reason(preview: Purged, activity: Activity, now: datetime, days: int) -> str | None:
    """Return why a purge of `preview` should wait for a person, or None if it can go ahead."""
    if preview.runs == 0 and preview.participants == 0:
        return None  # nothing would be deleted: nothing to hold back
    newest = activity.newest
    if newest is not None and now < newest - CLOCK_SLACK:
        return f"the clock ({_shown(now)}) is behind the newest stored data ({_shown(newest)})"
    if newest is not None and now - newest > timedelta(days=days):
        return (
            f"by the clock ({_shown(now)}) nothing has been written for "
            f"{(now - newest).days} days, longer than HEARD_RETENTION_DAYS ({days}): "
            "the clock may be wrong"
        )
    if preview.runs > FEW and preview.runs > activity.runs * MOST:
        return (
            f"it would delete {preview.runs} of the {activity.runs} conversations at once, "
            "more than a quarter"
        )
    return None


class PurgeGuard:
    """Run the daily retention purge, or hold it and tell the admins why."""

    def __init__(
        self, repository: Repository, settings: Settings, clock: Clock, notice: Notice
    ) -> None:
        self.repository = repository
        self.settings = settings
        self.clock = clock
        self.notice = notice

    async def daily(self) -> Purged | None:
        """Purge what is past retention, unless held; return what was deleted (None: held)."""
        last = await self.repository.latest_audit((HELD, DONE))
        if last is not None and last.action == HELD:
            log.warning(
                "the retention purge is held since %s (%s): `heard purge --yes` ends the hold",
                _shown(last.at),
                last.detail,
            )
            return None
        now = self.clock.now()
        days = self.settings.heard_retention_days
        preview = await self.repository.purge(now, days, dry_run=True)
        reason = hold_reason(preview, await self.repository.activity(), now, days)
        if reason is None:
            return await purge_expired(self.repository, self.settings, self.clock, "daily job")
        counts = (
            f"runs {preview.runs}, answers {preview.answers}, participants {preview.participants}"
        )
        await self.repository.audit("daily job", HELD, f"{reason}; would delete {counts}", now)
        log.warning("retention purge held, nothing deleted: %s; would delete %s", reason, counts)
        words = catalog("en")
        await self.notice.tell(
            words(
                "purge_held",
                reason=reason,
                runs=preview.runs,
                answers=preview.answers,
                participants=preview.participants,
            )
        )
        return None


def _shown(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
