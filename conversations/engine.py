"""The pure conversation engine: `advance(flow, state, input, now) -> Outcome`.

No I/O, no clock, no randomness: the host passes `now` in, commits the outcome's state and
records, then shows its effects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from conversations.answers import parse_text
from conversations.events import (
    AlreadyDone,
    Ask,
    Back,
    Begin,
    CheckIn,
    CheckInNudge,
    Completed,
    Done,
    Effect,
    Forget,
    Input,
    NeedHelp,
    Note,
    NothingToGoBack,
    NotText,
    Pause,
    Paused,
    Pick,
    Recap,
    Record,
    Reprompt,
    Resume,
    RiskWords,
    Safe,
    Say,
    Selection,
    Settle,
    Show,
    Skip,
    Stale,
    Text,
    Toggle,
    UrgentHelp,
)
from conversations.model import (
    END,
    Flow,
    FreeTextStep,
    MessageStep,
    MultipleChoiceStep,
    Question,
    ScaleStep,
    SingleChoiceStep,
    YesNoStep,
)
from conversations.routing import Value, next_step, targets

# "checking": words of risk were written; the next question waits until they say they are safe.
Status = Literal["new", "active", "paused", "checking", "completed"]
AWAY = timedelta(hours=12)


class RunState(BaseModel):
    """Where one participant is in one run of a flow; stored as JSON."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    flow_id: str
    flow_version: int
    status: Status = "new"
    current: str | None = None
    history: tuple[str, ...] = ()
    answers: dict[str, Value] = {}
    selected: tuple[str, ...] = ()
    section: str | None = None
    updated_at: datetime | None = None

    @classmethod
    def start(cls, flow: Flow) -> RunState:
        """Return the state of a run that has not begun."""
        return cls(flow_id=flow.id, flow_version=flow.version)

    def path_answers(self) -> dict[str, Value]:
        """Return the answers on the participant's current path (not ones left by /back)."""
        return {step: self.answers[step] for step in self.history if step in self.answers}


@dataclass(frozen=True)
class Outcome:
    """The next state and what should happen, in order."""

    state: RunState
    effects: tuple[Effect, ...]

    def records(self) -> list[Record]:
        """Return the answers to store with this state."""
        return [effect for effect in self.effects if isinstance(effect, Record)]


def advance(flow: Flow, state: RunState, action: Input, now: datetime) -> Outcome:
    """Apply one participant action to a run and return the new state and effects."""
    effects: list[Effect] = []
    new = _apply(flow, state, action, effects, now)
    if new != state:
        new = new.model_copy(update={"updated_at": now})
    return Outcome(new, tuple(effects))


def position(flow: Flow, state: RunState) -> tuple[int, int]:
    """Return (question number, likely total) for the current question."""
    answered = sum(1 for step in state.history if not isinstance(flow.step(step), MessageStep))
    number = answered + 1
    if state.current is None:
        return answered, answered
    return number, answered + _questions_ahead(flow, state, state.current)


def _apply(
    flow: Flow, state: RunState, action: Input, effects: list[Effect], now: datetime
) -> RunState:
    if state.status == "new":
        return _go(flow, state.model_copy(update={"status": "active"}), flow.steps[0].id, effects)
    if isinstance(action, NeedHelp):
        # Urgent help first, whatever else is going on (an older check-in's button, too).
        effects.append(UrgentHelp())
        return state
    outside = isinstance(action, Text) and action.risk and not _takes_text(flow, state)
    if isinstance(action, RiskWords) or outside:
        # Words of risk come first, whatever else was going on; nothing moves on until then.
        effects.append(CheckIn())
        if state.status == "completed" or state.current is None:
            return state
        return state.model_copy(update={"status": "checking"})
    if state.status == "completed":
        if isinstance(action, Pick | Toggle | Done) or _is_button(action):
            effects.append(Stale())
        effects.append(AlreadyDone())
        return state
    if state.status == "checking" and not isinstance(action, Pause):
        return _checking(flow, state, action, effects)
    if isinstance(action, Safe):
        action = Show()
    if isinstance(action, Show) and state.status == "active" and state.current is not None:
        return _ask(flow, state, effects)
    if isinstance(action, Pause):
        if state.status == "checking":
            effects.append(Paused())
            return state.model_copy(update={"status": "paused"})
        if state.status == "active" and state.current is not None:
            effects.append(Settle(state.current, None, "paused"))
        effects.append(Paused())
        return state.model_copy(update={"status": "paused"})
    button = isinstance(action, Pick | Toggle | Done | Skip | Back)
    # Someone back after a long time may not remember the question: show it before taking
    # what they type as its answer.
    away = state.updated_at is not None and now - state.updated_at >= AWAY
    if (
        isinstance(action, Begin | Resume)
        or (state.status == "paused" and not button)
        or (away and isinstance(action, Text | NotText))
    ):
        return _resume(flow, state, effects, now)
    current = state.current
    if current is None or not flow.has_step(current):
        return _go(flow, state, END, effects)
    step = flow.step(current)
    if isinstance(step, MessageStep):
        return _go(flow, state, next_step(flow, step, state.path_answers()), effects)
    state = state.model_copy(update={"status": "active"})
    button_step = getattr(action, "step", None)
    if button_step is not None and button_step != current:
        effects.append(Stale())
        return _ask(flow, state, effects)
    if isinstance(action, Back):
        return _back(flow, state, effects)
    if isinstance(action, Skip):
        if not flow.can_skip(step):
            return _reprompt(flow, state, Reprompt(current, "required"), effects)
        return _answer(flow, state, step, None, effects)
    if isinstance(action, NotText):
        return _reprompt(flow, state, Reprompt(current, "not_text"), effects)
    if isinstance(action, Toggle):
        return _toggle(flow, state, step, action.choice, effects)
    if isinstance(action, Done):
        return _done(flow, state, step, effects)
    if isinstance(action, Pick):
        value = _picked(step, action.choice)
        if value is None:
            effects.append(Stale())
            return _ask(flow, state, effects)
        return _answer(flow, state, step, value, effects)
    assert isinstance(action, Text)
    parsed = parse_text(step, action.text)
    if isinstance(parsed, Reprompt) and action.risk:
        # Words of risk that are no answer (too long, not a number): support comes first, and
        # the question is asked again once they say they are safe.
        effects.append(CheckIn())
        return state.model_copy(update={"status": "checking"})
    if isinstance(parsed, Reprompt):
        return _reprompt(flow, state, parsed, effects)
    if parsed == "done":
        return _done(flow, state, step, effects)
    if action.risk:
        return _answer_then_check_in(flow, state, step, parsed.value, effects)
    return _answer(flow, state, step, parsed.value, effects)


def _checking(flow: Flow, state: RunState, action: Input, effects: list[Effect]) -> RunState:
    """Hold the next question until they say they are safe; nothing else moves on.

    The whole check-in is shown again only when it may not have been seen (coming back, a
    redelivery); anything else typed or sent gets a short reminder of the buttons, so the
    check-in never repeats itself at someone.
    """
    if isinstance(action, Safe):
        active = state.model_copy(update={"status": "active"})
        if active.current is None or not flow.has_step(active.current):
            return _go(flow, active, END, effects)
        return _ask(flow, active, effects)
    if isinstance(action, Show | Resume | Begin):
        effects.append(CheckIn())
    else:
        effects.append(CheckInNudge())
    return state


def _answer_then_check_in(
    flow: Flow, state: RunState, step: Question, value: Value, effects: list[Effect]
) -> RunState:
    """Store the answer, then check in before anything else is asked."""
    held: list[Effect] = []
    state = _answer(flow, state, step, value, held)
    shown = [e for e in held if isinstance(e, Record | Forget | Settle)]
    effects.extend(shown)
    effects.append(CheckIn())
    if state.status == "completed":
        # Nothing left to hold back: say thank you after the check-in.
        effects.extend(e for e in held if e not in shown)
        return state
    return state.model_copy(update={"status": "checking"})


def _takes_text(flow: Flow, state: RunState) -> bool:
    """Say whether typed text now is the answer to a free-text question."""
    if state.status != "active" or state.current is None or not flow.has_step(state.current):
        return False
    return isinstance(flow.step(state.current), FreeTextStep)


def _is_button(action: Input) -> bool:
    return isinstance(action, Skip | Back) and action.step is not None


def _resume(flow: Flow, state: RunState, effects: list[Effect], now: datetime) -> RunState:
    state = state.model_copy(update={"status": "active", "updated_at": now})
    if state.current is None:
        return _go(flow, state, END, effects)
    number, total = position(flow, state)
    effects.append(Recap(number, total))
    return _ask(flow, state, effects)


def _ask(flow: Flow, state: RunState, effects: list[Effect]) -> RunState:
    assert state.current is not None
    number, total = position(flow, state)
    has_previous = state.current in state.answers
    effects.append(
        Ask(
            state.current,
            number,
            total,
            state.selected,
            has_previous,
            state.answers.get(state.current),
        )
    )
    return state


def _reprompt(flow: Flow, state: RunState, reprompt: Reprompt, effects: list[Effect]) -> RunState:
    effects.append(reprompt)
    return _ask(flow, state, effects)


def _answer(
    flow: Flow, state: RunState, step: Question, value: Value, effects: list[Effect]
) -> RunState:
    effects.append(Record(step.id, value))
    effects.append(Settle(step.id, value, "skipped" if value is None else "answered"))
    state = state.model_copy(
        update={
            "answers": {**state.answers, step.id: value},
            "history": (*state.history, step.id),
            "selected": (),
        }
    )
    return _go(flow, state, next_step(flow, step, state.path_answers()), effects)


def _go(flow: Flow, state: RunState, target: str, effects: list[Effect]) -> RunState:
    # Each pass enters a new step; message loops are refused by checks, but stay bounded anyway.
    for _ in range(len(flow.steps) + 1):
        if target == END or not flow.has_step(target):
            return _complete(state, effects)
        step = flow.step(target)
        if step.section != state.section:
            section = flow.section(step.section) if step.section else None
            if section is not None and section.note is not None:
                effects.append(Note(section.id))
            state = state.model_copy(update={"section": step.section})
        if isinstance(step, MessageStep):
            effects.append(Say(step.id))
            state = state.model_copy(update={"history": (*state.history, step.id)})
            target = next_step(flow, step, state.path_answers())
            continue
        state = state.model_copy(update={"current": step.id, "selected": ()})
        return _ask(flow, state, effects)
    return _complete(state, effects)


def _complete(state: RunState, effects: list[Effect]) -> RunState:
    # Answers left on a path the participant went back from are not part of what they said.
    kept = {step: value for step, value in state.answers.items() if step in state.history}
    effects.extend(Forget(step) for step in state.answers if step not in kept)
    effects.append(Completed())
    return state.model_copy(
        update={"status": "completed", "current": None, "answers": kept, "selected": ()}
    )


def _back(flow: Flow, state: RunState, effects: list[Effect]) -> RunState:
    questions = [s for s in state.history if not isinstance(flow.step(s), MessageStep)]
    if not questions:
        effects.append(NothingToGoBack())
        return _ask(flow, state, effects)
    assert state.current is not None
    effects.append(Settle(state.current, None, "back"))
    previous = questions[-1]
    # Drop the previous question and any messages shown after it from the path.
    cut = len(state.history) - 1 - state.history[::-1].index(previous)
    earlier = flow.step(previous)
    remembered = state.answers.get(previous)
    state = state.model_copy(
        update={
            "current": previous,
            "history": state.history[:cut],
            "selected": tuple(remembered) if isinstance(remembered, list) else (),
            "section": earlier.section,
        }
    )
    return _ask(flow, state, effects)


def _toggle(
    flow: Flow, state: RunState, step: Question, choice: str, effects: list[Effect]
) -> RunState:
    if not isinstance(step, MultipleChoiceStep) or choice not in {o.id for o in step.options}:
        effects.append(Stale())
        return _ask(flow, state, effects)
    exclusive = {o.id for o in step.options if o.exclusive}
    if choice in state.selected:
        selected = tuple(s for s in state.selected if s != choice)
    elif choice in exclusive:
        selected = (choice,)
    else:
        kept = [s for s in state.selected if s not in exclusive]
        if step.max_choices is not None and len(kept) >= step.max_choices:
            return _reprompt(flow, state, Reprompt(step.id, "too_many", step.max_choices), effects)
        order = [o.id for o in step.options]
        selected = tuple(sorted((*kept, choice), key=order.index))
    effects.append(Selection(step.id, selected, _asked_before(flow, state)))
    return state.model_copy(update={"selected": selected})


def _asked_before(flow: Flow, state: RunState) -> bool:
    return any(not isinstance(flow.step(s), MessageStep) for s in state.history)


def _done(flow: Flow, state: RunState, step: Question, effects: list[Effect]) -> RunState:
    if not isinstance(step, MultipleChoiceStep):
        effects.append(Stale())
        return _ask(flow, state, effects)
    if not state.selected:
        reprompt = Reprompt(step.id, "choose_or_skip" if flow.can_skip(step) else "choose_one")
        return _reprompt(flow, state, reprompt, effects)
    return _answer(flow, state, step, list(state.selected), effects)


def _picked(step: Question, choice: str) -> Value:
    if isinstance(step, SingleChoiceStep):
        return choice if choice in {o.id for o in step.options} else None
    if isinstance(step, YesNoStep):
        return {"yes": True, "no": False}.get(choice)
    if isinstance(step, ScaleStep) and re.fullmatch(r"-?[0-9]{1,6}", choice):
        point = int(choice)
        return point if step.min <= point <= step.max else None
    return None


def _questions_ahead(flow: Flow, state: RunState, start: str) -> int:
    """Count the questions on the longest way from here to the end.

    Branches not yet decided could go either way; promising the longer one means the count
    can only shrink as someone goes on, never jump up.
    """
    answers = state.path_answers()
    memo: dict[str, int] = {}

    def longest(step_id: str, seen: frozenset[str]) -> int:
        if step_id == END or not flow.has_step(step_id) or step_id in seen:
            return 0
        if step_id in memo:
            return memo[step_id]
        step = flow.step(step_id)
        here = 0 if isinstance(step, MessageStep) else 1
        ways = [next_step(flow, step, answers)] if _settled(step, answers) else targets(flow, step)
        best = here + max(longest(target, seen | {step_id}) for target in ways)
        memo[step_id] = best
        return best

    return longest(start, frozenset())


def _settled(step: MessageStep | Question, answers: dict[str, Value]) -> bool:
    """Say whether every condition on the way out of a step looks only at known answers."""
    rules = step.next if isinstance(step.next, list) else []
    return all(c.step in answers for rule in rules for c in rule.when)
