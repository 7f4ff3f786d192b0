"""The questions of the conversations being exported: columns, labels, and cells for each answer.

A question is one column across the versions of its conversation. Two conversations that use
the same id for the same question (same kind, wording, options and equality marking) share a
column too; when they mean different things, each has its own, named with its conversation, so
one conversation's answers never land in another's column or take its equality treatment.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

from conversations.catalog import catalog
from conversations.model import (
    Flow,
    MessageStep,
    MultipleChoiceStep,
    Question,
    ScaleStep,
    SingleChoiceStep,
    YesNoStep,
    text_in,
)
from storage.export import ExportRun

# A cell that starts with one of these could run as a formula in a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
Cell = str | int | float | None
RUN_COLUMNS = (
    "participant",
    "run",
    "round",
    "conversation",
    "version",
    "started (UTC)",
    "completed (UTC)",
    "status",
)
# What makes two conversations' questions the same: not where they lead or sit, nor whether
# they may be skipped.
NOT_MEANING = {"id", "next", "section", "required", "equality"}
REMEMBERED = 1000  # distinct answers remembered per question: choices repeat, typed text rarely


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
    flow_id: str | None = None  # named when another conversation asks otherwise by this id
    flows: frozenset[str] = frozenset()  # the conversations that ask it

    @property
    def column(self) -> str:
        """Return the question's name in exports: its id, and its conversation where needed."""
        return self.step_id if self.flow_id is None else f"{self.step_id} ({self.flow_id})"


class Reading(NamedTuple):
    """One stored answer as exports show it."""

    value: Any  # the answer, decoded: None when skipped
    shown: Cell  # as the participant saw it
    cell: Cell  # as shown, safe in a spreadsheet
    cells: tuple[Cell, ...]  # its Responses cells: one, or 1/0 per option of multiple choice


class Asked(NamedTuple):
    """A question a conversation asks, and how its answers are read."""

    entry: Entry
    read: Callable[[str], Reading]


class Codebook:
    """Every question across the versions of the conversations being exported."""

    def __init__(self, flows: list[Flow]) -> None:
        self.flows = {(flow.id, flow.version): flow for flow in flows}
        own: dict[str, dict[str, Entry]] = {}  # conversation -> step id -> its entry
        meaning: dict[tuple[str, str], Any] = {}
        for flow in sorted(flows, key=lambda f: f.version, reverse=True):
            questions = own.setdefault(flow.id, {})
            for step in flow.steps:
                if isinstance(step, MessageStep):
                    continue
                found = questions.get(step.id)
                if found is None:
                    questions[step.id] = _entry(flow, step)
                    meaning[(flow.id, step.id)] = step.model_dump(exclude=NOT_MEANING)
                elif step.equality and not found.equality:
                    # Marked in an older version only: its answers are still held back.
                    questions[step.id] = dataclasses.replace(found, equality=True)
        asking: dict[str, list[str]] = {}
        for flow_id in sorted(own):
            for step_id in own[flow_id]:
                asking.setdefault(step_id, []).append(flow_id)
        self._entries: dict[tuple[str, str], Entry] = {}
        entries: dict[Entry, None] = {}  # in order, each once
        for flow_id in sorted(own):
            for step_id, entry in own[flow_id].items():
                others = asking[step_id]
                same = all(
                    own[other][step_id] == entry
                    and meaning[(other, step_id)] == meaning[(flow_id, step_id)]
                    for other in others
                )
                if same:
                    entry = dataclasses.replace(entry, flows=frozenset(others))
                else:
                    entry = dataclasses.replace(entry, flow_id=flow_id, flows=frozenset([flow_id]))
                self._entries[(flow_id, step_id)] = entry
                entries[entry] = None
        self.entries = list(entries)
        self._readers = {entry: _Reader(self, entry) for entry in self.entries}
        self._asked: dict[str, dict[str, Asked]] = {}
        self._layouts: dict[tuple[str, bool], _Layout] = {}

    @cached_property
    def withheld(self) -> str:
        """Return the cell of an answer held for safeguarding review, in place of its value.

        Read when first needed: a command-line export with nothing held never parses the
        catalogue.
        """
        return catalog("en")("export_withheld")

    def entry(self, flow_id: str, step_id: str) -> Entry | None:
        """Return the question a conversation asks under an id (None if it asks none)."""
        return self._entries.get((flow_id, step_id))

    def asked(self, flow_id: str) -> dict[str, Asked]:
        """Return the questions a conversation asks, by step id, with their readers."""
        found = self._asked.get(flow_id)
        if found is None:
            found = self._asked[flow_id] = {
                step_id: Asked(entry, self._readers[entry])
                for (asking, step_id), entry in self._entries.items()
                if asking == flow_id
            }
        return found

    def questions(self, equality: bool) -> list[Entry]:
        """Return the questions shown per response: equality ones only when linked."""
        return [e for e in self.entries if equality or not e.equality]

    def header(self, linked_equality: bool) -> list[str]:
        """Return the Responses sheet's header row."""
        columns = list(RUN_COLUMNS)
        for entry in self.questions(linked_equality):
            if entry.kind == "multiple_choice":
                columns += [f"{entry.column}: {label}" for _, label in entry.options]
            else:
                columns.append(entry.column)
        return columns

    def row(
        self, run: ExportRun, answers: Mapping[str, str | None], linked_equality: bool
    ) -> list[Any]:
        """Return one run as a Responses row: labels as shown, multiple choice as 1/0.

        `answers` are the run's answers by step id, as stored (JSON); None for one held for
        safeguarding review, which is withheld in each of its cells, every option's included.
        """
        cells = [
            run.participant_code,
            run.run_id,
            run.round_id,
            run.flow_id,
            run.flow_version,
            _naive(run.started_at),
            _naive(run.completed_at),
            run.status,
        ]
        layout = self._layout(run.flow_id, linked_equality)
        cells += layout.blank
        # Every answer of every export passes here: kept to plain look-ups and assignments.
        for step_id, start, width, read in layout.places:
            stored = answers.get(step_id)
            if stored is not None:
                found = read.seen.get(stored) or read(stored)
                if width == 1:
                    cells[start] = found.cell
                else:
                    cells[start : start + width] = found.cells
            elif step_id in answers:
                cells[start : start + width] = (self.withheld,) * width
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

    def with_scale_points(self, entry: Entry) -> Entry:
        """Give a scale question one option per point, its ends labelled, as newly asked."""
        if entry.kind != "scale":
            return entry
        for flow in sorted(self.flows.values(), key=lambda f: f.version, reverse=True):
            if flow.id not in entry.flows:
                continue
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

    def _layout(self, flow_id: str, linked_equality: bool) -> _Layout:
        """Return where each of a conversation's answers goes in a Responses row."""
        found = self._layouts.get((flow_id, linked_equality))
        if found is None:
            places = []
            start = len(RUN_COLUMNS)
            for entry in self.questions(linked_equality):
                width = len(entry.options) if entry.kind == "multiple_choice" else 1
                if flow_id in entry.flows:
                    places.append(_Place(entry.step_id, start, width, self._readers[entry]))
                start += width
            found = _Layout(tuple(places), (None,) * (start - len(RUN_COLUMNS)))
            self._layouts[(flow_id, linked_equality)] = found
        return found


class _Place(NamedTuple):
    """Where one question's answer goes in a Responses row."""

    step_id: str
    start: int  # its first column in the row
    width: int  # its columns: one, or one per option of multiple choice
    read: _Reader


class _Layout(NamedTuple):
    places: tuple[_Place, ...]  # the questions the conversation asks
    blank: tuple[None, ...]  # the question cells of a run that answered nothing


class _Reader:
    """Read one question's stored answers (JSON), remembering those that repeat."""

    def __init__(self, codebook: Codebook, entry: Entry) -> None:
        self.codebook = codebook
        self.entry = entry
        self.seen: dict[str, Reading] = {}  # choices repeat: each is worked out once
        self.remember = entry.kind != "free_text"  # typed text is rarely given twice
        self.options = [option for option, _ in entry.options]
        # The last answer read: an Excel export reads each typed answer twice, once for each
        # sheet, one after the other.
        self.last: tuple[str, Reading] | None = None

    def __call__(self, stored: str) -> Reading:
        """Return one stored answer as exports show it."""
        found = self.seen.get(stored)
        if found is not None:
            return found
        last = self.last
        if last is not None and last[0] is stored:
            return last[1]
        value = _decoded(stored)
        shown = self.codebook.shown(self.entry, value)
        cell = safe(shown)
        cells: tuple[Cell, ...] = (cell,)
        if self.entry.kind == "multiple_choice":
            chosen = value if isinstance(value, list) else None
            cells = tuple(None if chosen is None else int(o in chosen) for o in self.options)
        found = Reading(value, shown, cell, cells)
        if self.remember and len(self.seen) < REMEMBERED:
            self.seen[stored] = found
        self.last = (stored, found)
        return found


def _decoded(stored: str) -> Any:
    """Return a stored answer decoded from JSON.

    Typed text is rarely given twice, so it is decoded each time: a JSON string with no
    backslash has nothing escaped (JSON escapes every quote, backslash and control character),
    so its inside is the text itself, taken without the decoder's work.
    """
    if stored[:1] == '"' and "\\" not in stored:
        return stored[1:-1]
    return json.loads(stored)


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
