"""Screening: three verdicts from the phrase list, the risk model and context cues."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.safeguarding.phrase_list import Thresholds
from bot.safeguarding.risk_model import RiskModel
from bot.safeguarding.screening import PhraseList, Screener, decide, sentences
from bot.safeguarding.verdicts import Verdict

FLAG, CONCERN, OK = Verdict.FLAG, Verdict.CONCERN, Verdict.OK
LIMITS = Thresholds(flag_at=0.7, concern_at=0.45, phrase_flag_at=0.3, cue_flag_at=0.9)


@pytest.mark.parametrize(
    ("phrase", "score", "cued", "verdict"),
    [
        (False, 0.10, False, OK),
        (False, 0.45, False, CONCERN),  # concern_at
        (False, 0.69, False, CONCERN),
        (False, 0.70, False, FLAG),  # flag_at
        (True, 0.05, False, CONCERN),  # a phrase the model does not back: a concern
        (True, 0.30, False, FLAG),  # phrase_flag_at
        (True, 0.05, True, CONCERN),  # a cue lowers a flag, never to ok
        (True, 0.89, True, CONCERN),
        (True, 0.90, True, FLAG),  # cue_flag_at: too sure to lower
        (False, 0.80, True, CONCERN),
        (False, 0.20, True, OK),  # a cue alone is nothing
    ],
)
def test_decide(phrase, score, cued, verdict):
    assert decide(phrase, score, cued, LIMITS) is verdict


@settings(max_examples=300, deadline=None)
@given(st.booleans(), st.floats(0, 1), st.floats(0, 1), st.floats(0, 1), st.floats(0, 1))
def test_a_cue_never_makes_a_phrase_ok(score, flag_at, concern_at, phrase_at, cue_at):
    limits = Thresholds(flag_at, min(concern_at, flag_at), phrase_at, cue_at)
    assert decide(True, score, True, limits) is not OK
    assert decide(True, score, False, limits) is not OK


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"]),
        ("line one\nline two\r\n\nline three", ["line one", "line two", "line three"]),
        ("first; second - third", ["first", "second", "third"]),
        ("no stop at all just words", ["no stop at all just words"]),
        ("Dr. Patel was kind", ["Dr.", "Patel was kind"]),
        ("", []),
    ],
)
def test_sentences(text, expected):
    assert sentences(text) == expected


# A model that knows a few words, so verdicts here do not hang on the shipped model's weights.
TINY = RiskModel.from_dict(
    {
        "format": 2,
        "trained_on": {},
        "intercept": -2.5,
        "features": {"w:die": [1.0, 3.5], "w:gone": [1.0, 2.5], "w:ward": [1.0, -3.0]},
    }
)


@pytest.fixture(scope="module")
def tiny():
    return Screener(PhraseList.shipped(), TINY)


def test_one_risky_sentence_in_a_long_answer_is_found(tiny):
    ordinary = "The ward was noisy and the food was cold, but the nurses did their best. "
    text = ordinary * 6 + "I just want to die. " + ordinary * 6
    found = tiny.screen(text)
    assert found.verdict is FLAG
    assert found.sentence == "I just want to die."
    assert found.phrase == "want to die"


def test_the_most_serious_sentence_of_a_long_answer_decides(tiny):
    filler = "The bus was late again and the waiting room was full of people. " * 4
    found = tiny.screen(f"{filler}I want to be gone. {filler}Lovely staff.")
    assert found.verdict is CONCERN  # "gone" scores 0.50: a concern
    assert found.sentence == "I want to be gone."
    assert found.phrase is None
    assert found.label == f"risk model {found.score:.2f}"


def test_a_cue_lowers_a_flag_to_a_concern(tiny):
    found = tiny.screen("Years ago I wanted to die, but I am fine now")
    assert found.verdict is CONCERN
    assert "past" in found.cues
    assert found.phrase == "want to die"


def test_a_short_answer_is_read_whole(tiny):
    # No sentence alone holds a phrase; the answer read whole does.
    text = "They would all be better off. Without me."
    assert all(tiny.screen(part).verdict is OK for part in sentences(text))
    assert tiny.screen(text).phrase == "better off without me"


def test_empty_and_punctuation_only_text_is_ok(tiny):
    assert tiny.screen("").verdict is OK
    assert tiny.screen("?!... ---").verdict is OK


# The shipped screener, on statements no threshold should ever get wrong -----------------------


@pytest.fixture(scope="module")
def shipped():
    return Screener.shipped()


@pytest.mark.parametrize(
    "text",
    [
        "I want to kill myself tonight",
        "I'm going to end my life",
        "I've been cutting again every night",
        "He keeps saying he wants to kill himself and I'm scared",  # a carer
        "i wanna die",
    ],
)
def test_shipped_flags_plain_risk(shipped, text):
    assert shipped.screen(text).verdict is FLAG, shipped.screen(text)


@pytest.mark.parametrize(
    "text",
    [
        "The receptionist was lovely",
        "Tuesdays are best for me",
        "I'd like more groups in the evening",
        "yes",
    ],
)
def test_shipped_leaves_plain_answers_alone(shipped, text):
    assert shipped.screen(text).verdict is OK, shipped.screen(text)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=2000))
def test_screen_never_raises(text):
    found = Screener.shipped().screen(text)
    assert found.verdict in (FLAG, CONCERN, OK)
    assert 0.0 <= found.score <= 1.0
