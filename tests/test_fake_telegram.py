"""The fake Bot API server answers a real python-telegram-bot client the way Telegram does."""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import re
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    ChatMember,
    ChatMemberAdministrator,
    ChatMemberMember,
    ChatMemberRestricted,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

from tests.support.chaos import Chaos, ChaosSettings, Drop, Failure, retry_after_violations
from tests.support.chat_user import ChatUser
from tests.support.fake_telegram import (
    CAPTIONED_KINDS,
    USER_KINDS,
    ApiError,
    FakeTelegram,
    chat_member,
    check_inline_keyboard,
    matches_type,
    visible_text,
)

USER = 42


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def bot(server: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(
        server.token, base_url=server.base_url, base_file_url=server.base_file_url
    ) as client:
        yield client


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def chat(server: FakeTelegram) -> int:
    """Open the private chat: the user writes first, as on Telegram."""
    server.send_text(USER, "hello")
    return USER


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in buttons])


async def latest_message_id(bot: Bot) -> int:
    """Return the message_id of the newest update's message (a user message)."""
    *_, update = await bot.get_updates(timeout=1)
    assert update.effective_message is not None
    return update.effective_message.message_id


async def raw_call(
    http: aiohttp.ClientSession, server: FakeTelegram, method: str, **request: Any
) -> tuple[int, dict[str, Any]]:
    http_method = request.pop("http_method", "POST")
    token = request.pop("token", server.token)
    url = f"{server.base_url}{token}/{method}"
    async with http.request(http_method, url, **request) as response:
        return response.status, await response.json()


# --- PTB interoperates -------------------------------------------------------------------------


async def test_get_me_names_the_bot(bot: Bot) -> None:
    assert (bot.id, bot.username) == (123456, "heard_test_bot")


async def test_send_message_with_inline_keyboard_is_stored(
    server: FakeTelegram, bot: Bot, chat: int
) -> None:
    markup = keyboard(("Yes", "v1|yes"), ("No", "v1|no"))

    sent = await bot.send_message(chat, "Ready?", reply_markup=markup)

    assert sent.text == "Ready?"
    assert sent.reply_markup is not None
    assert sent.reply_markup.to_dict() == markup.to_dict()
    assert server.buttons(chat, sent.message_id) == [("Yes", "v1|yes"), ("No", "v1|no")]
    [stored] = server.chat_messages(chat)
    assert (stored.message_id, stored.text, stored.edited) == (sent.message_id, "Ready?", False)


async def test_edit_message_text_is_reflected_and_a_no_op_edit_is_refused(
    server: FakeTelegram, bot: Bot, chat: int
) -> None:
    sent = await bot.send_message(chat, "Ready?", reply_markup=keyboard(("Yes", "v1|yes")))

    edited = await bot.edit_message_text("Thanks", chat_id=chat, message_id=sent.message_id)

    assert isinstance(edited, Message)
    assert edited.text == "Thanks"
    [stored] = server.chat_messages(chat)
    assert (stored.text, stored.reply_markup, stored.edited) == ("Thanks", None, True)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Thanks", chat_id=chat, message_id=sent.message_id)


async def test_edit_message_reply_markup_refuses_the_same_keyboard(
    server: FakeTelegram, bot: Bot, chat: int
) -> None:
    markup = keyboard(("Yes", "v1|yes"))
    sent = await bot.send_message(chat, "Ready?", reply_markup=markup)

    await bot.edit_message_reply_markup(chat, sent.message_id, reply_markup=None)

    assert server.buttons(chat, sent.message_id) == []
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(chat, sent.message_id, reply_markup=None)


async def test_edit_of_a_missing_message_is_refused(bot: Bot, chat: int) -> None:
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("Thanks", chat_id=chat, message_id=999)


async def test_press_reaches_the_bot_and_a_callback_is_answered_once(
    server: FakeTelegram, bot: Bot, chat: int
) -> None:
    sent = await bot.send_message(chat, "Ready?", reply_markup=keyboard(("Yes", "v1|yes")))
    update_id = server.press(chat, sent.message_id, "v1|yes")

    *_, update = await bot.get_updates(timeout=1)

    query = update.callback_query
    assert update.update_id == update_id
    assert query is not None
    assert query.message is not None
    assert (query.data, query.from_user.id, query.message.message_id) == (
        "v1|yes",
        chat,
        sent.message_id,
    )
    with pytest.raises(BadRequest, match=r"(?i)MESSAGE_TOO_LONG"):
        await bot.answer_callback_query(query.id, text="x" * 201)
    assert await bot.answer_callback_query(query.id, text="Saved")
    assert server.answered_callbacks() == [{"callback_query_id": query.id, "text": "Saved"}]
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query.id)


async def test_send_document_round_trips_the_bytes(
    server: FakeTelegram, bot: Bot, chat: int
) -> None:
    content = bytes(range(256)) * 4

    sent = await bot.send_document(chat, content, filename="export.csv", caption="Your data")

    assert sent.document is not None
    assert sent.document.file_name == "export.csv"
    [stored] = server.chat_messages(chat)
    assert stored.document is not None
    assert (stored.document["file_name"], stored.document["content"]) == ("export.csv", content)
    assert stored.caption == "Your data"
    downloaded = await (await bot.get_file(sent.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == content


async def test_send_photo_keeps_the_bytes(server: FakeTelegram, bot: Bot, chat: int) -> None:
    sent = await bot.send_photo(chat, b"\x89PNG fake", caption="A chart")

    assert sent.photo
    assert sent.caption == "A chart"
    [stored] = server.chat_messages(chat)
    assert stored.photo is not None
    assert stored.photo["content"] == b"\x89PNG fake"


async def test_delete_message_marks_it_deleted(server: FakeTelegram, bot: Bot, chat: int) -> None:
    sent = await bot.send_message(chat, "Oops", reply_markup=keyboard(("Yes", "v1|yes")))

    assert await bot.delete_message(chat, sent.message_id)

    assert [m.deleted for m in server.chat_messages(chat)] == [True]
    with pytest.raises(LookupError):
        server.press(chat, sent.message_id, "v1|yes")
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(chat, sent.message_id)


async def test_the_bot_may_delete_a_user_message(bot: Bot, chat: int) -> None:
    [update] = await bot.get_updates()
    assert update.message is not None

    assert await bot.delete_message(chat, update.message.message_id)


async def test_commands_are_kept_per_scope_and_language(bot: Bot) -> None:
    private = BotCommandScopeAllPrivateChats()
    await bot.set_my_commands([BotCommand("start", "Begin"), BotCommand("help", "Get help")])
    await bot.set_my_commands([BotCommand("start", "Beginnen")], scope=private, language_code="de")

    default = await bot.get_my_commands()
    german = await bot.get_my_commands(scope=private, language_code="de")
    await bot.delete_my_commands()

    assert [c.command for c in default] == ["start", "help"]
    assert [(c.command, c.description) for c in german] == [("start", "Beginnen")]
    assert await bot.get_my_commands() == ()


@pytest.mark.parametrize(
    ("command", "error"),
    [
        (BotCommand("Start", "Begin"), "BOT_COMMAND_INVALID"),
        (BotCommand("a" * 33, "Begin"), "BOT_COMMAND_INVALID"),
        (BotCommand("start", ""), "BOT_COMMAND_DESCRIPTION_INVALID"),
        (BotCommand("start", "x" * 257), "BOT_COMMAND_DESCRIPTION_INVALID"),
    ],
)
async def test_invalid_commands_are_refused(bot: Bot, command: BotCommand, error: str) -> None:
    with pytest.raises(BadRequest, match=f"(?i){re.escape(error)}"):
        await bot.set_my_commands([command])


async def test_every_kind_of_user_message_parses_and_fits_the_spec(
    server: FakeTelegram, bot: Bot
) -> None:
    for kind in USER_KINDS:
        server.send_kind(USER, kind)

    updates = await bot.get_updates(timeout=1)

    assert len(updates) == len(USER_KINDS)
    for update, kind in zip(updates, USER_KINDS, strict=True):
        assert update.message is not None
        assert getattr(update.message, kind), kind
    [poll_call] = server.calls_of("getUpdates")
    assert all(matches_type(raw, "Update") for raw in poll_call.result_or_error)


async def test_commands_get_entities_and_groups_and_channels_look_real(
    server: FakeTelegram, bot: Bot
) -> None:
    server.send_text(7, "/start@heard_test_bot now", chat_type="group")
    server.send_text(7, "news", chat_type="channel")

    group, channel = await bot.get_updates(timeout=1)

    assert group.message is not None
    assert group.message.chat.type == "group"
    assert group.message.chat.id < 0
    assert group.message.parse_entities() == {group.message.entities[0]: "/start@heard_test_bot"}
    assert channel.channel_post is not None
    assert channel.channel_post.chat.type == "channel"
    assert channel.channel_post.sender_chat is not None
    sent = await bot.send_message(group.message.chat.id, "Hi all")
    assert server.chat_messages(group.message.chat.id)[0].message_id == sent.message_id


# --- replies, edits and captions from users ----------------------------------------------------


async def test_send_text_replies_to_a_bot_message_at_a_given_date(
    server: FakeTelegram, bot: Bot, chat: int
) -> None:
    asked = await bot.send_message(chat, "How was your visit?")
    update_id = server.send_text(USER, "Fine", date=1_767_225_600, reply_to=asked.message_id)

    *_, update = await bot.get_updates(timeout=1)

    message = update.message
    assert update.update_id == update_id
    assert message is not None
    assert message.date == dtm.datetime(2026, 1, 1, tzinfo=dtm.UTC)
    assert message.reply_to_message is not None
    replied = message.reply_to_message
    assert (replied.message_id, replied.text) == (asked.message_id, "How was your visit?")
    assert replied.from_user is not None
    assert replied.from_user.id == bot.id
    [poll] = server.calls_of("getUpdates")
    assert all(matches_type(raw, "Update") for raw in poll.result_or_error)


async def test_send_text_reply_to_a_user_message_shows_it_without_its_own_reply(
    server: FakeTelegram, bot: Bot
) -> None:
    server.send_text(USER, "first")
    server.send_text(USER, "second", reply_to=await latest_message_id(bot))
    second = await latest_message_id(bot)
    server.send_text(USER, "third", reply_to=second)

    *_, last = await bot.get_updates(timeout=1)

    assert last.message is not None
    replied = last.message.reply_to_message
    assert replied is not None
    assert (replied.message_id, replied.text) == (second, "second")
    assert replied.reply_to_message is None  # Telegram nests replies one level only


async def test_send_text_reply_to_an_unknown_message_is_a_lookup_error(
    server: FakeTelegram, chat: int
) -> None:
    with pytest.raises(LookupError, match="no message 999"):
        server.send_text(USER, "re: nothing", reply_to=999)


async def test_send_kind_with_a_caption_on_media(server: FakeTelegram, bot: Bot) -> None:
    captioned = sorted(CAPTIONED_KINDS)
    for kind in captioned:
        server.send_kind(USER, kind, caption=f"/start my {kind}")

    updates = await bot.get_updates(timeout=1)

    for update, kind in zip(updates, captioned, strict=True):
        message = update.message
        assert message is not None
        assert message.caption == f"/start my {kind}"
        assert message.parse_caption_entities() == {message.caption_entities[0]: "/start"}
    [poll] = server.calls_of("getUpdates")
    assert all(matches_type(raw, "Update") for raw in poll.result_or_error)


@pytest.mark.parametrize("kind", sorted(set(USER_KINDS) - CAPTIONED_KINDS))
def test_send_kind_refuses_a_caption_where_telegram_has_none(
    server: FakeTelegram, kind: str
) -> None:
    with pytest.raises(ValueError, match="cannot have a caption"):
        server.send_kind(USER, kind, caption="look")
    assert server.pending_update_ids() == []


async def test_edit_text_reaches_a_bot_that_asks_for_edits(server: FakeTelegram, bot: Bot) -> None:
    server.send_text(USER, "I feel fine", date=1_767_225_600)
    [first] = await bot.get_updates(allowed_updates=["message", "edited_message"])
    assert first.message is not None
    sent_id = first.message.message_id

    update_id = server.edit_text(USER, sent_id, "I feel low", edit_date=1_767_225_660)
    [update] = await bot.get_updates(offset=first.update_id + 1, timeout=1)

    edited = update.edited_message
    assert update.update_id == update_id
    assert edited is not None
    assert (edited.message_id, edited.text) == (sent_id, "I feel low")
    assert edited.date == dtm.datetime(2026, 1, 1, tzinfo=dtm.UTC)
    assert edited.edit_date == dtm.datetime(2026, 1, 1, 0, 1, tzinfo=dtm.UTC)
    [_, poll] = server.calls_of("getUpdates")
    assert all(matches_type(raw, "Update") for raw in poll.result_or_error)
    # The stored message is the edited one: a reply to it quotes the new text.
    server.send_text(USER, "sorry", reply_to=sent_id)
    [reply] = await bot.get_updates(offset=update_id + 1, timeout=1)
    assert reply.message is not None
    assert reply.message.reply_to_message is not None
    assert reply.message.reply_to_message.text == "I feel low"


async def test_edit_text_is_not_delivered_to_a_bot_that_did_not_ask(
    server: FakeTelegram, bot: Bot
) -> None:
    server.send_text(USER, "hello")
    [first] = await bot.get_updates(allowed_updates=["message"])
    assert first.message is not None

    ignored = server.edit_text(USER, first.message.message_id, "hello again")

    assert await bot.get_updates(offset=first.update_id + 1) == ()
    assert ignored not in server.delivered_update_ids()


async def test_edit_text_needs_an_earlier_text_of_that_user(
    server: FakeTelegram, bot: Bot
) -> None:
    server.send_text(USER, "hello", chat_id=-5, chat_type="group")
    text_id = await latest_message_id(bot)
    server.send_kind(USER, "photo")
    photo_id = await latest_message_id(bot)

    with pytest.raises(LookupError, match="no text message 999"):
        server.edit_text(USER, 999, "edited")
    with pytest.raises(LookupError, match=f"no text message {photo_id}"):
        server.edit_text(USER, photo_id, "edited")
    with pytest.raises(LookupError, match=f"no text message {text_id} from 43"):
        server.edit_text(43, text_id, "edited", chat_id=-5)
    server.edit_text(USER, text_id, "edited", chat_id=-5)


async def test_a_bot_message_records_the_message_it_replied_to(
    server: FakeTelegram, bot: Bot, chat: int
) -> None:
    [update] = await bot.get_updates()
    assert update.message is not None
    hello = update.message.message_id

    answer = await bot.send_message(chat, "Hello to you", reply_to_message_id=hello)
    follow_up = await bot.send_message(chat, "And welcome", reply_to_message_id=answer.message_id)
    stray = await bot.send_message(
        chat, "Lost", reply_to_message_id=999, allow_sending_without_reply=True
    )

    assert [m.reply_to for m in server.chat_messages(chat)] == [hello, answer.message_id, None]
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "hello"
    assert follow_up.reply_to_message is not None
    assert follow_up.reply_to_message.text == "Hello to you"
    assert follow_up.reply_to_message.reply_to_message is None
    assert stray.reply_to_message is None
    sends = [c.result_or_error for c in server.calls_of("sendMessage")]
    assert all(matches_type(raw, "Message") for raw in sends)


# --- groups: membership, getChat, getChatMember -----------------------------------------------

STAFF = -1_001_234_567_890


async def test_get_chat_describes_a_group_the_bot_is_in(server: FakeTelegram, bot: Bot) -> None:
    server.add_bot_to_group(STAFF, title="Safeguarding team")

    chat = await bot.get_chat(STAFF)
    sent = await bot.send_message(STAFF, "Alerts will come here")

    assert (chat.id, chat.type, chat.title) == (STAFF, "supergroup", "Safeguarding team")
    assert sent.chat.title == "Safeguarding team"
    [call] = server.calls_of("getChat")
    assert matches_type(call.result_or_error, "ChatFullInfo")


async def test_get_chat_describes_a_private_chat(bot: Bot, chat: int) -> None:
    info = await bot.get_chat(chat)

    assert (info.id, info.type, info.first_name) == (chat, "private", "Sam")
    assert info.max_reaction_count == 11


async def test_get_chat_of_an_unknown_chat_is_not_found(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"^Chat not found$"):
        await bot.get_chat(STAFF)
    with pytest.raises(BadRequest, match=r"^Chat not found$"):
        await bot.get_chat_member(STAFF, bot.id)


async def test_a_group_counts_as_known_once_a_user_wrote_there(
    server: FakeTelegram, bot: Bot
) -> None:
    server.send_text(7, "hello all", chat_id=-5, chat_type="group")

    chat = await bot.get_chat(-5)
    member = await bot.get_chat_member(-5, bot.id)

    assert (chat.type, member.status) == ("group", "member")


@pytest.mark.parametrize(
    ("chat_type", "kicked", "error"),
    [
        ("supergroup", True, "bot was kicked from the supergroup chat"),
        ("group", True, "bot was kicked from the group chat"),
        ("supergroup", False, "bot is not a member of the supergroup chat"),
    ],
)
async def test_a_group_the_bot_was_removed_from_is_forbidden(
    server: FakeTelegram, bot: Bot, chat_type: str, kicked: bool, error: str
) -> None:
    server.add_bot_to_group(-5, chat_type=chat_type)
    sent = await bot.send_message(-5, "Hello team")

    server.remove_bot_from_group(-5, kicked=kicked)

    attempts = [
        bot.send_message(-5, "Still here?"),
        bot.edit_message_text("Edited", chat_id=-5, message_id=sent.message_id),
        bot.delete_message(-5, sent.message_id),
        bot.get_chat(-5),
        bot.get_chat_member(-5, bot.id),
    ]
    for attempt in attempts:
        with pytest.raises(Forbidden, match=f"^Forbidden: {error}$"):
            await attempt
    with pytest.raises(LookupError, match="not in chat -5"):
        server.send_text(7, "anyone?", chat_id=-5, chat_type=chat_type)


async def test_a_restricted_bot_cannot_send_to_the_group(server: FakeTelegram, bot: Bot) -> None:
    server.add_bot_to_group(STAFF, status="restricted")

    with pytest.raises(BadRequest, match="Not enough rights to send text messages to the chat"):
        await bot.send_message(STAFF, "Alert")
    with pytest.raises(BadRequest, match="Not enough rights to send documents to the chat"):
        await bot.send_document(STAFF, b"a,b", filename="flags.csv")
    assert server.chat_messages(STAFF) == []
    assert (await bot.get_chat(STAFF)).title == "Safeguarding team"


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("member", ChatMemberMember),
        ("administrator", ChatMemberAdministrator),
        ("restricted", ChatMemberRestricted),
    ],
)
async def test_get_chat_member_gives_the_bot_its_status(
    server: FakeTelegram, bot: Bot, status: str, kind: type[ChatMember]
) -> None:
    server.add_bot_to_group(STAFF, status=status)

    member = await bot.get_chat_member(STAFF, bot.id)

    assert isinstance(member, kind)
    assert (member.status, member.user.id) == (status, bot.id)
    if isinstance(member, ChatMemberRestricted):
        assert member.can_send_messages is False
        assert member.is_member is True
    if isinstance(member, ChatMemberAdministrator):
        assert member.can_delete_messages is True
    [call] = server.calls_of("getChatMember")
    assert matches_type(call.result_or_error, "ChatMember")


async def test_get_chat_member_of_users(server: FakeTelegram, bot: Bot, chat: int) -> None:
    server.add_bot_to_group(STAFF)
    server.send_text(7, "hello all", chat_id=STAFF, chat_type="supergroup")

    wrote = await bot.get_chat_member(STAFF, 7)
    elsewhere = await bot.get_chat_member(STAFF, USER)
    private = await bot.get_chat_member(chat, USER)

    assert (wrote.status, wrote.user.id) == ("member", 7)
    assert (elsewhere.status, private.status) == ("left", "member")
    with pytest.raises(BadRequest, match=r"^User not found$"):
        await bot.get_chat_member(STAFF, 31337)


@pytest.mark.parametrize("status", ["member", "administrator", "restricted", "left", "kicked"])
def test_chat_member_fits_the_spec_and_parses_in_ptb(status: str) -> None:
    raw = chat_member({"id": 1, "is_bot": True, "first_name": "Heard"}, status)

    parsed = ChatMember.de_json(raw, None)

    assert matches_type(raw, "ChatMember")
    assert parsed.status == status
    assert parsed.api_kwargs == {}


def test_group_membership_arguments_are_checked(server: FakeTelegram) -> None:
    with pytest.raises(ValueError, match="group or supergroup"):
        server.add_bot_to_group(STAFF, chat_type="channel")
    with pytest.raises(ValueError, match="status"):
        server.add_bot_to_group(STAFF, status="creator")
    with pytest.raises(ValueError, match="basic groups"):
        server.add_bot_to_group(-5, chat_type="group", status="restricted")
    with pytest.raises(ValueError, match="negative"):
        server.add_bot_to_group(5)
    with pytest.raises(LookupError, match="no group"):
        server.remove_bot_from_group(STAFF)


# --- long polling ------------------------------------------------------------------------------


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    server: FakeTelegram, bot: Bot
) -> None:
    loop = asyncio.get_running_loop()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await server.wait_for(lambda: server.polls_waiting == 1, timeout=2)

    injected_at = loop.time()
    update_id = server.send_text(USER, "hello")
    updates = await asyncio.wait_for(poll, timeout=3)

    assert loop.time() - injected_at < 1
    assert [u.update_id for u in updates] == [update_id]
    assert update_id in server.delivered_update_ids()
    assert update_id not in server.confirmed_update_ids()
    assert await bot.get_updates(offset=update_id + 1, timeout=0) == ()
    assert update_id in server.confirmed_update_ids()
    assert server.confirmed_offset == update_id + 1


async def test_long_poll_waits_its_timeout_when_nothing_arrives(bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()

    updates = await bot.get_updates(timeout=1)

    assert updates == ()
    assert 0.9 <= loop.time() - started < 3


async def test_limit_offset_and_allowed_updates(server: FakeTelegram, bot: Bot) -> None:
    first, second, third = (server.send_text(USER, str(n)) for n in range(3))

    assert [u.update_id for u in await bot.get_updates(limit=2)] == [first, second]
    assert [u.update_id for u in await bot.get_updates(offset=second + 1)] == [third]
    await bot.get_updates(offset=third + 1, allowed_updates=["callback_query"])
    ignored = server.send_text(USER, "not wanted")
    assert await bot.get_updates(offset=third + 1) == ()
    assert ignored not in server.delivered_update_ids()


async def test_a_second_poll_terminates_the_first(
    server: FakeTelegram, bot: Bot, http: aiohttp.ClientSession
) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await server.wait_for(lambda: server.polls_waiting == 1, timeout=2)

    status, _ = await raw_call(http, server, "getUpdates", data={"timeout": "0"})

    assert status == 200
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, timeout=3)


async def test_stop_wakes_a_pending_long_poll(server: FakeTelegram, bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await server.wait_for(lambda: server.polls_waiting == 1, timeout=2)
    started = loop.time()

    await server.stop()

    assert await asyncio.wait_for(poll, timeout=3) == ()
    assert loop.time() - started < 2


# --- errors surface as PTB exceptions ----------------------------------------------------------


async def test_text_longer_than_4096_characters_is_refused(bot: Bot, chat: int) -> None:
    await bot.send_message(chat, "é" * 4096)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(chat, "é" * 4097)


async def test_blank_text_is_refused(bot: Bot, chat: int) -> None:
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(chat, "  \n")


async def test_callback_data_longer_than_64_bytes_is_refused(bot: Bot, chat: int) -> None:
    await bot.send_message(chat, "ok", reply_markup=keyboard(("Yes", "é" * 32)))
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(chat, "too long", reply_markup=keyboard(("Yes", "é" * 33)))


async def test_sending_to_an_unknown_chat_is_refused(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999, "hello?")


async def test_a_blocked_chat_is_forbidden(server: FakeTelegram, bot: Bot, chat: int) -> None:
    sent = await bot.send_message(chat, "Ready?")
    server.block(chat)

    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(chat, "Still there?")
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.edit_message_text("Edited", chat_id=chat, message_id=sent.message_id)


async def test_fail_next_429_raises_retry_after_then_recovers(
    server: FakeTelegram, bot: Bot, chat: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    server.fail_next(
        "sendMessage",
        error_code=429,
        description="Too Many Requests: retry after 7",
        retry_after=7,
    )

    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(chat, "hello")

    assert caught.value.retry_after == dtm.timedelta(seconds=7)
    assert (await bot.send_message(chat, "hello")).text == "hello"


async def test_fail_next_counts_its_times(server: FakeTelegram, bot: Bot, chat: int) -> None:
    server.fail_next("sendmessage", error_code=400, description="Bad Request: nope", times=2)

    for _ in range(2):
        with pytest.raises(BadRequest, match=r"(?i)nope"):
            await bot.send_message(chat, "hello")

    assert (await bot.send_message(chat, "hello")).text == "hello"
    assert [c.ok for c in server.calls_of("sendMessage")] == [False, False, True]


async def test_send_limit_answers_429_above_the_rate_then_recovers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    async with (
        FakeTelegram(send_limit_per_second=3) as server,
        Bot(server.token, base_url=server.base_url) as client,
    ):
        for user in (7, 8, 9):
            server.add_private_chat(user)
        await client.send_message(7, "Would you like to take part?")
        # Half a second later, two more fill the window of three sends a second.
        await asyncio.sleep(0.5)
        for user in (8, 9):
            await client.send_message(user, "Would you like to take part?")
        await client.get_me()  # only sends count

        with pytest.raises(RetryAfter) as caught:
            await client.send_message(7, "Would you like to take part?")
        assert caught.value.retry_after == dtm.timedelta(seconds=1)

        # The window slides: once the first send is a second old, one more may go, not two.
        first = server.calls_of("sendMessage")[0].at
        await asyncio.sleep(max(0.0, first + 1.05 - time.monotonic()))
        assert (await client.send_message(7, "Still there?")).text == "Still there?"
        with pytest.raises(RetryAfter):
            await client.send_message(8, "Too soon")

    outcomes = [(c.ok, c.params["chat_id"]) for c in server.calls_of("sendMessage")]
    assert outcomes == [(True, 7), (True, 8), (True, 9), (False, 7), (True, 7), (False, 8)]
    refused = server.calls_of("sendMessage")[3].result_or_error
    assert refused["error_code"] == 429
    assert refused["parameters"] == {"retry_after": 1}


def test_send_limit_must_allow_a_send() -> None:
    with pytest.raises(ValueError, match="send limit"):
        FakeTelegram(send_limit_per_second=0.5)


async def test_a_private_chat_can_be_opened_without_an_update(
    server: FakeTelegram, bot: Bot
) -> None:
    server.add_private_chat(77, first_name="Ali")

    sent = await bot.send_message(77, "An invitation")

    assert sent.chat.first_name == "Ali"
    assert [m.text for m in server.chat_messages(77)] == ["An invitation"]
    assert server.pending_update_ids() == []


@pytest.mark.parametrize(
    ("text", "parse_mode", "error"),
    [
        ("line<br>break", "HTML", "Unsupported start tag"),
        ("a < b", "HTML", "Unsupported start tag"),
        ("<b>bold", "HTML", "Can't find end tag"),
        ("Done.", "MarkdownV2", "Character '.' is reserved"),
        ("*bold", "MarkdownV2", "Can't find end"),
        ("hi", "html", "unsupported parse_mode"),
    ],
)
async def test_badly_formatted_text_is_refused(
    bot: Bot, chat: int, text: str, parse_mode: str, error: str
) -> None:
    with pytest.raises(BadRequest, match=f"(?i){re.escape(error)}"):
        await bot.send_message(chat, text, parse_mode=parse_mode)


# --- the HTTP surface, without PTB -------------------------------------------------------------


async def test_unknown_parameter_is_refused(
    server: FakeTelegram, http: aiohttp.ClientSession, chat: int
) -> None:
    form = {"chat_id": str(chat), "text": "hi", "colour": "red"}

    status, body = await raw_call(http, server, "sendMessage", data=form)

    assert (status, body["description"]) == (400, "Bad Request: unknown parameter colour")
    assert body["ok"] is False
    assert body["error_code"] == 400


async def test_missing_and_mistyped_parameters_are_refused(
    server: FakeTelegram, http: aiohttp.ClientSession, chat: int
) -> None:
    missing = await raw_call(http, server, "sendMessage", json={"chat_id": chat})
    mistyped = await raw_call(
        http, server, "sendMessage", json={"chat_id": chat, "text": "hi", "protect_content": 3}
    )

    assert missing == (400, missing[1])
    assert missing[1]["description"] == "Bad Request: parameter text is required"
    assert mistyped[0] == 400
    assert "protect_content" in mistyped[1]["description"]


async def test_json_query_string_and_any_case_method_names_work(
    server: FakeTelegram, http: aiohttp.ClientSession, chat: int
) -> None:
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    by_json = await raw_call(
        http, server, "SENDMESSAGE", json={"chat_id": chat, "text": "a", "reply_markup": markup}
    )
    by_query = await raw_call(
        http, server, "sendMessage", http_method="GET", params={"chat_id": chat, "text": "b"}
    )

    assert by_json[0] == by_query[0] == 200
    assert [m.text for m in server.chat_messages(chat)] == ["a", "b"]
    assert server.chat_messages(chat)[0].reply_markup == markup
    assert [c.method for c in server.calls] == ["sendMessage", "sendMessage"]


async def test_unknown_method_and_wrong_token(
    server: FakeTelegram, http: aiohttp.ClientSession
) -> None:
    unknown = await raw_call(http, server, "sendTelepathy")
    wrong_token = await raw_call(http, server, "getMe", token="1:WRONG")

    assert unknown == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    assert wrong_token == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})


async def test_a_client_gone_mid_request_is_dropped_quietly(
    server: FakeTelegram, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    # A bot stopped or killed while its request's body is on the way: nothing to perform,
    # nobody to answer, and nothing for the server's log (Telegram's does not tell the bot).
    address = urlsplit(server.base_url)
    assert address.hostname == "127.0.0.1"
    assert address.port is not None
    _, writer = await asyncio.open_connection(address.hostname, address.port)
    writer.write(
        f"POST {address.path}{server.token}/sendMessage HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: 100\r\n\r\nchat_id=42&te".encode()
    )
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    # The server learns of the lost connection on its next read; give it a few loop turns.
    for _ in range(20):
        await asyncio.sleep(0.01)

    assert (await bot.get_me()).is_bot
    assert "sendMessage" not in [c.method for c in server.calls]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_wait_for_times_out_listing_the_last_calls(server: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TimeoutError, match=r"(?s)last calls.*getMe"):
        await server.wait_for(lambda: False, timeout=0.05)


# --- a whole PTB Application -------------------------------------------------------------------


async def test_application_answers_start_and_shuts_down_quickly(server: FakeTelegram) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("Welcome to Heard")

    app = (
        ApplicationBuilder()
        .token(server.token)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    loop = asyncio.get_running_loop()

    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling()
        update_id = server.send_text(USER, "/start")
        await server.wait_for(
            lambda: [m.text for m in server.chat_messages(USER)] == ["Welcome to Heard"], 5
        )
        stopping = loop.time()
        await app.updater.stop()
        await app.stop()

    assert loop.time() - stopping < 3
    assert update_id in server.confirmed_update_ids()


# --- ChatUser ----------------------------------------------------------------------------------


async def test_chat_user_sends_presses_and_reads(server: FakeTelegram, bot: Bot) -> None:
    offset = 0

    async def respond(update: Update) -> None:
        if update.callback_query is not None:
            await update.callback_query.answer()
            reply = f"You chose {update.callback_query.data}"
        elif update.message is not None and update.message.text == "/start":
            choices = keyboard(("Yes", "yes"), ("Yes, later", "later"), ("No", "no"))
            await bot.send_message(USER, "Shall we begin?", reply_markup=choices)
            return
        else:
            reply = "Please answer with words"
        await bot.send_message(USER, reply)

    async def settle(update_id: int) -> None:
        """Play a tiny bot: fetch and answer every waiting update."""
        nonlocal offset
        for update in await bot.get_updates(offset=offset, timeout=1):
            offset = update.update_id + 1
            await respond(update)
        assert update_id < offset

    user = ChatUser(server, USER, settle=settle, first_name="Ada", language_code="de")
    await user.send("/start")
    assert (user.last_text(), user.buttons()) == ("Shall we begin?", ["Yes", "Yes, later", "No"])

    seen = len(user.messages())
    await user.press("Yes")
    await user.press("later")
    await user.send_kind("voice")
    await user.press_data(user.messages()[0].message_id, "v0|stale")

    assert user.texts_since(seen) == [
        "You chose yes",
        "You chose later",
        "Please answer with words",
        "You chose v0|stale",
    ]
    assert len(server.answered_callbacks()) == 3
    with pytest.raises(AssertionError, match="more than one button"):
        await user.press("es")
    with pytest.raises(AssertionError, match="'Yes', 'Yes, later', 'No'"):
        await user.press("Maybe")


# --- pure checks -------------------------------------------------------------------------------


@given(st.text(min_size=1, max_size=80))
def test_callback_data_is_limited_in_bytes_not_characters(data: str) -> None:
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": data}]]}
    if len(data.encode()) <= 64:
        check_inline_keyboard(markup)
    else:
        with pytest.raises(ApiError, match="BUTTON_DATA_INVALID"):
            check_inline_keyboard(markup)


@pytest.mark.parametrize(
    ("text", "parse_mode", "shown"),
    [
        ("<b>Hi</b> &amp; <a href='https://x.org'>bye</a>", "HTML", "Hi & bye"),
        ("*Hi* \\& _bye_\\.", "MarkdownV2", "Hi & bye."),
        ("[site](https://x.org) `a.b`", "MarkdownV2", "site a.b"),
        ("*Hi*", "Markdown", "*Hi*"),
        ("<b>", None, "<b>"),
    ],
)
def test_visible_text_parses_like_telegram(text: str, parse_mode: str | None, shown: str) -> None:
    assert visible_text(text, parse_mode) == shown


def test_buttons_need_exactly_one_action() -> None:
    with pytest.raises(ApiError, match="exactly one of"):
        check_inline_keyboard({"inline_keyboard": [[{"text": "Go"}]]})
    both = {"text": "Go", "callback_data": "go", "url": "https://x.org"}
    with pytest.raises(ApiError, match="exactly one of"):
        check_inline_keyboard({"inline_keyboard": [[both]]})


# --- chaos: seeded random faults ---------------------------------------------------------------


def test_chaos_same_seed_rolls_the_same_faults() -> None:
    def faults(seed: int) -> list[object]:
        chaos = Chaos(ChaosSettings(seed, error_rate=0.2, timeout_rate=0.1, burst_rate=0.05))
        return [chaos.roll("sendMessage", now=n * 10.0) for n in range(200)]

    assert faults(7) == faults(7)
    assert faults(7) != faults(8)


def test_chaos_rates_are_roughly_kept() -> None:
    chaos = Chaos(ChaosSettings(seed=1, error_rate=0.05, timeout_rate=0.02))
    rolls = [chaos.roll("getMe", now=0.0) for _ in range(10_000)]
    errors = sum(isinstance(r, Failure) for r in rolls)
    drops = sum(isinstance(r, Drop) for r in rolls)
    # Binomial(10,000, p): well inside four standard deviations.
    assert 410 < errors < 590
    assert 145 < drops < 255
    assert {r.code for r in rolls if isinstance(r, Failure)} == {500, 502, 504}
    assert chaos.injected["500"] + chaos.injected["502"] + chaos.injected["504"] == errors


def test_chaos_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="add up to 1"):
        ChaosSettings(seed=1, error_rate=0.7, timeout_rate=0.5)
    with pytest.raises(ValueError, match="retry_after"):
        ChaosSettings(seed=1, retry_after=0)


async def test_chaos_server_errors_reach_the_client_as_network_errors(
    server: FakeTelegram, bot: Bot, chat: int
) -> None:
    chaos = server.chaos(seed=3, error_rate=1.0, timeout_rate=0.0)
    with pytest.raises(NetworkError):
        await bot.send_message(chat, "hello")
    assert server.chat_messages(chat) == []
    assert sum(chaos.injected.values()) == 1
    server.calm()
    await bot.send_message(chat, "hello")
    assert [m.text for m in server.chat_messages(chat)] == ["hello"]


async def test_chaos_get_updates_fails_too(server: FakeTelegram, bot: Bot) -> None:
    server.chaos(seed=3, error_rate=1.0, timeout_rate=0.0)
    with pytest.raises(NetworkError):
        await bot.get_updates(timeout=0)


async def test_chaos_no_answer_closes_the_connection_carried_out_or_not(
    server: FakeTelegram, bot: Bot, chat: int
) -> None:
    server.chaos(seed=5, error_rate=0.0, timeout_rate=1.0)
    for n in range(8):
        with pytest.raises(NetworkError):
            await bot.send_message(chat, f"message {n}")
    dropped = [c for c in server.calls_of("sendMessage") if c.dropped]
    assert len(dropped) == 8
    carried_out = [c.params["text"] for c in dropped if c.ok]
    # Some were carried out (the chat shows them, the bot never heard), some were not.
    assert 0 < len(carried_out) < 8
    assert [m.text for m in server.chat_messages(chat)] == carried_out


async def test_chaos_hang_past_the_read_timeout_is_a_timeout(
    server: FakeTelegram, bot: Bot, chat: int
) -> None:
    server.chaos(seed=5, error_rate=0.0, timeout_rate=1.0, hang_seconds=0.5)
    started = time.monotonic()
    with pytest.raises(TimedOut):
        await bot.send_message(chat, "hello", read_timeout=0.2)
    assert time.monotonic() - started < 0.45
    await server.wait_for(lambda: bool(server.calls_of("sendMessage")), timeout=2)
    assert server.calls_of("sendMessage")[0].dropped


async def test_chaos_flood_burst_refuses_sends_until_retry_after_passes(
    server: FakeTelegram, bot: Bot, chat: int
) -> None:
    server.chaos(seed=1, error_rate=0.0, timeout_rate=0.0, burst_rate=1.0, retry_after=1)
    with pytest.raises(RetryAfter) as first:
        await bot.send_message(chat, "one")
    assert first.value.retry_after == dtm.timedelta(seconds=1)
    # Every send in the window is refused, whatever the chat or method; polling is not.
    with pytest.raises(RetryAfter):
        await bot.send_message(chat, "two")
    assert await bot.get_updates(timeout=0)
    server.calm()
    await asyncio.sleep(1.0)
    await bot.send_message(chat, "three")
    assert [m.text for m in server.chat_messages(chat)] == ["three"]


async def test_chaos_burst_at_starts_a_burst_on_that_send_whatever_the_dice(
    server: FakeTelegram, bot: Bot, chat: int
) -> None:
    chaos = server.chaos(seed=1, error_rate=0.0, timeout_rate=0.0, burst_at=2)
    await bot.send_message(chat, "one")
    with pytest.raises(RetryAfter):
        await bot.send_message(chat, "two")
    assert chaos.injected["429 bursts"] == 1
    assert [m.text for m in server.chat_messages(chat)] == ["one"]


async def test_chaos_only_touches_the_methods_named(
    server: FakeTelegram, bot: Bot, chat: int
) -> None:
    with pytest.raises(ValueError, match="not Bot API methods"):
        server.chaos(seed=1, methods=["sendMesage"])
    server.chaos(seed=1, error_rate=1.0, timeout_rate=0.0, methods=["editMessageText"])
    sent = await bot.send_message(chat, "hello")
    with pytest.raises(NetworkError):
        await bot.edit_message_text("changed", chat, sent.message_id)


async def test_chaos_retry_after_violations_catch_a_client_that_does_not_wait(
    server: FakeTelegram, bot: Bot, chat: int
) -> None:
    server.chaos(seed=1, error_rate=0.0, timeout_rate=0.0, burst_rate=1.0, retry_after=2)
    with pytest.raises(RetryAfter):
        await bot.send_message(chat, "one")
    assert retry_after_violations(server.calls) == []
    await asyncio.sleep(0.3)
    with pytest.raises(RetryAfter):
        await bot.send_message(chat, "too soon")
    [first, late] = [c for c in server.calls_of("sendMessage")]
    assert retry_after_violations(server.calls) == [late]
    assert late.arrived - first.at < 2


async def test_latency_holds_every_call_that_long_before_it_is_carried_out(
    server: FakeTelegram, bot: Bot, chat: int
) -> None:
    server.latency = 0.2
    asked = time.monotonic()
    await bot.send_message(chat, "slow")
    assert time.monotonic() - asked >= 0.2
    assert server.calls_of("sendMessage")[-1].at - asked >= 0.2  # carried out after the wait


async def test_revoked_token_answers_401_and_ends_a_waiting_long_poll(
    server: FakeTelegram, bot: Bot
) -> None:
    await bot.get_me()
    polling = asyncio.create_task(bot.get_updates(timeout=10))
    await server.wait_for(lambda: server.polls_waiting == 1)
    server.revoke_token()
    with pytest.raises(InvalidToken):
        await asyncio.wait_for(polling, 5)
    with pytest.raises(InvalidToken):
        await bot.send_message(USER, "hello")
    assert server.calls_of("getUpdates")[-1].result_or_error["error_code"] == 401


async def test_a_username_stays_with_the_user(server: FakeTelegram, bot: Bot) -> None:
    server.send_text(USER, "/start", first_name="Ada", username="ada_l")
    server.send_text(USER, "later")
    first, later = await bot.get_updates()
    for update in (first, later):
        assert update.effective_user is not None
        assert update.effective_user.username == "ada_l"
        assert update.effective_chat is not None
        assert update.effective_chat.username == "ada_l"
