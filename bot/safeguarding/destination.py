"""Check that safeguarding alerts have somewhere to go: a chat the bot can post in."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import telegram
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden, InvalidToken, TelegramError
from telegram.request import HTTPXRequest

SETTING = "HEARD_SAFEGUARDING_CHAT"
UNSET = (
    f"{SETTING} is not set: safeguarding alerts will go privately to people with the "
    "safeguarding role, or to the admins; to send them to the staff group, add the bot there "
    f"and set {SETTING} to the group's id"
)
# Each call of a check gives up after this many seconds, and the whole check after CHECK_SECONDS.
CALL_SECONDS = 3.0
CHECK_SECONDS = 10.0
GROUPS = frozenset({ChatType.GROUP, ChatType.SUPERGROUP})
CAN_POST = frozenset(
    {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER}
)


@dataclass(frozen=True)
class AlertChatCheck:
    """Whether the safeguarding chat can receive alerts, and if not, why, in one line."""

    ok: bool
    problem: str | None = None  # names HEARD_SAFEGUARDING_CHAT, what is wrong, what to do
    checked: bool = True  # False: Telegram did not answer, so nothing is known either way


OK = AlertChatCheck(ok=True)


async def check_alert_chat(bot: telegram.Bot, chat_id: int | None) -> AlertChatCheck:
    """Say whether the bot can post in the safeguarding chat (getChat, then getChatMember).

    The bot must be initialized. Telegram's errors become problems; nothing is raised for them.
    """
    if chat_id is None:
        return AlertChatCheck(ok=False, problem=UNSET)
    try:
        chat = await bot.get_chat(chat_id)
        if chat.type not in GROUPS:
            return _not_a_group(chat)
        member = await bot.get_chat_member(chat_id, bot.id)
    except BadRequest as error:
        return _refused(chat_id, error)
    except Forbidden as error:
        return _forbidden(chat_id, error)
    except TelegramError as error:
        return unchecked(chat_id, str(error))
    return _membership(chat_id, chat.title or "the group", member)


async def probe_alert_chat(
    token: str, api_url: str, chat_id: int | None, seconds: float = CHECK_SECONDS
) -> AlertChatCheck:
    """Check the safeguarding chat with a short-lived bot that gives up within `seconds`."""
    if chat_id is None:
        return AlertChatCheck(ok=False, problem=UNSET)
    request = HTTPXRequest(
        connect_timeout=CALL_SECONDS,
        read_timeout=CALL_SECONDS,
        write_timeout=CALL_SECONDS,
        pool_timeout=CALL_SECONDS,
    )
    bot = telegram.Bot(token, base_url=api_url, request=request)
    try:
        async with asyncio.timeout(seconds), bot:
            return await check_alert_chat(bot, chat_id)
    except TimeoutError:
        return unchecked(chat_id, f"no answer from the Bot API within {seconds:g} seconds")
    except InvalidToken:  # its message would show the token
        return unchecked(chat_id, "Telegram rejected TELEGRAM_BOT_TOKEN")
    except TelegramError as error:  # from getMe, as the bot starts
        return unchecked(chat_id, str(error))


def unchecked(chat_id: int, reason: str) -> AlertChatCheck:
    """Say that the safeguarding chat could not be checked, and why."""
    found = _problem(
        chat_id, f"could not check: {reason}; alerts will be retried until they are delivered"
    )
    return AlertChatCheck(ok=False, problem=found.problem, checked=False)


def _not_a_group(chat: telegram.ChatFullInfo) -> AlertChatCheck:
    """Accept a private chat with a person; refuse a channel."""
    if chat.type == ChatType.PRIVATE:
        return OK  # a person, such as a single safeguarding lead
    return _problem(
        chat.id,
        f"'{chat.title}' is a {chat.type}, and alerts need a group where staff can talk: "
        "create a private group, add the bot and use that group's id",
    )


def _membership(chat_id: int, title: str, member: telegram.ChatMember) -> AlertChatCheck:
    """Say whether the bot's membership of a group lets it post there."""
    if isinstance(member, telegram.ChatMemberRestricted):
        if member.can_send_messages:
            return OK
        return _problem(
            chat_id,
            f"the bot may not send messages in '{title}': let members send messages, or make "
            "the bot an admin, in the group's settings",
        )
    if member.status in CAN_POST:
        return OK
    return _problem(
        chat_id, f"the bot is not in '{title}' ({member.status}): add it to the staff group again"
    )


def _refused(chat_id: int, error: BadRequest) -> AlertChatCheck:
    """Explain a 400 answer: mostly a chat the bot was never added to."""
    if "chat not found" in error.message.lower():
        return _problem(
            chat_id,
            "Telegram knows no such chat for the bot: add the bot to the staff group and write a "
            "message there, or fix the id",
        )
    return _problem(chat_id, f"Telegram refused the check ({error.message}): check the id")


def _forbidden(chat_id: int, error: Forbidden) -> AlertChatCheck:
    """Explain a 403 answer: a bot removed from the group, or blocked by the person."""
    if "blocked by the user" in error.message:
        return _problem(
            chat_id,
            f"the person blocked the bot ({error.message}): ask them to restart it, or choose "
            "another chat",
        )
    return _problem(
        chat_id,
        f"the bot was removed from the group ({error.message}): add it to the staff group "
        "again, or fix the id",
    )


def _problem(chat_id: int, detail: str) -> AlertChatCheck:
    """Return a failed check whose line names the setting and its value."""
    return AlertChatCheck(ok=False, problem=f"{SETTING} ({chat_id}): {detail}")
