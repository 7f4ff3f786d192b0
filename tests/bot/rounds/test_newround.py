"""/newround in Telegram: one question at a time, every bad answer explained and asked again."""

from bot.staff_codes import StaffCodes
from tests.bot.conftest import ADMIN_ID
from tests.support.bot_harness import InProcessBot, bot_settings
from tests.support.chat_user import ChatUser
from tests.support.coordinating import member, opened, rows, stored_round, took_part

STALE = "That button is from an earlier message, so nothing was changed."
ROUND_COLUMNS = (
    "SELECT title, flow_id, opens_at, closes_at, audience, reminders, reminder_days, "
    "invitation, status, created_by, notify_chat FROM rounds"
)


async def answer_badly(user, text, reason, question):
    """Give a bad answer; expect the reason, then the same question with the same buttons."""
    buttons = user.buttons()
    seen = len(user.messages())
    if text.startswith("v1|"):
        await user.press_data(user.messages()[-1].message_id, text)
    else:
        await user.send(text)
    said = user.texts_since(seen)
    assert said[0] == f"Sorry, that can't be used: {reason}."
    assert said[-1].startswith(question)
    assert user.buttons() == buttons


async def test_newround_guided_flow_stores_the_round(make_user, database):
    await member(make_user(3001))
    await member(make_user(3002))
    await member(make_user(3003), contact=False)
    coordinator = make_user(ADMIN_ID)

    await coordinator.send("/newround")
    assert "Step 1 of 7: which conversation" in coordinator.last_text()
    assert coordinator.buttons() == ["Sample consultation (sample)", "Cancel"]
    await coordinator.press("Sample consultation (sample)")
    assert coordinator.last_text().startswith("Step 2 of 7")
    assert '"Sample consultation"' in coordinator.last_text()
    await coordinator.send("Spring check-in")
    assert coordinator.last_text().startswith("Step 3 of 7: when should it open?")
    assert "(Europe/London time)" in coordinator.last_text()
    assert coordinator.buttons() == ["Now", "Tomorrow 10:00", "Cancel"]
    await coordinator.press("Tomorrow 10:00")
    assert "It opens Tue 3 Mar 2026, 10:00." in coordinator.last_text()
    # Four weeks on is after the clocks go forward: still 10:00 on the wall.
    assert coordinator.buttons() == [
        "In 1 week (Tue 10 Mar 2026, 10:00)",
        "In 2 weeks (Tue 17 Mar 2026, 10:00)",
        "In 4 weeks (Tue 31 Mar 2026, 10:00)",
        "Cancel",
    ]
    await coordinator.press("In 4 weeks")
    assert coordinator.last_text() == "Step 5 of 7: who should be invited?"
    # No earlier round yet, so there is nothing else to choose.
    assert coordinator.buttons() == ["Everyone who agreed to be contacted", "Cancel"]
    await coordinator.press("Everyone who agreed to be contacted")
    assert coordinator.buttons() == ["None", "One (usual)", "Two", "Cancel"]
    await coordinator.press("Two")
    assert coordinator.last_text().startswith("Step 7 of 7: the invitation.")
    await coordinator.send("Tell us how the spring went.")

    summary = coordinator.last_text()
    assert "Title: Spring check-in" in summary
    assert "Conversation: Sample consultation (sample)" in summary
    assert "Opens: Tue 3 Mar 2026, 10:00\nCloses: Tue 31 Mar 2026, 10:00" in summary
    assert "Who is invited: everyone who agreed to be contacted" in summary
    assert "People who would be invited now: 2" in summary
    assert "Reminders: two, 3 and 6 days after the invitation" in summary
    assert "Invitation:\nTell us how the spring went." in summary
    assert coordinator.buttons() == ["Confirm", "Cancel"]
    assert rows(database, "SELECT COUNT(*) FROM rounds") == [(0,)]
    await coordinator.press("Confirm")

    assert coordinator.last_text().startswith(
        'Round R1 "Spring check-in" is set up. It opens Tue 3 Mar 2026, 10:00'
    )
    assert coordinator.messages()[-2].inline_buttons() == []
    assert rows(database, ROUND_COLUMNS) == [
        (
            "Spring check-in",
            "sample",
            "2026-03-03T10:00:00.000000+00:00",
            "2026-03-31T09:00:00.000000+00:00",
            "contactable",
            2,
            3.0,
            "Tell us how the spring went.",
            "scheduled",
            f"staff:{ADMIN_ID}",
            ADMIN_ID,
        )
    ]
    [(actor, detail)] = rows(
        database, "SELECT actor, detail FROM audit_log WHERE action = 'round created'"
    )
    assert actor == f"staff:{ADMIN_ID}"
    assert detail.startswith("R1 'Spring check-in' (sample)")


async def test_newround_each_bad_answer_is_explained_and_asked_again(make_user, database):
    coordinator = make_user(ADMIN_ID)
    await coordinator.send("/newround")
    await answer_badly(
        coordinator,
        "nope",
        "there is no conversation 'nope' (there are: sample)",
        "Let's set up a consultation round",
    )
    await coordinator.send("sample")
    await answer_badly(
        coordinator, "x" * 101, "a title can be up to 100 characters (this is 101)", "Step 2"
    )
    await coordinator.press("Use the conversation's title")
    await answer_badly(
        coordinator,
        "next tuesday",
        "'next tuesday' is not a date and time; expected a date and time like 2026-12-01 "
        '10:00, or "now", "today 14:00" or "tomorrow 10:00"',
        "Step 3",
    )
    await answer_badly(
        coordinator,
        "2026-01-01 10:00",
        'Thu 1 Jan 2026, 10:00 has already passed; use "now" or a later time',
        "Step 3",
    )
    await coordinator.send("2026-03-10 09:00")
    assert "It opens Tue 10 Mar 2026, 09:00." in coordinator.last_text()
    await answer_badly(
        coordinator,
        "2026-03-09 10:00",
        "the round must close after it opens (Tue 10 Mar 2026, 09:00); "
        "Mon 9 Mar 2026, 10:00 is not after that",
        "Step 4",
    )
    await coordinator.send("2026-04-10")
    await answer_badly(
        coordinator,
        "round 99",
        "there is no round 'round 99' to take the audience from",
        "Step 5",
    )
    await coordinator.send("everyone")
    await answer_badly(coordinator, "3", "reminders can be 0, 1 or 2 (got 3)", "Step 6")
    await coordinator.press("One (usual)")
    await answer_badly(
        coordinator,
        "y" * 3001,
        "an invitation can be up to 3000 characters (this is 3001)",
        "Step 7",
    )
    await coordinator.press("Use the default")

    summary = coordinator.last_text()
    assert summary.startswith("Please check the new round.")
    assert "Title: Sample consultation" in summary
    assert "Closes: Fri 10 Apr 2026, 10:00" in summary
    assert "Reminders: one, 3 days after the invitation" in summary
    assert "Hello. We'd like to hear from you about: Sample consultation." in summary
    # At the summary only the buttons will do.
    seen = len(coordinator.messages())
    await coordinator.send("yes")
    assert coordinator.texts_since(seen)[0].startswith("Please choose with the buttons below")
    assert coordinator.last_text() == summary
    await coordinator.press("Confirm")
    assert rows(database, "SELECT opens_at, closes_at, reminders, invitation FROM rounds") == [
        ("2026-03-10T09:00:00.000000+00:00", "2026-04-10T09:00:00.000000+00:00", 1, None)
    ]


async def test_newround_now_opens_at_once_and_a_photo_is_asked_to_be_typed(
    make_user, database, clock
):
    coordinator = make_user(ADMIN_ID)
    await coordinator.send("/newround")
    await coordinator.press("Sample consultation (sample)")
    seen = len(coordinator.messages())
    await coordinator.send_kind("photo")
    assert coordinator.texts_since(seen)[0].startswith("Please type your answer")
    assert coordinator.last_text().startswith("Step 2 of 7")
    await coordinator.send("Quick check")
    await coordinator.press("Now")
    await coordinator.press("In 1 week")
    await coordinator.press("Everyone who agreed to be contacted")
    await coordinator.press("None")
    await coordinator.press("Use the default")
    await coordinator.press("Confirm")
    assert rows(database, "SELECT title, opens_at, closes_at, reminders FROM rounds") == [
        (
            "Quick check",
            "2026-03-02T10:00:00.000000+00:00",
            "2026-03-09T10:00:00.000000+00:00",
            0,
        )
    ]


async def test_newround_can_invite_those_who_took_part_in_an_earlier_round(
    make_user, database, clock
):
    first = await member(make_user(3001))
    await member(make_user(3002))
    earlier = await stored_round(database, clock.now(), "Autumn services")
    await opened(database, clock.now())
    took_part(database, first.user_id, earlier)
    coordinator = make_user(ADMIN_ID)

    await coordinator.send("/newround")
    await coordinator.press("Sample consultation (sample)")
    await coordinator.press("Use the conversation's title")
    await coordinator.press("Tomorrow 10:00")
    await coordinator.press("In 2 weeks")
    await coordinator.press("Those who took part in an earlier round")
    assert coordinator.last_text().startswith("Step 5 of 7: which earlier round?")
    assert coordinator.buttons() == ["R1 Autumn services (open)", "Cancel"]
    await coordinator.press("R1 Autumn services (open)")
    await coordinator.press("One (usual)")
    await coordinator.press("Use the default")
    summary = coordinator.last_text()
    assert "Who is invited: those who took part in round R1 (and agreed to be contacted)" in (
        summary
    )
    assert "People who would be invited now: 1" in summary
    await coordinator.press("Confirm")
    assert rows(database, "SELECT id, audience FROM rounds ORDER BY id") == [
        (1, "contactable"),
        (2, "round:1"),
    ]


async def test_newround_cancel_by_command_or_button_stores_nothing(make_user, database):
    coordinator = make_user(ADMIN_ID)
    await coordinator.send("/newround")
    await coordinator.press("Sample consultation (sample)")
    title_question = coordinator.messages()[-1].message_id
    await coordinator.send("/cancel")
    assert coordinator.last_text() == "Round set-up cancelled. Nothing was saved."
    assert coordinator.messages()[-2].inline_buttons() == []
    # With no draft, words go to the participant side again (the introduction, for a stranger).
    seen = len(coordinator.messages())
    await coordinator.send("Spring check-in")
    assert "This is run by a test charity." in "\n".join(coordinator.texts_since(seen))
    # A button from the abandoned set-up is answered kindly.
    await coordinator.press_data(title_question, "v1|r|0|same")
    assert coordinator.last_text() == (
        "That set-up was interrupted; send /newround to start again."
    )

    await coordinator.send("/newround")
    await coordinator.press("Cancel")
    assert coordinator.last_text() == "Round set-up cancelled. Nothing was saved."
    assert rows(database, "SELECT COUNT(*) FROM rounds") == [(0,)]
    # Without a draft, /cancel is just an unknown command.
    await coordinator.send("/cancel")
    assert coordinator.last_text().startswith("I don't know that command")


async def test_newround_a_button_from_an_earlier_question_changes_nothing(make_user):
    coordinator = make_user(ADMIN_ID)
    await coordinator.send("/newround")
    flow_question = coordinator.messages()[-1].message_id
    await coordinator.press("Sample consultation (sample)")
    assert coordinator.messages()[-2].inline_buttons() == []
    await coordinator.press_data(flow_question, "v1|r|0|flow0")
    assert coordinator.last_text() == STALE
    # A forged choice on the current question is no better: the question is asked again.
    title_question = coordinator.messages()[-2].message_id
    seen = len(coordinator.messages())
    await coordinator.press_data(title_question, "v1|r|0|weeks3")
    said = coordinator.texts_since(seen)
    assert said[0] == STALE
    assert said[-1].startswith("Step 2 of 7")
    assert coordinator.buttons() == ["Use the conversation's title", "Cancel"]
    await coordinator.send("Still the title")
    assert coordinator.last_text().startswith("Step 3 of 7")


async def test_newround_is_refused_to_participants_and_audited(make_user, database):
    participant = await member(make_user(3001))
    await participant.send("/newround")
    assert participant.last_text().startswith("I don't know that command")
    # Forged draft buttons change nothing either.
    await participant.press_data(participant.messages()[-1].message_id, "v1|r|0|save")
    assert participant.last_text() == STALE
    await participant.send("/cancel")
    assert participant.last_text().startswith("I don't know that command")
    assert rows(database, "SELECT COUNT(*) FROM rounds") == [(0,)]
    assert rows(database, "SELECT action, detail FROM audit_log WHERE actor LIKE 'P-%'") == [
        ("refused", "/newround in a private chat"),
        ("refused", "/newround (button) in a private chat"),
    ]


async def test_newround_draft_is_lost_in_a_restart_and_its_buttons_say_so(
    fake, database, flows_dir, clock
):
    settings = bot_settings(fake, database, flows_dir, "sample", heard_admins=(ADMIN_ID,))
    bot = InProcessBot(settings, clock)
    await bot.start(fake)
    coordinator = ChatUser(fake, ADMIN_ID, settle=bot.settle)
    await coordinator.send("/newround")
    await coordinator.press("Sample consultation (sample)")
    await bot.stop()

    again = InProcessBot(settings, clock)
    await again.start(fake)
    try:
        coordinator = ChatUser(fake, ADMIN_ID, settle=again.settle)
        await coordinator.press("Use the conversation's title")
        assert coordinator.last_text() == (
            "That set-up was interrupted; send /newround to start again."
        )
        assert rows(database, "SELECT COUNT(*) FROM rounds") == [(0,)]
    finally:
        await again.stop()


async def test_newround_draft_ends_when_the_coordinator_role_is_taken_away(make_user, database):
    helper = make_user(4242)
    await helper.send("/help")
    admin = make_user(ADMIN_ID)
    await admin.send("/grant 4242 coordinator")
    await helper.send("/newround")
    await helper.press("Sample consultation (sample)")
    await admin.send("/revoke 4242 coordinator")

    seen = len(helper.messages())
    await helper.send("Spring check-in")
    # They meet the participant bot instead (the introduction, for a stranger).
    assert "This is run by a test charity." in "\n".join(helper.texts_since(seen))
    assert not any(text.startswith("Step 3") for text in helper.texts_since(seen))
    # Refused by their staff code, the one the revoke entry gives them (never their id).
    code = StaffCodes.beside(database).code(4242)
    audit = rows(database, "SELECT actor, action, detail FROM audit_log")
    assert (code, "refused", "/newround (typed answer) in a private chat") in audit
    assert (f"staff:{ADMIN_ID}", "revoke", f"4242 coordinator, code {code}") in audit
    await helper.send("/cancel")
    assert helper.last_text().startswith("I don't know that command")
