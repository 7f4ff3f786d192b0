"""Take what a flooded chat sends beyond its backlog: keep the words, ask once to wait.

The update processor hands an update here when its chat already has a full backlog
(`bot.processor.BACKLOG_LIMIT`). Words of risk (screening's `flag`) and commands (/help,
/stop...) go back to be handled as usual, in their place in line: someone in distress is never
answered with "please wait" alone, and a stop is never dropped. Other words from a participant
are kept (`kept_messages`, why 'flood'), never lost; a stranger's are not, as they never agreed
to anything being kept. A `concern` is kept like them: it is not urgent, and a flood is when a
chat must not take more of the bot than its turn (the "please wait" says to send /help for
help now). A button press stops its spinner and is dropped (pressed again once the chat has
caught up, it works); stickers and the like are dropped. The chat is told once per flood, which
lasts until its backlog has drained.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from telegram import Message, MessageEntity, Update, User
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot.clock import Clock
from bot.safeguarding.verdicts import Screening, Verdict
from bot.sender import Sender, Unreachable
from conversations.catalog import BASE_LANGUAGE, catalog, languages
from conversations.render import Send
from storage.repository import Repository
from storage.safety import KeptMessage

log = logging.getLogger(__name__)

Screen = Callable[[str], Screening]


@dataclass
class _Batch:
    """Words from one chat kept in one transaction, and whether they were."""

    kept: list[KeptMessage]
    done: asyncio.Future[bool] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class FloodGuard:
    """The processor's `on_backlog` hook (module docstring); `drained` ends a flood."""

    def __init__(
        self, repository: Repository, sender: Sender, clock: Clock, screen: Screen
    ) -> None:
        self.repository = repository
        self.sender = sender
        self.clock = clock
        self.screen = screen
        self._batches: dict[int, _Batch] = {}
        self._told: set[int] = set()

    async def absorb(self, update: object) -> bool:
        """Take an update its chat's backlog has no room for; False: handle it as usual."""
        if not isinstance(update, Update):
            return False
        if update.callback_query is not None:
            await self._stop_spinner(update.callback_query.id)
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None or chat.type != ChatType.PRIVATE or user.is_bot:
            return True  # groups and channels are told nothing, as they are asked nothing
        message = update.message or update.edited_message
        words = (message.text or message.caption) if message is not None else None
        if words and (self.screen(words).verdict is Verdict.FLAG or _command(update.message)):
            return False
        if words and update.message is not None:
            kept = KeptMessage(words, "flood", update.message.date)
            if not await self._keep(chat.id, user.id, kept):
                return False  # not kept (storage failing): handled as usual, never lost
        await self._ask_to_wait(chat.id, user)
        return True

    def drained(self, chat_id: int) -> None:
        """End a chat's flood: the next one is told to wait again."""
        self._told.discard(chat_id)

    async def _keep(self, chat_id: int, user_id: int, kept: KeptMessage) -> bool:
        """Keep a participant's words, with the chat's others that come meanwhile; say if kept.

        Hundreds come at once in a flood: the first of a batch reads who wrote them and, while
        it waits, the rest join it, so they are stored in one commit rather than one each.
        """
        batch = self._batches.get(chat_id)
        if batch is not None:
            batch.kept.append(kept)
            return await asyncio.shield(batch.done)
        batch = _Batch([kept])
        self._batches[chat_id] = batch
        stored = False
        try:
            contact, run = await self.repository.contact_and_run(user_id)
            self._close(chat_id, batch)  # what comes now is for the next batch
            if contact is not None:  # a stranger's words are not kept: they never agreed
                code, run_id = contact.participant.code, run.id if run else None
                await self.repository.keep_messages(code, run_id, batch.kept, self.clock.now())
            stored = True
        except Exception:
            count = len(batch.kept)
            log.exception("could not keep %d flood message(s); handled as usual instead", count)
        finally:
            self._close(chat_id, batch)
            batch.done.set_result(stored)
        return stored

    def _close(self, chat_id: int, batch: _Batch) -> None:
        if self._batches.get(chat_id) is batch:
            del self._batches[chat_id]

    async def _stop_spinner(self, query_id: str) -> None:
        try:
            await self.sender.answer_button(query_id)
        except (TelegramError, Unreachable) as error:
            log.info("could not answer a button pressed in a flood: %s", error)

    async def _ask_to_wait(self, chat_id: int, user: User) -> None:
        """Tell the chat, once a flood, that its earlier messages come first."""
        if chat_id in self._told:
            return
        self._told.add(chat_id)
        try:
            contact = await self.repository.contact_for_user(user.id)
            language = contact.participant.language if contact else _language(user)
            text = catalog(language)("flood_wait" if contact else "flood_wait_stranger")
            await self.sender.deliver(chat_id, [Send(text)], None)
        except Unreachable:
            log.info("a flooded chat is unreachable (blocked the bot or left Telegram)")
        except TelegramError as error:
            log.warning("could not ask a flooded chat to wait, will try again: %s", error)
            self._told.discard(chat_id)  # the flood's next message tries again
        except Exception:
            log.exception("could not ask a flooded chat to wait, will try again")
            self._told.discard(chat_id)


def _command(message: Message | None) -> bool:
    """Say whether a new message is a command (/help, /stop...), which is never dropped."""
    if message is None or not message.text:
        return False
    return any(e.type == MessageEntity.BOT_COMMAND and e.offset == 0 for e in message.entities)


def _language(user: User) -> str:
    code = (user.language_code or "").split("-")[0].lower()
    return code if code in languages() else BASE_LANGUAGE
