"""Where a flow goes after a step: conditions on earlier answers, and the graph they make."""

from __future__ import annotations

from collections.abc import Mapping

from conversations.model import END, Condition, Flow, MessageStep, Question

# An answer as stored: option id, option ids, number, yes/no, text; None means skipped.
Value = str | int | float | bool | list[str] | None


def default_next(flow: Flow, step: MessageStep | Question) -> str:
    """Return the step after this one in the file, or END after the last."""
    position = flow.position(step.id) + 1
    return flow.steps[position].id if position < len(flow.steps) else END


def targets(flow: Flow, step: MessageStep | Question) -> list[str]:
    """Return every step the flow may go to after this one."""
    rules = step.next
    if rules is None:
        return [default_next(flow, step)]
    if isinstance(rules, str):
        return [rules]
    found = [rule.goto for rule in rules]
    if not rules or rules[-1].when:
        found.append(default_next(flow, step))
    return found


def next_step(flow: Flow, step: MessageStep | Question, answers: Mapping[str, Value]) -> str:
    """Return where to go after a step, given the answers on the participant's path."""
    rules = step.next
    if rules is None:
        return default_next(flow, step)
    if isinstance(rules, str):
        return rules
    for rule in rules:
        if all(holds(condition, answers) for condition in rule.when):
            return rule.goto
    return default_next(flow, step)


def holds(condition: Condition, answers: Mapping[str, Value]) -> bool:
    """Say whether a condition holds; a question not yet answered matches no test."""
    if condition.step not in answers:
        return False
    value = answers[condition.step]
    if condition.skipped is not None:
        return (value is None) == condition.skipped
    if value is None:
        return False
    if condition.equals is not None:
        return _same(value, condition.equals)
    if condition.any_of is not None:
        return any(_same(value, wanted) for wanted in condition.any_of)
    if condition.includes is not None:
        return isinstance(value, list) and condition.includes in value
    number = _number(value)
    if number is None:
        return False
    if condition.at_least is not None:
        return number >= condition.at_least
    return condition.at_most is not None and number <= condition.at_most


def _same(value: Value, wanted: str | int | float | bool) -> bool:
    if isinstance(value, bool) or isinstance(wanted, bool):
        return isinstance(value, bool) and isinstance(wanted, bool) and value == wanted
    if isinstance(value, list):
        return False
    return value == wanted


def _number(value: Value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
