"""Graph and content checks on a flow that parsed: what pydantic alone cannot see."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Protocol

from conversations.model import (
    END,
    Condition,
    Flow,
    LocalText,
    MessageStep,
    MultipleChoiceStep,
    NumberStep,
    Question,
    ScaleStep,
    SingleChoiceStep,
    YesNoStep,
)
from conversations.problems import Problem
from conversations.routing import targets
from conversations.yaml_lines import Path, line_of


class _Report(Protocol):
    def __call__(
        self, step: str | None, message: str, line: int | None = None, warn: bool = False
    ) -> None: ...


def check_flow(
    flow: Flow, name: str, step_lines: dict[str, int], lines: dict[Path, int]
) -> list[Problem]:
    """Return every problem in a parsed flow, each with its file, line and step."""
    found: list[Problem] = []

    def problem(
        step: str | None, message: str, line: int | None = None, warn: bool = False
    ) -> None:
        where = line if line is not None else step_lines.get(step or "", lines.get((), 1))
        found.append(Problem(name, where, step, message, "warning" if warn else "error"))

    seen: set[str] = set()
    for i, step in enumerate(flow.steps):
        if step.id in seen:
            problem(
                step.id, f"the step id '{step.id}' is used twice", line_of(lines, ("steps", i))
            )
        seen.add(step.id)
    if len(flow.languages) != len(set(flow.languages)):
        problem(None, "a language is listed twice in languages", line_of(lines, ("languages",)))
    section_ids = [s.id for s in flow.sections]
    if len(section_ids) != len(set(section_ids)):
        problem(None, "a section id is used twice", line_of(lines, ("sections",)))
    if END in seen:
        problem(END, f"'{END}' is reserved for the end of the conversation; rename the step")

    for step in flow.steps:
        _check_step(flow, step, problem)
    if len(seen) == len(flow.steps):
        # With a duplicated id the graph is not what the author wrote: it would show loops
        # that are not there. Report the duplicate alone; the graph is checked once it is fixed.
        _check_graph(flow, problem)
    for path, text in _texts(flow):
        field = ".".join(str(p) for p in path)
        where, line = _step_of(flow, path), line_of(lines, path)
        missing = _missing_languages(flow, text)
        if missing:
            problem(where, f"{field}: no text for {', '.join(missing)}", line)
        unknown = _unknown_languages(flow, text)
        if unknown:
            listed = ", ".join(flow.languages)
            # A translation can be written ahead of listing its language; a typo ('cym') is
            # worth a look either way.
            message = f"{field}: text in {', '.join(unknown)}, not in languages ({listed})"
            problem(where, message, line, warn=True)
    return found


def _check_step(flow: Flow, step: MessageStep | Question, problem: _Report) -> None:
    if step.section is not None and flow.section(step.section) is None:
        problem(step.id, f"unknown section '{step.section}'")
    if isinstance(step, SingleChoiceStep | MultipleChoiceStep):
        ids = [option.id for option in step.options]
        if len(ids) != len(set(ids)):
            problem(step.id, "two options have the same id")
    limit = step.max_choices if isinstance(step, MultipleChoiceStep) else None
    if isinstance(step, MultipleChoiceStep) and limit is not None and limit > len(step.options):
        problem(step.id, "max_choices is more than the number of options")
    low, high = (step.min, step.max) if isinstance(step, NumberStep) and step.whole else (0, 0)
    if low is not None and high is not None and math.ceil(low) > math.floor(high):
        problem(step.id, "no whole number lies between min and max: nobody could answer")
    rules = step.next if isinstance(step.next, list) else []
    for target in targets(flow, step):
        if target != END and not flow.has_step(target):
            problem(step.id, f"goes to '{target}', which is not a step (use '{END}' to finish)")
    for rule in rules:
        for condition in rule.when:
            _check_condition(flow, step, condition, problem)


def _check_condition(
    flow: Flow, step: MessageStep | Question, condition: Condition, problem: _Report
) -> None:
    if not flow.has_step(condition.step):
        problem(step.id, f"a condition looks at '{condition.step}', which is not a step")
        return
    target = flow.step(condition.step)
    if isinstance(target, MessageStep):
        problem(step.id, f"a condition looks at '{condition.step}', a message with no answer")
        return
    if flow.position(condition.step) > flow.position(step.id):
        problem(step.id, f"a condition looks at '{condition.step}', which comes later")
    wanted: list[str | int | float | bool] = (
        [condition.equals] if condition.equals is not None else list(condition.any_of or [])
    )
    if condition.includes is not None:
        if not isinstance(target, MultipleChoiceStep):
            problem(step.id, f"'includes' needs a multiple choice question; '{target.id}' is not")
        wanted = [condition.includes]
    elif isinstance(target, MultipleChoiceStep) and wanted:
        # Its answer is a list, which equals/any_of never match: the branch would be dead.
        problem(step.id, f"'{target.id}' is multiple choice: test it with includes")
    if isinstance(target, SingleChoiceStep | MultipleChoiceStep):
        options = {option.id for option in target.options}
        for value in wanted:
            if value not in options:
                problem(step.id, f"'{value}' is not an option of '{target.id}'")
    elif isinstance(target, YesNoStep) and any(not isinstance(v, bool) for v in wanted):
        problem(step.id, f"'{target.id}' is yes/no: compare it with true or false")
    if (condition.at_least is not None or condition.at_most is not None) and not isinstance(
        target, ScaleStep | NumberStep
    ):
        problem(step.id, f"at_least/at_most need a scale or number question; '{target.id}' is not")


def _check_graph(flow: Flow, problem: _Report) -> None:
    # An unknown target is reported on its own; like the engine, treat it as the end here so
    # that it does not also show up as a loop with no way out.
    edges = {
        step.id: [t if flow.has_step(t) else END for t in targets(flow, step)]
        for step in flow.steps
    }
    start = flow.steps[0].id
    reachable = _reach(start, edges)
    for step in flow.steps:
        if step.id not in reachable:
            problem(step.id, "no path from the first step leads here (unreachable)")
    reverse: dict[str, set[str]] = {}
    for source, outs in edges.items():
        for target in outs:
            reverse.setdefault(target, set()).add(source)
    can_finish = _reach(END, {k: list(v) for k, v in reverse.items()})
    for step in flow.steps:
        if step.id in reachable and step.id not in can_finish:
            problem(step.id, "this step is in a loop with no way out to the end")
    messages = {s.id for s in flow.steps if isinstance(s, MessageStep)}
    message_edges = {m: [t for t in edges.get(m, []) if t in messages] for m in messages}
    for message in sorted(messages):
        if message in _reach_beyond(message, message_edges):
            problem(message, "messages loop back to this one with no question between them")


def _reach(start: str, edges: dict[str, list[str]]) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        for target in edges.get(todo.pop(), []):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _reach_beyond(start: str, edges: dict[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(edges.get(start, []))
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(edges.get(node, []))
    return seen


def _texts(flow: Flow) -> Iterator[tuple[Path, LocalText]]:
    yield ("title",), flow.title
    yield ("end",), flow.end
    for field in ("who", "duration", "data_use", "support"):
        yield ("intro", field), getattr(flow.intro, field)
    yield ("consent", "text"), flow.consent.text
    for i, section in enumerate(flow.sections):
        yield ("sections", i, "title"), section.title
        if section.note is not None:
            yield ("sections", i, "note"), section.note
    for i, step in enumerate(flow.steps):
        yield ("steps", i, "text"), step.text
        if isinstance(step, ScaleStep):
            yield ("steps", i, "min_label"), step.min_label
            yield ("steps", i, "max_label"), step.max_label
        if isinstance(step, SingleChoiceStep | MultipleChoiceStep):
            for j, option in enumerate(step.options):
                yield ("steps", i, "options", j, "label"), option.label


def _missing_languages(flow: Flow, text: LocalText) -> list[str]:
    if isinstance(text, str):
        return flow.languages[1:]
    return [language for language in flow.languages if language not in text]


def _unknown_languages(flow: Flow, text: LocalText) -> list[str]:
    if isinstance(text, str):
        return []
    return [language for language in text if language not in flow.languages]


def _step_of(flow: Flow, path: Path) -> str | None:
    if len(path) >= 2 and path[0] == "steps" and isinstance(path[1], int):
        return flow.steps[path[1]].id
    return None
