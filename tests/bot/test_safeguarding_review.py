"""The safeguarding queue: /flags with outcomes, /note, /reply, and reminders."""

import sqlite3

import pytest

from tests.bot.conftest import ADMIN_ID, SAFEGUARDING_CHAT

REVIEWER = 7777


def rows(database, sql):
    db = sqlite3.connect(database)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


@pytest.fixture
async def flagged(fake, heard, make_user):
    """A participant wrote words of risk; the safeguarding chat exists; a reviewer is named."""
    update_id = fake.send_text(8001, "hi", chat_id=SAFEGUARDING_CHAT, chat_type="group")
    await heard.settle(update_id)
    participant = make_user(2001)
    await participant.send("/start")
    await participant.press("Yes, I'm 18 or older")
    await participant.press("Yes, I agree")
    await participant.press("No")
    await participant.send("I feel like a burden to everyone")
    reviewer = make_user(REVIEWER)
    await reviewer.send("/help")
    await make_user(ADMIN_ID).send(f"/grant {REVIEWER} safeguarding")
    return participant, reviewer


async def test_review_flags_show_context_and_record_an_outcome(flagged, database):
    _, reviewer = flagged
    await reviewer.send("/flags")
    card = reviewer.messages()[-1]
    assert reviewer.messages()[-2].text.startswith("1 open flag(s), oldest first.")
    assert "Safeguarding flag F-1" in card.text
    assert "They wrote: I feel like a burden to everyone" in card.text
    assert reviewer.buttons() == [
        "No action needed",
        "Support message sent",
        "Escalated under policy",
    ]
    await reviewer.press("Support message sent")
    assert reviewer.last_text().startswith("F-1 recorded as: support message sent.")
    assert rows(database, "SELECT outcome, reviewed_by FROM flags") == [
        ("support message sent", REVIEWER)
    ]
    await reviewer.press_data(card.message_id, "v1|f|1|e")
    assert reviewer.last_text().startswith("F-1 was already reviewed")
    await reviewer.send("/flags")
    assert reviewer.last_text() == "No open safeguarding flags."
    await reviewer.send("/note 1 Called the duty worker; they will ring back today")
    assert reviewer.last_text() == "Note saved on F-1."
    assert rows(database, "SELECT note FROM flags") == [
        ("Called the duty worker; they will ring back today",)
    ]
    actions = [a for (a,) in rows(database, "SELECT action FROM audit_log")]
    assert actions == ["grant", "flags", "flag outcome", "flags", "flag note"]


async def test_review_reply_reaches_the_participant_marked_as_a_person(flagged, database):
    participant, reviewer = flagged
    [(code,)] = rows(database, "SELECT participant_code FROM flags")
    await reviewer.send(
        f"/reply {code} Hello, this is Jo from the charity. Thank you for telling us."
    )
    assert reviewer.last_text() == f"Sent to {code}."
    assert participant.last_text() == (
        "A message from a person at the charity:\n\n"
        "Hello, this is Jo from the charity. Thank you for telling us.\n\n"
        "To answer, tap Reply below. If you need help now, send /help."
    )
    assert participant.buttons() == ["Reply"]
    [(detail,)] = rows(database, "SELECT detail FROM audit_log WHERE action = 'reply'")
    assert detail == f"to {code} (61 characters)"
    await reviewer.send("/reply P-NOBODY hi")
    assert reviewer.last_text().startswith("There is no participant with the code P-NOBODY.")


async def test_review_is_refused_to_anyone_without_the_role(flagged, make_user, database):
    participant, _ = flagged
    for text in ("/flags", "/reply P-ABC hi", "/note 1 x"):
        await participant.send(text)
        assert participant.last_text().startswith("I don't know that command")
    card_data = "v1|f|1|n"
    await participant.press_data(participant.messages()[-1].message_id, card_data)
    assert rows(database, "SELECT outcome FROM flags") == [(None,)]
    refused = rows(database, "SELECT detail FROM audit_log WHERE action = 'refused'")
    assert ("/flags (outcome button) in a private chat",) in refused
    assert ("/reply in a private chat",) in refused


async def test_review_unreviewed_flags_are_alerted_again(flagged, fake, clock):
    assert len(fake.chat_messages(SAFEGUARDING_CHAT)) == 1
    clock.advance(hours=25)
    await fake.wait_for(lambda: len(fake.chat_messages(SAFEGUARDING_CHAT)) == 2, timeout=10)
    reminder = fake.chat_messages(SAFEGUARDING_CHAT)[-1]
    assert reminder.text.startswith("Reminder: not reviewed yet. Safeguarding flag F-1")
