"""Read-only, streaming queries for exports and reports, on their own plain sqlite3 connection.

Every function here blocks: exports and reports call them from a worker thread (see
bot/exports/export.py), so the event loop, and the people answering, never wait on them.

An answer is held for safeguarding review while a flag on the same question of the same run is
open (not yet reviewed); recording any outcome releases it. A held answer's value never leaves
the database: it is read as None, and exports show it as withheld.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

from storage.round_figures import ROUND_FIGURES_SQL, round_figures_from
from storage.rounds import RoundFigures


class ExportAnswer(NamedTuple):
    """One stored answer, as exported (a tuple: a hundred thousand of them are made quickly)."""

    step_id: str
    value: str | None  # the answer as stored (JSON); None while held for safeguarding review
    answered_at: datetime

    @property
    def held(self) -> bool:
        """Say whether the answer is held for safeguarding review."""
        return self.value is None


@dataclass
class ExportRun:
    """One run with its answers, identified only by the participant's code."""

    run_id: int
    participant_code: str
    round_id: int | None
    flow_id: str
    flow_version: int
    status: str
    started_at: datetime
    completed_at: datetime | None
    answers: list[ExportAnswer] = field(default_factory=list)


@dataclass(frozen=True)
class ExportRound:
    """A round as exports name it: its id, title, conversation and status."""

    id: int
    title: str
    flow_id: str
    status: str


# One answer as a spreadsheet needs it: (run id, step id, value as stored or None while held
# for safeguarding review, answered at as a day number: see DAY_SQL). A plain tuple, as SQLite
# returns it: a hundred thousand of them are passed on as they are.
SheetAnswer = tuple[int, str, str | None, float]


class SheetRun(NamedTuple):
    """One run with its answers, as a spreadsheet needs them."""

    run: ExportRun  # without its answers: they are in `answers`
    answers: list[SheetAnswer]


class ExportResponse(NamedTuple):
    """One run in wide form, as a Responses row needs it."""

    run: ExportRun  # without its answers: they are in `answers`
    answers: dict[str, str | None]  # by step id, as stored (JSON); None while held for review


RUN_SQL = (
    "SELECT r.id, r.participant_code, r.round_id, r.flow_id, r.flow_version, r.status, "
    "r.started_at, r.completed_at"
)
# When an answer was given (UTC), as spreadsheets store a time: days since 1899-12-30, whose
# Julian day number is 2415018.5.
DAY_SQL = "julianday(a.answered_at) - 2415018.5"
# An answer (a), or NULL while it is held for safeguarding review. SQLite lists the open flags
# once per query and looks each answer up in that list. Kept as a CASE condition: as a value,
# `IN` must tell false from NULL, and would scan the whole list on every answer not in it.
# Only a flag-priority flag holds its answer; a concern's answer is exported as it is.
ANSWER_OR_HELD_SQL = (
    "CASE WHEN (a.run_id, a.step_id) IN (SELECT f.run_id, f.step_id FROM flags f "
    "WHERE f.reviewed_at IS NULL AND f.priority = 'flag' "
    "AND f.run_id IS NOT NULL AND f.step_id IS NOT NULL) "
    "THEN NULL ELSE a.value END"
)


def stream_runs(
    path: str | Path,
    flow_id: str | None = None,
    chunk: int = 500,
    *,
    round_id: int | None = None,
) -> Iterator[ExportRun]:
    """Yield runs (of a conversation, a round, or all) with their answers, a chunk at a time.

    Each chunk of runs is read, then its answers in one query: a run's own columns are read
    once, not once per answer. Every query reads the same snapshot of the database. A held
    answer's value is None.
    """
    parse = datetime.fromisoformat
    for run, answers in _runs_with_answers(path, flow_id, round_id, chunk, "a.answered_at"):
        run.answers = [ExportAnswer(step, value, parse(at)) for _, step, value, at in answers]
        yield run


def stream_sheet_runs(
    path: str | Path,
    flow_id: str | None = None,
    chunk: int = 500,
    *,
    round_id: int | None = None,
) -> Iterator[SheetRun]:
    """Yield runs as stream_runs does, each answer's time as the day number spreadsheets store.

    SQLite works the day numbers out (to the millisecond, as it keeps times), and the rows it
    returns are the answers themselves: nothing is made per answer in Python.
    """
    for run, answers in _runs_with_answers(path, flow_id, round_id, chunk, DAY_SQL):
        yield SheetRun(run, answers)


def _runs_with_answers(
    path: str | Path, flow_id: str | None, round_id: int | None, chunk: int, time_sql: str
) -> Iterator[tuple[ExportRun, list[Any]]]:
    """Yield runs without their answers, each with its answers' rows (run, step, value, time)."""
    filters, args = _filters(flow_id, round_id)
    runs_sql = f"{RUN_SQL} FROM runs r WHERE r.id > ?{filters} ORDER BY r.id LIMIT ?"
    answers_sql = (
        f"SELECT a.run_id, a.step_id, {ANSWER_OR_HELD_SQL}, {time_sql} FROM answers a "
        + ("JOIN runs r ON r.id = a.run_id " if filters else "")
        + f"WHERE a.run_id > ? AND a.run_id <= ?{filters} ORDER BY a.run_id, a.seq"
    )
    with _snapshot(path) as db:
        after = 0
        while True:
            runs = [_export_run(row) for row in db.execute(runs_sql, [after, *args, chunk])]
            if not runs:
                return
            last = runs[-1].run_id
            rows = db.execute(answers_sql, [after, last, *args]).fetchall()
            # The rows come in run order: each run's are taken together, without a loop here.
            grouped = {run_id: list(group) for run_id, group in groupby(rows, itemgetter(0))}
            for run in runs:
                yield run, grouped.get(run.run_id, [])
            after = last


def stream_responses(
    path: str | Path,
    flow_id: str | None = None,
    chunk: int = 2000,
    *,
    round_id: int | None = None,
) -> Iterator[ExportResponse]:
    """Yield runs (of a conversation, a round, or all) in wide form, a chunk at a time.

    SQLite gathers each run's answers into one JSON object, so one row per run crosses into
    Python rather than one per answer: the quickest way to read a Responses sheet, which needs
    neither times nor order. Every query reads the same snapshot of the database. A held
    answer is in the object as null, so read as None.
    """
    filters, args = _filters(flow_id, round_id)
    sql = (
        f"{RUN_SQL}, (SELECT json_group_object(a.step_id, {ANSWER_OR_HELD_SQL}) FROM answers a "
        f"WHERE a.run_id = r.id) FROM runs r WHERE r.id > ?{filters} ORDER BY r.id LIMIT ?"
    )
    decode = json.loads
    with _snapshot(path) as db:
        after = 0
        while True:
            rows = db.execute(sql, [after, *args, chunk]).fetchall()
            if not rows:
                return
            for row in rows:
                yield ExportResponse(_export_run(row), decode(row[8]))
            after = rows[-1][0]


def export_rounds(path: str | Path, limit: int) -> list[ExportRound]:
    """Return the newest rounds that have opened (cancelled ones too, if they ever opened)."""
    with _reading(path) as db:
        rows = db.execute(
            "SELECT id, title, flow_id, status FROM rounds "
            "WHERE status IN ('open', 'closed') OR EXISTS (SELECT 1 FROM outbox o "
            "WHERE o.round_id = rounds.id AND o.kind = 'invitation') "
            "ORDER BY id DESC LIMIT ?",
            (limit,),
        ).fetchall()
    return [_export_round(row) for row in rows]


def export_round(path: str | Path, round_id: int) -> ExportRound | None:
    """Return one round, whatever its status; None if there is no such round."""
    with _reading(path) as db:
        row = db.execute(
            "SELECT id, title, flow_id, status FROM rounds WHERE id = ?", (round_id,)
        ).fetchone()
    return None if row is None else _export_round(row)


def export_round_figures(path: str | Path, round_id: int) -> RoundFigures:
    """Count a round's eligible, invited, started, completed, declined, stopped and failed."""
    with _reading(path) as db:
        row = db.execute(ROUND_FIGURES_SQL, (round_id,)).fetchone()
    assert row is not None  # a query of counts always returns one row
    return round_figures_from(row)


def flow_definitions(path: str | Path) -> list[tuple[str, int, str]]:
    """Return (flow id, version, definition JSON) of every flow version stored."""
    with _reading(path) as db:
        rows = db.execute(
            "SELECT flow_id, version, definition FROM flows ORDER BY flow_id, version"
        ).fetchall()
    return [(str(r[0]), int(r[1]), str(r[2])) for r in rows]


def _filters(flow_id: str | None, round_id: int | None) -> tuple[str, list[str | int]]:
    """Return the conditions on runs (r) for one conversation or round, and their arguments."""
    filters = ""
    args: list[str | int] = []
    if flow_id is not None:
        filters += " AND r.flow_id = ?"
        args.append(flow_id)
    if round_id is not None:
        filters += " AND r.round_id = ?"
        args.append(round_id)
    return filters, args


@contextmanager
def _snapshot(path: str | Path) -> Iterator[sqlite3.Connection]:
    """Open the database read-only, in one read transaction: every query sees one snapshot."""
    with _reading(path) as db:
        db.execute("BEGIN")  # ended when the connection closes
        yield db


@contextmanager
def _reading(path: str | Path) -> Iterator[sqlite3.Connection]:
    """Open the database read-only on a connection of its own, closed when the block ends.

    A stream left part-way may be closed by the garbage collector in another thread than the
    one that read it: the connection allows that, and only one thread ever uses it at a time.
    """
    db = sqlite3.connect(
        _read_only(path), uri=True, isolation_level=None, check_same_thread=False, timeout=5
    )
    try:
        db.execute("PRAGMA query_only=ON")
        yield db
    finally:
        db.close()


def _export_run(row: Any) -> ExportRun:
    return ExportRun(
        run_id=row[0],
        participant_code=row[1],
        round_id=row[2],
        flow_id=row[3],
        flow_version=row[4],
        status=row[5],
        started_at=datetime.fromisoformat(row[6]),
        completed_at=datetime.fromisoformat(row[7]) if row[7] else None,
    )


def _export_round(row: Any) -> ExportRound:
    return ExportRound(int(row[0]), str(row[1]), str(row[2]), str(row[3]))


def _read_only(path: str | Path) -> str:
    """Return a SQLite URI that opens the file read-only and never creates it."""
    return "file:" + quote(os.path.abspath(path)) + "?mode=ro"
