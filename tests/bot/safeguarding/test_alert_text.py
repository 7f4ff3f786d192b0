"""What staff read about a flag says where things stand, and names people by code only."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.safeguarding.alert_text import FlagContext, alert, relayed, removed, urgent
from storage.safety import ContactMessage, Flag, FlagSource

AT = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
FLAG = Flag(
    12, "P-7KQ2MX", 3, "why_not", "want to die", "I want to die", AT, AT, None, None, "answer"
)
CONTEXT = FlagContext("sample (version 1)", "Why not?")


def test_alert_text_a_new_flag_asks_for_a_review():
    text = alert(FLAG, CONTEXT)
    assert text.startswith("Safeguarding flag F-12\nParticipant: P-7KQ2MX")
    assert "Question: Why not?" in text
    assert "They wrote: I want to die" in text
    assert "no answer yet" in text
    assert "Review: not reviewed yet." in text
    assert "/reply P-7KQ2MX" in text


def test_alert_text_follows_the_check_in_and_the_review():
    helped = replace(FLAG, urgent_at=AT + timedelta(minutes=2))
    assert alert(helped, CONTEXT).startswith("URGENT: Safeguarding flag F-12")
    assert "pressed “I need help now” at 2026-12-07 10:02 UTC" in alert(helped, CONTEXT)
    safe = replace(FLAG, safe_at=AT + timedelta(minutes=1))
    assert "they said they are safe and carried on" in alert(safe, CONTEXT)
    reviewed = replace(FLAG, reviewed_at=AT, outcome="escalated under policy", note="Rang")
    text = alert(reviewed, CONTEXT)
    assert "Review: escalated under policy (2026-12-07 10:00 UTC). Note: Rang" in text
    assert "/reply" not in text


def test_alert_text_a_concern_says_its_priority_and_that_nobody_was_alerted():
    concern = replace(FLAG, phrase="risk model 0.62", alerted_at=None, priority="concern")
    text = alert(concern, CONTEXT)
    assert text.startswith("Safeguarding concern F-12 (lower priority)\nParticipant: P-7KQ2MX")
    assert "Matched: risk model 0.62" in text
    assert "No check-in and no alert (a concern)" in text
    assert "asked if they are safe" not in text
    assert "Review: not reviewed yet." in text


def test_alert_text_says_where_words_outside_an_answer_were_written():
    places: list[tuple[FlagSource, str]] = [
        ("caption", "the caption of a photo, video or file"),
        ("edit", "an edited message"),
        ("reply", "a reply to a message from staff"),
        ("before_question", "a message sent before their question reached them"),
    ]
    for source, where in places:
        assert f"Where: {where}" in alert(replace(FLAG, source=source, step_id=None), CONTEXT)


def test_alert_text_of_a_deleted_person_has_no_words():
    gone = replace(FLAG, participant_code=None, text=None, run_id=None)
    text = alert(gone, FlagContext())
    assert "Participant: deleted" in text
    assert "They wrote: (removed: their data was deleted)" in text
    assert removed(12) == "F-12: removed, because the participant deleted their data."


def test_alert_text_urgent_and_relayed_messages():
    assert urgent(replace(FLAG, urgent_at=AT)).startswith("URGENT: P-7KQ2MX pressed")
    message = ContactMessage(
        1, "P-7KQ2MX", 12, "from_participant", "ring me", None, None, AT, None
    )
    text = relayed(message)
    assert text.startswith("Message from P-7KQ2MX (about F-12)")
    assert "ring me" in text
