"""`heard report`: write the charts and a Markdown summary of the results into a folder."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from bot.clock import SystemClock
from bot.reports.charts import report_charts
from bot.reports.figures import Report, gather, headline_lines
from storage.sqlite import SQLiteRepository


def add_parser(sub: Any) -> None:
    """Add the `report` subcommand to the `heard` command's subparsers."""
    report = sub.add_parser(
        "report",
        help="write charts and a Markdown summary of the results",
        description="Write summary.md, one PNG chart per choice, scale and yes/no question and "
        "one of conversations started per day into a folder, from HEARD_DATABASE. Equality "
        "questions are not charted.",
    )
    report.add_argument("--flow", default=None, metavar="ID", help="only this conversation")
    report.add_argument(
        "--output", required=True, type=Path, metavar="DIR", help="folder to write (created)"
    )


def run(args: argparse.Namespace, database: Path) -> int:
    """Run `heard report` with parsed arguments."""
    return asyncio.run(run_report(database, args.flow, args.output))


async def run_report(database: Path, flow_id: str | None, output: Path) -> int:
    """Write the report into a folder, audit it, and say what was written."""
    if not await asyncio.to_thread(database.exists):
        print(f"heard: HEARD_DATABASE: there is no database at {database}", file=sys.stderr)
        return 2
    report = await gather(database, flow_id)
    charts = await asyncio.to_thread(write_report, report, output)
    repository = await SQLiteRepository.open(database)
    try:
        detail = f"{flow_id or 'all conversations'}: {report.started} runs, {len(charts)} charts"
        await repository.audit("heard report", "report", detail, SystemClock().now())
    finally:
        await repository.close()
    print(f"wrote summary.md and {len(charts)} chart(s) to {output}")
    return 0


def write_report(report: Report, output: Path) -> list[tuple[str, bytes]]:
    """Draw the charts and write them with summary.md into a folder; return the charts."""
    charts = report_charts(report)
    output.mkdir(parents=True, exist_ok=True)
    for name, png in charts:
        (output / f"{name}.png").write_bytes(png)
    (output / "summary.md").write_text(summary_markdown(report, charts), encoding="utf-8")
    return charts


def summary_markdown(report: Report, charts: list[tuple[str, bytes]]) -> str:
    """Return the report as Markdown: the headline figures, then each chart under its question."""
    names = {name for name, _ in charts}
    lines = [f"# Heard report: {report.flow_id or 'all conversations'}", ""]
    lines += [f"- {line}" for line in headline_lines(report)]
    if "over-time" in names:
        lines += ["", "![Conversations started per day](over-time.png)"]
    for question in report.charted():
        entry = question.entry
        lines += ["", f"## {_plain(entry.text)}", ""]
        lines += [f"n = {question.answered} answered, {question.skipped} skipped", ""]
        lines += [f"![{_plain(entry.text)}](q-{entry.step_id}.png)"]
    if report.equality:
        names_list = ", ".join(f"`{entry.step_id}`" for entry in report.equality)
        lines += ["", f"Equality questions are not counted or charted in reports: {names_list}."]
    return "\n".join(lines) + "\n"


def _plain(text: str) -> str:
    """Return question text with Markdown's link and emphasis characters escaped."""
    for character in "\\[]*_`#<>":
        text = text.replace(character, "\\" + character)
    return " ".join(text.split())
