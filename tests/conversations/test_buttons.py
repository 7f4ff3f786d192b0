"""Buttons back to inputs: every button we draw maps back; nothing forged does."""

import pytest

from conversations.buttons import button_input
from conversations.callbacks import QuestionButton
from conversations.events import Back, Done, Pick, Skip, Toggle
from conversations.loader import load_flow_file
from tests.support.bot_harness import SAMPLE_FLOWS


@pytest.fixture(scope="module")
def sample():
    return load_flow_file(SAMPLE_FLOWS / "sample.yaml").flow


@pytest.mark.parametrize(
    ("button", "expected"),
    [
        (QuestionButton(1, 1, 1, "p", "yes"), Pick("used", "yes")),
        (QuestionButton(1, 1, 2, "p", "4"), Pick("rating", "4")),
        (QuestionButton(1, 1, 3, "t", "2"), Toggle("liked", "place")),
        (QuestionButton(1, 1, 3, "d"), Done("liked")),
        (QuestionButton(1, 1, 4, "p", "1"), Pick("contact", "visit")),
        (QuestionButton(1, 1, 4, "s"), Skip("contact")),
        (QuestionButton(1, 1, 4, "b"), Back("contact")),
    ],
)
def test_button_input_maps_our_buttons(sample, button, expected):
    assert button_input(sample, button) == expected


@pytest.mark.parametrize(
    "button",
    [
        QuestionButton(1, 2, 1, "p", "yes"),  # another version of the flow
        QuestionButton(1, 1, 99, "p", "0"),  # no such step
        QuestionButton(1, 1, 4, "p", "2"),  # no such option
        QuestionButton(1, 1, 4, "p", "²"),  # a digit int() refuses
        QuestionButton(1, 1, 4, "p", "0" * 5000),
        QuestionButton(1, 1, 3, "t", "-1"),
    ],
)
def test_button_input_refuses_forged_buttons(sample, button):
    assert button_input(sample, button) is None
