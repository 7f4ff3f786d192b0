"""The Excel export: Responses, Answers, Questions, Summary and Equality, written as a stream.

openpyxl's write-only workbook writes each row as it is appended, so memory stays flat. Most
of the time goes into openpyxl turning each cell into XML (docs/performance.md), so rows are
handed over as plain values, with as few cells as possible: nothing for an empty cell, and one
styled date cell per column, given each row's time in turn.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from bot.exports.codebook import Cell as Shown
from bot.exports.codebook import Codebook, Entry, Reading, safe
from bot.exports.small_counts import NO_ANSWER, TALLIED, counted_as, held_back, listed_options
from conversations.catalog import catalog
from storage.export import ExportRun
from storage.rounds import RoundFigures

DATE_FORMAT = "yyyy-mm-dd hh:mm"
ANSWERS_HEADER = [
    "participant",
    "run",
    "question",
    "question text",
    "answer",
    "skipped",
    "answered (UTC)",
]
STARTED, COMPLETED = 5, 6  # the Responses columns that hold times


class _Question(NamedTuple):
    """A question as the Answers sheet shows it."""

    entry: Entry
    column: str
    text: str | int | float | None
    read: Callable[[str], Reading]
    grouped: bool  # an equality question, counted in the Equality sheet rather than shown


class WorkbookWriter:
    """A workbook: Responses, Answers, Questions, Summary (and Equality, grouped)."""

    def __init__(self, output: Path, codebook: Codebook, linked: bool) -> None:
        self.output = output
        self.codebook = codebook
        self.linked = linked
        self.round: RoundFigures | None = None  # a round's figures, for its Summary
        self.book = Workbook(write_only=True)
        self.responses = self._sheet("Responses", codebook.header(linked), 14)
        self.answers = self._sheet("Answers", ANSWERS_HEADER, 16)
        self.started = self._date_cell(self.responses)
        self.completed = self._date_cell(self.responses)
        self.answered = self._date_cell(self.answers)
        self.questions: dict[str, dict[str, _Question]] = {}  # by conversation, then step id
        self.statuses: Counter[str] = Counter()
        self.held = 0  # answers withheld in the Answers sheet, held for safeguarding review
        self.equality: dict[Entry, Counter[str]] = {
            entry: Counter() for entry in codebook.entries if entry.equality and not linked
        }

    def _sheet(self, title: str, header: list[str], width: int) -> WriteOnlyWorksheet:
        sheet: WriteOnlyWorksheet = self.book.create_sheet(title)
        sheet.freeze_panes = "A2"
        widths = sheet.column_dimensions  # type: ignore[attr-defined]  # present at run time
        for index in range(1, len(header) + 1):
            widths[get_column_letter(index)].width = width
        bold = Font(bold=True)
        cells = []
        for name in header:
            cell = WriteOnlyCell(sheet, value=name)
            cell.font = bold
            cells.append(cell)
        sheet.append(cells)
        return sheet

    @staticmethod
    def _date_cell(sheet: WriteOnlyWorksheet) -> Cell:
        """Return a date cell to be given a new time on each row.

        One cell serves every row: append() writes a row before it returns, and a new styled
        cell per row would cost openpyxl a style look-up each time.
        """
        cell = WriteOnlyCell(sheet)
        cell.number_format = DATE_FORMAT
        return cell

    def add(self, run: ExportRun) -> None:
        """Write one run's Responses row, and a row in Answers for each of its answers."""
        self.statuses[run.status] += 1
        by_step = {answer.step_id: answer.value for answer in run.answers}
        row = self.codebook.row(run, by_step, self.linked)
        row[STARTED] = _dated(self.started, row[STARTED])
        row[COMPLETED] = _dated(self.completed, row[COMPLETED])
        self.responses.append(row)
        questions = self._questions(run.flow_id)
        given: dict[Entry, Any] = {}
        append = self.answers.append
        answered = self.answered
        code = run.participant_code
        text: Shown
        shown: Shown
        for answer in run.answers:
            question = questions.get(answer.step_id)
            stored = answer.value
            if stored is None:  # held for safeguarding review: withheld, and not skipped
                if question is not None and question.grouped:
                    continue  # not in `given`: counted as no answer until it is released
                self.held += 1
                column, text = answer.step_id, None
                if question is not None:
                    column, text = question.column, question.text
                shown, skipped = self.codebook.withheld, None
            elif question is None:  # not in the codebook: shown as stored
                value = json.loads(stored)
                column, text, shown = answer.step_id, None, safe(value)
                skipped = "yes" if value is None else None
            else:
                reading = question.read(stored)
                if question.grouped:
                    given[question.entry] = reading.value
                    continue
                column, text, shown = question.column, question.text, reading.cell
                skipped = "yes" if reading.value is None else None
            answered.value = answer.answered_at.replace(tzinfo=None)
            append([code, run.run_id, column, text, shown, skipped, answered])
        for entry, counts in self.equality.items():
            if run.flow_id in entry.flows:
                counts.update(counted_as(given.get(entry)))

    def _questions(self, flow_id: str) -> dict[str, _Question]:
        found = self.questions.get(flow_id)
        if found is None:
            found = self.questions[flow_id] = {
                step_id: _Question(
                    entry, entry.column, safe(entry.text), read, entry in self.equality
                )
                for step_id, (entry, read) in self.codebook.asked(flow_id).items()
            }
        return found

    def close(self) -> None:
        """Write the Questions, Summary and Equality sheets and save the workbook."""
        questions = self._sheet("Questions", ["id", "text", "kind", "options", "equality"], 24)
        for entry in self.codebook.entries:
            options = "; ".join(f"{code} = {label}" for code, label in entry.options)
            equality = "yes" if entry.equality else ""
            row = [entry.column, safe(entry.text), entry.kind, safe(options), equality]
            questions.append(row)
        summary = self._sheet("Summary", ["measure", "count"], 28)
        total = sum(self.statuses.values())
        summary.append(["conversations", total])
        for status in ("completed", "active", "checking", "paused", "new"):
            summary.append([status, self.statuses.get(status, 0)])
        done = self.statuses.get("completed", 0)
        summary.append(["completion rate", f"{done / total:.0%}" if total else "n/a"])
        summary.append([catalog("en")("export_withheld_count"), self.held])
        if self.round is not None:
            for measure in ("eligible", "invited", "declined", "stopped", "failed"):
                summary.append([f"round: {measure}", getattr(self.round, measure)])
        if self.equality:
            grouped = self._sheet("Equality", ["question", "answer", "count"], 24)
            for row in self._equality_rows():
                grouped.append(row)
        self.book.save(self.output)

    def _equality_rows(self) -> list[list[Any]]:
        """Return each equality question's answers with their counts, small ones held back."""
        words = catalog("en")
        rows: list[list[Any]] = []
        for entry, counts in self.equality.items():
            if entry.kind not in TALLIED:
                rows.append([entry.column, words("export_equality_typed"), None])
                continue
            listed = listed_options(self.codebook.with_scale_points(entry), counts)
            options = [*listed, (NO_ANSWER, words("report_no_answer"))]
            shown = held_back([counts[option] for option, _ in options])
            for (_, label), count in zip(options, shown, strict=True):
                rows.append(
                    [entry.column, safe(label), int(count) if count.isdecimal() else count]
                )
        return rows


def _dated(cell: Cell, moment: Any) -> Any:
    """Return a time in its column's date cell; nothing when there is no time."""
    if moment is None:
        return None
    cell.value = moment
    return cell
