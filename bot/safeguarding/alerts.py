"""Make sure a person at the charity hears of every flag, and keep what they read up to date.

Flags are committed with the answer they came with; nothing is sent from inside that
transaction. This sweep sends what is waiting: new alerts, "I need help now", participants'
messages to staff, reminders of flags nobody reviewed, edits that show an outcome, and the
removal of words whose participant deleted their data. It runs straight after a commit
(`kick`), again a few seconds later while anything fails, and on a timer, so no Telegram error
(timeout, 5xx, 429, 400) can lose an alert: what did not go out is still waiting next time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

from telegram.error import TelegramError

from bot.clock import Clock
from bot.flows import FlowLibrary
from bot.safeguarding import alert_text
from bot.safeguarding.alert_text import FlagContext
from bot.safeguarding.recipients import Recipients
from bot.safeguarding.unstored import FlagSpool, Unstored, stored_note, unstored_alert
from bot.sender import Sender, Unreachable
from conversations.model import text_in
from conversations.render import Send, SettlePrompt
from storage.audit import Audit
from storage.repository import Repository, StorageUnavailable
from storage.safety import AlertPost, Flag, PostKind

log = logging.getLogger(__name__)
RETRY_SECONDS = 5.0
RETRIES = 12  # kicked sweeps after a failure; the timer carries on after that


class Alerts:
    """Send staff what they must know about flags; retried until it is through."""

    def __init__(
        self,
        repository: Repository,
        flows: FlowLibrary,
        sender: Sender,
        recipients: Recipients,
        spool: FlagSpool,
        clock: Clock,
        remind_after: timedelta = timedelta(hours=24),
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self.repository = repository
        self.flows = flows
        self.sender = sender
        self.recipients = recipients
        self.spool = spool
        self.clock = clock
        self.remind_after = remind_after
        self.retry_seconds = retry_seconds
        self._lock = asyncio.Lock()
        # Alerts from memory have their own lock: a sweep stuck on a locked database (its
        # writes wait for it) must not hold them up.
        self._memory = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._memory_tasks: set[asyncio.Task[bool]] = set()
        self._again = False

    def kick(self) -> None:
        """Send whatever is waiting now, without holding up the caller."""
        self._again = True
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._kicked())

    async def close(self) -> None:
        """Stop a kicked sweep (the timer's next one, or the next start, carries on)."""
        tasks: list[asyncio.Task[Any]] = [*self._memory_tasks]
        if self._task is not None:
            tasks.append(self._task)
        for task in tasks:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def hold(self, item: Unstored) -> None:
        """Keep words of risk the database refused, alert staff from memory, store them later."""
        self.spool.add(item)
        task = asyncio.get_running_loop().create_task(self._from_memory(item.ref))
        self._memory_tasks.add(task)
        task.add_done_callback(self._memory_tasks.discard)
        self.kick()

    async def _from_memory(self, ref: str) -> bool:
        """Alert staff about a flag the database does not have yet; say if someone was told."""
        async with self._memory:
            item = self.spool.get(ref)
            if item is None or item.alerted_at is not None:
                return True
            try:
                text = unstored_alert(item, self.spool.durable)
                posted = await self.recipients.post(text, from_memory=True)
            except TelegramError as error:
                log.warning("could not alert about %s from memory: %s; will retry", ref, error)
                return False
            for chat, message_id in posted:
                item = self.spool.alerted(item, self.clock.now(), chat, message_id)
            return bool(posted)

    async def _kicked(self) -> None:
        for _ in range(RETRIES):
            if not self._again:
                return
            self._again = False
            if not await self.sweep():
                self._again = True
                await asyncio.sleep(self.retry_seconds)

    async def sweep(self) -> bool:
        """Send everything waiting, once; say whether it all went through."""
        async with self._lock:
            done = True
            for step in (
                self._spooled,
                self._flags,
                self._relays,
                self._redactions,
                self._reminders,
            ):
                try:
                    done = await step() and done
                except (TelegramError, StorageUnavailable) as error:
                    log.warning("safeguarding sweep: %s; will try again", error)
                    done = False
                except Exception:
                    log.exception("safeguarding sweep failed; will try again")
                    done = False
            return done

    async def describe(self, flag: Flag, heading: str | None = None) -> str:
        """Describe a flag for staff, as it now stands."""
        return alert_text.alert(flag, await self._context(flag), heading=heading)

    async def _spooled(self) -> bool:
        """Alert from memory about flags not stored yet, and store them once the database can."""
        done = True
        for waiting in self.spool.items():
            done = await self._from_memory(waiting.ref) and done
            item = self.spool.get(waiting.ref)
            if item is not None:
                done = await self._store(item) and done
        return done

    async def _store(self, item: Unstored) -> bool:
        code = item.participant_code
        if code is None:
            contact = await self.repository.contact_for_user(item.user_id)
            if contact is None:
                log.warning(
                    "%s: its participant deleted their data before it was stored", item.ref
                )
                self.spool.remove(item.ref)
                return True
            code = contact.participant.code
        now = self.clock.now()
        flag = await self.repository.store_flag(item.flag(code), late=now)
        self.spool.remove(item.ref)
        for chat, message_id in item.posts:
            await self.repository.add_alert_post(flag.id, chat, message_id, "alert", now)
        try:
            for chat, message_id in item.posts:
                await self._post_to(chat, stored_note(item, flag.id), message_id, flag, "stored")
        except TelegramError as error:
            log.warning("could not say %s is stored as F-%s: %s", item.ref, flag.id, error)
        return True

    async def _flags(self) -> bool:
        done = True
        for flag in await self.repository.flags_to_tell():
            try:
                done = await self._tell(flag) and done
            except TelegramError as error:
                # One flag Telegram will not take now must not hold up the others.
                log.warning("could not tell staff about F-%s: %s; will try again", flag.id, error)
                done = False
        return done

    async def _tell(self, flag: Flag) -> bool:
        now = self.clock.now()
        if flag.alerted_at is None:
            posted = await self.recipients.post(await self.describe(flag))
            if not posted:
                log.error("F-%s: nobody could be alerted (no chat, no staff reachable)", flag.id)
                return False
            for chat, message_id in posted:
                await self.repository.add_alert_post(flag.id, chat, message_id, "alert", now)
            await self.repository.mark_alerted(flag.id, now)
            if flag.urgent_at is not None:
                await self.repository.mark_urgent_alerted(flag.id, now)
            if flag.alert_stale:
                await self.repository.mark_alert_current(flag.id)
            return True
        posts = await self.repository.alert_posts(flag.id)
        if flag.urgent_at is not None and flag.urgent_alerted_at is None:
            replies = {p.chat_id: p.message_id for p in posts if p.kind == "alert"}
            posted = await self.recipients.post(alert_text.urgent(flag), replies)
            if not posted:
                return False
            for chat, message_id in posted:
                await self.repository.add_alert_post(flag.id, chat, message_id, "urgent", now)
            await self.repository.mark_urgent_alerted(flag.id, now)
        if flag.alert_stale:
            text = await self.describe(flag)
            for post in posts:
                if post.kind == "alert":
                    await self._edit(post, text)
            await self.repository.mark_alert_current(flag.id)
        return True

    async def _relays(self) -> bool:
        for message in await self.repository.unrelayed():
            flag = await self.repository.flag(message.flag_id) if message.flag_id else None
            posts = await self.repository.alert_posts(flag.id) if flag else []
            replies = {p.chat_id: p.message_id for p in posts if p.kind == "alert"}
            posted = await self.recipients.post(alert_text.relayed(message), replies)
            if not posted:
                return False
            now = self.clock.now()
            for chat, message_id in posted:
                flag_id = flag.id if flag else None
                await self.repository.add_alert_post(flag_id, chat, message_id, "reply", now)
            audit = Audit("a participant", "replied to staff", message.participant_code, now)
            await self.repository.mark_relayed(message.id, audit)
        return True

    async def _redactions(self) -> bool:
        for post in await self.repository.posts_to_redact():
            try:
                gone = await self.sender.delete(post.chat_id, post.message_id)
                if not gone:
                    await self._edit(post, alert_text.removed(post.flag_id))
            except Unreachable:
                log.info("a post about F-%s is in a chat the bot has left", post.flag_id)
            await self.repository.mark_redacted(post.id)
        return True

    async def _reminders(self) -> bool:
        now = self.clock.now()
        for flag in await self.repository.flags():
            if flag.alerted_at is None:
                continue
            posts = await self.repository.alert_posts(flag.id)
            told = [p.posted_at for p in posts if p.kind in ("alert", "reminder")]
            last = max([flag.alerted_at, *told])
            if now - last < self.remind_after:
                continue
            replies = {p.chat_id: p.message_id for p in posts if p.kind == "alert"}
            text = await self.describe(flag, heading="Reminder: not reviewed yet.")
            posted = await self.recipients.post(text, replies)
            if not posted:
                return False
            for chat, message_id in posted:
                await self.repository.add_alert_post(flag.id, chat, message_id, "reminder", now)
        return True

    async def _post_to(
        self, chat: int, text: str, reply_to: int | None, flag: Flag, kind: PostKind
    ) -> None:
        message_id = await self.sender.deliver(
            chat, [Send(text, prompt=True, reply_to=reply_to)], None
        )
        if message_id is not None:
            await self.repository.add_alert_post(flag.id, chat, message_id, kind, self.clock.now())

    async def _edit(self, post: AlertPost, text: str) -> None:
        try:
            await self.sender.deliver(post.chat_id, [SettlePrompt(text)], post.message_id)
        except Unreachable:
            log.info("an alert about F-%s is in a chat the bot has left", post.flag_id)

    async def _context(self, flag: Flag) -> FlagContext:
        run = await self.repository.run(flag.run_id) if flag.run_id is not None else None
        if run is None:
            return FlagContext()
        flow = await self.flows.version(run.flow_id, run.flow_version)
        question = None
        if flow is not None and flag.step_id is not None and flow.has_step(flag.step_id):
            language = flow.default_language
            question = text_in(flow.step(flag.step_id).text, language, language)
        return FlagContext(f"{run.flow_id} (version {run.flow_version})", question)
