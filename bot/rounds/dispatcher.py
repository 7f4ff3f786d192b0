"""Send what the outbox says is due: one tick at a time, paced, at decent hours, exactly once.

The outbox is the source of truth; the tick only reads it. Each tick opens and closes rounds
whose time has come, then (outside quiet hours) claims due sends with a lease and sends them
through the pacer. A send is recorded as done straight after Telegram accepts it. If the
process dies between those two moments, the lease runs out and the send goes again: that one
send, the one in flight, is the only thing a crash can repeat, and nothing is ever lost.

Just before each send, inside the participant's chat lock, the row and the person are read
again: someone who said /stop, declined, finished or deleted their data a moment ago is
skipped, never messaged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from datetime import timedelta
from zoneinfo import ZoneInfo

from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

from bot.chat_locks import ChatLocks
from bot.clock import Clock
from bot.dispatch.pacing import SendPacer
from bot.dispatch.quiet_hours import QuietHours
from bot.rounds.messages import OutboxMessages
from bot.sender import Sender, Unreachable
from conversations.catalog import catalog
from conversations.render import Send, SettlePrompt
from storage.repository import Repository
from storage.rounds import OutboxItem, Round, SendTally

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 5
FIRST_BACKOFF = timedelta(seconds=30)
# Someone who answered this recently is busy with it: a reminder would only nag.
RECENTLY_ACTIVE = timedelta(hours=12)
IN_FLIGHT = 4
CLAIM_SECONDS = 5
# Errors Telegram gives for a chat that is gone for good.
GONE = ("chat not found", "user is deactivated", "bot was blocked", "peer_id_invalid")


class Dispatcher:
    """Claim due sends and deliver each one at most once per claim."""

    def __init__(
        self,
        repository: Repository,
        messages: OutboxMessages,
        sender: Sender,
        locks: ChatLocks,
        clock: Clock,
        zone: ZoneInfo,
        quiet: QuietHours | None,
        pacer: SendPacer,
        tick_seconds: float,
    ) -> None:
        self.repository = repository
        self.messages = messages
        self.sender = sender
        self.locks = locks
        self.clock = clock
        self.zone = zone
        self.quiet = quiet
        self.pacer = pacer
        self.tick_seconds = tick_seconds
        # A few seconds' worth of sends per claim: fewer claims, each of which ends with a
        # pause while its last sends finish, and still far less than a lease.
        self.batch = max(1, round(pacer.rate * CLAIM_SECONDS))
        self._shown: dict[int, SendTally] = {}

    async def tick(self) -> bool:
        """Open and close rounds on time, then send what is due (outside quiet hours).

        Returns whether sends may still be due: the tick stops claiming after its length, so
        opening and closing rounds is never held up by a long send, and the next tick should
        follow at once.
        """
        now = self.clock.now()
        for opened in await self.repository.open_due_rounds(now):
            log.info("round R%s opened", opened.id)
        for closed in await self.repository.close_due_rounds(now):
            log.info("round R%s closed", closed.id)
        if self.quiet is not None and self.quiet.is_quiet(now, self.zone):
            return False
        deadline = time.monotonic() + self.tick_seconds
        more = True
        while more and time.monotonic() < deadline:
            now = self.clock.now()
            items = await self.repository.claim_due(now, now + LEASE, self.batch)
            more = len(items) == self.batch
            limit = asyncio.Semaphore(IN_FLIGHT)
            # One read per round per claim, not one per send: a round ended since is caught by
            # the fresh read of each row, as ending a round skips its claimed invitations.
            ids = {item.round_id for item in items if item.round_id is not None}
            rounds = {round_id: await self.repository.round(round_id) for round_id in ids}
            await asyncio.gather(*(self._send(item, limit, rounds) for item in items))
            if items:
                await self._show_progress()
        return more

    async def _send(
        self, item: OutboxItem, limit: asyncio.Semaphore, rounds: Mapping[int, Round | None]
    ) -> None:
        """Send one claimed row if it is still wanted, and record how it went."""
        try:
            async with limit:
                await self._send_one(item, rounds)
        except Exception:
            # One bad row must not stop the others; its lease brings it back.
            log.exception("a scheduled send failed unexpectedly; it will be retried")

    async def _send_one(self, item: OutboxItem, rounds: Mapping[int, Round | None]) -> None:
        """Wait for a turn, then deliver the row as it is now, inside the chat's lock."""
        await self.pacer.wait_turn(item.chat_id)
        async with self.locks.hold(item.chat_id):
            fresh = await self.repository.outbox_item(item.id)
            if fresh is None or fresh.status != "claimed":
                return  # deleted, stopped or declined since it was claimed
            await self._deliver(fresh, rounds)

    async def _deliver(self, item: OutboxItem, rounds: Mapping[int, Round | None]) -> None:
        found = rounds.get(item.round_id) if item.round_id else None
        reason = await self._unwanted(item, found)
        if reason is not None:
            await self.repository.give_up(item.id, "skipped", reason)
            return
        composed = await self.messages.compose(item, found)
        if composed is None:
            await self.repository.give_up(item.id, "skipped", "nothing to send")
            return
        try:
            await self.sender.deliver(item.chat_id, composed.messages, composed.prompt_id)
        except Unreachable:
            await self.repository.mark_unreachable(item.participant_code)
            await self.repository.give_up(item.id, "failed", "unreachable")
            log.info("a participant is unreachable; nothing more is sent to them")
            return
        except RetryAfter as error:
            wait = _seconds(error.retry_after)
            self.pacer.pause_all(wait)
            due = self.clock.now() + timedelta(seconds=wait)
            await self.repository.retry_later(item.id, due, f"Telegram asked to wait {wait:g}s")
            return
        except BadRequest as error:
            if any(gone in str(error).lower() for gone in GONE):
                await self.repository.mark_unreachable(item.participant_code)
            await self.repository.give_up(item.id, "failed", f"refused: {error}")
            return
        except (NetworkError, TelegramError) as error:
            await self._back_off(item, error)
            return
        await self.repository.mark_sent(item.id, self.clock.now())

    async def _back_off(self, item: OutboxItem, error: TelegramError) -> None:
        """Try again later, waiting longer each time; after the last try, count it failed."""
        if item.attempts >= MAX_ATTEMPTS:
            await self.repository.give_up(item.id, "failed", f"network: {error}")
            log.warning("a scheduled send failed %d times: %s", item.attempts, error)
            return
        due = self.clock.now() + FIRST_BACKOFF * 2 ** (item.attempts - 1)
        await self.repository.retry_later(item.id, due, f"network: {error}")

    async def _unwanted(self, item: OutboxItem, found: Round | None) -> str | None:
        """Say why a send is no longer wanted, or None if it should go."""
        if item.participant_status != "active":
            return item.participant_status
        if item.kind != "closed" and not item.contact_ok:
            return "no messages wanted"
        if item.kind in ("closed", "follow_up"):
            run = await self.repository.run(item.run_id) if item.run_id else None
            if item.kind == "closed":
                return "finished" if run is None or run.status == "completed" else None
            return None if run is not None and run.status == "completed" else "not finished"
        if item.kind == "feedback" or found is None:
            return None
        if found.status != "open" or self.clock.now() >= found.closes_at:
            return f"round {found.status}"
        if item.kind == "reminder":
            return await self._reminder_unwanted(item, found)
        return None

    async def _reminder_unwanted(self, item: OutboxItem, found: Round) -> str | None:
        if await self.repository.has_declined(item.participant_code, found.id):
            return "declined"
        run_id = await self.repository.round_run_id(item.participant_code, found.id)
        run = await self.repository.run(run_id) if run_id is not None else None
        if run is None:
            return None
        if run.status == "completed":
            return "finished"
        if self.clock.now() - run.updated_at < RECENTLY_ACTIVE:
            return "answered recently"
        return None

    async def _show_progress(self) -> None:
        """Keep each coordinator's progress message up to date while invitations go out."""
        for found in await self.repository.rounds():
            if found.notify_chat is None or found.status != "open":
                continue
            tally = await self.repository.send_tally(found.id, "invitation")
            if tally.total == 0 or self._shown.get(found.id) == tally:
                continue
            self._shown[found.id] = tally
            words = catalog("en")
            key = "round_progress_done" if tally.done else "round_progress"
            text = words(
                key,
                id=found.id,
                title=found.title,
                sent=f"{tally.sent:,}",
                total=f"{tally.total:,}",
                failed=f"{tally.failed:,}",
                skipped=f"{tally.skipped:,}",
            )
            try:
                if found.progress_message_id is None:
                    message_id = await self.sender.deliver(
                        found.notify_chat, [Send(text, prompt=True)], None
                    )
                    await self.repository.set_progress_message(found.id, message_id)
                else:
                    await self.sender.deliver(
                        found.notify_chat, [SettlePrompt(text)], found.progress_message_id
                    )
            except (TelegramError, Unreachable) as error:
                log.info("could not update a coordinator's progress message: %s", error)


def _seconds(value: float | timedelta) -> float:
    """Return Telegram's retry_after in seconds, whichever way the library gives it."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
