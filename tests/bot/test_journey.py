"""Transcript tests: whole conversations with the real bot over HTTP."""

import json
import sqlite3

from bot.sender import TelegramSender


def rows(database, sql, *args):
    db = sqlite3.connect(database)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def stored_answers(database):
    return dict(rows(database, "SELECT step_id, value FROM answers ORDER BY seq"))


async def consent(user):
    await user.send("/start")
    await user.press("Yes, I'm 18 or older")
    await user.press("Yes, I agree")


async def test_journey_consent_to_end(user, database):
    await user.send("/start")
    intro, question = user.messages()[-2:]
    assert "Sample consultation" in intro.text
    assert "not a crisis service" in intro.text
    assert question.text == "Before we start: are you 18 or older?"
    assert user.buttons() == ["Yes, I'm 18 or older", "No, I'm younger"]
    await user.press("Yes, I'm 18 or older")
    assert user.messages()[-2].reply_markup is None
    assert user.last_text() == "Are you happy to take part?"
    assert user.buttons() == ["Yes, I agree", "No, thank you"]
    assert rows(database, "SELECT * FROM participants") == []

    await user.press("Yes, I agree")
    assert user.texts_since(len(user.messages()) - 2)[0] == "Let's begin."
    assert user.last_text().startswith("Question 1 of ")
    assert "Have you used the service?" in user.last_text()
    assert user.buttons() == ["Yes", "No", "Skip"]

    await user.press("Yes")
    settled = user.messages()[-2]
    assert settled.text == "Have you used the service?\n\nYour answer: Yes"
    assert settled.reply_markup is None
    assert "Question 2 of" in user.last_text()
    await user.press("4")
    await user.press("The staff")
    assert "✅ The staff" in user.buttons()
    await user.press("The place")
    await user.press("Done")
    await user.send("2")
    await user.send("More evening appointments, please <b>really</b> & *soon*")
    assert "About you" in user.messages()[-2].text
    await user.press("Skip")
    assert "Thank you for taking part." in user.messages()[-2].text
    assert user.last_text().startswith("One more thing. Can we message you")

    assert stored_answers(database) == {
        "used": "true",
        "rating": "4",
        "liked": json.dumps(["staff", "place"]),
        "contact": json.dumps("visit"),
        "change": json.dumps("More evening appointments, please <b>really</b> & *soon*"),
        "age": "null",
    }
    [(status, completed)] = rows(database, "SELECT status, completed_at FROM runs")
    assert status == "completed"
    assert completed is not None
    # What the participant typed is shown back literally, never parsed as markup.
    change = next(m for m in user.messages() if m.text and m.text.startswith("What one thing"))
    assert "<b>really</b> & *soon*" in change.text


async def test_journey_under_age_is_told_kindly_and_nothing_is_stored(user, database):
    await user.send("/start")
    await user.press("No, I'm younger")
    assert "for people aged 18 and over" in user.last_text()
    assert "Childline" in user.last_text()
    assert "0800 1111" in user.last_text()
    assert user.messages()[-2].reply_markup is None
    assert rows(database, "SELECT * FROM participants") == []
    assert rows(database, "SELECT * FROM identities") == []


async def test_journey_decline_stores_nothing(user, database):
    await user.send("/start")
    await user.press("Yes, I'm 18 or older")
    await user.press("No, thank you")
    assert "Nothing about you has been kept" in user.last_text()
    assert "/start" in user.last_text()
    assert rows(database, "SELECT * FROM participants") == []
    assert rows(database, "SELECT * FROM identities") == []


async def test_journey_every_answer_is_stored_before_the_next_question(
    user, database, monkeypatch
):
    await consent(user)
    seen = []
    original = TelegramSender.deliver

    async def spy(self, chat_id, messages, prompt_id):
        if any("Question 2" in getattr(m, "text", "") for m in messages):
            seen.append(stored_answers(database))
        return await original(self, chat_id, messages, prompt_id)

    monkeypatch.setattr(TelegramSender, "deliver", spy)
    await user.press("Yes")
    assert seen == [{"used": "true"}]


async def test_journey_typed_answers_are_understood(user, database):
    await consent(user)
    await user.send("yes")
    await user.send("5")
    await user.send("1, 2")
    await user.send("In person")
    assert stored_answers(database) == {
        "used": "true",
        "rating": "5",
        "liked": json.dumps(["staff", "speed"]),
        "contact": json.dumps("visit"),
    }


async def test_journey_branches_on_an_answer(user, database):
    await consent(user)
    await user.press("No")
    assert "Why not?" in user.last_text()
    await user.send("Too far away")
    assert "What one thing would you change?" in user.last_text()


async def test_journey_skip_back_and_required(user, database):
    await consent(user)
    await user.send("/skip")
    assert "You skipped this question." in user.messages()[-2].text
    await user.send("/back")
    assert "Last time you skipped this." in user.last_text()
    await user.press("No")
    await user.send("Buses")
    await user.send("/skip")
    assert "can't be skipped" in user.messages()[-2].text
    assert "What one thing would you change?" in user.last_text()
    await user.send("/back")
    assert "Last time you said: Buses" in user.last_text()
    await user.send("No buses at all")
    assert stored_answers(database)["why_not"] == json.dumps("No buses at all")


async def test_journey_answers_on_an_abandoned_branch_are_removed(user, database):
    await consent(user)
    await user.press("No")
    await user.send("Buses")
    assert "why_not" in stored_answers(database)
    await user.send("/back")
    await user.send("/back")
    await user.press("Yes")
    for _ in range(3):
        await user.send("/skip")
    await user.send("More staff")
    await user.send("/skip")
    assert "Thank you for taking part." in user.messages()[-2].text
    assert user.last_text().startswith("One more thing. Can we message you")
    assert "why_not" not in stored_answers(database)
    assert stored_answers(database)["used"] == "true"


async def test_journey_back_on_first_question(user):
    await consent(user)
    await user.send("/back")
    assert "nothing to go back to" in user.messages()[-2].text
    assert "Question 1 of" in user.last_text()


async def test_journey_pause_and_resume_with_a_recap(user, database):
    await consent(user)
    await user.press("Yes")
    await user.send("/pause")
    assert "Your answers so far are saved" in user.last_text()
    assert rows(database, "SELECT status FROM runs") == [("paused",)]
    await user.send("hello again")
    assert "Welcome back. You were on question 2" in user.messages()[-2].text
    assert "How was it?" in user.last_text()
    assert "rating" not in stored_answers(database)
    await user.send("/start")
    assert "How was it?" in user.last_text()


async def test_journey_help_shows_urgent_help(user):
    await user.send("/help")
    text = user.last_text()
    assert "/skip" in text
    assert "999" in text
    assert "116 123" in text
    assert "85258" in text
    assert "call 111" in text
    assert "Lifeline on 0808 808 8000" in text
    assert "People at the charity read messages on weekdays, 9am to 5pm" in text
    assert "not a crisis service" in text


async def test_journey_stop_is_recorded_and_answers_kept(user, database):
    await consent(user)
    await user.press("Yes")
    await user.send("/stop")
    assert "won't send you any more messages" in user.last_text()
    assert rows(database, "SELECT status FROM participants") == [("stopped",)]
    assert stored_answers(database) == {"used": "true"}
    await user.send("/start")
    assert rows(database, "SELECT status FROM participants") == [("active",)]
    assert "How was it?" in user.last_text()


async def test_journey_not_text_gets_a_kind_reprompt(user):
    await consent(user)
    for kind in ("photo", "voice", "sticker", "document", "video_note", "location"):
        before = len(user.messages())
        await user.send_kind(kind)
        texts = user.texts_since(before)
        assert texts[0].startswith("I can only read typed words here"), kind
        assert "Have you used the service?" in texts[-1]


async def test_journey_too_long_text_is_explained_and_asked_again(user, database):
    await consent(user)
    await user.press("No")
    await user.send("x" * 51)
    assert "51 characters long" in user.messages()[-2].text
    assert "limit for this question is 50" in user.messages()[-2].text
    assert "Why not?" in user.last_text()
    assert "why_not" not in stored_answers(database)


async def test_journey_stale_button_changes_nothing(user, database):
    await consent(user)
    first = user.messages()[-1]
    [yes_data] = [
        d for label, d in user.server.buttons(user.chat_id, first.message_id) if label == "Yes"
    ]
    await user.press("Yes")
    # The settled question lost its buttons; an old client could still send their data.
    await user.press_data(first.message_id, yes_data)
    assert "from an earlier message" in user.messages()[-2].text
    assert "How was it?" in user.last_text()
    assert stored_answers(database) == {"used": "true"}


async def test_journey_forged_buttons_change_nothing(user, database):
    await consent(user)
    prompt = user.messages()[-1]
    for forged in ("v1|q|999|1|1|p|yes", "garbage", "v1|q|1|1|99|p|0", "v9|q|1|1|1|p|y"):
        await user.press_data(prompt.message_id, forged)
        assert "from an earlier message" in user.messages()[-2].text
        assert "Have you used the service?" in user.last_text()
    assert stored_answers(database) == {}


async def test_journey_another_participants_button_changes_nothing(make_user, database):
    alice, bob = make_user(2001), make_user(2002)
    await consent(alice)
    await consent(bob)
    alice_yes = next(
        d
        for label, d in alice.server.buttons(alice.chat_id, alice.messages()[-1].message_id)
        if label == "Yes"
    )
    await bob.press_data(bob.messages()[-1].message_id, alice_yes)
    assert "from an earlier message" in bob.messages()[-2].text
    assert stored_answers(database) == {}


async def test_journey_unknown_command_and_edits(user, fake):
    await user.send("/frobnicate")
    assert "I don't know that command" in user.last_text()
    update_id = fake.inject(
        {
            "edited_message": {
                "message_id": 5,
                "from": {"id": user.user_id, "is_bot": False, "first_name": "Sam"},
                "chat": {"id": user.chat_id, "type": "private", "first_name": "Sam"},
                "date": 1700000000,
                "edit_date": 1700000001,
                "text": "changed",
            }
        }
    )
    await user._settle(update_id)
    assert "can't see changes" in user.last_text()


async def test_journey_group_chats_get_one_line(fake, heard):
    update_id = fake.send_text(3001, "/start", chat_id=-100123, chat_type="group")
    await heard.settle(update_id)
    [message] = fake.chat_messages(-100123)
    assert message.text == "Sorry, I only work in private chats. Please send me a direct message."
    await heard.settle(fake.send_text(3001, "/help", chat_id=-100123, chat_type="group"))
    assert len(fake.chat_messages(-100123)) == 1  # told once, not on every message


async def test_journey_error_in_a_handler_is_kind(user, monkeypatch, caplog):
    await consent(user)

    def broken(*args, **kwargs):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr("bot.journey.advance", broken)
    await user.send("yes")
    assert user.last_text().startswith("Sorry, something went wrong on our side")
    assert "Traceback" not in user.last_text()
    assert "engine exploded" in caplog.text


async def test_journey_commands_menu_is_registered(fake, heard):
    # The default menu has no scope; an admin's menu is scoped to their chat.
    [call] = [c for c in fake.calls_of("setMyCommands") if "scope" not in c.params]
    commands = (
        json.loads(call.params["commands"])
        if isinstance(call.params["commands"], str)
        else call.params["commands"]
    )
    assert [c["command"] for c in commands] == [
        "start",
        "skip",
        "back",
        "pause",
        "help",
        "settings",
        "mydata",
        "delete",
        "stop",
    ]


async def test_journey_chats_are_ordered_and_concurrent(fake, heard, make_user, database):
    users = [make_user(4000 + i) for i in range(5)]
    for person in users:
        await consent(person)
    # Every chat sends three answers at once; each chat's answers must apply in order.
    ids = []
    for person in users:
        ids += [fake.send_text(person.user_id, text) for text in ("yes", "3", "1 3")]
    for update_id in ids:
        await heard.settle(update_id)
    for run_id in range(1, 6):
        answers = rows(
            database, "SELECT step_id, value FROM answers WHERE run_id = ? ORDER BY seq", run_id
        )
        assert answers == [
            ("used", "true"),
            ("rating", "3"),
            ("liked", json.dumps(["staff", "place"])),
        ]


async def test_journey_an_old_consent_button_never_starts_a_second_run(user, database):
    await user.send("/start")
    await user.press("Yes, I'm 18 or older")
    consent_message = user.messages()[-1]
    [agree] = [
        d
        for label, d in user.server.buttons(user.chat_id, consent_message.message_id)
        if label == "Yes, I agree"
    ]
    await user.press("Yes, I agree")
    await user.press_data(consent_message.message_id, agree)
    assert "from an earlier message" in user.messages()[-2].text
    assert "Have you used the service?" in user.last_text()
    assert rows(database, "SELECT COUNT(*) FROM runs") == [(1,)]
    assert rows(database, "SELECT COUNT(*) FROM consents") == [(1,)]
