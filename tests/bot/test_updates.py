"""Updates Heard asks for, and one it cannot read: logged by id only, skipped, never a stall."""

import logging

import pytest
from telegram import Update
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.updates import allowed_updates, readable

SECRET_NAME = "Philippa-Quiller"
SECRET_WORDS = "my neighbour's dog is called Biscuit"


def unreadable_update(fake, user_id, broken):
    """Inject a private text message with one field PTB cannot parse; return its id."""
    message = {
        "message_id": 900_001,
        "date": 1_767_000_000,
        "chat": {"id": user_id, "type": "private", "first_name": SECRET_NAME},
        "from": {"id": user_id, "is_bot": False, "first_name": SECRET_NAME},
        "text": SECRET_WORDS,
        **broken,
    }
    return fake.inject({"message": message})


@pytest.mark.parametrize(
    "broken",
    [
        {"date": "yesterday"},  # a field of the wrong type
        {"photo": [{"file_id": "AgAD"}]},  # an object without fields the library requires
    ],
    ids=["wrong-type", "missing-fields"],
)
async def test_updates_one_unreadable_update_is_skipped_and_the_next_handled(
    fake, heard, make_user, caplog, broken
):
    # What is logged at INFO and above, as `heard run` logs by default.
    caplog.set_level(logging.INFO)
    user = make_user(4401)
    polls = len(fake.calls_of("getUpdates"))
    bad = unreadable_update(fake, user.user_id, broken)
    await heard.settle(bad)
    await user.send("/help")
    assert "help" in user.last_text().lower()
    # The offset moved past it: Telegram is not asked for it again and again.
    assert fake.confirmed_offset > bad
    assert len(fake.calls_of("getUpdates")) - polls < 10
    skipped = [r for r in caplog.records if "could not be read" in r.getMessage()]
    assert [r.getMessage() for r in skipped] == [
        f"update {bad} could not be read (TypeError); skipped"
    ]
    assert skipped[0].levelno == logging.WARNING
    everything = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert SECRET_NAME not in everything
    assert SECRET_WORDS not in everything


def test_updates_read_each_on_its_own():
    chat = {"id": 1, "type": "private"}
    good = {"update_id": 7, "message": {"message_id": 1, "date": 1_767_000_000, "chat": chat}}
    bad = {"update_id": 8, "message": {"message_id": 1, "date": "soon", "chat": {}}}
    batch = [bad, good, {"no": "id"}]
    read = readable(batch)
    assert read == [{"update_id": 8}, good]
    assert Update.de_json(read[0], None).effective_message is None
    assert readable([good]) == [good]


async def test_updates_polling_asks_only_for_what_heard_handles(fake, user):
    await user.send("/help")  # a long poll is recorded once answered
    asked = {tuple(c.params.get("allowed_updates", ())) for c in fake.calls_of("getUpdates")}
    assert asked == {("message", "edited_message", "callback_query")}


def test_updates_allowed_updates_follow_the_installed_handlers():
    app = ApplicationBuilder().token("1:A").updater(None).build()

    async def nothing(update, context):
        return None

    # A guard in a negative group takes nothing on its own.
    app.add_handler(TypeHandler(Update, nothing), group=-1)
    app.add_handler(CommandHandler("start", nothing, filters=filters.UpdateType.MESSAGE))
    app.add_handler(CallbackQueryHandler(nothing))
    assert allowed_updates(app) == ["message", "callback_query"]
    app.add_handler(MessageHandler(filters.UpdateType.EDITED & filters.ChatType.PRIVATE, nothing))
    app.add_handler(ChatMemberHandler(nothing))
    assert allowed_updates(app) == [
        "message",
        "edited_message",
        "edited_channel_post",
        "callback_query",
        "my_chat_member",
        "edited_business_message",
    ]
    app.add_handler(MessageHandler(~filters.UpdateType.MESSAGES & filters.TEXT, nothing))
    assert "channel_post" in allowed_updates(app)
    assert "business_message" in allowed_updates(app)
    # A handler of a kind not known takes everything: nothing it needs is left with Telegram.
    app.add_handler(TypeHandler(Update, nothing))
    assert allowed_updates(app) == list(Update.ALL_TYPES)
