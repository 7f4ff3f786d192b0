"""Report figures counted exactly from a small database; the CLI writes summary and charts."""

import sqlite3
from datetime import timedelta

import pytest

from bot.reports.figures import duration, gather, summary_text
from bot.reports.report_cli import run_report
from tests.bot.exports.test_export import NOW, USER_IDS, make_database
from tests.bot.reports.test_charts import png_size


@pytest.fixture
async def database(tmp_path):
    path = tmp_path / "heard.db"
    await make_database(path)
    return path


async def test_gather_counts_runs_by_status(database):
    report = await gather(database, None)
    assert (report.started, report.completed, report.in_progress, report.paused) == (7, 5, 2, 0)
    assert report.completion_rate == pytest.approx(5 / 7)
    # Completed runs took 0, 1, 2, 3 and 4 minutes.
    assert report.median_to_complete == timedelta(minutes=2)
    assert report.per_day == {NOW.date(): 7}


async def test_gather_counts_each_option(database):
    report = await gather(database, None)
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
    assert [e.step_id for e in report.equality] == ["age"]


async def test_gather_of_an_unknown_conversation_is_empty(database):
    report = await gather(database, "no-such-flow")
    assert (report.started, report.completion_rate, report.median_to_complete) == (0, None, None)
    assert report.questions == []
    assert "Completion rate: n/a" in summary_text(report)


async def test_summary_text_holds_the_figures(database):
    text = summary_text(await gather(database, None))
    assert text.startswith(
        "Report: all conversations\n\n"
        "Started: 7\nCompleted: 5\nIn progress: 2\nPaused: 0\n"
        "Completion rate: 71%\nMedian time to complete: 2 min\n"
        "First started: 2026-05-04; latest: 2026-05-04\n"
    )
    assert "Have you been to the drop-in clinic in the last year? (n = 7)\n• Yes: 5 (71%)" in text
    assert "• Being seen quickly: 0 (0%)" in text
    assert "not counted or charted in reports: age." in text
    assert "25 to 44" not in text
    for user_id in USER_IDS:
        assert str(user_id) not in text
    assert len(text) <= 4096


def test_duration_reads_at_a_glance():
    assert duration(timedelta(minutes=4, seconds=20)) == "4 min"
    assert duration(timedelta(hours=2, minutes=5)) == "2 h 5 min"
    assert duration(timedelta(days=3, hours=1)) == "3 days 1 h"


async def test_report_cli_writes_summary_and_charts(database, tmp_path):
    out = tmp_path / "report" / "nested"
    assert await run_report(database, None, out) == 0
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
    db = sqlite3.connect(database)
    try:
        audit = db.execute("SELECT actor, action, detail FROM audit_log").fetchall()
    finally:
        db.close()
    assert audit == [("heard report", "report", "all conversations: 7 runs, 4 charts")]


async def test_report_cli_refuses_a_missing_database(tmp_path, capsys):
    assert await run_report(tmp_path / "none.db", None, tmp_path / "out") == 2
    assert "no database" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()
    assert not (tmp_path / "out").exists()
