"""Read-only, streaming queries for exports, on their own connection so the bot never waits."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiosqlite

from storage.round_figures import ROUND_FIGURES_SQL, round_figures_from
from storage.rounds import RoundFigures


@dataclass(frozen=True)
class ExportAnswer:
    """One stored answer, as exported."""

    step_id: str
    value: str
    answered_at: datetime
    flagged: bool


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


async def stream_runs(
    path: str | Path,
    flow_id: str | None = None,
    chunk: int = 500,
    *,
    round_id: int | None = None,
) -> AsyncIterator[ExportRun]:
    """Yield runs (of a conversation, a round, or all) with their answers, a chunk at a time."""
    async with aiosqlite.connect(_read_only(path), uri=True) as db:
        await db.execute("PRAGMA query_only=ON")
        conditions: list[str] = []
        args: list[str | int] = []
        if flow_id is not None:
            conditions.append("r.flow_id = ?")
            args.append(flow_id)
        if round_id is not None:
            conditions.append("r.round_id = ?")
            args.append(round_id)
        where = f"WHERE {' AND '.join(conditions)} " if conditions else ""
        sql = (
            "SELECT r.id, r.participant_code, r.round_id, r.flow_id, r.flow_version, r.status, "
            "r.started_at, r.completed_at, a.step_id, a.value, a.answered_at, a.flagged "
            f"FROM runs r LEFT JOIN answers a ON a.run_id = r.id {where}"
            "ORDER BY r.id, a.seq"
        )
        current: ExportRun | None = None
        async with db.execute(sql, args) as cursor:
            while rows := await cursor.fetchmany(chunk):
                for row in rows:
                    if current is None or current.run_id != row[0]:
                        if current is not None:
                            yield current
                        current = ExportRun(
                            run_id=int(row[0]),
                            participant_code=str(row[1]),
                            round_id=row[2],
                            flow_id=str(row[3]),
                            flow_version=int(row[4]),
                            status=str(row[5]),
                            started_at=datetime.fromisoformat(row[6]),
                            completed_at=datetime.fromisoformat(row[7]) if row[7] else None,
                        )
                    if row[8] is not None:
                        current.answers.append(
                            ExportAnswer(
                                str(row[8]),
                                str(row[9]),
                                datetime.fromisoformat(row[10]),
                                bool(row[11]),
                            )
                        )
        if current is not None:
            yield current


async def export_rounds(path: str | Path, limit: int) -> list[ExportRound]:
    """Return the newest rounds that have opened (cancelled ones too, if they ever opened)."""
    async with (
        aiosqlite.connect(_read_only(path), uri=True) as db,
        db.execute(
            "SELECT id, title, flow_id, status FROM rounds "
            "WHERE status IN ('open', 'closed') OR EXISTS (SELECT 1 FROM outbox o "
            "WHERE o.round_id = rounds.id AND o.kind = 'invitation') "
            "ORDER BY id DESC LIMIT ?",
            (limit,),
        ) as cursor,
    ):
        return [_export_round(row) for row in await cursor.fetchall()]


async def export_round(path: str | Path, round_id: int) -> ExportRound | None:
    """Return one round, whatever its status; None if there is no such round."""
    async with (
        aiosqlite.connect(_read_only(path), uri=True) as db,
        db.execute(
            "SELECT id, title, flow_id, status FROM rounds WHERE id = ?", (round_id,)
        ) as cursor,
    ):
        row = await cursor.fetchone()
    return None if row is None else _export_round(row)


async def export_round_figures(path: str | Path, round_id: int) -> RoundFigures:
    """Count a round's eligible, invited, started, completed, declined, stopped and failed."""
    async with (
        aiosqlite.connect(_read_only(path), uri=True) as db,
        db.execute(ROUND_FIGURES_SQL, (round_id,)) as cursor,
    ):
        row = await cursor.fetchone()
    assert row is not None  # a query of counts always returns one row
    return round_figures_from(row)


async def flow_definitions(path: str | Path) -> list[tuple[str, int, str]]:
    """Return (flow id, version, definition JSON) of every flow version stored."""
    async with (
        aiosqlite.connect(_read_only(path), uri=True) as db,
        db.execute(
            "SELECT flow_id, version, definition FROM flows ORDER BY flow_id, version"
        ) as cursor,
    ):
        return [(str(r[0]), int(r[1]), str(r[2])) for r in await cursor.fetchall()]


def _export_round(row: Any) -> ExportRound:
    return ExportRound(int(row[0]), str(row[1]), str(row[2]), str(row[3]))


def _read_only(path: str | Path) -> str:
    """Return a SQLite URI that opens the file read-only and never creates it."""
    return "file:" + quote(os.path.abspath(path)) + "?mode=ro"
