"""Headline figures and answer counts per question, from one pass over the stored runs."""

from __future__ import annotations

import dataclasses
import json
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta, tzinfo
from pathlib import Path
from typing import Any

from bot.exports.codebook import Codebook, Entry, option_id
from bot.exports.scope import Scope
from bot.reports.equality import SMALL, TALLIED, EqualityFigures
from conversations.loader import flow_from_json
from conversations.model import QuestionBase, ScaleStep, text_in
from storage.export import ExportRun, export_round_figures, flow_definitions, stream_runs
from storage.rounds import RoundFigures

CHARTED = ("single_choice", "multiple_choice", "scale", "yes_no")
MESSAGE_LIMIT = 4096
EQUALITY_HEADING = "Completion by equality answer"
EQUALITY_KEY = (
    f"{SMALL} means fewer than 5, and hidden is held back so that the totals cannot reveal a "
    "count under 5. These figures are never charted."
)
NO_ANSWER_LABEL = "No answer (skipped or not reached)"


@dataclass
class QuestionFigures:
    """How often each option of one question was chosen."""

    entry: Entry  # its options include every scale point and any retired option seen
    counts: Counter[str] = field(default_factory=Counter)  # by option id
    answered: int = 0  # runs that gave an answer: the n of percentages
    skipped: int = 0


@dataclass
class Report:
    """What a report says: runs by status, time to complete, answers, responses per day."""

    scope: Scope
    round: RoundFigures | None = None  # a round's invitations, declines and people
    started: int = 0
    completed: int = 0
    paused: int = 0
    in_progress: int = 0  # active, or waiting on a safety check-in
    minutes_to_complete: list[float] = field(default_factory=list)
    questions: list[QuestionFigures] = field(default_factory=list)
    equality: list[EqualityFigures] = field(default_factory=list)  # never charted
    untallied: list[Entry] = field(default_factory=list)  # typed equality answers: not counted
    per_day: Counter[date] = field(default_factory=Counter)  # runs by local start date

    @property
    def completion_rate(self) -> float | None:
        """Return completed runs as a share of started ones (None before any start)."""
        return self.completed / self.started if self.started else None

    @property
    def median_to_complete(self) -> timedelta | None:
        """Return the median time from start to completion (None before any completion)."""
        if not self.minutes_to_complete:
            return None
        return timedelta(minutes=statistics.median(self.minutes_to_complete))

    def charted(self) -> list[QuestionFigures]:
        """Return the questions that have answers to chart."""
        return [q for q in self.questions if q.answered]


async def gather(database: Path, scope: Scope, zone: tzinfo) -> Report:
    """Count the runs and answers of a round, a conversation or all, reading the runs once.

    Days are counted in `zone`, the local time of the people reading the report.
    """
    flows = [
        flow_from_json(definition)
        for found_id, _, definition in await flow_definitions(database)
        if scope.flow_id is None or found_id == scope.flow_id
    ]
    codebook = Codebook(flows)
    report = Report(scope)
    if scope.round_id is not None:
        report.round = await export_round_figures(database, scope.round_id)
    by_step: dict[str, QuestionFigures] = {}
    for entry in codebook.entries:
        if entry.equality and entry.kind in TALLIED:
            asking = _asked_in(codebook, entry.step_id)
            report.equality.append(EqualityFigures(_with_scale_points(codebook, entry), asking))
        elif entry.equality:
            report.untallied.append(entry)
        elif entry.kind in CHARTED:
            figures = QuestionFigures(_with_scale_points(codebook, entry))
            report.questions.append(figures)
            by_step[entry.step_id] = figures
    async for run in stream_runs(database, scope.flow_id, round_id=scope.round_id):
        _count_run(report, run, zone)
        values = {answer.step_id: json.loads(answer.value) for answer in run.answers}
        for step_id, value in values.items():
            if step_id in by_step:
                _count_answer(by_step[step_id], value)
        for tally in report.equality:
            if run.flow_id in tally.flows:
                tally.add(run.status == "completed", values.get(tally.entry.step_id))
    for figures in report.questions:
        figures.entry = _with_retired_options(figures)
    for tally in report.equality:
        tally.with_retired_options()
    return report


def title(report: Report) -> str:
    """Return what the report covers: "R3 Winter check-in (sample)", "sample" or everything."""
    scope = report.scope
    return f"{scope.label} ({scope.flow_id})" if scope.round is not None else scope.label


def summary_text(report: Report) -> str:
    """Return the figures as one plain-text message."""
    lines = [f"Report: {title(report)}", ""]
    lines += headline_lines(report)
    lines += _equality_lines(report)
    if report.charted():
        lines += ["", "Answers (percent of those who answered each question):"]
    for question in report.charted():
        lines.append("")
        lines.append(f"{question.entry.text} (n = {question.answered})")
        for option, label in question.entry.options:
            count = question.counts[option]
            lines.append(f"• {label}: {count} ({_percent(count, question.answered)})")
    lines += untallied_note(report)
    text = "\n".join(lines)
    if len(text) <= MESSAGE_LIMIT:
        return text
    cut = "\n… (cut short: the charts show every question)"
    return text[: MESSAGE_LIMIT - len(cut)].rsplit("\n", 1)[0] + cut


def headline_lines(report: Report) -> list[str]:
    """Return the headline figures, one per line: a round's from its invitations on."""
    median = report.median_to_complete
    if report.round is not None:
        found = report.round
        lines = [
            f"Eligible: {found.eligible}",
            f"Invited: {found.invited}",
            f"Invitations that could not be sent: {found.failed}",
            f"Started: {found.started}",
            f"Completed: {found.completed}",
            f"Declined: {found.declined}",
            f"Stopped: {found.stopped}",
            f"Completion rate: {_percent(found.completed, found.started)} of those who started, "
            f"{_percent(found.completed, found.invited)} of those invited",
        ]
    else:
        lines = [
            f"Started: {report.started}",
            f"Completed: {report.completed}",
            f"In progress: {report.in_progress}",
            f"Paused: {report.paused}",
            f"Completion rate: {_percent(report.completed, report.started)}",
        ]
    lines.append(f"Median time to complete: {'n/a' if median is None else duration(median)}")
    if report.per_day:
        first, last = min(report.per_day), max(report.per_day)
        lines.append(f"First started: {first.isoformat()}; latest: {last.isoformat()}")
    return lines


def duration(span: timedelta) -> str:
    """Return a time span in words a person reads at a glance: '4 min', '2 h 5 min'."""
    minutes = round(span.total_seconds() / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} days {hours} h"


def untallied_note(report: Report) -> list[str]:
    """Say which equality questions have typed answers, and so are not counted."""
    if not report.untallied:
        return []
    names = ", ".join(entry.step_id for entry in report.untallied)
    return ["", f"Equality questions with typed answers are not counted in reports: {names}."]


def _equality_lines(report: Report) -> list[str]:
    if not report.equality or not report.started:
        return []
    lines = ["", f"{EQUALITY_HEADING}:", EQUALITY_KEY]
    for tally in report.equality:
        lines += ["", tally.entry.text]
        for row in tally.rows(NO_ANSWER_LABEL):
            rate = f" ({row.rate} completed)" if row.rate else ""
            lines.append(
                f"• {row.label}: completed {row.completed}, "
                f"not completed {row.not_completed}{rate}"
            )
    return lines


def _count_run(report: Report, run: ExportRun, zone: tzinfo) -> None:
    report.started += 1
    report.per_day[run.started_at.astimezone(zone).date()] += 1
    if run.status == "completed":
        report.completed += 1
        if run.completed_at is not None:
            seconds = (run.completed_at - run.started_at).total_seconds()
            report.minutes_to_complete.append(seconds / 60)
    elif run.status == "paused":
        report.paused += 1
    elif run.status in ("active", "checking"):
        report.in_progress += 1


def _count_answer(figures: QuestionFigures, value: Any) -> None:
    if value is None:
        figures.skipped += 1
        return
    figures.answered += 1
    for chosen in value if isinstance(value, list) else [value]:
        figures.counts[option_id(chosen)] += 1


def _asked_in(codebook: Codebook, step_id: str) -> frozenset[str]:
    """Return the conversations in which a step is an equality question."""
    return frozenset(
        flow.id
        for flow in codebook.flows.values()
        for step in flow.steps
        if step.id == step_id and isinstance(step, QuestionBase) and step.equality
    )


def _with_scale_points(codebook: Codebook, entry: Entry) -> Entry:
    """Give a scale question one option per point, its ends labelled, from its newest version."""
    if entry.kind != "scale":
        return entry
    for flow in sorted(codebook.flows.values(), key=lambda f: f.version, reverse=True):
        step = next((s for s in flow.steps if s.id == entry.step_id), None)
        if isinstance(step, ScaleStep):
            language = flow.default_language
            ends = {
                step.min: text_in(step.min_label, language, language),
                step.max: text_in(step.max_label, language, language),
            }
            points = tuple(
                (str(point), f"{point} ({ends[point]})" if point in ends else str(point))
                for point in range(step.min, step.max + 1)
            )
            return dataclasses.replace(entry, options=points)
    return entry


def _with_retired_options(figures: QuestionFigures) -> Entry:
    """Add options answered in an older version but gone from the newest, by their id."""
    known = {option for option, _ in figures.entry.options}
    retired = tuple((o, o) for o in sorted(figures.counts) if o not in known)
    if not retired:
        return figures.entry
    return dataclasses.replace(figures.entry, options=figures.entry.options + retired)


def _percent(count: int, total: int) -> str:
    return f"{count / total:.0%}" if total else "n/a"
