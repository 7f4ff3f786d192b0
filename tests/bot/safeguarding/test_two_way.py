"""A participant can answer a person at the charity; the answer goes to staff, never to exports."""

import pytest

from tests.bot.conftest import ADMIN_ID, SAFEGUARDING_CHAT
from tests.support.coordinating import code_of, joined
from tests.support.database import rows
from tests.support.safeguarding import alerts_in, flags_alerted, query_gives

REVIEWER = 7777
SARAH = "yes please ring me on 07700 900123, I'm Sarah"


@pytest.fixture
async def thread(fake, heard, make_user, database):
    """A participant was flagged; a reviewer sent them a message with /reply."""
    participant = make_user(2001)
    await joined(participant)
    await participant.press("No")
    await participant.send("I feel like a burden to everyone")
    await participant.press("I'm safe — carry on")
    await flags_alerted(fake, database)
    reviewer = make_user(REVIEWER)
    await reviewer.send("/help")
    await make_user(ADMIN_ID).send(f"/grant {REVIEWER} safeguarding")
    code = code_of(database, participant.user_id)
    await reviewer.send(f"/reply {code} Hello, this is Jo. Would you like a call?")
    return participant, reviewer, code


async def test_two_way_the_reply_button_sends_the_answer_to_staff(thread, fake, database):
    participant, _, code = thread
    await participant.press("Reply")
    assert participant.last_text().startswith("Type your message to the person at the charity")
    await participant.send(SARAH)

    assert participant.last_text().startswith("Thank you. I have passed your message")
    messages = await alerts_in(fake, SAFEGUARDING_CHAT, 2)
    relayed = messages[-1]
    assert relayed.display_text.startswith(f"Message from {code} (about F-1)")
    assert SARAH in relayed.display_text
    assert relayed.reply_to == messages[0].message_id  # threaded with the flag's alert
    # Never a survey answer, so in no export or report.
    assert SARAH not in str(rows(database, "SELECT value FROM answers"))
    assert rows(database, "SELECT direction, text FROM contact_messages ORDER BY id") == [
        ("to_participant", "Hello, this is Jo. Would you like a call?"),
        ("from_participant", SARAH),
    ]
    await query_gives(
        database,
        "SELECT relayed_at IS NOT NULL FROM contact_messages WHERE direction = 'from_participant'",
        [(1,)],
    )
    await query_gives(
        database,
        "SELECT actor, detail FROM audit_log WHERE action = 'replied to staff'",
        [("a participant", code)],
    )
    # The survey carries on where it was.
    await participant.send("Shorter waits")
    assert "Question 4 of 4" in participant.last_text()


async def test_two_way_telegrams_reply_works_too(thread, fake, database, heard):
    participant, _, _ = thread
    staff_message = next(
        m for m in reversed(participant.messages()) if "A message from a person" in (m.text or "")
    )
    update_id = fake.send_text(participant.user_id, SARAH, reply_to=staff_message.message_id)
    await heard.settle(update_id)
    assert participant.last_text().startswith("Thank you. I have passed your message")
    messages = await alerts_in(fake, SAFEGUARDING_CHAT, 2)
    assert SARAH in messages[-1].display_text
    assert SARAH not in str(rows(database, "SELECT value FROM answers"))


async def test_two_way_words_of_risk_in_a_reply_are_flagged_too(thread, fake, database):
    participant, _, _ = thread
    await participant.press("Reply")
    await participant.send("honestly I want to kill myself")
    assert participant.last_text().endswith("Are you safe right now?")
    await query_gives(database, "SELECT source FROM flags ORDER BY id", [("answer",), ("reply",)])


async def test_two_way_reviewers_can_reply_again(thread, fake, database):
    participant, reviewer, code = thread
    await participant.press("Reply")
    await participant.send(SARAH)
    await reviewer.send(f"/reply {code} Thanks Sarah, I will ring at 3pm.")
    assert reviewer.last_text() == f"Sent to {code}."
    assert "Thanks Sarah, I will ring at 3pm." in participant.last_text()
    directions = rows(database, "SELECT direction FROM contact_messages ORDER BY id")
    assert directions == [("to_participant",), ("from_participant",), ("to_participant",)]


async def test_two_way_cancel_leaves_the_next_text_an_answer(thread, database):
    participant, _, _ = thread
    await participant.press("Reply")
    await participant.press("Cancel")
    assert participant.last_text() == "OK. Nothing was sent."
    await participant.send("Shorter waits")
    assert rows(database, "SELECT value FROM answers WHERE step_id = 'change'") == [
        ('"Shorter waits"',)
    ]


async def test_two_way_reply_to_someone_who_stopped_is_refused_without_an_open_flag(
    fake, heard, make_user, database
):
    participant = make_user(2002)
    await joined(participant)
    await participant.send("/stop")
    reviewer = make_user(REVIEWER)
    await reviewer.send("/help")
    await make_user(ADMIN_ID).send(f"/grant {REVIEWER} safeguarding")
    code = code_of(database, participant.user_id)
    sent = len(participant.messages())

    await reviewer.send(f"/reply {code} Hello")
    assert reviewer.last_text().startswith(f"{code} sent /stop")
    assert len(participant.messages()) == sent
    refused = rows(database, "SELECT detail FROM audit_log WHERE action = 'reply refused'")
    assert refused == [(f"to {code}: they sent /stop",)]


async def test_two_way_reply_to_someone_who_stopped_is_sent_while_a_flag_is_open(
    fake, heard, make_user, database
):
    participant = make_user(2003)
    await joined(participant)
    await participant.press("No")
    await participant.send("I want to die")
    await participant.send("/stop")
    reviewer = make_user(REVIEWER)
    await reviewer.send("/help")
    await make_user(ADMIN_ID).send(f"/grant {REVIEWER} safeguarding")
    code = code_of(database, participant.user_id)

    await reviewer.send(f"/reply {code} We are here if you want to talk.")
    assert reviewer.last_text() == f"Sent to {code}."
    assert "We are here if you want to talk." in participant.last_text()
