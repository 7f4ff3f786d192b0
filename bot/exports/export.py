"""Write results as CSV, Excel or JSON, streaming runs from the database: memory stays flat."""

from __future__ import annotations

import csv
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bot.exports.codebook import Codebook
from bot.exports.workbook import WorkbookWriter
from bot.worker_process import in_worker_process
from conversations.loader import flow_from_json
from storage.export import (
    ExportResponse,
    ExportRun,
    export_round_figures,
    flow_definitions,
    stream_responses,
    stream_runs,
    stream_sheet_runs,
)
from storage.private_files import create_private, refuse_database_files

Format = Literal["csv", "xlsx", "json"]
FORMATS: tuple[Format, ...] = ("csv", "xlsx", "json")
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
    progress: Callable[[int], Awaitable[Any]] | None = None,
    *,
    round_id: int | None = None,
    every: int = PROGRESS_EVERY,
) -> ExportSummary:
    """Export every run (of one round, one conversation, or all) to a file; say what was written.

    The export runs in a worker process of lower priority (bot.worker_process), on its own
    read-only connection: the bot goes on answering people meanwhile. `progress` is awaited
    on the event loop with the runs written so far, every `every` runs, one call at a time.
    For a round, pass its conversation as `flow_id` too: the questions are that conversation's.
    """
    return await in_worker_process(
        write_export,
        database,
        output,
        fmt,
        flow_id,
        linked_equality,
        progress=progress,
        round_id=round_id,
        every=every,
    )


def write_export(
    database: Path,
    output: Path,
    fmt: Format,
    flow_id: str | None = None,
    linked_equality: bool = False,
    progress: Callable[[int], None] | None = None,
    *,
    round_id: int | None = None,
    every: int = PROGRESS_EVERY,
) -> ExportSummary:
    """Export as `export` does, blocking: call it in a worker, never on the event loop."""
    refuse_database_files(database, [output], "export")
    flows = [
        flow_from_json(definition)
        for found_id, _, definition in flow_definitions(database)
        if flow_id is None or found_id == flow_id
    ]
    codebook = Codebook(flows)
    counted = _Counted(progress, every)
    if fmt == "csv":
        table = CsvWriter(output, codebook, linked_equality)
        for response in stream_responses(database, flow_id, round_id=round_id):
            table.add(response)
            counted.add(len(response.answers))
        table.close()
        return ExportSummary(counted.runs, counted.answers, output)
    if fmt == "xlsx":
        figures = None if round_id is None else export_round_figures(database, round_id)
        book = WorkbookWriter(output, codebook, linked_equality)
        book.round = figures
        try:
            for sheet_run in stream_sheet_runs(database, flow_id, round_id=round_id):
                book.add(sheet_run)
                counted.add(len(sheet_run.answers))
        except BaseException:
            book.abort()  # its temporary file goes with it
            raise
        book.close()
        return ExportSummary(counted.runs, counted.answers, output)
    writer = JsonWriter(output, codebook, linked_equality)
    for run in stream_runs(database, flow_id, round_id=round_id):
        writer.add(run)
        counted.add(len(run.answers))
    writer.close()
    return ExportSummary(counted.runs, counted.answers, output)


class _Counted:
    """Runs and answers written so far, with a word to `progress` every `every` runs."""

    def __init__(self, progress: Callable[[int], None] | None, every: int) -> None:
        self.progress = progress
        self.every = every
        self.runs = self.answers = 0

    def add(self, answers: int) -> None:
        """Count one run written, with its answers; say so every `every` runs."""
        self.runs += 1
        self.answers += answers
        if self.progress is not None and self.runs % self.every == 0:
            self.progress(self.runs)


class CsvWriter:
    """The Responses sheet as CSV, UTF-8 with a byte order mark so Excel reads accents."""

    def __init__(self, output: Path, codebook: Codebook, linked: bool) -> None:
        self.codebook = codebook
        self.linked = linked
        self.file = create_private(output).open("w", encoding="utf-8-sig", newline="")
        self.csv = csv.writer(self.file)
        self.csv.writerow(codebook.header(linked))

    def add(self, response: ExportResponse) -> None:
        """Write one run as a row: empty cells for None, times as "2026-05-04 09:00:00"."""
        # csv writes None as "" and anything else as str() does, dates included.
        self.csv.writerow(self.codebook.row(response.run, response.answers, self.linked))

    def close(self) -> None:
        """Finish the file."""
        self.file.close()


class JsonWriter:
    """Runs with their answers, written one run at a time."""

    def __init__(self, output: Path, codebook: Codebook, linked: bool) -> None:
        self.codebook = codebook
        self.linked = linked
        self.file = create_private(output).open("w", encoding="utf-8")
        self.file.write("[")
        self.first = True

    def add(self, run: ExportRun) -> None:
        """Write one run with its answers, equality answers only when linked.

        An answer held for safeguarding review has no value, is shown as withheld, and says so.
        """
        asked = self.codebook.asked(run.flow_id)
        answers = []
        for answer in run.answers:
            found = asked.get(answer.step_id)
            if found is not None and found.entry.equality and not self.linked:
                continue
            text = None if found is None else found.entry.text
            shown: Any
            if answer.value is None:
                value, shown = None, self.codebook.withheld
            elif found is None:
                value = shown = json.loads(answer.value)
            else:
                value, shown = found.read(answer.value)[:2]
            answers.append(
                {
                    "question": answer.step_id,
                    "text": text,
                    "value": value,
                    "shown": shown,
                    "skipped": value is None and not answer.held,
                    "withheld": answer.held,
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
        """Finish the file."""
        self.file.write("\n]\n")
        self.file.close()
