"""/report in Telegram: figures, then one chart per question, for staff only."""

import json
import sqlite3

import pytest

from conversations.loader import flow_to_json, load_flow_file
from storage.repository import ConsentGiven
from tests.bot.conftest import ADMIN_ID
from tests.bot.test_export_command import round_with_one_run, staff_member
from tests.support.bot_harness import SAMPLE_FLOWS
from tests.support.coordinating import repository

STAFF = 4343
PNG = b"\x89PNG\r\n\x1a\n"


def rows(database, sql):
    db = sqlite3.connect(database)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


async def test_report_command_sends_figures_and_charts(make_user, fake, database):
    participant = make_user(3101)
    await participant.send("/start")
    await participant.press("Yes, I'm 18 or older")
    await participant.press("Yes, I agree")
    await participant.press("Yes")
    await participant.press("4")
    staff = make_user(STAFF)
    await staff.send("/help")
    await make_user(ADMIN_ID).send(f"/grant {STAFF} staff")

    await staff.send("/report sample")

    photos = [c for c in fake.calls_of("sendPhoto") if c.ok]
    assert len(photos) >= 2
    pictures = [m.photo for m in staff.messages() if m.photo is not None]
    assert len(pictures) == len(photos)
    assert all(picture["content"].startswith(PNG) for picture in pictures)
    texts = [m.text for m in staff.messages() if m.text]
    assert any("1" in t and "started" in t.lower() for t in texts), texts
    [(detail,)] = rows(database, "SELECT detail FROM audit_log WHERE action = 'report'")
    assert detail.startswith("sample: 1 runs")


async def test_report_command_is_refused_to_participants(make_user, database):
    participant = make_user(3102)
    await participant.send("/report")
    assert participant.last_text().startswith("I don't know that command")
    assert rows(database, "SELECT detail FROM audit_log") == [("/report in a private chat",)]


@pytest.mark.parametrize("typed", ["R1", "1", "r1"])
async def test_report_command_of_a_round(make_user, database, clock, typed):
    round_id, _ = await round_with_one_run(make_user, database, clock)
    assert round_id == 1
    staff = await staff_member(make_user)

    await staff.send(f"/report {typed}")

    [summary] = [m.text for m in staff.messages() if m.text and m.text.startswith("Report:")]
    assert summary.startswith(
        "Report: R1 Winter check-in (sample)\n\n"
        "Eligible: 2\nInvited: 2\nInvitations that could not be sent: 0\n"
        "Started: 1\nCompleted: 1\nDeclined: 0\nStopped: 0\n"
        "Completion rate: 100% of those who started, 50% of those invited\n"
        "Median time to complete: 7 min\n"
    )
    # The chart of answers counts the round's one run, not the two finished outside it.
    assert "Have you used the service? (n = 1)\n• Yes: 1 (100%)\n• No: 0 (0%)" in summary
    [(detail,)] = rows(database, "SELECT detail FROM audit_log WHERE action = 'report'")
    assert detail.startswith("R1 Winter check-in: 1 runs, ")


async def test_report_command_names_a_round_that_does_not_exist(make_user, database):
    staff = await staff_member(make_user)
    await staff.send("/report R9")
    assert staff.last_text().startswith("There is no round R9.")
    await staff.send("/report nothing like this")
    assert staff.last_text().startswith("Send /report for every conversation, /report and a round")
    assert rows(database, "SELECT detail FROM audit_log WHERE action = 'report'") == []


async def test_report_command_holds_back_small_equality_counts(make_user, database, clock):
    """Six runs of a conversation with an equality question: 5 aged 25 to 44 and 1 under 25."""
    loaded = load_flow_file(SAMPLE_FLOWS / "docs_example.yaml")
    now = clock.now()
    async with repository(database) as repo:
        await repo.register_flow(
            "drop-in-clinic", 1, loaded.content_hash, flow_to_json(loaded.flow), now
        )
        for user_id, age in enumerate(["25-44"] * 5 + ["under-25"], start=7000):
            consent = ConsentGiven("drop-in-clinic", 1, 1)
            who = await repo.enrol(
                user_id=user_id, chat_id=user_id, language="en", consent=consent, now=now
            )
            run = await repo.start_run(who.code, "drop-in-clinic", 1, "{}", now)
            answers = [("visited", "true"), ("age", json.dumps(age))]
            await repo.save(run.id, "{}", "completed", answers, now)
    staff = await staff_member(make_user)

    await staff.send("/report")

    [summary] = [m.text for m in staff.messages() if m.text and m.text.startswith("Report:")]
    assert "• 25 to 44: completed 5, not completed <5\n" in summary
    assert "• Under 25: completed <5, not completed <5\n" in summary
    assert "completed 1" not in summary
