"""A concern: a gentle note before the next question, a lower-priority review item, no alert."""

import calendar
import csv
import json
import time

import pytest

import bot.app
from bot.exports.export import export
from bot.safeguarding.risk_model import RiskModel
from bot.safeguarding.screening import PhraseList, Screener
from bot.safeguarding.verdicts import Screening, Verdict
from tests.bot.conftest import ADMIN_ID, SAFEGUARDING_CHAT, start_heard
from tests.support.bot_harness import InProcessBot, bot_settings
from tests.support.chat_user import ChatUser
from tests.support.concerns import CONCERN, ConcernScreener
from tests.support.coordinating import at_free_text, code_of, joined
from tests.support.database import rows, unshown
from tests.support.safeguarding import query_gives

REVIEWER = 7777
RISK = "I want to die"
NOTE = "Thank you for sharing that."
ANOTHER = "The waiting list was long and some days it is hard to cope"


@pytest.fixture
async def heard(fake, flows_dir, database, clock):
    """Heard with the shipped phrase list, and a concern for the words in CONCERN."""
    bot = await start_heard(fake, database, flows_dir, clock, ConcernScreener())
    yield bot
    await bot.stop()


@pytest.fixture
async def answering(make_user):
    """A participant at the free-text question "Why not?"."""
    return await at_free_text(make_user(2001))


def csv_rows(path):
    found = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    return [dict(zip(found[0], row, strict=True)) for row in found[1:]]


async def test_concern_answer_gets_the_note_then_the_next_question(answering, database):
    shown = len(answering.messages())
    await answering.send(CONCERN)

    note, question = answering.texts_since(shown)
    assert note.startswith(NOTE)
    assert "116 123" in note  # the support lines, as the check-in shows them
    assert "Heard is not a crisis service, and nobody watches it all the time." in note
    assert "Are you safe right now?" not in note
    assert "What one thing would you change?" in question
    assert "I'm safe — carry on" not in answering.buttons()
    # Stored as an answer like any other, with a concern in the same commit.
    assert rows(database, "SELECT step_id, value, flagged FROM answers ORDER BY seq") == [
        ("used", "false", 0),
        ("why_not", json.dumps(CONCERN), 0),
    ]
    assert rows(database, "SELECT priority, step_id, source, phrase, text FROM flags") == [
        ("concern", "why_not", "answer", "risk model 0.62", CONCERN)
    ]
    assert rows(database, "SELECT status FROM runs") == [("active",)]


async def test_concern_shows_the_support_lines_for_the_persons_nation(answering):
    await answering.send("/settings")
    await answering.press("Choose where I live")
    await answering.press("Wales")
    await answering.send("/start")
    assert "Why not?" in answering.last_text()
    shown = len(answering.messages())
    await answering.send(CONCERN)
    note = answering.texts_since(shown)[0]
    assert note.startswith(NOTE)
    assert "NHS 111 Wales" in note


async def test_concern_answer_is_exported_not_withheld(answering, database, tmp_path):
    await answering.send(CONCERN)
    out = tmp_path / "r.csv"
    await export(database, out, "csv")
    [row] = csv_rows(out)
    assert row["why_not"] == CONCERN
    assert rows(database, "SELECT priority, reviewed_at FROM flags") == [("concern", None)]


async def test_concern_is_never_posted_to_the_safeguarding_chat(
    answering, make_user, fake, database, clock
):
    await answering.send(CONCERN)
    # Someone else's words of risk after it: once their alert is out, a sweep has been past
    # the concern, and left it alone.
    other = make_user(2002)
    await joined(other)
    await other.press("No")
    await other.send(RISK)
    told = "SELECT priority, alerted_at IS NOT NULL FROM flags ORDER BY id"
    await query_gives(database, told, [("concern", 0), ("flag", 1)])
    [alert] = fake.chat_messages(SAFEGUARDING_CHAT)
    assert "F-2" in alert.display_text
    assert CONCERN not in alert.display_text
    # A day later the flag is reminded of; the concern still is not.
    clock.advance(hours=25)
    await fake.wait_for(lambda: len(fake.chat_messages(SAFEGUARDING_CHAT)) == 2, timeout=10)
    reminder = fake.chat_messages(SAFEGUARDING_CHAT)[-1]
    assert reminder.display_text.startswith("Reminder: not reviewed yet. Safeguarding flag F-2")
    assert all(CONCERN not in m.display_text for m in fake.chat_messages(SAFEGUARDING_CHAT))


async def test_concern_review_lists_flags_first_and_shows_the_priority(
    answering, make_user, fake, database
):
    await answering.send(CONCERN)  # F-1, the older
    other = make_user(2002)
    await joined(other)
    await other.press("No")
    await other.send(RISK)  # F-2
    reviewer = make_user(REVIEWER)
    await reviewer.send("/help")
    await make_user(ADMIN_ID).send(f"/grant {REVIEWER} safeguarding")
    shown = len(reviewer.messages())
    await reviewer.send("/flags")

    heading, flag, concern = reviewer.texts_since(shown)
    assert heading.startswith("1 open flag(s) and 1 concern(s). Flags come first")
    assert flag.startswith("Safeguarding flag F-2\n")
    assert concern.startswith("Safeguarding concern F-1 (lower priority)\n")
    assert f"They wrote: {CONCERN}" in concern
    assert "Matched: risk model 0.62" in concern
    assert "No check-in and no alert (a concern)" in concern
    assert "Question: Why not?" in concern
    # Reviewing a concern is reviewing a flag: the newest card is the concern's.
    assert reviewer.buttons() == [
        "No action needed",
        "Support message sent",
        "Escalated under policy",
    ]
    await reviewer.press("Support message sent")
    assert reviewer.last_text().startswith("F-1 recorded as: support message sent.")
    assert rows(
        database, "SELECT id, outcome, reviewed_by FROM flags WHERE reviewed_at IS NOT NULL"
    ) == [(1, "support message sent", REVIEWER)]
    await reviewer.send("/flags")
    assert reviewer.messages()[-2].display_text.startswith("1 open flag(s), oldest first.")
    await reviewer.send("/note 1 Rang them; they are OK")
    assert reviewer.last_text() == "Note saved on F-1."
    # Nothing about the concern reaches the group, reviewed or not.
    await query_gives(database, "SELECT alerted_at IS NOT NULL FROM flags WHERE id = 2", [(1,)])
    assert [m.display_text[:21] for m in fake.chat_messages(SAFEGUARDING_CHAT)] == [
        "Safeguarding flag F-2"
    ]


async def test_concern_note_is_not_repeated_within_a_day(answering, fake, heard, database, clock):
    await answering.send(CONCERN)
    shown = len(answering.messages())
    await answering.send(ANOTHER)  # the required "What one thing would you change?"
    texts = answering.texts_since(shown)
    assert not any(t.startswith(NOTE) for t in texts)
    assert "How old are you?" in texts[-1]
    assert rows(database, "SELECT priority, step_id FROM flags ORDER BY id") == [
        ("concern", "why_not"),
        ("concern", "change"),
    ]
    # A day on, the note is shown again (the question comes again first: they were away).
    clock.advance(hours=25)
    shown = len(answering.messages())
    a_day_on = int(time.time()) + 25 * 60 * 60  # when it is written, as Telegram dates it
    await heard.settle(fake.send_text(answering.user_id, CONCERN, date=a_day_on))
    texts = answering.texts_since(shown)
    assert texts[0].startswith(NOTE)
    assert "How old are you?" in texts[-1]
    assert len(rows(database, "SELECT * FROM flags WHERE priority = 'concern'")) == 3


async def test_concern_in_a_caption_gets_the_note_and_no_check_in(
    answering, fake, heard, database
):
    shown = len(answering.messages())
    await heard.settle(fake.send_kind(answering.user_id, "photo", caption=CONCERN))
    texts = answering.texts_since(shown)
    assert texts[0].startswith(NOTE)
    assert any(t.startswith("I can only read typed words here") for t in texts[1:])
    assert not any("Are you safe right now?" in t for t in texts)
    assert rows(database, "SELECT priority, source, step_id, text FROM flags") == [
        ("concern", "caption", None, CONCERN)
    ]
    assert rows(database, "SELECT step_id FROM answers") == [("used",)]
    await answering.send("Too far away")
    assert "What one thing would you change?" in answering.last_text()


async def test_concern_in_an_edit_gets_the_note_and_no_check_in(answering, fake, heard, database):
    await answering.send("It is too far")
    [message_id] = fake.user_message_ids(answering.chat_id)[-1:]
    shown = len(answering.messages())
    await heard.settle(fake.edit_text(answering.user_id, message_id, CONCERN))
    note, edits = answering.texts_since(shown)
    assert note.startswith(NOTE)
    assert edits.startswith("I can't see changes to messages")
    assert rows(database, "SELECT priority, source, step_id FROM flags") == [
        ("concern", "edit", None)
    ]
    assert rows(database, "SELECT value FROM answers WHERE step_id = 'why_not'") == [
        ('"It is too far"',)
    ]


async def test_concern_typed_before_its_question_is_kept_and_stored(
    answering, fake, heard, database, clock
):
    before = calendar.timegm(clock.now().timetuple()) - 60
    shown = len(answering.messages())
    await heard.settle(fake.send_text(answering.user_id, CONCERN, date=before))
    lead, note, question = answering.texts_since(shown)
    assert lead.startswith("Your message may have come before this question reached you")
    assert note.startswith(NOTE)
    assert "Why not?" in question
    assert rows(database, "SELECT priority, source, step_id FROM flags") == [
        ("concern", "before_question", None)
    ]
    assert rows(database, "SELECT why FROM kept_messages") == [("before_question",)]


async def test_concern_from_a_stranger_gets_the_note_then_the_intro(user, fake, database):
    await user.send(CONCERN)
    texts = [m.display_text for m in user.messages()]
    assert texts[0].startswith(NOTE)
    assert "116 123" in texts[0]
    assert texts[-1] == "Before we start: are you 18 or older?"
    for table in ("participants", "flags", "kept_messages"):
        assert rows(database, f"SELECT * FROM {table}") == [], table
    assert fake.chat_messages(SAFEGUARDING_CHAT) == []


async def test_concern_at_the_check_in_is_passed_on_and_the_flag_stays_the_one_checked(
    answering, fake, database
):
    await answering.send(RISK)
    assert answering.last_text().endswith("Are you safe right now?")
    shown = len(answering.messages())
    await answering.send(CONCERN)
    passed_on, nudge = answering.texts_since(shown)  # no note: the check-in is on
    assert passed_on.startswith("Thank you. I have passed what you wrote to a person")
    assert nudge.startswith("Are you safe right now?")
    assert rows(database, "SELECT text, flag_id FROM contact_messages") == [(CONCERN, 1)]
    await answering.press("I'm safe — carry on")
    assert "What one thing would you change?" in answering.last_text()
    assert rows(database, "SELECT id, priority, safe_at IS NOT NULL FROM flags ORDER BY id") == [
        (1, "flag", 1),
        (2, "concern", 0),
    ]


async def test_concern_is_in_my_data_and_goes_with_the_person(answering, database):
    await answering.send(CONCERN)
    code = code_of(database, answering.user_id)
    await answering.send("/mydata")
    files = [m for m in answering.messages() if m.document is not None]
    text = files[0].document["content"].decode()
    data = json.loads(files[1].document["content"])
    [flag] = data["safeguarding_flags"]
    assert (flag["priority"], flag["your_words"], flag["where"]) == ("concern", CONCERN, "answer")
    assert f"you wrote: {CONCERN}" in text
    assert "This was not urgent, so nobody was told straight away." in text

    await answering.send("/delete")
    await answering.press("Yes, delete my data")
    assert rows(database, "SELECT participant_code, run_id, text, priority FROM flags") == [
        (None, None, None, "concern")
    ]
    assert code not in str(rows(database, "SELECT * FROM flags"))


async def test_concern_after_a_check_in_in_the_same_run_gets_no_second_note(answering, database):
    await answering.send(RISK)
    await answering.press("I'm safe — carry on")
    shown = len(answering.messages())
    await answering.send(CONCERN)  # the check-in showed the same support lines
    texts = answering.texts_since(shown)
    assert not any(t.startswith(NOTE) for t in texts)
    assert "How old are you?" in texts[-1]
    assert rows(database, "SELECT priority, step_id FROM flags ORDER BY id") == [
        ("flag", "why_not"),
        ("concern", "change"),
    ]


async def test_concern_in_a_reply_to_staff_is_passed_on_noted_and_stored(
    answering, make_user, database
):
    reviewer = make_user(REVIEWER)
    await reviewer.send("/help")
    await make_user(ADMIN_ID).send(f"/grant {REVIEWER} safeguarding")
    code = code_of(database, answering.user_id)
    await reviewer.send(f"/reply {code} Hello, this is Jo. How are you getting on?")
    await answering.press("Reply")
    shown = len(answering.messages())
    await answering.send(CONCERN)
    passed_on, note = answering.texts_since(shown)
    assert passed_on.startswith("Thank you. I have passed your message")
    assert note.startswith(NOTE)
    assert rows(database, "SELECT direction, text FROM contact_messages ORDER BY id")[-1] == (
        "from_participant",
        CONCERN,
    )
    assert rows(database, "SELECT priority, source, step_id FROM flags") == [
        ("concern", "reply", None)
    ]
    assert CONCERN not in str(rows(database, "SELECT value FROM answers"))


async def test_concern_while_the_question_was_not_shown_is_kept_stored_and_noted(
    fake, flows_dir, database, clock
):
    # No redelivery job in the way: the run stays unshown until the participant writes.
    settings = bot_settings(fake, database, flows_dir, "sample")
    bot = InProcessBot(settings, clock, redelivery_seconds=600, screener=ConcernScreener())
    await bot.start(fake)
    try:
        user = await at_free_text(ChatUser(fake, 2002, settle=bot.settle))
        unshown(database)
        shown = len(user.messages())
        await user.send(CONCERN)

        lead, note, question = user.texts_since(shown)
        assert lead.startswith("Your message may have come before this question reached you")
        assert note.startswith(NOTE)
        assert "Why not?" in question
        assert rows(database, "SELECT text FROM kept_messages") == [(CONCERN,)]
        assert rows(database, "SELECT priority, source, step_id FROM flags") == [
            ("concern", "before_question", None)
        ]
        assert rows(database, "SELECT step_id FROM answers") == [("used",)]
    finally:
        await bot.stop()


async def test_concern_heard_screens_with_a_screener_of_the_phrases_it_loads(
    fake, flows_dir, database, clock, monkeypatch
):
    built = []

    class Spy(Screener):
        def __init__(self, phrases, model=None):
            super().__init__(phrases, model)
            built.append((phrases, model))

        def screen(self, text):
            if CONCERN in text:
                return Screening(Verdict.CONCERN, score=0.5, sentence=text)
            return super().screen(text)

    monkeypatch.setattr(bot.app, "Screener", Spy)
    settings = bot_settings(fake, database, flows_dir, "sample")
    heard = InProcessBot(settings, clock)  # no screener given: Heard builds its own
    await heard.start(fake)
    try:
        user = ChatUser(fake, 2003, settle=heard.settle)
        await joined(user)
        shown = len(user.messages())
        await user.send(CONCERN)  # to "Have you used the service?": no answer, but a concern
        assert user.texts_since(shown)[0].startswith(NOTE)
        assert [(phrases.source, model) for phrases, model in built] == [
            (PhraseList.shipped().source, RiskModel.shipped())
        ]
        assert rows(database, "SELECT priority, phrase, source FROM flags") == [
            ("concern", "risk model 0.50", "message")
        ]
    finally:
        await heard.stop()
