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
from bot.exports.small_counts import HIDDEN, SMALL, SMALL_NUMBER, TALLIED
from bot.reports.equality import EqualityFigures
from bot.worker_process import in_worker_process
from conversations.catalog import catalog
from conversations.loader import flow_from_json
from storage.export import ExportRun, export_round_figures, flow_definitions, stream_runs
from storage.rounds import RoundFigures

CHARTED = ("single_choice", "multiple_choice", "scale", "yes_no")
MESSAGE_LIMIT = 4096


@dataclass
class QuestionFigures:
    """How often each option of one question was chosen."""

    entry: Entry  # its options include every scale point and any retired option seen
    counts: Counter[str] = field(default_factory=Counter)  # by option id
    answered: int = 0  # runs that gave an answer: the n of percentages
    skipped: int = 0
    withheld: int = 0  # answers held for safeguarding review: not counted until released


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
    withheld: int = 0  # answers held for safeguarding review, of the questions counted here

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

    The counting runs in a worker process of lower priority (bot.worker_process), on its own
    read-only connection: the bot goes on answering people meanwhile. Days are counted in
    `zone`, the local time of the people reading the report.
    """
    return await in_worker_process(tally, database, scope, zone)


def tally(database: Path, scope: Scope, zone: tzinfo) -> Report:
    """Count as `gather` does, blocking: call it in a worker, never on the event loop."""
    flows = [
        flow_from_json(definition)
        for found_id, _, definition in flow_definitions(database)
        if scope.flow_id is None or found_id == scope.flow_id
    ]
    codebook = Codebook(flows)
    report = Report(scope)
    if scope.round_id is not None:
        report.round = export_round_figures(database, scope.round_id)
    charted: dict[Entry, QuestionFigures] = {}
    for entry in codebook.entries:
        if entry.equality and entry.kind in TALLIED:
            tally = EqualityFigures(codebook.with_scale_points(entry), entry.flows)
            report.equality.append(tally)
        elif entry.equality:
            report.untallied.append(entry)
        elif entry.kind in CHARTED:
            charted[entry] = QuestionFigures(codebook.with_scale_points(entry))
            report.questions.append(charted[entry])
    counted: dict[str, dict[str, QuestionFigures]] = {}  # by conversation, then step id
    for run in stream_runs(database, scope.flow_id, round_id=scope.round_id):
        _count_run(report, run, zone)
        if run.flow_id not in counted:
            asked = codebook.asked(run.flow_id).items()
            counted[run.flow_id] = {s: charted[q.entry] for s, q in asked if q.entry in charted}
        questions = counted[run.flow_id]
        values: dict[str, Any] = {}
        held: set[str] = set()  # held for safeguarding review: their values are not read
        for answer in run.answers:
            figures = questions.get(answer.step_id)
            if answer.value is None:
                held.add(answer.step_id)
                if figures is not None:
                    figures.withheld += 1
                    report.withheld += 1
                continue
            values[answer.step_id] = value = json.loads(answer.value)
            if figures is not None:
                _count_answer(figures, value)
        for tally in report.equality:
            if run.flow_id in tally.flows:
                # A held answer is not in `values`: the run counts as no answer until then.
                tally.add(run.status == "completed", values.get(tally.entry.step_id))
                if tally.entry.step_id in held:
                    report.withheld += 1
    for figures in report.questions:
        figures.entry = _with_retired_options(figures)
    for tally in report.equality:
        tally.with_retired_options()
    return report


def title(report: Report) -> str:
    """Return what the report covers: "R3 Winter check-in (sample)", "sample" or everything."""
    scope = report.scope
    if scope.round is None:
        return scope.label
    return catalog("en")("report_round_title", round=scope.label, flow=scope.flow_id)


def summary_text(report: Report) -> str:
    """Return the figures as one plain-text message."""
    words = catalog("en")
    lines = [words("report_message_title", title=title(report)), ""]
    lines += headline_lines(report)
    lines += _equality_lines(report)
    if report.charted():
        lines += ["", words("report_answers_heading")]
    for question in report.charted():
        lines.append("")
        lines.append(words("report_question", text=question.entry.text, n=question.answered))
        for option, label in question.entry.options:
            count = question.counts[option]
            percent = _percent(count, question.answered)
            lines.append(words("report_option", label=label, count=count, percent=percent))
    lines += untallied_note(report)
    text = "\n".join(lines)
    if len(text) <= MESSAGE_LIMIT:
        return text
    cut = "\n" + words("report_cut_short")
    return text[: MESSAGE_LIMIT - len(cut)].rsplit("\n", 1)[0] + cut


def headline_lines(report: Report) -> list[str]:
    """Return the headline figures, one per line: a round's from its invitations on."""
    words = catalog("en")
    median = report.median_to_complete
    if report.round is not None:
        found = report.round
        lines = [
            words("report_eligible", count=found.eligible),
            words("report_invited", count=found.invited),
            words("report_failed", count=found.failed),
            words("report_started", count=found.started),
            words("report_completed", count=found.completed),
            words("report_declined", count=found.declined),
            words("report_stopped", count=found.stopped),
            words(
                "report_round_completion",
                started=_percent(found.completed, found.started),
                invited=_percent(found.completed, found.invited),
            ),
        ]
    else:
        lines = [
            words("report_started", count=report.started),
            words("report_completed", count=report.completed),
            words("report_in_progress", count=report.in_progress),
            words("report_paused", count=report.paused),
            words("report_completion", rate=_percent(report.completed, report.started)),
        ]
    taken = words("report_none") if median is None else duration(median)
    lines.append(words("report_median", duration=taken))
    if report.per_day:
        first, last = min(report.per_day), max(report.per_day)
        lines.append(
            words("report_first_latest", first=first.isoformat(), latest=last.isoformat())
        )
    if report.withheld:
        lines.append(words("report_withheld", count=report.withheld))
    return lines


def duration(span: timedelta) -> str:
    """Return a time span in words a person reads at a glance: '4 min', '2 h 5 min'."""
    words = catalog("en")
    minutes = round(span.total_seconds() / 60)
    if minutes < 60:
        return words("report_minutes", minutes=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return words("report_hours", hours=hours, minutes=minutes)
    days, hours = divmod(hours, 24)
    return words("report_days", days=days, hours=hours)


def untallied_note(report: Report) -> list[str]:
    """Say which equality questions have typed answers, and so are not counted."""
    if not report.untallied:
        return []
    names = ", ".join(entry.column for entry in report.untallied)
    return ["", catalog("en")("report_untallied", questions=names)]


def equality_key() -> str:
    """Return what "<5" and "hidden" mean in the completion by equality answer."""
    return catalog("en")("report_equality_key", small=SMALL, hidden=HIDDEN, number=SMALL_NUMBER)


def _equality_lines(report: Report) -> list[str]:
    if not report.equality or not report.started:
        return []
    words = catalog("en")
    lines = ["", words("report_equality_title"), equality_key()]
    for tally in report.equality:
        lines += ["", tally.entry.text]
        for row in tally.rows(words("report_no_answer")):
            fields = dataclasses.asdict(row)
            lines.append(
                words("report_equality_rate" if row.rate else "report_equality_counts", **fields)
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


def _with_retired_options(figures: QuestionFigures) -> Entry:
    """Add options answered in an older version but gone from the newest, by their id."""
    known = {option for option, _ in figures.entry.options}
    retired = tuple((o, o) for o in sorted(figures.counts) if o not in known)
    if not retired:
        return figures.entry
    return dataclasses.replace(figures.entry, options=figures.entry.options + retired)


def _percent(count: int, total: int) -> str:
    return f"{count / total:.0%}" if total else catalog("en")("report_none")
