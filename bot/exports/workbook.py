"""The Excel export: Responses, Answers, Questions, Summary and Equality, written as a stream.

Rows go through our own streaming writer (bot.exports.xlsx) as each run is read, so memory
stays flat. The Answers sheet has a row per answer, so its rows are made of cells worked out
once and reused: each question's id and text, and for each distinct answer a question has
had, its answer and "skipped" cells (typed text excepted, which rarely repeats). A row is
then the run's two cells, those, and the time, which SQLite gives as a day number.

Answers are written straight into the file; Responses, a row per run written alongside, is
spooled to a temporary file and copied in at the end: a zip file takes one part at a time,
and Responses is the smaller of the two (a fifth of the XML, at twenty answers a run).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.exports import xlsx
from bot.exports.codebook import REMEMBERED, Codebook, Entry, Reading, safe
from bot.exports.small_counts import NO_ANSWER, TALLIED, counted_as, held_back, listed_options
from conversations.catalog import catalog
from storage.export import SheetRun
from storage.rounds import RoundFigures

DATE_FORMAT = xlsx.DATE_FORMAT
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
STATUSES = ("completed", "active", "checking", "paused", "new")


class _Question:
    """A question as the Answers sheet shows it, with the cells of the answers it has had."""

    def __init__(self, entry: Entry, read: Callable[[str], Reading], grouped: bool) -> None:
        self.entry = entry
        self.read = read
        self.grouped = grouped  # an equality question, counted in Equality rather than shown
        self.remember = entry.kind != "free_text"
        self.cells: dict[str, str] = {}  # by stored answer: question, answer and skipped cells
        self.head = ""  # the question's id and text cells, set by the writer


class WorkbookWriter:
    """A workbook: Responses, Answers, Questions, Summary (and Equality, grouped)."""

    def __init__(self, output: Path, codebook: Codebook, linked: bool) -> None:
        self.output = output
        self.codebook = codebook
        self.linked = linked
        self.round: RoundFigures | None = None  # a round's figures, for its Summary
        self.book = xlsx.Workbook(output)
        header = codebook.header(linked)
        self.responses = self.book.sheet("Responses", header, [14] * len(header), spooled=True)
        self.answers = self.book.sheet("Answers", ANSWERS_HEADER, [16] * len(ANSWERS_HEADER))
        self.questions: dict[str, dict[str, _Question]] = {}  # by conversation, then step id
        self.statuses: Counter[str] = Counter()
        self.held = 0  # answers withheld in the Answers sheet, held for safeguarding review
        self.equality: dict[Entry, Counter[str]] = {
            entry: Counter() for entry in codebook.entries if entry.equality and not linked
        }
        shared = self.book.shared
        self.skipped = shared("yes")
        # Text that repeats in Responses, kept once in the workbook: statuses, conversations,
        # and the labels of answers chosen from a list.
        self.repeated: dict[Any, str] = {
            text: shared(text)
            for text in (*STATUSES, *(flow_id for flow_id, _ in codebook.flows), "Yes", "No")
        }
        self.repeated[None] = xlsx.EMPTY
        for entry in codebook.entries:
            for _, label in entry.options:
                shown = str(safe(label))
                self.repeated[shown] = shared(shown)

    def add(self, sheet_run: SheetRun) -> None:
        """Write one run's Responses row, and a row in Answers for each of its answers."""
        run, answers = sheet_run
        self.statuses[run.status] += 1
        by_step = {step_id: stored for _, step_id, stored, _ in answers}
        repeated, cell = self.repeated.get, xlsx.cell
        values = self.codebook.row(run, by_step, self.linked)
        # Only text and None are kept in `repeated`: no number finds a cell made for another.
        self.responses.append_cells("".join([repeated(v) or cell(v) for v in values]))
        questions = self._questions(run.flow_id)
        given: dict[Entry, Any] = {}
        lead = xlsx.text(run.participant_code) + xlsx.number(run.run_id)
        append = self.answers.append_cells
        dated = f'<c s="{xlsx.DATE}"><v>'
        # Every answer of an export passes here: kept to look-ups of cells already made.
        for _, step_id, stored, day in answers:
            question = questions.get(step_id)
            if question is None or stored is None:
                found = self._unusual(step_id, stored, question)
                if found is None:
                    continue
            elif question.grouped:
                given[question.entry] = question.read(stored).value
                continue
            else:
                found = question.cells.get(stored) or self._cells(question, stored)
            append(f"{lead}{found}{dated}{day}</v></c>")
        for entry, counts in self.equality.items():
            if run.flow_id in entry.flows:
                counts.update(counted_as(given.get(entry)))

    def _cells(self, question: _Question, stored: str) -> str:
        """Return the question, answer and skipped cells of an answer; remember repeated ones."""
        reading = question.read(stored)
        shown = reading.cell
        # Only answers remembered are shared strings: the workbook holds a bounded number.
        remember = question.remember and len(question.cells) < REMEMBERED
        if remember and isinstance(shown, str):
            answer = self.book.shared(shown)
        else:
            answer = xlsx.cell(shown)
        skipped = self.skipped if reading.value is None else xlsx.EMPTY
        found = question.head + answer + skipped
        if remember:
            question.cells[stored] = found
        return found

    def _unusual(self, step_id: str, stored: str | None, question: _Question | None) -> str | None:
        """Return the cells of an answer held for review, or not in the codebook; None if hidden.

        A held answer is withheld, and not skipped; an equality one is not shown at all, and
        counts as no answer until it is released. One not in the codebook is shown as stored.
        """
        if stored is None:
            if question is not None and question.grouped:
                return None
            self.held += 1
            head = question.head if question is not None else xlsx.text(step_id) + xlsx.EMPTY
            return head + self.book.shared(self.codebook.withheld) + xlsx.EMPTY
        value = json.loads(stored)
        if not isinstance(value, str | int | float | None):
            value = json.dumps(value, ensure_ascii=False)
        skipped = self.skipped if value is None else xlsx.EMPTY
        return xlsx.text(step_id) + xlsx.EMPTY + xlsx.cell(safe(value)) + skipped

    def _questions(self, flow_id: str) -> dict[str, _Question]:
        found = self.questions.get(flow_id)
        if found is None:
            found = self.questions[flow_id] = {}
            for step_id, (entry, read) in self.codebook.asked(flow_id).items():
                question = _Question(entry, read, entry in self.equality)
                text = safe(entry.text)
                question.head = self.book.shared(entry.column) + (
                    self.book.shared(text) if isinstance(text, str) else xlsx.cell(text)
                )
                found[step_id] = question
        return found

    def close(self) -> None:
        """Write the Questions, Summary and Equality sheets and save the workbook."""
        self.answers.close()
        header = ["id", "text", "kind", "options", "equality"]
        questions = self.book.sheet("Questions", header, [24] * len(header))
        for entry in self.codebook.entries:
            options = "; ".join(f"{code} = {label}" for code, label in entry.options)
            equality = "yes" if entry.equality else ""
            row = [entry.column, safe(entry.text), entry.kind, safe(options), equality]
            questions.append(row)
        questions.close()
        summary = self.book.sheet("Summary", ["measure", "count"], [28, 28])
        total = sum(self.statuses.values())
        summary.append(["conversations", total])
        for status in STATUSES:
            summary.append([status, self.statuses.get(status, 0)])
        done = self.statuses.get("completed", 0)
        summary.append(["completion rate", f"{done / total:.0%}" if total else "n/a"])
        summary.append([catalog("en")("export_withheld_count"), self.held])
        if self.round is not None:
            for measure in ("eligible", "invited", "declined", "stopped", "failed"):
                summary.append([f"round: {measure}", getattr(self.round, measure)])
        summary.close()
        if self.equality:
            grouped = self.book.sheet("Equality", ["question", "answer", "count"], [24] * 3)
            for row in self._equality_rows():
                grouped.append(row)
        self.book.close()

    def abort(self) -> None:
        """Stop writing after a failure, leaving no temporary file behind."""
        self.book.abort()

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
