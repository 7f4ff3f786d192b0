"""Understanding typed answers, for every kind of question."""

from __future__ import annotations

import pytest

from conversations.answers import Parsed, parse_text
from conversations.events import Reprompt
from conversations.model import (
    FreeTextStep,
    MessageStep,
    MultipleChoiceStep,
    NumberStep,
    Option,
    ScaleStep,
    SingleChoiceStep,
    YesNoStep,
)

CONTACT = SingleChoiceStep(
    id="contact",
    kind="single_choice",
    text="How did you get in touch?",
    options=[
        Option(id="phone", label="Phone"),
        Option(id="visit", label="In person"),
        Option(id="gp", label={"en": "Through my GP", "cy": "Trwy fy meddyg teulu"}),
    ],
)
LIKED = MultipleChoiceStep(
    id="liked",
    kind="multiple_choice",
    text="What helped?",
    options=[
        Option(id="staff", label="The staff"),
        Option(id="speed", label="Being seen quickly"),
        Option(id="place", label="The place"),
        Option(id="mixed", label="Yes, sometimes"),
    ],
    max_choices=3,
)
USED = YesNoStep(id="used", kind="yes_no", text="Have you used it?")
RATING = ScaleStep(
    id="rating", kind="scale", text="How was it?", min_label="bad", max_label="good"
)
AGE = NumberStep(id="age", kind="number", text="How old are you?", min=18, max=120)
HOURS = NumberStep(id="hours", kind="number", text="How many hours?", min=0, whole=False)
ANY = NumberStep(id="any", kind="number", text="Any number.")
STORY = FreeTextStep(id="story", kind="free_text", text="Tell us.", max_length=10)


def not_option(step_id: str) -> Reprompt:
    return Reprompt(step_id, "not_option")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", "phone"),
        ("2", "visit"),
        (" 3. ", "gp"),
        ("phone", "phone"),
        ("visit", "visit"),
        ("PHONE", "phone"),
        ("in person", "visit"),
        ("  In   Person! ", "visit"),
        ("In person.", "visit"),
        ("through my gp", "gp"),
        ("Trwy fy meddyg teulu", "gp"),  # a label in another of the flow's languages
        ("３", "gp"),  # a full-width digit
    ],
)
def test_parse_text_single_choice_by_number_id_or_label(text: str, value: str) -> None:
    assert parse_text(CONTACT, text) == Parsed(value)


@pytest.mark.parametrize(
    "text", ["0", "4", "-1", "email", "phone or visit", "", "   ", "1, 2", "፩", "9" * 5000]
)
def test_parse_text_single_choice_unknown_is_not_option(text: str) -> None:
    assert parse_text(CONTACT, text) == not_option("contact")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("yes", True),
        ("Yes!", True),
        ("YEP", True),
        ("ok", True),
        ("1", True),
        ("ie", True),
        ("no", False),
        ("Nope.", False),
        ("n", False),
        ("2", False),
        ("nac ydw", False),
    ],
)
def test_parse_text_yes_no_words_and_numbers(text: str, value: bool) -> None:
    assert parse_text(USED, text) == Parsed(value)


@pytest.mark.parametrize("text", ["maybe", "3", "0", "yes no", "", "true"])
def test_parse_text_yes_no_other_words_are_not_options(text: str) -> None:
    assert parse_text(USED, text) == not_option("used")


@pytest.mark.parametrize(("text", "value"), [("1", 1), ("5", 5), (" 3 ", 3), ("4.0", 4)])
def test_parse_text_scale_accepts_whole_points_in_range(text: str, value: int) -> None:
    parsed = parse_text(RATING, text)

    assert parsed == Parsed(value)
    assert isinstance(parsed, Parsed)
    assert type(parsed.value) is int


@pytest.mark.parametrize("text", ["0", "6", "-1", "2.5", "three", "", "9" * 400])
def test_parse_text_scale_refuses_anything_else_with_its_bounds(text: str) -> None:
    assert parse_text(RATING, text) == Reprompt("rating", "out_of_range", 5, 1)


@pytest.mark.parametrize(
    ("step", "text", "value"),
    [
        (AGE, "18", 18),
        (AGE, "120", 120),
        (AGE, " 34 ", 34),
        (AGE, "34.0", 34),
        (HOURS, "2.5", 2.5),
        (HOURS, ".5", 0.5),
        (HOURS, "0", 0.0),
        (ANY, "1,000", 1000),
        (ANY, "1 000", 1000),
        (ANY, "-40", -40),
        (ANY, "+7", 7),
        (ANY, "9" * 300, int(float("9" * 300))),
    ],
)
def test_parse_text_number_within_bounds(step: NumberStep, text: str, value: float) -> None:
    parsed = parse_text(step, text)

    assert parsed == Parsed(value)
    assert isinstance(parsed, Parsed)
    assert type(parsed.value) is (int if step.whole else float)


@pytest.mark.parametrize(
    ("step", "text", "reason"),
    [
        (AGE, "17", "out_of_range"),
        (AGE, "121", "out_of_range"),
        (AGE, "-18", "out_of_range"),
        (AGE, "34.5", "not_whole"),
        (AGE, "thirty", "not_number"),
        (AGE, "34 years", "not_number"),
        (AGE, "", "not_number"),
        (AGE, "1e3", "not_number"),
        (AGE, "9" * 400, "not_number"),  # so many digits that it is not a finite number
        (HOURS, "-0.5", "out_of_range"),
        (HOURS, "nan", "not_number"),
        (HOURS, "inf", "not_number"),
    ],
)
def test_parse_text_number_refusals_carry_the_bounds(
    step: NumberStep, text: str, reason: str
) -> None:
    assert parse_text(step, text) == Reprompt(step.id, reason, step.max, step.min)  # type: ignore[arg-type]


def test_parse_text_free_text_is_kept_trimmed() -> None:
    assert parse_text(STORY, "  Kind staff  ") == Parsed("Kind staff")


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_parse_text_free_text_empty(text: str) -> None:
    assert parse_text(STORY, text) == Reprompt("story", "empty")


def test_parse_text_free_text_at_exactly_the_limit() -> None:
    assert parse_text(STORY, "x" * 10) == Parsed("x" * 10)


def test_parse_text_free_text_over_the_limit_says_by_how_much() -> None:
    assert parse_text(STORY, "x" * 11) == Reprompt("story", "too_long", 10, length=11)


def test_parse_text_free_text_counts_characters_not_bytes() -> None:
    assert parse_text(STORY, "🙂" * 10) == Parsed("🙂" * 10)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", ["staff"]),
        ("1, 3", ["staff", "place"]),
        ("3,1", ["staff", "place"]),
        ("1 3", ["staff", "place"]),
        ("1 and 2", ["staff", "speed"]),
        ("1; 2 / 3", ["staff", "speed", "place"]),
        ("1, 1", ["staff"]),
        ("the place, the staff", ["staff", "place"]),
        ("Being seen quickly & 1", ["staff", "speed"]),
        ("speed", ["speed"]),
        ("Yes, sometimes", ["mixed"]),  # a label with a comma in it, whole
    ],
)
def test_parse_text_multiple_choice(text: str, value: list[str]) -> None:
    assert parse_text(LIKED, text) == Parsed(value)


@pytest.mark.parametrize("text", ["done", "Done.", "that's all", "That’s all", "finished"])
def test_parse_text_multiple_choice_done_words(text: str) -> None:
    assert parse_text(LIKED, text) == "done"


@pytest.mark.parametrize("text", ["", "5", "1, 9", "1, cost", "1 x", "1 2 ፩"])
def test_parse_text_multiple_choice_unknown_is_not_option(text: str) -> None:
    assert parse_text(LIKED, text) == not_option("liked")


def test_parse_text_multiple_choice_over_max_choices() -> None:
    assert parse_text(LIKED, "1, 2, 3, 4") == Reprompt("liked", "too_many", 3)


def test_parse_text_message_step_is_never_an_answer() -> None:
    hello = MessageStep(id="hello", kind="message", text="Hello.")

    assert parse_text(hello, "hello") == not_option("hello")
