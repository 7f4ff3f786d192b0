"""Property tests: generated valid flows, and random participants who do anything at all."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conversations.buttons import button_input
from conversations.callbacks import AgeButton, ConsentButton, QuestionButton, decode
from conversations.checks import check_flow
from conversations.engine import RunState, advance
from conversations.events import (
    Back,
    Begin,
    Done,
    Input,
    NeedHelp,
    NotText,
    Pause,
    Pick,
    Record,
    Resume,
    Safe,
    Show,
    Skip,
    Stale,
    Text,
    Toggle,
)
from conversations.loader import load_flow_text
from conversations.model import (
    Flow,
    MessageStep,
    MultipleChoiceStep,
    NumberStep,
    Question,
    ScaleStep,
    SingleChoiceStep,
    YesNoStep,
)
from conversations.render import (
    Keyboard,
    Outgoing,
    PromptButtons,
    Renderer,
    Send,
    consent_question,
    intro,
)
from tests.conversations.conftest import NOW

# Deterministic: the same examples on every run and machine, and no example database.
PROPERTY = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# st.DrawFn, or the draw method of st.data(), which mypy does not see as one.
Draw = Callable[..., Any]
KINDS = ["message", "free_text", "single_choice", "multiple_choice", "scale", "yes_no", "number"]
STATUSES = {"new", "active", "paused", "checking", "completed"}
# Ids YAML 1.1 would read as booleans, numbers or null must stay text.
TRICKY_IDS = ["yes", "no", "on", "off", "y", "n", "true", "null", "1", "0", "end"]

IDS = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,10}", fullmatch=True) | st.sampled_from(TRICKY_IDS)
STEP_IDS = IDS.filter(lambda step_id: step_id != "end")
WORDS = st.text(
    st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"]), min_size=1, max_size=30
)
NUMBERS = st.integers(-1000, 1000) | st.floats(-1e6, 1e6, allow_nan=False).map(
    lambda x: round(x, 2)
)
HUGE_TEXTS = st.sampled_from(
    ["x" * 5000, "9" * 400, "9" * 5000, "🙂" * 3000, "1 " * 2000, "\n" * 100, "፩", "--3"]
)


@st.composite
def flow_data(draw: st.DrawFn) -> dict[str, Any]:
    """Draw the data of a valid flow: every kind, sections, languages and branching rules."""
    languages = draw(st.sampled_from([["en"], ["en", "cy"]]))

    def text() -> str | dict[str, str]:
        if len(languages) == 1:
            return draw(WORDS)
        return {language: draw(WORDS) for language in languages}

    section_ids = draw(st.lists(STEP_IDS, max_size=2, unique=True))
    sections = [
        {"id": section_id, "title": text(), **({"note": text()} if draw(st.booleans()) else {})}
        for section_id in section_ids
    ]
    ids = draw(st.lists(STEP_IDS, min_size=1, max_size=8, unique=True))
    steps = [draw_step(draw, step_id, text, section_ids) for step_id in ids]
    for i, step in enumerate(steps):
        rules = draw_next(draw, i, steps)
        if rules is not None:
            step["next"] = rules
    return {
        "id": draw(STEP_IDS),
        "version": draw(st.integers(1, 99_999)),
        "title": text(),
        "languages": languages,
        "allow_skip": draw(st.booleans()),
        "intro": {"who": text(), "duration": text(), "data_use": text(), "support": text()},
        "consent": {"version": draw(st.integers(1, 99)), "text": text()},
        "sections": sections,
        "steps": steps,
        "end": text(),
    }


def draw_step(draw: st.DrawFn, step_id: str, text: Any, section_ids: list[str]) -> dict[str, Any]:
    kind = draw(st.sampled_from(KINDS))
    step: dict[str, Any] = {"id": step_id, "kind": kind, "text": text()}
    if draw(st.booleans()) and section_ids:
        step["section"] = draw(st.sampled_from(section_ids))
    if kind != "message" and draw(st.booleans()):
        step["required"] = draw(st.booleans())
    if kind in ("single_choice", "multiple_choice"):
        option_ids = draw(st.lists(IDS, min_size=2, max_size=5, unique=True))
        step["options"] = [{"id": option, "label": text()} for option in option_ids]
        if kind == "multiple_choice" and draw(st.booleans()):
            step["max_choices"] = draw(st.integers(1, len(option_ids)))
    elif kind == "scale":
        low = draw(st.integers(-3, 3))
        step.update(
            min=low, max=low + draw(st.integers(1, 10)), min_label=text(), max_label=text()
        )
    elif kind == "number":
        bounds = sorted(draw(st.lists(NUMBERS, min_size=2, max_size=2)))
        if draw(st.booleans()):
            step["min"] = bounds[0]
        if draw(st.booleans()):
            step["max"] = bounds[1]
        # A whole-number question needs a whole number between its bounds (checks insist).
        room = "min" not in step or "max" not in step or math.ceil(bounds[0]) <= bounds[1]
        step["whole"] = draw(st.booleans()) if room else False
    elif kind == "free_text":
        step["max_length"] = draw(st.integers(1, 60) | st.just(4000))
    return step


def draw_next(draw: st.DrawFn, i: int, steps: list[dict[str, Any]]) -> Any:
    """Draw where step i goes: forward rules on earlier answers, and sometimes a loop back."""
    ids = [step["id"] for step in steps]
    default = ids[i + 1] if i + 1 < len(ids) else "end"
    questions = [step for step in steps[: i + 1] if step["kind"] != "message"]
    choice = draw(st.sampled_from(["none", "explicit", "rules"] if questions else ["none"]))
    if choice == "none":
        return None
    if choice == "explicit":
        return default
    forward = st.sampled_from([*ids[i + 1 :], "end"])
    rules: list[dict[str, Any]] = [
        {
            "when": draw(
                st.lists(st.sampled_from(questions).flatmap(conditions), min_size=1, max_size=2)
            ),
            "goto": draw(forward),
        }
        for _ in range(draw(st.integers(1, 3)))
    ]
    step = steps[i]
    if step["kind"] != "message" and draw(st.booleans()):
        # A loop back with a way out: only when this question's own answer says so.
        rules.insert(
            0, {"when": [draw(conditions(step))], "goto": draw(st.sampled_from(ids[: i + 1]))}
        )
    if draw(st.booleans()):
        rules.append({"goto": default})  # an explicit "otherwise"
    return rules


def conditions(step: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Return conditions that make sense for this question."""
    on = step["id"]
    skipped = st.builds(lambda b: {"step": on, "skipped": b}, st.booleans())
    kind = step["kind"]
    if kind in ("single_choice", "multiple_choice"):
        option_ids = [option["id"] for option in step["options"]]
        one = st.sampled_from(option_ids)
        if kind == "multiple_choice":
            return skipped | one.map(lambda o: {"step": on, "includes": o})
        return (
            skipped
            | one.map(lambda o: {"step": on, "equals": o})
            | st.lists(one, min_size=1, unique=True).map(lambda os: {"step": on, "any_of": os})
        )
    if kind == "yes_no":
        return skipped | st.booleans().map(lambda b: {"step": on, "equals": b})
    if kind == "scale":
        point = st.integers(step["min"], step["max"])
        return (
            skipped
            | point.map(lambda p: {"step": on, "equals": p})
            | st.lists(point, min_size=1).map(lambda ps: {"step": on, "any_of": ps})
            | point.map(lambda p: {"step": on, "at_least": p})
            | point.map(lambda p: {"step": on, "at_most": p})
        )
    if kind == "number":
        return (
            skipped
            | NUMBERS.map(lambda n: {"step": on, "at_least": n})
            | NUMBERS.map(lambda n: {"step": on, "at_most": n})
            | st.integers(-5, 5).map(lambda n: {"step": on, "equals": n})
        )
    return skipped | WORDS.map(lambda w: {"step": on, "equals": w})


def load(data: dict[str, Any]) -> Flow:
    """Write the data as a YAML file and load it, as `heard check` would."""
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    return load_flow_text(text, "generated.yaml").flow


@PROPERTY
@given(flow_data())
def test_property_generated_flows_pass_every_check(data: dict[str, Any]) -> None:
    flow = load(data)

    assert check_flow(flow, "generated.yaml", {}, {}) == []
    assert [step.id for step in flow.steps] == [step["id"] for step in data["steps"]]
    assert flow.model_dump(mode="json", exclude_unset=True)["steps"] == data["steps"]


def answer(step: Question, selected: tuple[str, ...]) -> st.SearchStrategy[Input]:
    """Return inputs that answer this question (or, for multiple choice, move towards it)."""
    if isinstance(step, SingleChoiceStep):
        ids = st.sampled_from([option.id for option in step.options])
        return st.builds(Pick, st.just(step.id), ids)
    if isinstance(step, MultipleChoiceStep):
        toggles = st.builds(
            Toggle, st.just(step.id), st.sampled_from([o.id for o in step.options])
        )
        return st.just(Done(step.id)) | toggles if selected else toggles
    if isinstance(step, YesNoStep):
        return st.builds(Pick, st.just(step.id), st.sampled_from(["yes", "no"]))
    if isinstance(step, ScaleStep):
        points = st.integers(step.min, step.max).map(str)
        return st.builds(Pick, st.just(step.id), points)
    if isinstance(step, NumberStep):
        low = step.min if step.min is not None else (step.max or 0.0) - 100
        high = step.max if step.max is not None else low + 200
        if step.whole:
            numbers = st.integers(math.ceil(low), max(math.floor(high), math.ceil(low)))
            return st.builds(Text, numbers.map(str))
        return st.builds(Text, st.floats(low, high).map(lambda x: f"{x:.6f}"))
    return st.builds(Text, WORDS)


def answer_like(draw: Draw, flow: Flow, state: RunState) -> Input:
    """Draw an input aimed at the question on screen: mostly an answer, sometimes nearly."""
    step = flow.step(state.current) if state.current and flow.has_step(state.current) else None
    if step is None or isinstance(step, MessageStep):
        return Begin()
    choices: list[str] = ["yes", "no", "x", "", "--3", "፩", "9" * 40]
    if isinstance(step, SingleChoiceStep | MultipleChoiceStep):
        choices += [option.id for option in step.options]
    if isinstance(step, ScaleStep):
        choices += [str(point) for point in range(step.min - 1, step.max + 2)]
    texts = st.sampled_from(["1", "2", "1, 2", "1 3", "done", "yes", "no", "3", "-1", "2.5"])
    nearly = st.one_of(
        st.builds(Pick, st.just(step.id), st.sampled_from(choices)),
        st.builds(Toggle, st.just(step.id), st.sampled_from(choices)),
        st.just(Done(step.id)),
        st.just(Skip(step.id)),
        st.just(Back(step.id)),
        st.builds(Text, texts | WORDS | NUMBERS.map(str) | HUGE_TEXTS),
    )
    action: Input = draw(answer(step, state.selected) | nearly)
    return action


def anything(draw: Draw, flow: Flow) -> Input:
    """Draw any input at all: random steps, choices and texts, huge ones and emoji included."""
    steps = st.sampled_from([step.id for step in flow.steps]) | STEP_IDS
    choices = IDS | WORDS | st.integers(-20, 20).map(str) | HUGE_TEXTS
    action: Input = draw(
        st.one_of(
            st.sampled_from(
                [Begin(), Resume(), Pause(), Skip(), Back(), Show(), Safe(), NeedHelp()]
            ),
            st.builds(NotText, st.sampled_from(["photo", "voice", "sticker", "location"])),
            st.builds(Text, st.text() | WORDS | HUGE_TEXTS, st.booleans()),
            st.builds(Pick, steps, choices),
            st.builds(Toggle, steps, choices),
            st.builds(Done, steps),
            st.builds(Skip, steps),
            st.builds(Back, steps),
        )
    )
    return action


def buttons(keyboard: Keyboard) -> list[str]:
    return [button.data for row in keyboard for button in row]


def check_state(flow: Flow, state: RunState) -> None:
    """Assert what must hold of any state the engine returns."""
    assert state.status in STATUSES
    assert (state.flow_id, state.flow_version) == (flow.id, flow.version)
    if state.status in ("active", "paused", "checking"):
        assert state.current is not None
        assert flow.has_step(state.current)
        assert not isinstance(flow.step(state.current), MessageStep)
    if state.status in ("new", "completed"):
        assert state.current is None
    assert all(flow.has_step(step) for step in state.history)
    assert all(not isinstance(flow.step(step), MessageStep) for step in state.answers)
    if state.selected:
        current = flow.step(state.current or "")
        assert isinstance(current, MultipleChoiceStep)
        assert set(state.selected) <= {option.id for option in current.options}
    assert RunState.model_validate_json(state.model_dump_json()) == state


def check_buttons(outgoing: Sequence[Outgoing], run_id: int, flow: Flow) -> list[QuestionButton]:
    """Assert every button fits in 64 bytes and decodes to this run of this flow version."""
    found = []
    for out in outgoing:
        keyboard = out.keyboard if isinstance(out, Send | PromptButtons) else ()
        for data in buttons(keyboard):
            assert len(data.encode()) <= 64
            button = decode(data)
            if isinstance(button, ConsentButton | AgeButton):
                assert (button.flow, button.version) == (flow.id, flow.version)
            else:
                assert isinstance(button, QuestionButton)
                assert (button.run, button.version) == (run_id, flow.version)
                assert 0 <= button.step < len(flow.steps)
                found.append(button)
    return found


# When this fails, shrinking its long input sequences can take minutes: more than the suite's
# 120 s, which would cut the report off. The passing run takes a few seconds.
@pytest.mark.timeout(600)
@PROPERTY
@given(flow_data(), st.data())
def test_property_advance_survives_any_participant(
    spec: dict[str, Any], data: st.DataObject
) -> None:
    flow = load(spec)
    run_id = data.draw(st.integers(1, 10**12 - 1), label="run id")
    language = data.draw(st.sampled_from([*flow.languages, "xx"]), label="language")
    renderer = Renderer(flow, language, run_id)
    check_buttons([*intro(flow, language, 18), consent_question(flow, language)], run_id, flow)
    state = RunState.start(flow)
    now = NOW
    for _ in range(data.draw(st.integers(3, 40), label="number of inputs")):
        if data.draw(st.integers(0, 3), label="aim") > 0:  # mostly aimed at the question
            action = answer_like(data.draw, flow, state)
        else:
            action = anything(data.draw, flow)
        now += timedelta(minutes=1)

        outcome = advance(flow, state, action, now)

        check_state(flow, outcome.state)
        assert outcome.state == state or outcome.state.updated_at == now
        records = outcome.records()
        assert all(isinstance(effect, Record) for effect in outcome.effects[: len(records)])
        for record in records:
            assert not isinstance(flow.step(record.step), MessageStep)
            assert outcome.state.answers[record.step] == record.value
        shown = check_buttons(renderer.render(outcome.effects), run_id, flow)
        for button in shown:
            # Every button on screen means something to the engine now: none is stale.
            pressed = button_input(flow, button)
            assert pressed is not None, button
            assert Stale() not in advance(flow, outcome.state, pressed, now).effects, button
        state = outcome.state
    event(f"ended {state.status}, {len(state.answers)} answered")


@PROPERTY
@given(st.text() | HUGE_TEXTS | st.binary().map(lambda b: b.decode("latin-1")))
def test_property_decode_never_raises(data: str) -> None:
    button = decode(data)

    assert button is None or isinstance(button, QuestionButton | ConsentButton)
