"""The pure engine: what each participant action does to a run, with time pinned."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conversations.engine import AWAY, Outcome, RunState, advance, position
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
from conversations.model import Flow
from tests.conversations.conftest import HEADER, NOW, flow_of

LATER = NOW + timedelta(hours=1)

# Answers that walk the sample flow down its "used the service" branch to its last question.
TO_AGE: list[Input] = [
    Begin(),
    Pick("used", "yes"),
    Pick("rating", "4"),
    Toggle("liked", "staff"),
    Done("liked"),
    Pick("contact", "phone"),
    Text("Shorter waits"),
]


def run(flow: Flow, actions: list[Input]) -> RunState:
    """Return the state after these actions, each a minute after the last."""
    state = RunState.start(flow)
    for minute, action in enumerate(actions):
        state = advance(flow, state, action, NOW + timedelta(minutes=minute)).state
    return state


def outcomes(flow: Flow, actions: list[Input]) -> list[Outcome]:
    """Return the outcome of each action in turn."""
    state = RunState.start(flow)
    found = []
    for action in actions:
        outcome = advance(flow, state, action, NOW)
        found.append(outcome)
        state = outcome.state
    return found


def asks(flow: Flow, actions: list[Input]) -> list[tuple[str, int, int]]:
    """Return (step, number, total) for every question asked along the way."""
    return [
        (effect.step, effect.number, effect.total)
        for outcome in outcomes(flow, actions)
        for effect in outcome.effects
        if isinstance(effect, Ask)
    ]


def test_advance_begin_shows_the_message_then_asks_the_first_question(sample: Flow) -> None:
    outcome = advance(sample, RunState.start(sample), Begin(), NOW)

    assert outcome.effects == (Say("welcome"), Ask("used", 1, 6))
    assert outcome.state == RunState(
        flow_id="sample",
        flow_version=1,
        status="active",
        current="used",
        history=("welcome",),
        updated_at=NOW,
    )
    assert outcome.records() == []


def test_advance_records_an_answer_before_showing_anything(sample: Flow) -> None:
    state = run(sample, [Begin()])

    outcome = advance(sample, state, Pick("used", "yes"), LATER)

    assert outcome.effects == (
        Record("used", True),
        Settle("used", True, "answered"),
        Ask("rating", 2, 6),
    )
    assert outcome.records() == [Record("used", True)]
    assert outcome.state.answers == {"used": True}
    assert outcome.state.history == ("welcome", "used")


def test_advance_records_come_first_in_every_outcome_of_a_whole_run(sample: Flow) -> None:
    for outcome in outcomes(sample, [*TO_AGE, Text("34")]):
        kinds = [type(effect) for effect in outcome.effects]
        if Record in kinds:
            assert kinds.index(Record) == 0
            assert kinds.count(Record) == 1


@pytest.mark.parametrize(("answer", "then"), [("yes", "rating"), ("no", "why_not")])
def test_advance_branches_on_the_answer(sample: Flow, answer: str, then: str) -> None:
    state = run(sample, [Begin(), Pick("used", answer)])

    assert state.current == then


def test_advance_rejoins_after_a_branch(sample: Flow) -> None:
    state = run(sample, [Begin(), Text("no"), Text("Too far away")])

    assert state.current == "change"
    assert state.history == ("welcome", "used", "why_not")
    assert state.answers == {"used": False, "why_not": "Too far away"}


def test_advance_skip_of_an_optional_question_records_none(sample: Flow) -> None:
    state = run(sample, [Begin()])

    outcome = advance(sample, state, Skip("used"), LATER)

    assert outcome.effects[:2] == (Record("used", None), Settle("used", None, "skipped"))
    assert outcome.state.answers == {"used": None}
    assert outcome.state.current == "rating"


def test_advance_skip_command_skips_the_current_question(sample: Flow) -> None:
    state = run(sample, [Begin(), Skip()])

    assert state.current == "rating"
    assert state.answers == {"used": None}


def test_advance_skip_of_a_required_question_asks_again(sample: Flow) -> None:
    state = run(sample, TO_AGE[:-1])
    assert state.current == "change"

    outcome = advance(sample, state, Skip(), LATER)

    assert outcome.effects == (Reprompt("change", "required"), Ask("change", 5, 6))
    assert outcome.state == state


def test_advance_skip_when_the_flow_forbids_skipping_asks_again() -> None:
    flow = flow_of(
        "- {id: q, kind: yes_no, text: Q}\n- {id: r, kind: yes_no, text: R}\n",
        header="allow_skip: false\n" + HEADER,
    )
    state = run(flow, [Begin()])

    outcome = advance(flow, state, Skip("q"), LATER)

    assert outcome.effects == (Reprompt("q", "required"), Ask("q", 1, 2))
    assert outcome.state == state


def test_advance_back_asks_the_previous_question_with_its_answer(sample: Flow) -> None:
    state = run(sample, [Begin(), Pick("used", "yes"), Pick("rating", "4")])
    assert state.current == "liked"

    outcome = advance(sample, state, Back("liked"), LATER)

    assert outcome.effects == (
        Settle("liked", None, "back"),
        Ask("rating", 2, 6, (), has_previous=True, previous=4),
    )
    assert outcome.state.current == "rating"
    assert outcome.state.history == ("welcome", "used")
    assert outcome.state.answers == {"used": True, "rating": 4}


def test_advance_back_restores_a_multiple_choice_selection(sample: Flow) -> None:
    actions = [*TO_AGE[:3], Toggle("liked", "place"), Toggle("liked", "staff"), Done("liked")]
    state = run(sample, actions)
    assert state.current == "contact"

    outcome = advance(sample, state, Back(), LATER)

    selected = ("staff", "place")
    assert outcome.effects[-1] == Ask("liked", 3, 6, selected, True, ["staff", "place"])
    assert outcome.state.selected == selected
    again = advance(sample, outcome.state, Done("liked"), LATER)
    assert again.records() == [Record("liked", ["staff", "place"])]


def test_advance_back_over_a_branch_forgets_the_old_path(sample: Flow) -> None:
    state = run(sample, [Begin(), Text("no"), Back(), Text("yes")])

    assert state.current == "rating"
    assert state.history == ("welcome", "used")
    assert state.path_answers() == {"used": True}
    assert position(sample, state) == (2, 6)


def test_advance_back_on_the_first_question_has_nothing_to_go_back_to(sample: Flow) -> None:
    state = run(sample, [Begin()])

    outcome = advance(sample, state, Back(), LATER)

    assert outcome.effects == (NothingToGoBack(), Ask("used", 1, 6))
    assert outcome.state == state


def test_advance_back_then_forward_shows_the_section_note_again(sample: Flow) -> None:
    state = run(sample, TO_AGE)
    assert (state.current, state.section) == ("age", "about")

    back = advance(sample, state, Back(), LATER)
    assert back.state.section is None
    forward = advance(sample, back.state, Text("Nothing"), LATER)

    assert forward.effects[2:] == (Note("about"), Ask("age", 6, 6))


def test_advance_pause_then_text_resumes_without_taking_it_as_an_answer(sample: Flow) -> None:
    state = run(sample, [Begin(), Pick("used", "yes")])

    paused = advance(sample, state, Pause(), LATER)
    resumed = advance(sample, paused.state, Text("4"), LATER)

    assert paused.effects == (Settle("rating", None, "paused"), Paused())
    assert paused.state.status == "paused"
    assert resumed.effects == (Recap(2, 6), Ask("rating", 2, 6))
    assert resumed.state.status == "active"
    assert resumed.state.answers == {"used": True}


@pytest.mark.parametrize("action", [Resume(), Begin(), NotText("sticker")])
def test_advance_any_message_resumes_a_paused_run(sample: Flow, action: Input) -> None:
    state = run(sample, [Begin(), Pause()])

    outcome = advance(sample, state, action, LATER)

    assert outcome.effects == (Recap(1, 6), Ask("used", 1, 6))
    assert outcome.state.status == "active"


def test_advance_a_button_while_paused_answers_it(sample: Flow) -> None:
    state = run(sample, [Begin(), Pause()])

    outcome = advance(sample, state, Pick("used", "no"), LATER)

    assert outcome.records() == [Record("used", False)]
    assert outcome.state.status == "active"
    assert outcome.state.current == "why_not"


def test_advance_pause_twice_changes_nothing_the_second_time(sample: Flow) -> None:
    state = run(sample, [Begin(), Pause()])

    outcome = advance(sample, state, Pause(), LATER)

    assert outcome.effects == (Paused(),)
    assert outcome.state == state


@pytest.mark.parametrize(
    "action",
    [
        Pick("used", "yes"),
        Toggle("liked", "staff"),
        Done("liked"),
        Skip("used"),
        Back("used"),
        Pick("nowhere", "x"),
    ],
)
def test_advance_a_button_for_another_step_is_stale(sample: Flow, action: Input) -> None:
    state = run(sample, [Begin(), Pick("used", "yes")])
    assert state.current == "rating"

    outcome = advance(sample, state, action, LATER)

    assert outcome.effects == (Stale(), Ask("rating", 2, 6))
    assert outcome.state == state


@pytest.mark.parametrize(
    "action",
    [Pick("rating", "0"), Pick("rating", "6"), Pick("rating", "x"), Toggle("rating", "3")],
)
def test_advance_a_button_that_does_not_fit_the_question_is_stale(
    sample: Flow, action: Input
) -> None:
    state = run(sample, [Begin(), Pick("used", "yes")])

    outcome = advance(sample, state, action, LATER)

    assert outcome.effects == (Stale(), Ask("rating", 2, 6))
    assert outcome.state == state


def test_advance_toggle_keeps_the_selection_in_option_order(sample: Flow) -> None:
    state = run(sample, TO_AGE[:3])
    effects: list[Effect] = []
    for choice in ["place", "staff", "speed", "place"]:
        outcome = advance(sample, state, Toggle("liked", choice), LATER)
        effects.extend(outcome.effects)
        state = outcome.state

    assert effects == [
        Selection("liked", ("place",)),
        Selection("liked", ("staff", "place")),
        Selection("liked", ("staff", "speed", "place")),
        Selection("liked", ("staff", "speed")),
    ]
    assert state.selected == ("staff", "speed")
    assert state.answers == {"used": True, "rating": 4}


def test_advance_done_records_the_selection(sample: Flow) -> None:
    state = run(sample, [*TO_AGE[:3], Toggle("liked", "speed")])

    outcome = advance(sample, state, Done("liked"), LATER)

    assert outcome.records() == [Record("liked", ["speed"])]
    assert outcome.state.selected == ()


def test_advance_typed_done_records_the_selection(sample: Flow) -> None:
    state = run(sample, [*TO_AGE[:3], Toggle("liked", "speed")])

    outcome = advance(sample, state, Text("Done"), LATER)

    assert outcome.records() == [Record("liked", ["speed"])]


def test_advance_typed_choices_replace_the_selection(sample: Flow) -> None:
    state = run(sample, [*TO_AGE[:3], Toggle("liked", "speed")])

    outcome = advance(sample, state, Text("1, 3"), LATER)

    assert outcome.records() == [Record("liked", ["staff", "place"])]


def test_advance_done_with_nothing_chosen_asks_to_choose_or_skip(sample: Flow) -> None:
    state = run(sample, TO_AGE[:3])

    outcome = advance(sample, state, Done("liked"), LATER)

    assert outcome.effects == (Reprompt("liked", "choose_or_skip"), Ask("liked", 3, 6))
    assert outcome.state == state


def test_advance_done_on_a_required_question_asks_to_choose_one() -> None:
    flow = flow_of(
        """\
        - id: liked
          kind: multiple_choice
          text: Pick
          required: true
          max_choices: 2
          options: [{id: a, label: A}, {id: b, label: B}, {id: c, label: C}]
        """
    )
    state = run(flow, [Begin()])

    outcome = advance(flow, state, Done("liked"), LATER)

    assert outcome.effects == (Reprompt("liked", "choose_one"), Ask("liked", 1, 1))


def test_advance_toggle_past_max_choices_is_too_many() -> None:
    flow = flow_of(
        """\
        - id: liked
          kind: multiple_choice
          text: Pick
          max_choices: 2
          options: [{id: a, label: A}, {id: b, label: B}, {id: c, label: C}]
        """
    )
    state = run(flow, [Begin(), Toggle("liked", "a"), Toggle("liked", "c")])

    outcome = advance(flow, state, Toggle("liked", "b"), LATER)

    assert outcome.effects == (
        Reprompt("liked", "too_many", 2),
        Ask("liked", 1, 1, ("a", "c")),
    )
    assert outcome.state == state
    untick = advance(flow, state, Toggle("liked", "a"), LATER)
    assert untick.effects == (Selection("liked", ("c",), can_go_back=False),)


def test_advance_something_not_text_asks_again(sample: Flow) -> None:
    state = run(sample, [Begin()])

    outcome = advance(sample, state, NotText("voice"), LATER)

    assert outcome.effects == (Reprompt("used", "not_text"), Ask("used", 1, 6))
    assert outcome.state == state


def test_advance_text_that_is_not_an_answer_asks_again(sample: Flow) -> None:
    state = run(sample, [Begin(), Pick("used", "yes")])

    outcome = advance(sample, state, Text("brilliant"), LATER)

    assert outcome.effects == (Reprompt("rating", "out_of_range", 5, 1), Ask("rating", 2, 6))
    assert outcome.state == state


def test_advance_last_answer_completes_the_run(sample: Flow) -> None:
    state = run(sample, TO_AGE)

    outcome = advance(sample, state, Text("34"), LATER)

    assert outcome.effects == (
        Record("age", 34),
        Settle("age", 34, "answered"),
        Completed(),
    )
    assert outcome.state.status == "completed"
    assert outcome.state.current is None
    assert outcome.state.updated_at == LATER


@pytest.mark.parametrize(
    ("action", "effects"),
    [
        (Text("hello"), (AlreadyDone(),)),
        (Resume(), (AlreadyDone(),)),
        (Begin(), (AlreadyDone(),)),
        (Pause(), (AlreadyDone(),)),
        (Skip(), (AlreadyDone(),)),
        (NotText("photo"), (AlreadyDone(),)),
        (Pick("age", "1"), (Stale(), AlreadyDone())),
        (Toggle("liked", "staff"), (Stale(), AlreadyDone())),
        (Done("liked"), (Stale(), AlreadyDone())),
        (Skip("age"), (Stale(), AlreadyDone())),
        (Back("age"), (Stale(), AlreadyDone())),
    ],
)
def test_advance_after_completion_is_already_done(
    sample: Flow, action: Input, effects: tuple[object, ...]
) -> None:
    state = run(sample, [*TO_AGE, Text("34")])

    outcome = advance(sample, state, action, LATER)

    assert outcome.effects == effects
    assert outcome.state == state


def test_advance_sets_updated_at_only_when_the_state_changes(sample: Flow) -> None:
    state = advance(sample, RunState.start(sample), Begin(), NOW).state
    assert state.updated_at == NOW

    unchanged: list[Input] = [
        NotText("photo"),
        Text("maybe"),
        Pick("rating", "3"),
        Back(),
    ]
    for action in unchanged:
        outcome = advance(sample, state, action, LATER)
        assert outcome.state == state, action
        assert outcome.state.updated_at == NOW, action

    assert advance(sample, state, Pause(), LATER).state.updated_at == LATER
    assert advance(sample, state, Text("yes"), LATER).state.updated_at == LATER
    # Coming back counts as being here: the time of the recap is kept.
    assert advance(sample, state, Resume(), LATER).state.updated_at == LATER


def test_advance_text_after_a_long_time_away_shows_the_question_first(sample: Flow) -> None:
    state = advance(sample, RunState.start(sample), Begin(), NOW).state
    days_later = NOW + AWAY

    outcome = advance(sample, state, Text("yes"), days_later)

    assert outcome.records() == []
    assert isinstance(outcome.effects[0], Recap)
    assert outcome.effects[-1] == Ask("used", 1, 6)
    assert outcome.state.updated_at == days_later
    # Now they have seen it again, their next message is the answer.
    answered = advance(sample, outcome.state, Text("yes"), days_later)
    assert answered.records() == [Record("used", True)]


def test_advance_buttons_after_a_long_time_away_still_answer(sample: Flow) -> None:
    state = advance(sample, RunState.start(sample), Begin(), NOW).state

    outcome = advance(sample, state, Pick("used", "yes"), NOW + AWAY)

    assert outcome.records() == [Record("used", True)]


def test_run_state_json_round_trips_along_a_run(sample: Flow) -> None:
    actions = [*TO_AGE[:4], Pause(), Resume(), Done("liked"), Back(), Text("1 2"), Text("2")]
    floats = flow_of("- {id: hours, kind: number, text: Hours, whole: false}\n")
    states = [o.state for o in outcomes(sample, actions)]
    states += [o.state for o in outcomes(floats, [Begin(), Text("2.5")])]
    assert states[-1].answers == {"hours": 2.5}

    for state in states:
        assert RunState.model_validate_json(state.model_dump_json()) == state


def test_run_state_json_keeps_answer_types(sample: Flow) -> None:
    state = RunState(
        flow_id="x",
        flow_version=1,
        answers={"b": True, "i": 1, "f": 1.5, "s": "1", "l": ["a"], "n": None, "no": False},
        updated_at=NOW,
    )

    again = RunState.model_validate_json(state.model_dump_json())

    assert {k: (type(v), v) for k, v in again.answers.items()} == {
        k: (type(v), v) for k, v in state.answers.items()
    }


def test_advance_progress_along_the_used_path(sample: Flow) -> None:
    assert asks(sample, [*TO_AGE, Text("34")]) == [
        ("used", 1, 6),
        ("rating", 2, 6),
        ("liked", 3, 6),
        ("contact", 4, 6),
        ("change", 5, 6),
        ("age", 6, 6),
    ]


def test_advance_progress_along_the_not_used_path(sample: Flow) -> None:
    actions: list[Input] = [Begin(), Text("no"), Text("Too far"), Text("Buses"), Text("40")]

    assert asks(sample, actions) == [
        ("used", 1, 6),
        ("why_not", 2, 4),
        ("change", 3, 4),
        ("age", 4, 4),
    ]


def test_advance_shows_a_section_note_once_before_its_first_question() -> None:
    flow = flow_of(
        """\
        - {id: a, kind: yes_no, text: A}
        - {id: b, kind: yes_no, text: B, section: private}
        - {id: c, kind: yes_no, text: C, section: private}
        - {id: d, kind: yes_no, text: D}
        """,
        header=HEADER + "sections: [{id: private, title: Private, note: Take care.}]\n",
    )
    notes = [
        effect
        for outcome in outcomes(flow, [Begin(), Text("yes"), Text("yes"), Text("yes")])
        for effect in outcome.effects
        if isinstance(effect, Note)
    ]

    assert notes == [Note("private")]


def test_advance_a_loop_with_a_way_out_asks_again_and_counts_on() -> None:
    flow = flow_of(
        """\
        - {id: story, kind: free_text, text: Tell us}
        - id: more
          kind: yes_no
          text: Another?
          next: [{when: [{step: more, equals: true}], goto: story}]
        """
    )
    actions: list[Input] = [Begin(), Text("one"), Text("yes"), Text("two"), Text("no")]

    # A loop has no longest way: the count allows one more time round from where they are.
    assert asks(flow, actions) == [
        ("story", 1, 2),
        ("more", 2, 3),
        ("story", 3, 4),
        ("more", 4, 5),
    ]
    state = run(flow, actions)
    assert state.status == "completed"
    assert state.history == ("story", "more", "story", "more")
    assert state.answers == {"story": "two", "more": False}


def test_advance_messages_between_questions_are_said_in_order() -> None:
    flow = flow_of(
        """\
        - {id: q, kind: yes_no, text: Q}
        - {id: m1, kind: message, text: One}
        - {id: m2, kind: message, text: Two}
        - {id: r, kind: yes_no, text: R}
        """
    )

    outcome = advance(flow, run(flow, [Begin()]), Text("yes"), LATER)

    assert outcome.effects[2:] == (Say("m1"), Say("m2"), Ask("r", 2, 2))
    assert outcome.state.history == ("q", "m1", "m2")


def test_advance_ends_when_the_last_step_is_a_message() -> None:
    flow = flow_of("- {id: q, kind: yes_no, text: Q}\n- {id: bye, kind: message, text: Bye}\n")

    outcome = advance(flow, run(flow, [Begin()]), Text("no"), LATER)

    assert outcome.effects[2:] == (Say("bye"), Completed())
    assert outcome.state.status == "completed"


def test_advance_is_deterministic(sample: Flow) -> None:
    actions = [*TO_AGE, Back(), Text("Again"), Text("50")]

    assert outcomes(sample, actions) == outcomes(sample, actions)


def test_advance_show_asks_the_current_question_again(sample: Flow) -> None:
    state = run(sample, [*TO_AGE[:3], Toggle("liked", "staff")])
    assert state.current == "liked"

    outcome = advance(sample, state, Show(), LATER)

    assert outcome.effects == (Ask("liked", 3, 6, ("staff",)),)
    assert outcome.state == state


@pytest.mark.parametrize(
    ("before", "effects"),
    [
        ([], (Say("welcome"), Ask("used", 1, 6))),
        ([Begin(), Pause()], (Recap(1, 6), Ask("used", 1, 6))),
        ([*TO_AGE, Text("34")], (AlreadyDone(),)),
    ],
    ids=["new", "paused", "completed"],
)
def test_advance_show_outside_an_active_run(
    sample: Flow, before: list[Input], effects: tuple[object, ...]
) -> None:
    outcome = advance(sample, run(sample, before), Show(), LATER)

    assert outcome.effects == effects


EXCLUSIVE = """\
- id: role
  kind: multiple_choice
  text: Which?
  options:
    - {id: a, label: A}
    - {id: b, label: B}
    - {id: none, label: Prefer not to say, exclusive: true}
"""


def test_advance_exclusive_option_clears_the_others_and_is_cleared_by_them() -> None:
    flow = flow_of(EXCLUSIVE)
    state = run(flow, [Begin(), Toggle("role", "a"), Toggle("role", "b")])
    assert state.selected == ("a", "b")

    alone = advance(flow, state, Toggle("role", "none"), LATER).state
    assert alone.selected == ("none",)
    again = advance(flow, alone, Toggle("role", "a"), LATER).state
    assert again.selected == ("a",)


def test_advance_exclusive_option_typed_with_others_is_explained() -> None:
    flow = flow_of(EXCLUSIVE)
    state = run(flow, [Begin()])

    outcome = advance(flow, state, Text("1, 3"), LATER)

    assert outcome.effects[0] == Reprompt("role", "exclusive")
    assert outcome.records() == []


def test_advance_completion_forgets_answers_on_an_abandoned_branch(sample: Flow) -> None:
    # They answer on the "no" branch, go back twice and take the other branch instead.
    actions: list[Input] = [Begin(), Pick("used", "no"), Text("Too far"), Back(), Back()]
    actions += [Pick("used", "yes"), Pick("rating", "3"), Skip(), Skip(), Text("More"), Skip()]
    found = outcomes(sample, actions)

    assert found[2].state.answers["why_not"] == "Too far"
    last = found[-1]
    assert Forget("why_not") in last.effects
    assert "why_not" not in last.state.answers
    assert last.state.status == "completed"


def test_advance_risky_free_text_is_stored_then_checks_in_before_the_next_question(
    sample: Flow,
) -> None:
    state = run(sample, [Begin(), Pick("used", "no")])

    outcome = advance(sample, state, Text("I want to die", risk=True), LATER)

    assert outcome.records() == [Record("why_not", "I want to die")]
    assert outcome.effects[-1] == CheckIn()
    assert not any(isinstance(e, Ask) for e in outcome.effects)
    assert outcome.state.status == "checking"
    assert outcome.state.current == "change"


@pytest.mark.parametrize("action", [Begin(), Resume(), Show()])
def test_advance_while_checking_coming_back_shows_the_check_in(
    sample: Flow, action: Input
) -> None:
    state = run(sample, [Begin(), Pick("used", "no"), Text("no point going on", risk=True)])

    outcome = advance(sample, state, action, LATER)

    assert outcome.effects == (CheckIn(),)
    assert outcome.state.status == "checking"


@pytest.mark.parametrize(
    "action", [Text("ok"), Text("hello"), Pick("change", "x"), Skip(), Back(), NotText("sticker")]
)
def test_advance_while_checking_anything_else_gets_a_short_nudge_not_the_check_in_again(
    sample: Flow, action: Input
) -> None:
    state = run(sample, [Begin(), Pick("used", "no"), Text("no point going on", risk=True)])

    outcome = advance(sample, state, action, LATER)

    assert outcome.effects == (CheckInNudge(),)
    assert outcome.state == state


def test_advance_new_words_of_risk_while_checking_show_the_check_in(sample: Flow) -> None:
    state = run(sample, [Begin(), Pick("used", "no"), Text("no point going on", risk=True)])

    for action in (Text("i want to die", risk=True), RiskWords()):
        outcome = advance(sample, state, action, LATER)
        assert outcome.effects == (CheckIn(),)
        assert outcome.state == state


def test_advance_risk_words_outside_an_answer_check_in_even_at_a_free_text_question(
    sample: Flow,
) -> None:
    state = run(sample, [Begin(), Pick("used", "no")])
    assert state.current == "why_not"  # a free-text question

    outcome = advance(sample, state, RiskWords(), LATER)

    assert outcome.effects == (CheckIn(),)
    assert outcome.records() == []
    assert outcome.state.status == "checking"
    asked = advance(sample, outcome.state, Safe(), LATER).effects[-1]
    assert isinstance(asked, Ask)
    assert asked.step == "why_not"


@pytest.mark.parametrize("status", ["active", "paused", "completed"])
def test_advance_need_help_shows_urgent_help_in_any_state(sample: Flow, status: str) -> None:
    steps: dict[str, list[Input]] = {
        "active": [Begin()],
        "paused": [Begin(), Pause()],
        "completed": [Begin(), Pick("used", "no"), Text("far"), Text("x"), Skip()],
    }
    state = run(sample, steps[status])
    assert state.status == status

    outcome = advance(sample, state, NeedHelp(), LATER)

    assert outcome.effects == (UrgentHelp(),)
    assert outcome.state == state


def test_advance_check_in_choices(sample: Flow) -> None:
    state = run(sample, [Begin(), Pick("used", "no"), Text("no point going on", risk=True)])

    helped = advance(sample, state, NeedHelp(), LATER)
    assert helped.effects == (UrgentHelp(),)
    assert helped.state.status == "checking"

    safe = advance(sample, state, Safe(), LATER)
    assert safe.effects == (Ask("change", 3, 4),)
    assert safe.state.status == "active"

    paused = advance(sample, state, Pause(), LATER)
    assert paused.effects == (Paused(),)
    resumed = advance(sample, paused.state, Text("hi"), LATER)
    assert resumed.effects[-1] == Ask("change", 3, 4)


@pytest.mark.parametrize(
    ("steps", "text"),
    [
        # Longer than the question's 50 characters.
        (
            [Begin(), Pick("used", "no")],
            "I have sorted out who gets my things, I know which night",
        ),
        # Not a number from 1 to 5 at the scale question.
        ([Begin(), Pick("used", "yes")], "I just want to end it all"),
    ],
)
def test_advance_risky_text_that_is_no_answer_checks_in_not_reprompts(
    sample: Flow, steps: list[Input], text: str
) -> None:
    state = run(sample, steps)
    asked_before = state.current

    outcome = advance(sample, state, Text(text, risk=True), LATER)

    assert outcome.effects == (CheckIn(),)
    assert outcome.records() == []
    assert outcome.state.status == "checking"
    assert outcome.state.current == asked_before
    asked = advance(sample, outcome.state, Safe(), LATER).effects[-1]
    assert isinstance(asked, Ask)
    assert asked.step == asked_before
    # The same words without risk are only asked to be put another way.
    plain = advance(sample, state, Text(text), LATER)
    assert not any(isinstance(effect, CheckIn) for effect in plain.effects)


def test_advance_risky_text_to_a_choice_question_checks_in_without_an_answer(
    sample: Flow,
) -> None:
    state = run(sample, [Begin()])

    outcome = advance(sample, state, Text("i want to end it all", risk=True), LATER)

    assert outcome.effects == (CheckIn(),)
    assert outcome.records() == []
    assert outcome.state.status == "checking"
    assert advance(sample, outcome.state, Safe(), LATER).effects == (Ask("used", 1, 6),)


def test_advance_risky_text_after_the_end_checks_in(sample: Flow) -> None:
    done = run(sample, [Begin(), Pick("used", "no"), Text("far"), Text("x"), Skip()])
    assert done.status == "completed"

    outcome = advance(sample, done, Text("i want to die", risk=True), LATER)

    assert outcome.effects == (CheckIn(),)
    assert outcome.state == done
