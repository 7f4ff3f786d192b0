"""Button data: short, versioned, and refused when forged."""

from __future__ import annotations

import pytest

from conversations.callbacks import ACTIONS, MAX_BYTES, ConsentButton, QuestionButton, decode


@pytest.mark.parametrize(
    "button",
    [
        QuestionButton(1, 1, 0, "p", "0"),
        QuestionButton(42, 3, 7, "t", "11"),
        QuestionButton(42, 3, 7, "d"),
        QuestionButton(42, 3, 7, "s"),
        QuestionButton(42, 3, 7, "b"),
        QuestionButton(42, 3, 7, "p", "yes"),
        QuestionButton(42, 3, 7, "p", "-5"),
        QuestionButton(999_999_999_999, 999_999_999_999, 999, "p", "10"),
        ConsentButton("sample", 1, 1, True),
        ConsentButton("a" * 40, 12, 3, False),
    ],
)
def test_callbacks_round_trip(button: QuestionButton | ConsentButton) -> None:
    data = button.encode()

    assert data.startswith("v1|")
    assert len(data.encode()) <= MAX_BYTES
    assert decode(data) == button


def test_callbacks_question_button_format() -> None:
    assert QuestionButton(42, 3, 7, "t", "2").encode() == "v1|q|42|3|7|t|2"
    assert QuestionButton(42, 3, 7, "d").encode() == "v1|q|42|3|7|d|"


def test_callbacks_consent_button_format() -> None:
    assert ConsentButton("sample", 2, 1, True).encode() == "v1|c|sample|2|1|y"


def test_callbacks_refuse_to_encode_over_64_bytes() -> None:
    with pytest.raises(ValueError, match="over 64 bytes"):
        QuestionButton(1, 1, 1, "p", "x" * 60).encode()
    with pytest.raises(ValueError, match="over 64 bytes"):
        ConsentButton("é" * 40, 1, 1, True).encode()  # 40 characters, 80 bytes


def test_callbacks_actions_are_single_letters() -> None:
    assert all(len(action) == 1 for action in ACTIONS)


@pytest.mark.parametrize(
    "data",
    [
        "",
        "v1",
        "|",
        "v2|q|1|1|1|p|0",  # another format version
        "V1|q|1|1|1|p|0",
        "x|q|1|1|1|p|0",
        "v1|x|1|1|1|p|0",  # unknown kind
        "v1|q|1|1|1|z|0",  # unknown action
        "v1|q|1|1|1|pp|0",
        "v1|q|1|1|1|p",  # a field short
        "v1|q|1|1|1|p|0|0",  # a field over
        "v1|q|1|1|p|0",
        "v1|q|a|1|1|p|0",  # not digits
        "v1|q|1|-1|1|p|0",
        "v1|q|1|1| 1|p|0",
        "v1|q|1|1|1.0|p|0",
        "v1|q||1|1|p|0",
        "v1|q|1|1|²|p|0",  # a digit int() refuses
        "v1|q|1234567890123|1|1|p|0",  # more than 12 digits
        "v1|q|1|1|" + "9" * 40 + "|p|0",
        "v1|q|1|1|1|p|" + "x" * 60,  # over 64 bytes
        "v1|c|sample|1|1",
        "v1|c|sample|1|1|yes",
        "v1|c|sample|1|1|y|n",
        "v1|c|sample|one|1|y",
        "v1|c|sample|1||y",
        "telegram game",
        "🙂" * 20,
    ],
)
def test_callbacks_decode_refuses_forged_data(data: str) -> None:
    assert decode(data) is None
