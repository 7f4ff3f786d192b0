"""Who hears about a flag: the safeguarding chat, else each safeguarding person, else the admins.

An alert must always have somewhere to go. When HEARD_SAFEGUARDING_CHAT is not set, or Telegram
says the bot cannot post there (never added, removed, not allowed to write), alerts go privately
to everyone with the safeguarding role, and if none of them can be reached, to the admins. The
chat is tried again every RECHECK in case it was put right.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from telegram.error import BadRequest, TelegramError

from bot.clock import Clock
from bot.sender import Sender, Unreachable
from conversations.render import Send
from storage.repository import Repository, StorageUnavailable

log = logging.getLogger(__name__)
RECHECK = timedelta(minutes=10)
# What Telegram says when a chat cannot take the bot's messages, as opposed to a passing fault.
NO_WAY_IN = ("chat not found", "not enough rights", "have no rights", "chat_write_forbidden")


class NowhereToPost(Exception):
    """Telegram refused the post for good: the chat is gone, or the bot may not write there."""


class Recipients:
    """Post staff messages where someone will read them, falling back as the module says."""

    def __init__(
        self,
        sender: Sender,
        repository: Repository,
        clock: Clock,
        chat_id: int | None,
        admins: Sequence[int] = (),
    ) -> None:
        self.sender = sender
        self.repository = repository
        self.clock = clock
        self.chat_id = chat_id
        self.admins = tuple(admins)
        self._chat_failed_at: datetime | None = None
        self.problem: str | None = None
        # Who had the safeguarding role when last read: for alerts sent while the database
        # is not answering.
        self._people: list[int] = []

    def chat_unusable(self, problem: str) -> None:
        """Note that the safeguarding chat cannot take alerts; say so in one line, once."""
        if problem != self.problem:
            if self.chat_id is None:
                log.warning("%s", problem)
            else:
                log.warning("%s; until then, alerts go privately to staff", problem)
        self.problem = problem
        if self.chat_id is not None:
            self._chat_failed_at = self.clock.now()

    def uses_chat(self) -> bool:
        """Say whether alerts now go to the safeguarding chat."""
        if self.chat_id is None:
            return False
        failed = self._chat_failed_at
        return failed is None or self.clock.now() - failed >= RECHECK

    async def post(
        self,
        text: str,
        replies: Mapping[int, int] | None = None,
        *,
        from_memory: bool = False,
    ) -> list[tuple[int, int]]:
        """Post to the first group of recipients that can take it; return (chat, message) ids.

        A passing fault (a timeout, 5xx, 429) raises TelegramError: the caller tries again
        later, rather than telling fewer or other people. `from_memory`: the database may not
        be answering, so who has the safeguarding role is taken as last read.
        """
        for chats in await self._tiers(from_memory):
            posted = await self._post_each(chats, text, replies or {})
            if posted:
                return posted
        return []

    async def _tiers(self, from_memory: bool) -> list[list[int]]:
        people = self._people
        if not from_memory:
            try:
                roles = await self.repository.staff_roles()
                people = sorted({r.user_id for r in roles if r.role == "safeguarding"})
                self._people = people
            except StorageUnavailable as error:
                log.warning("could not read who has the safeguarding role: %s", error)
        tiers = [people, [a for a in self.admins if a not in people]]
        if self.chat_id is not None:
            # A chat that failed lately comes last: tried again if nobody else can be reached.
            tiers.insert(0 if self.uses_chat() else 2, [self.chat_id])
        return [tier for tier in tiers if tier]

    async def _post_each(
        self, chats: list[int], text: str, replies: Mapping[int, int]
    ) -> list[tuple[int, int]]:
        posted: list[tuple[int, int]] = []
        passing: TelegramError | None = None
        for chat in chats:
            try:
                message_id = await self._post(chat, text, replies.get(chat))
            except NowhereToPost as error:
                if chat == self.chat_id:
                    self.chat_unusable(f"HEARD_SAFEGUARDING_CHAT {chat}: {error}")
                else:
                    log.info("a member of staff cannot be messaged privately: %s", error)
                continue
            except TelegramError as error:
                passing = error
                continue
            if chat == self.chat_id and self._chat_failed_at is not None:
                log.info("the safeguarding chat takes alerts again")
                self._chat_failed_at, self.problem = None, None
            posted.append((chat, message_id))
        if not posted and passing is not None:
            raise passing
        return posted

    async def _post(self, chat: int, text: str, reply_to: int | None) -> int:
        try:
            message_id = await self.sender.deliver(
                chat, [Send(text, prompt=True, reply_to=reply_to)], None
            )
        except Unreachable as error:
            raise NowhereToPost(str(error)) from error
        except BadRequest as error:
            if any(reason in str(error).lower() for reason in NO_WAY_IN):
                raise NowhereToPost(str(error)) from error
            raise
        assert message_id is not None
        return message_id
