"""Write results as CSV, Excel or JSON, streaming runs from the database: memory stays flat."""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from bot.exports.codebook import Codebook, Entry, safe
from conversations.loader import flow_from_json
from storage.export import ExportRun, export_round_figures, flow_definitions, stream_runs
from storage.rounds import RoundFigures

Format = Literal["csv", "xlsx", "json"]
FORMATS: tuple[Format, ...] = ("csv", "xlsx", "json")
SMALL_NUMBER = 5  # counts below this are shown as "<5" where equality answers are grouped
PROGRESS_EVERY = 1000


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote."""

    runs: int
    answers: int
    path: Path


async def export(
    database: Path,
    output: Path,
    fmt: Format,
    flow_id: str | None = None,
    linked_equality: bool = False,
    progress: Callable[[int], Any] | None = None,
    *,
    round_id: int | None = None,
) -> ExportSummary:
    """Export every run (of one round, one conversation, or all) to a file; say what was written.

    For a round, pass its conversation as `flow_id` too: the questions are that conversation's.
    """
    flows = [
        flow_from_json(definition)
        for found_id, _, definition in await flow_definitions(database)
        if flow_id is None or found_id == flow_id
    ]
    codebook = Codebook(flows)
    writer = {"csv": _CsvWriter, "xlsx": _XlsxWriter, "json": _JsonWriter}[fmt](
        output, codebook, linked_equality
    )
    if round_id is not None:
        writer.round = await export_round_figures(database, round_id)
    runs = answers = 0
    async for run in stream_runs(database, flow_id, round_id=round_id):
        writer.add(run)
        runs += 1
        answers += len(run.answers)
        if progress is not None and runs % PROGRESS_EVERY == 0:
            await progress(runs)
    writer.close()
    return ExportSummary(runs, answers, output)


class _Writer:
    def __init__(self, output: Path, codebook: Codebook, linked: bool) -> None:
        self.output = output
        self.codebook = codebook
        self.linked = linked
        self.hidden = {e.step_id for e in codebook.entries if e.equality and not linked}
        self.round: RoundFigures | None = None  # a round's figures, for its Summary

    def add(self, run: ExportRun) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class _CsvWriter(_Writer):
    """The Responses sheet as CSV, UTF-8 with a byte order mark so Excel reads accents."""

    def __init__(self, output: Path, codebook: Codebook, linked: bool) -> None:
        super().__init__(output, codebook, linked)
        self.file = output.open("w", encoding="utf-8-sig", newline="")
        self.csv = csv.writer(self.file)
        self.csv.writerow(codebook.header(linked))

    def add(self, run: ExportRun) -> None:
        row = self.codebook.row(run, self.linked)
        self.csv.writerow(["" if cell is None else _text(cell) for cell in row])

    def close(self) -> None:
        self.file.close()


class _JsonWriter(_Writer):
    """Runs with their answers, written one run at a time."""

    def __init__(self, output: Path, codebook: Codebook, linked: bool) -> None:
        super().__init__(output, codebook, linked)
        self.entries = {e.step_id: e for e in codebook.entries}
        self.file = output.open("w", encoding="utf-8")
        self.file.write("[")
        self.first = True

    def add(self, run: ExportRun) -> None:
        answers = []
        for answer in run.answers:
            if answer.step_id in self.hidden:
                continue
            value = json.loads(answer.value)
            entry = self.entries.get(answer.step_id)
            answers.append(
                {
                    "question": answer.step_id,
                    "text": entry.text if entry else None,
                    "value": value,
                    "shown": self.codebook.shown(entry, value) if entry else value,
                    "skipped": value is None,
                    "answered_at": answer.answered_at.isoformat(),
                }
            )
        record = {
            "participant": run.participant_code,
            "run": run.run_id,
            "round": run.round_id,
            "conversation": run.flow_id,
            "version": run.flow_version,
            "status": run.status,
            "started_at": run.started_at.isoformat(),
            "completed_at": run.completed_at.isoformat() if run.completed_at else None,
            "answers": answers,
        }
        self.file.write(("" if self.first else ",") + "\n  ")
        self.file.write(json.dumps(record, ensure_ascii=False))
        self.first = False

    def close(self) -> None:
        self.file.write("\n]\n")
        self.file.close()


class _XlsxWriter(_Writer):
    """A workbook: Responses, Answers, Questions, Summary (and Equality, grouped)."""

    def __init__(self, output: Path, codebook: Codebook, linked: bool) -> None:
        super().__init__(output, codebook, linked)
        self.book = Workbook(write_only=True)
        self.entries = {e.step_id: e for e in codebook.entries}
        self.responses = self._sheet("Responses", codebook.header(linked), 14)
        self.answers = self._sheet(
            "Answers",
            [
                "participant",
                "run",
                "question",
                "question text",
                "answer",
                "skipped",
                "answered (UTC)",
            ],
            16,
        )
        self.statuses: Counter[str] = Counter()
        self.equality: Counter[tuple[str, str]] = Counter()

    def _sheet(self, title: str, header: list[str], width: int) -> WriteOnlyWorksheet:
        sheet: WriteOnlyWorksheet = self.book.create_sheet(title)
        sheet.freeze_panes = "A2"
        widths = sheet.column_dimensions  # type: ignore[attr-defined]  # present at run time
        for index in range(len(header)):
            widths[_column(index)].width = width
        sheet.append([self._bold(sheet, name) for name in header])
        return sheet

    def _bold(self, sheet: WriteOnlyWorksheet, value: str) -> Cell:
        cell = WriteOnlyCell(sheet, value=value)
        cell.font = Font(bold=True)
        return cell

    def add(self, run: ExportRun) -> None:
        self.statuses[run.status] += 1
        self.responses.append(self._dated(self.codebook.row(run, self.linked)))
        for answer in run.answers:
            value = json.loads(answer.value)
            entry = self.entries.get(answer.step_id)
            if answer.step_id in self.hidden and entry is not None:
                for chosen in value if isinstance(value, list) else [value]:
                    self.equality[(entry.step_id, str(self.codebook.shown(entry, chosen)))] += 1
                continue
            shown = self.codebook.shown(entry, value) if entry else value
            self.answers.append(
                self._dated(
                    [
                        run.participant_code,
                        run.run_id,
                        answer.step_id,
                        safe(entry.text) if entry else None,
                        safe(shown),
                        "yes" if value is None else "",
                        answer.answered_at.replace(tzinfo=None),
                    ]
                )
            )

    def _dated(self, row: list[Any]) -> list[Any]:
        out: list[Any] = []
        for value in row:
            if hasattr(value, "isoformat") and not isinstance(value, str):
                cell = WriteOnlyCell(self.responses, value=value)
                cell.number_format = "yyyy-mm-dd hh:mm"
                out.append(cell)
            else:
                out.append(value)
        return out

    def close(self) -> None:
        questions = self._sheet("Questions", ["id", "text", "kind", "options", "equality"], 24)
        for entry in self.codebook.entries:
            options = "; ".join(f"{code} = {label}" for code, label in entry.options)
            kind = entry.kind
            questions.append([entry.step_id, safe(entry.text), kind, safe(options), _yes(entry)])
        summary = self._sheet("Summary", ["measure", "count"], 28)
        total = sum(self.statuses.values())
        summary.append(["conversations", total])
        for status in ("completed", "active", "checking", "paused", "new"):
            summary.append([status, self.statuses.get(status, 0)])
        done = self.statuses.get("completed", 0)
        summary.append(["completion rate", f"{done / total:.0%}" if total else "n/a"])
        if self.round is not None:
            for measure in ("eligible", "invited", "declined", "stopped", "failed"):
                summary.append([f"round: {measure}", getattr(self.round, measure)])
        if self.hidden:
            grouped = self._sheet("Equality", ["question", "answer", "count"], 24)
            for (step_id, shown), count in sorted(self.equality.items()):
                shown_count: Any = count if count >= SMALL_NUMBER else f"<{SMALL_NUMBER}"
                grouped.append([step_id, safe(shown), shown_count])
        self.book.save(self.output)


def _yes(entry: Entry) -> str:
    return "yes" if entry.equality else ""


def _text(cell: Any) -> str:
    return cell.isoformat(sep=" ") if hasattr(cell, "isoformat") else str(cell)


def _column(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters
