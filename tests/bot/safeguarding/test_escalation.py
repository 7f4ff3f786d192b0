"""After the check-in: "I need help now" reaches a person within seconds; answers are recorded."""

import pytest

from tests.bot.conftest import ADMIN_ID, SAFEGUARDING_CHAT
from tests.support.coordinating import joined
from tests.support.database import rows
from tests.support.safeguarding import alerts_in, flags_alerted, query_gives

REVIEWER = 7777


@pytest.fixture
async def checking(fake, heard, make_user, database):
    """A participant wrote words of risk and sees the check-in; the group has the alert."""
    user = make_user(2001)
    await joined(user)
    await user.press("No")
    await user.send("I want to die")
    await flags_alerted(fake, database)
    return user


async def test_escalation_need_help_now_alerts_the_group_at_once(checking, fake, database):
    [alert] = fake.chat_messages(SAFEGUARDING_CHAT)
    await checking.press("I need help now")

    assert checking.last_text().startswith("If you might act on these thoughts")
    messages = await alerts_in(fake, SAFEGUARDING_CHAT, 2, timeout=5)
    urgent = messages[-1]
    assert urgent.display_text.startswith("URGENT: P-")
    assert "pressed “I need help now”" in urgent.display_text
    assert urgent.reply_to == alert.message_id  # threaded with the alert
    told = "SELECT urgent_at IS NOT NULL, urgent_alerted_at IS NOT NULL FROM flags"
    await query_gives(database, told, [(1, 1)])
    # The alert itself now says what happened, so nobody reads an out-of-date one.
    await fake.wait_for(
        lambda: fake.chat_messages(SAFEGUARDING_CHAT)[0].display_text.startswith("URGENT")
    )
    assert (
        "they pressed “I need help now”" in fake.chat_messages(SAFEGUARDING_CHAT)[0].display_text
    )


async def test_escalation_need_help_now_twice_is_one_urgent_message(checking, fake, database):
    await checking.press("I need help now")
    await alerts_in(fake, SAFEGUARDING_CHAT, 2)
    await checking.press("I need help now")
    await query_gives(database, "SELECT alert_stale FROM flags", [(0,)])
    assert len(fake.chat_messages(SAFEGUARDING_CHAT)) == 2


async def test_escalation_typing_no_to_the_check_in_is_need_help(checking, fake, database):
    await checking.send("no")
    assert checking.last_text().startswith("If you might act on these thoughts")
    messages = await alerts_in(fake, SAFEGUARDING_CHAT, 3)
    texts = [m.display_text for m in messages]
    assert any(t.startswith("URGENT: P-") for t in texts)
    assert any(t.startswith("Message from P-") and "\n\nno\n\n" in t for t in texts)
    assert rows(database, "SELECT urgent_at IS NOT NULL FROM flags") == [(1,)]
    # Never a survey answer.
    assert rows(database, "SELECT step_id FROM answers ORDER BY seq") == [("used",), ("why_not",)]


async def test_escalation_typing_ok_does_not_repeat_the_whole_check_in(checking):
    shown = len(checking.messages())
    await checking.send("ok")
    texts = checking.texts_since(shown)
    assert len(texts) == 2
    assert "116 123" not in "".join(texts)
    assert texts[-1].startswith("Are you safe right now? Please tap one of the buttons below.")


async def test_escalation_safe_is_recorded_on_the_flag_and_the_alert(checking, fake, database):
    await checking.press("I'm safe — carry on")
    assert "What one thing would you change?" in checking.last_text()
    [(safe_at,)] = rows(database, "SELECT safe_at FROM flags")
    assert safe_at is not None

    def says_safe():
        return "they said they are safe" in fake.chat_messages(SAFEGUARDING_CHAT)[0].display_text

    await fake.wait_for(says_safe)


async def test_escalation_an_outcome_edits_the_alert_in_the_group(
    checking, fake, make_user, database
):
    reviewer = make_user(REVIEWER)
    await reviewer.send("/help")
    await make_user(ADMIN_ID).send(f"/grant {REVIEWER} safeguarding")
    await reviewer.send("/flags")
    await reviewer.press("Escalated under policy")

    def shows_outcome():
        return (
            "Review: escalated under policy"
            in fake.chat_messages(SAFEGUARDING_CHAT)[0].display_text
        )

    await fake.wait_for(shows_outcome)
    assert len(fake.chat_messages(SAFEGUARDING_CHAT)) == 1  # edited, not a new message


async def test_escalation_need_help_on_an_old_check_in_still_reaches_a_person(
    checking, fake, database
):
    card = checking.messages()[-1]
    await checking.press("I'm safe — carry on")
    await checking.send("The wait was too long")
    # The check-in from earlier is still on screen; pressing it now is never "stale".
    help_data = next(b["callback_data"] for b in card.inline_buttons() if "help" in b["text"])
    await checking.press_data(card.message_id, help_data)
    assert checking.last_text().startswith("If you might act on these thoughts")
    messages = await alerts_in(fake, SAFEGUARDING_CHAT, 2)
    assert messages[-1].display_text.startswith("URGENT: P-")
