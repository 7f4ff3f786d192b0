"""Rendering effects into plain messages and buttons."""

from __future__ import annotations

import pytest

from conversations.callbacks import AgeButton, ConsentButton, QuestionButton, decode
from conversations.catalog import catalog
from conversations.events import (
    AlreadyDone,
    Ask,
    Completed,
    Effect,
    Note,
    NothingToGoBack,
    Paused,
    Recap,
    Record,
    Reprompt,
    Say,
    Selection,
    Settle,
    Stale,
)
from conversations.model import Flow, SingleChoiceStep
from conversations.render import (
    SHOWN_ANSWER_LIMIT,
    Keyboard,
    PromptButtons,
    Renderer,
    Send,
    SettlePrompt,
    consent_question,
    intro,
)
from tests.conversations.conftest import HEADER, RUN_ID, flow_of

WORDS = catalog("en")


@pytest.fixture
def renderer(sample: Flow) -> Renderer:
    return Renderer(sample, "en", RUN_ID)


def labels(keyboard: Keyboard) -> list[list[str]]:
    return [[button.label for button in row] for row in keyboard]


def test_intro_has_the_flow_details_then_the_age_question(sample: Flow) -> None:
    welcome, age = intro(sample, "en", 18)

    assert welcome.text.split("\n\n") == [
        "Sample consultation",
        "This is run by a test charity.",
        "It takes about 2 minutes.",
        "We keep your answers safe.",
        "This is not a crisis service. In an emergency call 999.",
        "People at the charity read messages on weekdays, 9am to 5pm. "
        "Nobody reads them straight away.",
    ]
    assert welcome.keyboard == ()
    assert age.text == "Before we start: are you 18 or older?"
    assert labels(age.keyboard) == [["Yes, I'm 18 or older"], ["No, I'm younger"]]
    old_enough, too_young = (decode(row[0].data) for row in age.keyboard)
    assert old_enough == AgeButton("sample", 1, True)
    assert too_young == AgeButton("sample", 1, False)


def test_consent_question_has_agree_and_decline(sample: Flow) -> None:
    consent = consent_question(sample, "en")

    assert consent.text == "Are you happy to take part?"
    assert labels(consent.keyboard) == [["Yes, I agree"], ["No, thank you"]]
    agree, decline = (decode(row[0].data) for row in consent.keyboard)
    assert agree == ConsentButton("sample", 1, 1, True)
    assert decline == ConsentButton("sample", 1, 1, False)


def test_intro_uses_the_participants_language_and_falls_back() -> None:
    flow = flow_of(
        "- {id: hi, kind: message, text: Hi}\n",
        header=HEADER.replace("title: Test flow", "title: {en: Test flow, cy: Llif prawf}"),
    )

    welsh, _ = intro(flow, "cy", 18)
    french, _ = intro(flow, "fr", 18)

    assert welsh.text.startswith("Llif prawf\n\nWe are testing.")
    assert french.text.startswith("Test flow\n\n")


def test_renderer_question_has_progress_text_and_hint(renderer: Renderer) -> None:
    text = renderer.question(Ask("rating", 2, 6))

    assert text.split("\n\n") == [
        "Question 2 of 6",
        "How was it?",
        "Tap a number. 1 means very poor. 5 means very good.",
    ]


def test_renderer_question_shows_the_earlier_answer(renderer: Renderer) -> None:
    text = renderer.question(Ask("liked", 3, 6, ("staff",), True, ["staff", "place"]))

    assert "Last time you said: The staff, The place. You can answer again." in text
    assert text.endswith(WORDS("hint_multi"))


def test_renderer_question_says_when_it_was_skipped_before(renderer: Renderer) -> None:
    text = renderer.question(Ask("used", 1, 6, (), True, None))

    assert WORDS("previous_skipped") in text


@pytest.mark.parametrize(
    ("step", "hint"),
    [
        ("used", "Tap Yes or No."),
        ("contact", "Tap one answer, or type its number."),
        ("why_not", "Type your answer in one message (up to 50 characters)."),
        ("age", "Type a number from 18 to 120."),
    ],
)
def test_renderer_question_hint_per_kind(renderer: Renderer, step: str, hint: str) -> None:
    assert renderer.question(Ask(step, 1, 1)).endswith("\n\n" + hint)


@pytest.mark.parametrize(
    ("bounds", "hint"),
    [
        ("", "Type a number."),
        ("min: 0", "Type a number, 0 or more."),
        ("max: 7.5, whole: false", "Type a number, up to 7.5."),
        ("min: 1.0, max: 10", "Type a number from 1 to 10."),
    ],
)
def test_renderer_number_hint_names_its_bounds(bounds: str, hint: str) -> None:
    flow = flow_of(f"- {{id: n, kind: number, text: N, {bounds}}}\n")

    assert Renderer(flow, "en", 1).question(Ask("n", 1, 1)).endswith(hint)


def test_renderer_keyboard_for_yes_no_with_skip_and_back(renderer: Renderer) -> None:
    keyboard = renderer.keyboard(Ask("used", 2, 6))

    assert labels(keyboard) == [["Yes", "No"], ["Skip", "Go back"]]
    assert [decode(b.data) for b in keyboard[0]] == [
        QuestionButton(RUN_ID, 1, 1, "p", "yes"),
        QuestionButton(RUN_ID, 1, 1, "p", "no"),
    ]
    assert [decode(b.data) for b in keyboard[1]] == [
        QuestionButton(RUN_ID, 1, 1, "s"),
        QuestionButton(RUN_ID, 1, 1, "b"),
    ]


def test_renderer_keyboard_of_the_first_question_has_no_back(renderer: Renderer) -> None:
    assert labels(renderer.keyboard(Ask("used", 1, 6))) == [["Yes", "No"], ["Skip"]]


def test_renderer_keyboard_of_a_required_question_has_no_skip(renderer: Renderer) -> None:
    assert labels(renderer.keyboard(Ask("change", 5, 6))) == [["Go back"]]
    assert renderer.keyboard(Ask("change", 1, 6)) == ()


def test_renderer_keyboard_single_choice_sends_option_positions(renderer: Renderer) -> None:
    keyboard = renderer.keyboard(Ask("contact", 4, 6))

    assert labels(keyboard) == [["Phone"], ["In person"], ["Skip", "Go back"]]
    assert decode(keyboard[1][0].data) == QuestionButton(RUN_ID, 1, 4, "p", "1")


def test_renderer_keyboard_multiple_choice_ticks_the_selection(renderer: Renderer) -> None:
    keyboard = renderer.keyboard(Ask("liked", 3, 6, ("place",)))

    assert labels(keyboard) == [
        ["The staff"],
        ["Being seen quickly"],
        ["✅ The place"],
        ["Done"],
        ["Skip", "Go back"],
    ]
    assert decode(keyboard[2][0].data) == QuestionButton(RUN_ID, 1, 3, "t", "2")
    assert decode(keyboard[3][0].data) == QuestionButton(RUN_ID, 1, 3, "d")


def test_renderer_keyboard_scale_rows_hold_six_points() -> None:
    flow = flow_of(
        "- {id: s, kind: scale, text: S, min: 0, max: 10, min_label: a, max_label: b}\n"
    )

    keyboard = Renderer(flow, "en", 1).keyboard(Ask("s", 2, 2))

    assert labels(keyboard) == [
        ["0", "1", "2", "3", "4", "5"],
        ["6", "7", "8", "9", "10"],
        ["Skip", "Go back"],
    ]


def test_renderer_keyboard_of_a_free_text_question_has_only_skip_and_back(
    renderer: Renderer,
) -> None:
    assert labels(renderer.keyboard(Ask("why_not", 2, 4))) == [["Skip", "Go back"]]


@pytest.mark.parametrize(
    ("settle", "footer"),
    [
        (Settle("rating", 4, "answered"), "Your answer: 4"),
        (Settle("used", True, "answered"), "Your answer: Yes"),
        (Settle("used", False, "answered"), "Your answer: No"),
        (Settle("contact", "visit", "answered"), "Your answer: In person"),
        (Settle("liked", ["staff", "place"], "answered"), "Your answer: The staff, The place"),
        (Settle("rating", None, "skipped"), "You skipped this question."),
        (Settle("rating", None, "back"), "You went back to change an answer."),
        (Settle("rating", None, "paused"), WORDS("paused_here")),
    ],
)
def test_renderer_settled_text_is_the_question_and_what_happened(
    renderer: Renderer, settle: Settle, footer: str
) -> None:
    step_text = renderer.flow.step(settle.step).text

    assert renderer.render([settle]) == [SettlePrompt(f"{step_text}\n\n{footer}")]


def test_renderer_settled_text_shortens_a_long_answer(renderer: Renderer) -> None:
    [settled] = renderer.render([Settle("change", "x" * 1000, "answered")])

    assert isinstance(settled, SettlePrompt)
    answer = settled.text.split("Your answer: ")[1]
    assert answer == "x" * (SHOWN_ANSWER_LIMIT - 1) + "…"


def test_renderer_answer_shows_an_unknown_option_as_its_id(renderer: Renderer) -> None:
    step = renderer.flow.step("contact")
    assert isinstance(step, SingleChoiceStep)

    assert renderer.answer(step, "email") == "email"


def test_renderer_render_an_answer_settles_then_sends_the_next_question(
    renderer: Renderer,
) -> None:
    out = renderer.render(
        [Record("used", True), Settle("used", True, "answered"), Ask("rating", 2, 6)]
    )

    assert [type(o) for o in out] == [SettlePrompt, Send]
    assert out[1] == Send(
        renderer.question(Ask("rating", 2, 6)), renderer.keyboard(Ask("rating", 2, 6)), True
    )


def test_renderer_render_a_reprompt_takes_the_old_buttons_away(renderer: Renderer) -> None:
    ask = Ask("used", 1, 6)

    out = renderer.render([Reprompt("used", "not_text"), ask])

    assert out == [
        Send(WORDS("not_text")),
        PromptButtons(()),
        Send(renderer.question(ask), renderer.keyboard(ask), prompt=True),
    ]


def test_renderer_render_a_selection_redraws_the_buttons(renderer: Renderer) -> None:
    [out] = renderer.render([Selection("liked", ("staff",))])

    assert isinstance(out, PromptButtons)
    assert labels(out.keyboard)[0] == ["✅ The staff"]


@pytest.mark.parametrize(
    ("effect", "text"),
    [
        (Say("welcome"), "Let's begin."),
        (Note("about"), "About you\n\nThese questions are optional."),
        (Recap(3, 6), "Welcome back. You were on question 3 of 6. Here it is again."),
        (Completed(), "Thank you for taking part.\n\n" + WORDS("completed")),
        (Paused(), WORDS("paused")),
        (AlreadyDone(), WORDS("already_done")),
        (Stale(), WORDS("stale")),
        (NothingToGoBack(), WORDS("nothing_to_go_back")),
        (Reprompt("why_not", "too_long", 50, length=72), WORDS("too_long", limit=50, length=72)),
        (Reprompt("age", "out_of_range", 120, 18), "Please choose a number from 18 to 120."),
        (Reprompt("age", "out_of_range", None, 18), WORDS("out_of_range_open")),
        (Reprompt("liked", "too_many", 2), WORDS("too_many", limit=2)),
        (Reprompt("age", "not_whole", 120, 18), WORDS("not_whole")),
        (Reprompt("liked", "choose_or_skip"), WORDS("choose_or_skip")),
        (Reprompt("change", "required"), WORDS("required")),
    ],
)
def test_renderer_render_lines(renderer: Renderer, effect: Effect, text: str) -> None:
    assert renderer.render([effect]) == [Send(text)]


def test_renderer_render_of_a_record_alone_shows_nothing(renderer: Renderer) -> None:
    assert renderer.render([Record("used", True)]) == []


def test_renderer_in_welsh_uses_the_flows_welsh_text() -> None:
    flow = flow_of('- {id: q, kind: yes_no, text: {en: "Well?", cy: "Wel?"}}\n')

    assert "Wel?" in Renderer(flow, "cy", 1).question(Ask("q", 1, 1))
    assert "Well?" in Renderer(flow, "en", 1).question(Ask("q", 1, 1))


def test_renderer_selection_on_the_first_question_offers_no_back() -> None:
    flow = flow_of(
        "- id: m\n  kind: multiple_choice\n  text: M\n"
        "  options: [{id: a, label: A}, {id: b, label: B}]\n"
    )
    renderer = Renderer(flow, "en", RUN_ID)
    first = renderer.keyboard(Ask("m", 1, 1))

    [redrawn] = renderer.render([Selection("m", ("a",), can_go_back=False)])

    assert isinstance(redrawn, PromptButtons)
    assert labels(redrawn.keyboard)[-1] == labels(first)[-1] == ["Skip"]
