"""Report figures counted exactly from a small database; the CLI writes summary and charts."""

import sqlite3
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.exports.scope import Scope, round_scope
from bot.reports.figures import duration, gather, summary_text
from bot.reports.report_cli import run_report, write_report
from conversations.loader import flow_to_json, load_flow_file
from storage.repository import ConsentGiven
from storage.sqlite import SQLiteRepository
from tests.bot.exports.test_export import (
    NOW,
    ROUND_TITLE,
    ROUND_USER_IDS,
    USER_IDS,
    make_clash_database,
    make_database,
    make_round_database,
)
from tests.bot.exports.test_export_withheld import make_held_database, release
from tests.bot.reports.test_charts import png_size
from tests.support.bot_harness import SAMPLE_FLOWS

LONDON = ZoneInfo("Europe/London")
EVERYTHING = Scope()


@pytest.fixture
async def database(tmp_path):
    path = tmp_path / "heard.db"
    await make_database(path)
    return path


async def test_gather_counts_runs_by_status(database):
    report = await gather(database, EVERYTHING, UTC)
    assert (report.started, report.completed, report.in_progress, report.paused) == (7, 5, 2, 0)
    assert report.completion_rate == pytest.approx(5 / 7)
    # Completed runs took 0, 1, 2, 3 and 4 minutes.
    assert report.median_to_complete == timedelta(minutes=2)
    assert report.per_day == {NOW.date(): 7}


async def test_gather_counts_each_option(database):
    report = await gather(database, EVERYTHING, UTC)
    questions = {q.entry.step_id: q for q in report.questions}
    assert list(questions) == ["visited", "rating", "helped"]  # no free text, number, equality
    visited = questions["visited"]
    assert (visited.answered, visited.skipped) == (7, 0)
    assert dict(visited.counts) == {"true": 5, "false": 2}
    rating = questions["rating"]
    assert (rating.answered, rating.skipped) == (3, 2)
    assert dict(rating.counts) == {"4": 3}
    assert rating.entry.options == (
        ("1", "1 (not helpful)"),
        ("2", "2"),
        ("3", "3"),
        ("4", "4"),
        ("5", "5 (very helpful)"),
    )
    helped = questions["helped"]
    assert (helped.answered, helped.skipped) == (3, 2)
    assert dict(helped.counts) == {"staff": 3, "place": 3}
    assert [e.entry.step_id for e in report.equality] == ["age"]
    assert report.untallied == []


async def test_gather_of_an_unknown_conversation_is_empty(database):
    report = await gather(database, Scope("no-such-flow"), UTC)
    assert (report.started, report.completion_rate, report.median_to_complete) == (0, None, None)
    assert report.questions == []
    assert "Completion rate: n/a" in summary_text(report)


async def test_summary_text_holds_the_figures(database):
    text = summary_text(await gather(database, EVERYTHING, UTC))
    assert text.startswith(
        "Report: all conversations\n\n"
        "Started: 7\nCompleted: 5\nIn progress: 2\nPaused: 0\n"
        "Completion rate: 71%\nMedian time to complete: 2 min\n"
        "First started: 2026-05-04; latest: 2026-05-04\n"
    )
    assert "Have you been to the drop-in clinic in the last year? (n = 7)\n• Yes: 5 (71%)" in text
    assert "• Being seen quickly: 0 (0%)" in text
    assert (
        "Completion by equality answer:\n<5 means fewer than 5, and hidden is held back"
    ) in text
    # Four completed aged 25 to 44, one did not; every count is under 5.
    assert "• 25 to 44: completed <5, not completed <5\n" in text
    assert "• Prefer not to say: completed <5, not completed <5\n" in text
    assert "• No answer (skipped or not reached): completed <5, not completed <5\n" in text
    assert "completed 4" not in text
    assert "completed 1" not in text
    for user_id in USER_IDS:
        assert str(user_id) not in text
    assert len(text) <= 4096


def test_duration_reads_at_a_glance():
    assert duration(timedelta(minutes=4, seconds=20)) == "4 min"
    assert duration(timedelta(hours=2, minutes=5)) == "2 h 5 min"
    assert duration(timedelta(days=3, hours=1)) == "3 days 1 h"


async def test_report_cli_writes_summary_and_charts(database, tmp_path):
    out = tmp_path / "report" / "nested"
    assert await run_report(database, out, UTC) == 0
    names = sorted(path.name for path in out.iterdir())
    assert names == [
        "over-time.png",
        "q-helped.png",
        "q-rating.png",
        "q-visited.png",
        "summary.md",
    ]
    for name in names[:-1]:
        width, height = png_size((out / name).read_bytes())
        assert width >= 600
        assert height >= 400
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("# Heard report: all conversations\n\n- Started: 7\n")
    assert "![What helped? Choose up to 2.](q-helped.png)" in summary
    assert "(over-time.png)" in summary
    assert "q-age" not in summary
    assert "## Completion by equality answer\n" in summary
    assert "| 25 to 44 | <5 | <5 |  |" in summary
    db = sqlite3.connect(database)
    try:
        audit = db.execute("SELECT actor, action, detail FROM audit_log").fetchall()
    finally:
        db.close()
    assert audit == [("heard report", "report", "all conversations: 7 runs, 4 charts")]


async def test_report_cli_refuses_a_missing_database(tmp_path, capsys):
    assert await run_report(tmp_path / "none.db", tmp_path / "out", UTC) == 2
    assert "no database" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()
    assert not (tmp_path / "out").exists()


async def clinic_runs(path, runs):
    """Store runs of the clinic conversation: (started at, status, answer to age or None)."""
    loaded = load_flow_file(SAMPLE_FLOWS / "docs_example.yaml")
    repository = await SQLiteRepository.open(path)
    await repository.register_flow(
        "drop-in-clinic", 1, loaded.content_hash, flow_to_json(loaded.flow), NOW
    )
    for user_id, (started, status, age) in enumerate(runs, start=500):
        who = await repository.enrol(
            user_id=user_id,
            chat_id=user_id,
            language="en",
            consent=ConsentGiven("drop-in-clinic", 1, 1),
            now=started,
        )
        run = await repository.start_run(who.code, "drop-in-clinic", 1, "{}", started)
        answers = [("visited", "true")] + ([] if age is None else [("age", f'"{age}"')])
        await repository.save(run.id, "{}", status, answers, started + timedelta(minutes=5))
    await repository.close()


async def test_gather_counts_days_in_the_local_time_zone(tmp_path):
    path = tmp_path / "heard.db"
    late = datetime(2026, 7, 10, 23, 30, tzinfo=UTC)  # 00:30 on 11 July in London (BST)
    await clinic_runs(
        path, [(late, "completed", None), (late - timedelta(hours=2), "active", None)]
    )
    local = await gather(path, EVERYTHING, LONDON)
    assert local.per_day == {date(2026, 7, 10): 1, date(2026, 7, 11): 1}
    assert "First started: 2026-07-10; latest: 2026-07-11" in summary_text(local)
    assert (await gather(path, EVERYTHING, UTC)).per_day == {date(2026, 7, 10): 2}


async def test_gather_of_a_round_has_its_invitations_and_people(tmp_path):
    path = tmp_path / "heard.db"
    round_id, _ = await make_round_database(path)
    scope = await round_scope(path, round_id)
    assert scope is not None
    report = await gather(path, scope, UTC)
    assert (report.started, report.completed) == (2, 1)  # runs in the round only
    assert report.median_to_complete == timedelta(minutes=30)
    text = summary_text(report)
    assert text.startswith(
        f"Report: R{round_id} {ROUND_TITLE} (drop-in-clinic)\n\n"
        "Eligible: 5\nInvited: 4\nInvitations that could not be sent: 1\n"
        "Started: 2\nCompleted: 1\nDeclined: 1\nStopped: 1\n"
        "Completion rate: 50% of those who started, 25% of those invited\n"
        "Median time to complete: 30 min\n"
    )
    questions = {q.entry.step_id: q for q in report.questions}
    assert dict(questions["visited"].counts) == {"true": 1, "false": 1}
    assert "used" not in questions  # the sample conversation's question: not this round's
    for user_id in ROUND_USER_IDS:
        assert str(user_id) not in text


async def test_gather_counts_equality_answers_only_in_conversations_that_ask(tmp_path):
    path = tmp_path / "heard.db"
    await make_round_database(path)
    report = await gather(path, EVERYTHING, UTC)
    [age] = report.equality
    assert age.flows == frozenset({"drop-in-clinic"})
    # Nine clinic runs; the sample conversation's run is not "no answer" to the clinic's age.
    assert sum(age.completed.values()) + sum(age.not_completed.values()) == 9
    assert age.completed["under-25"] == 1


async def test_equality_breakdown_shows_counts_of_5_or_more_with_rates(tmp_path):
    path = tmp_path / "heard.db"
    runs: list = [(NOW, "completed", "25-44")] * 6 + [(NOW, "active", "25-44")] * 5
    runs += [(NOW, "completed", "65-plus")] * 2 + [(NOW, "active", None)] * 7
    await clinic_runs(path, runs)
    report = await gather(path, EVERYTHING, UTC)
    text = summary_text(report)
    assert "• 25 to 44: completed 6, not completed 5 (55% completed)\n" in text
    assert "• 65 or over: completed <5, not completed <5\n" in text
    assert "• Under 25: completed <5, not completed <5\n" in text
    assert "• No answer (skipped or not reached): completed <5, not completed 7\n" in text
    summary = _markdown(report, tmp_path).split("### How old are you?\n\n", 1)[1]
    assert summary.startswith(
        "| answer | completed | not completed | completion rate |\n|---|---|---|---|\n"
        "| Under 25 | <5 | <5 |  |\n| 25 to 44 | 6 | 5 | 55% |\n"
    )
    assert "| 65 or over | <5 | <5 |  |\n" in summary


def _markdown(report, tmp_path):
    out = tmp_path / "md"
    charts = write_report(report, out, tmp_path / "heard.db")
    assert not any("age" in name for name, _ in charts)  # equality answers are never charted
    return (out / "summary.md").read_text(encoding="utf-8")


async def test_report_cli_of_a_round(tmp_path, capsys):
    path = tmp_path / "heard.db"
    round_id, _ = await make_round_database(path)
    out = tmp_path / "report"
    assert await run_report(path, out, LONDON, round=f"R{round_id}") == 0
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith(
        f"# Heard report: R{round_id} Winter check-in (drop-in-clinic)\n\n- Eligible: 5\n"
    )
    assert "- Completion rate: 50% of those who started, 25% of those invited\n" in summary
    assert capsys.readouterr().out == f"wrote summary.md and 3 chart(s) to {out}\n"
    db = sqlite3.connect(path)
    try:
        audit = db.execute("SELECT detail FROM audit_log WHERE action = 'report'").fetchall()
    finally:
        db.close()
    assert audit == [(f"R{round_id} Winter check-in: 2 runs, 3 charts",)]


@pytest.mark.parametrize(
    ("round", "flow", "error"),
    [
        ("R9", None, "heard: there is no round R9\n"),
        (
            "soon",
            None,
            "heard: --round: 'soon' is not a round; expected a number like 3 (or R3)\n",
        ),
        ("1", "sample", "heard: --round and --flow cannot be used together: choose one\n"),
    ],
)
async def test_report_cli_refuses_a_round_it_cannot_use(tmp_path, capsys, round, flow, error):
    path = tmp_path / "heard.db"
    await make_round_database(path)
    out = tmp_path / "report"
    assert await run_report(path, out, UTC, round=round, flow_id=flow) == 2
    assert capsys.readouterr().err == error
    assert not out.exists()


async def test_gather_counts_each_conversations_question_apart_when_ids_clash(tmp_path):
    path = tmp_path / "heard.db"
    await make_clash_database(path)
    report = await gather(path, EVERYTHING, UTC)
    questions = {q.entry.column: q for q in report.questions}
    clinic, sample = questions["rating (drop-in-clinic)"], questions["rating (sample)"]
    assert (dict(clinic.counts), clinic.answered, clinic.skipped) == ({"2": 1}, 1, 0)
    assert (dict(sample.counts), sample.answered, sample.skipped) == ({"5": 1}, 1, 1)
    assert clinic.entry.options[0] == ("1", "1 (not helpful)")
    assert sample.entry.options[0] == ("1", "1 (very poor)")
    # The clinic's age is an equality question, counted over its two runs only; the sample's
    # age is a typed number, neither charted nor held back as equality.
    [age] = report.equality
    assert (age.entry.column, age.flows) == ("age (drop-in-clinic)", frozenset({"drop-in-clinic"}))
    assert (dict(age.completed), dict(age.not_completed)) == ({"25-44": 1}, {"65-plus": 1})
    assert report.untallied == []
    assert not any(q.entry.step_id == "age" for q in report.questions)
    summary = _markdown(report, tmp_path)
    assert "![How was it?](q-sample.rating.png)" in summary
    assert "![How helpful was your last visit?](q-drop-in-clinic.rating.png)" in summary
    assert (tmp_path / "md" / "q-sample.rating.png").exists()


async def test_gather_leaves_answers_held_for_review_out_of_the_counts(tmp_path):
    path = tmp_path / "heard.db"
    held = await make_held_database(path)  # make_database, and a run with four answers held
    report = await gather(path, EVERYTHING, UTC)
    questions = {q.entry.step_id: q for q in report.questions}
    # The held run chose "place" and rated 2: neither is counted, nor taken as skipped.
    helped, rating = questions["helped"], questions["rating"]
    assert (dict(helped.counts), helped.answered, helped.skipped) == (
        {"staff": 3, "place": 3},
        3,
        2,
    )
    assert (dict(rating.counts), rating.answered, rating.skipped) == ({"4": 3}, 3, 2)
    assert (helped.withheld, rating.withheld, questions["visited"].withheld) == (1, 1, 0)
    assert dict(questions["visited"].counts) == {"true": 6, "false": 2}
    # Its age counts as no answer; its typed answer to "change" is never counted, so not here.
    [age] = report.equality
    assert (age.completed["25-44"], age.completed[""]) == (4, 1)
    assert report.withheld == 3
    text = summary_text(report)
    note = "Answers held for safeguarding review, not counted until a reviewer releases them: 3"
    assert f"First started: 2026-05-04; latest: 2026-05-04\n{note}\n" in text
    assert "What helped? Choose up to 2. (n = 3)\n• The staff: 3 (100%)" in text
    summary = _markdown(report, tmp_path)
    assert f"- {note}\n" in summary
    assert "n = 3 answered, 2 skipped, 1 held for safeguarding review" in summary
    await release(path, held.open_flags)
    released = await gather(path, EVERYTHING, UTC)
    helped = {q.entry.step_id: q for q in released.questions}["helped"]
    assert (dict(helped.counts), helped.answered, helped.withheld) == (
        {"staff": 3, "place": 4},
        4,
        0,
    )
    assert released.equality[0].completed["25-44"] == 5
    assert released.withheld == 0
    assert "held for safeguarding review" not in summary_text(released)
    assert "held for safeguarding review" not in _markdown(released, tmp_path)


async def test_report_cli_refuses_to_write_over_the_database(database, tmp_path, capsys):
    before = database.read_bytes()
    assert await run_report(database, database, UTC) == 2
    assert capsys.readouterr().err == (
        f"heard: refusing to write the report over the database ({database})\n"
    )
    # A database named as a report's file, in the report's folder: refused, not written over.
    named = tmp_path / "summary.md"
    named.write_bytes(before)
    assert await run_report(named, tmp_path, UTC) == 2
    assert capsys.readouterr().err == (
        f"heard: refusing to write the report over the database ({named})\n"
    )
    assert named.read_bytes() == before
    assert database.read_bytes() == before


async def test_report_cli_says_when_the_output_is_a_file(database, tmp_path, capsys):
    taken = tmp_path / "notes.txt"
    taken.write_text("mine")
    assert await run_report(database, taken, UTC) == 2
    assert capsys.readouterr().err == (
        f"heard: --output: {taken} is a file; give a folder for the report\n"
    )
    assert taken.read_text() == "mine"
