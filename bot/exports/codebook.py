"""The questions of a conversation as exported: columns, labels, and cells for each answer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from conversations.model import (
    Flow,
    MessageStep,
    MultipleChoiceStep,
    Question,
    SingleChoiceStep,
    YesNoStep,
    text_in,
)
from storage.export import ExportRun

# A cell that starts with one of these could run as a formula in a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
Cell = str | int | float | None


def safe(value: Cell) -> Cell:
    """Neutralise text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


@dataclass(frozen=True)
class Entry:
    """One question in the codebook, from the newest version that has it."""

    step_id: str
    text: str
    kind: str
    options: tuple[tuple[str, str], ...]
    equality: bool


class Codebook:
    """Every question across the versions of the conversations being exported."""

    def __init__(self, flows: list[Flow]) -> None:
        self.flows = {(flow.id, flow.version): flow for flow in flows}
        entries: dict[str, Entry] = {}
        for flow in sorted(flows, key=lambda f: f.version, reverse=True):
            for step in flow.steps:
                if not isinstance(step, MessageStep) and step.id not in entries:
                    entries[step.id] = _entry(flow, step)
        self.entries = list(entries.values())

    def questions(self, equality: bool) -> list[Entry]:
        """Return the questions shown per response: equality ones only when linked."""
        return [e for e in self.entries if equality or not e.equality]

    def header(self, linked_equality: bool) -> list[str]:
        """Return the Responses sheet's header row."""
        columns = [
            "participant",
            "run",
            "round",
            "conversation",
            "version",
            "started (UTC)",
            "completed (UTC)",
            "status",
        ]
        for entry in self.questions(linked_equality):
            if entry.kind == "multiple_choice":
                columns += [f"{entry.step_id}: {label}" for _, label in entry.options]
            else:
                columns.append(entry.step_id)
        return columns

    def row(self, run: ExportRun, linked_equality: bool) -> list[Any]:
        """Return one run as a Responses row: labels as shown, multiple choice as 1/0."""
        values = {answer.step_id: json.loads(answer.value) for answer in run.answers}
        cells: list[Any] = [
            run.participant_code,
            run.run_id,
            run.round_id,
            run.flow_id,
            run.flow_version,
            _naive(run.started_at),
            _naive(run.completed_at),
            run.status,
        ]
        for entry in self.questions(linked_equality):
            value = values.get(entry.step_id)
            if entry.kind == "multiple_choice":
                chosen = value if isinstance(value, list) else None
                cells += [
                    None if chosen is None else int(option in chosen)
                    for option, _ in entry.options
                ]
            else:
                cells.append(safe(self.shown(entry, value)))
        return cells

    def shown(self, entry: Entry, value: Any) -> Cell:
        """Return an answer as the participant saw it (None when skipped or not asked)."""
        if value is None:
            return None
        if entry.kind == "single_choice":
            return dict(entry.options).get(str(value), str(value))
        if entry.kind == "multiple_choice" and isinstance(value, list):
            labels = dict(entry.options)
            return "; ".join(labels.get(str(v), str(v)) for v in value)
        if entry.kind == "yes_no":
            return "Yes" if value is True else "No"
        if isinstance(value, int | float | str):
            return value
        return json.dumps(value, ensure_ascii=False)


def option_id(value: Any) -> str:
    """Return an answer as its option id: yes/no as 'true'/'false', scale points as digits."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _entry(flow: Flow, step: Question) -> Entry:
    language = flow.default_language
    options: tuple[tuple[str, str], ...] = ()
    if isinstance(step, SingleChoiceStep | MultipleChoiceStep):
        options = tuple((o.id, text_in(o.label, language, language)) for o in step.options)
    elif isinstance(step, YesNoStep):
        options = (("true", "Yes"), ("false", "No"))
    return Entry(
        step.id, text_in(step.text, language, language), step.kind, options, step.equality
    )


def _naive(moment: Any) -> Any:
    """Return a UTC time without its zone: spreadsheets store dates without one."""
    return None if moment is None else moment.replace(tzinfo=None)
