"""`heard report`: write the charts and a Markdown summary of the results into a folder."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path

from bot.clock import SystemClock
from bot.exports.scope import ScopeError, chosen_scope
from bot.reports.charts import chart_name, report_charts
from bot.reports.figures import (
    Report,
    equality_key,
    gather,
    headline_lines,
    title,
    untallied_note,
)
from bot.settings import Settings
from conversations.catalog import catalog
from storage.private_files import OverDatabase, create_private, refuse_database_files
from storage.sqlite import SQLiteRepository


def add_parser(new_command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add the `report` subcommand to the `heard` command's subparsers."""
    report = new_command(
        "report",
        help="write charts and a Markdown summary of the results",
        description="Write summary.md, one PNG chart per choice, scale and yes/no question and "
        "one of conversations started per day (in HEARD_TIMEZONE) into a folder, from "
        "HEARD_DATABASE: for one round (--round), one conversation (--flow) or everything. "
        "Equality questions are never charted; completion by their answers is counted with "
        "numbers under 5 held back.",
    )
    report.add_argument("--round", default=None, metavar="ID", help="only this round (3 or R3)")
    report.add_argument("--flow", default=None, metavar="ID", help="only this conversation")
    report.add_argument(
        "--output", required=True, type=Path, metavar="DIR", help="folder to write (created)"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run `heard report` with parsed arguments."""
    return asyncio.run(
        run_report(
            settings.heard_database,
            args.output,
            settings.zone,
            flow_id=args.flow,
            round=args.round,
        )
    )


async def run_report(
    database: Path,
    output: Path,
    zone: tzinfo,
    *,
    flow_id: str | None = None,
    round: str | None = None,
) -> int:
    """Write the report into a folder, audit it, and say what was written."""
    if not await asyncio.to_thread(database.exists):
        print(f"heard: HEARD_DATABASE: there is no database at {database}", file=sys.stderr)
        return 2
    problem = await asyncio.to_thread(_output_problem, database, output)
    if problem is not None:
        print(f"heard: {problem}", file=sys.stderr)
        return 2
    try:
        scope = await chosen_scope(database, round, flow_id)
        report = await gather(database, scope, zone)
        charts = await asyncio.to_thread(write_report, report, output, database)
    except (ScopeError, OverDatabase) as error:
        print(f"heard: {error}", file=sys.stderr)
        return 2
    repository = await SQLiteRepository.open(database)
    try:
        detail = f"{scope.label}: {report.started} runs, {len(charts)} charts"
        await repository.audit("heard report", "report", detail, SystemClock().now())
    finally:
        await repository.close()
    print(f"wrote summary.md and {len(charts)} chart(s) to {output}")
    return 0


def write_report(report: Report, output: Path, database: Path) -> list[tuple[str, bytes]]:
    """Draw the charts and write them with summary.md into a folder; return the charts.

    Every file is readable by its owner only, and none may be the database or its WAL.
    """
    charts = report_charts(report)
    pngs = {output / f"{name}.png": png for name, png in charts}
    summary = output / "summary.md"
    refuse_database_files(database, [*pngs, summary], "report")
    output.mkdir(mode=0o700, parents=True, exist_ok=True)
    for path, png in pngs.items():
        create_private(path).write_bytes(png)
    create_private(summary).write_text(summary_markdown(report, charts), encoding="utf-8")
    return charts


def _output_problem(database: Path, output: Path) -> str | None:
    """Say why the report cannot go into `output`, if it cannot: the database, or a file."""
    try:
        refuse_database_files(database, [output], "report")
    except OverDatabase as error:
        return str(error)
    if output.exists() and not output.is_dir():
        return f"--output: {output} is a file; give a folder for the report"
    return None


def summary_markdown(report: Report, charts: list[tuple[str, bytes]]) -> str:
    """Return the report as Markdown: the headline figures, then each chart under its question."""
    words = catalog("en")
    names = {name for name, _ in charts}
    lines = [f"# {words('report_markdown_title', title=_plain(title(report)))}", ""]
    lines += [f"- {line}" for line in headline_lines(report)]
    if "over-time" in names:
        lines += ["", f"![{words('report_per_day')}](over-time.png)"]
    lines += _equality_markdown(report)
    for question in report.charted():
        text = _plain(question.entry.text)
        lines += ["", f"## {text}", ""]
        counts = words(
            "report_answered_withheld" if question.withheld else "report_answered",
            answered=question.answered,
            skipped=question.skipped,
            withheld=question.withheld,
        )
        lines += [counts, ""]
        lines += [f"![{text}]({chart_name(question.entry)}.png)"]
    lines += untallied_note(report)
    return "\n".join(lines) + "\n"


def _equality_markdown(report: Report) -> list[str]:
    """Return completion by each equality answer as tables, small counts held back."""
    if not report.equality or not report.started:
        return []
    words = catalog("en")
    lines = ["", f"## {words('report_equality_heading')}", "", _plain(equality_key())]
    columns = [
        words("report_column_answer"),
        words("report_column_completed"),
        words("report_column_not_completed"),
        words("report_column_rate"),
    ]
    for tally in report.equality:
        lines += ["", f"### {_plain(tally.entry.text)}", ""]
        lines += [_table_row(columns), "|---|---|---|---|"]
        for row in tally.rows(words("report_no_answer")):
            cells = [_plain(row.label), row.completed, row.not_completed, row.rate or ""]
            lines.append(_table_row(cells))
    return lines


def _table_row(cells: list[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _plain(text: str) -> str:
    """Return question text with Markdown's link and emphasis characters escaped."""
    for character in "\\[]*_`#<>":
        text = text.replace(character, "\\" + character)
    return " ".join(text.split())
