"""Headline figures and answer counts per question, from one pass over the stored runs."""

from __future__ import annotations

import dataclasses
import json
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bot.exports.codebook import Codebook, Entry
from conversations.loader import flow_from_json
from conversations.model import ScaleStep, text_in
from storage.export import ExportRun, flow_definitions, stream_runs

CHARTED = ("single_choice", "multiple_choice", "scale", "yes_no")
MESSAGE_LIMIT = 4096


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

    flow_id: str | None
    started: int = 0
    completed: int = 0
    paused: int = 0
    in_progress: int = 0  # active, or waiting on a safety check-in
    minutes_to_complete: list[float] = field(default_factory=list)
    questions: list[QuestionFigures] = field(default_factory=list)
    equality: list[Entry] = field(default_factory=list)  # never charted nor counted here
    per_day: Counter[date] = field(default_factory=Counter)  # runs by UTC start date

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


async def gather(database: Path, flow_id: str | None) -> Report:
    """Count runs and answers of one conversation (or all), reading the runs once."""
    flows = [
        flow_from_json(definition)
        for found_id, _, definition in await flow_definitions(database)
        if flow_id is None or found_id == flow_id
    ]
    codebook = Codebook(flows)
    report = Report(flow_id)
    by_step: dict[str, QuestionFigures] = {}
    for entry in codebook.entries:
        if entry.equality:
            report.equality.append(entry)
        elif entry.kind in CHARTED:
            figures = QuestionFigures(_with_scale_points(codebook, entry))
            report.questions.append(figures)
            by_step[entry.step_id] = figures
    async for run in stream_runs(database, flow_id):
        _count_run(report, run)
        values = {answer.step_id: json.loads(answer.value) for answer in run.answers}
        for step_id, value in values.items():
            if step_id in by_step:
                _count_answer(by_step[step_id], value)
    for figures in report.questions:
        figures.entry = _with_retired_options(figures)
    return report


def summary_text(report: Report) -> str:
    """Return the figures as one plain-text message."""
    lines = [f"Report: {report.flow_id or 'all conversations'}", ""]
    lines += headline_lines(report)
    if report.charted():
        lines += ["", "Answers (percent of those who answered each question):"]
    for question in report.charted():
        lines.append("")
        lines.append(f"{question.entry.text} (n = {question.answered})")
        for option, label in question.entry.options:
            count = question.counts[option]
            lines.append(f"• {label}: {count} ({_percent(count, question.answered)})")
    lines += _equality_note(report)
    text = "\n".join(lines)
    if len(text) <= MESSAGE_LIMIT:
        return text
    cut = "\n… (cut short: the charts show every question)"
    return text[: MESSAGE_LIMIT - len(cut)].rsplit("\n", 1)[0] + cut


def headline_lines(report: Report) -> list[str]:
    """Return the headline figures, one per line."""
    rate = report.completion_rate
    median = report.median_to_complete
    lines = [
        f"Started: {report.started}",
        f"Completed: {report.completed}",
        f"In progress: {report.in_progress}",
        f"Paused: {report.paused}",
        f"Completion rate: {'n/a' if rate is None else f'{rate:.0%}'}",
        f"Median time to complete: {'n/a' if median is None else duration(median)}",
    ]
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


def _equality_note(report: Report) -> list[str]:
    if not report.equality:
        return []
    names = ", ".join(entry.step_id for entry in report.equality)
    return ["", f"Equality questions are not counted or charted in reports: {names}."]


def _count_run(report: Report, run: ExportRun) -> None:
    report.started += 1
    report.per_day[run.started_at.date()] += 1
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
        figures.counts[_option_id(chosen)] += 1


def _option_id(value: Any) -> str:
    """Return an answer as its option id: yes/no as 'true'/'false', scale points as digits."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


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
