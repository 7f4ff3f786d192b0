"""Context cues: past and resolved, negated, quoted, about people or services in general."""

import pytest

from bot.safeguarding.cues import cues
from bot.safeguarding.normalise import normalise


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Two years ago I took an overdose", ("past",)),
        ("I used to self-harm as a teenager", ("past",)),
        ("I tried to end it in 2019 but I'm in a good place now", ("past",)),
        ("I'm not suicidal, just exhausted", ("negated",)),
        ("No thoughts of harming myself at all", ("negated",)),
        ("The nurse asked if I wanted to kill myself", ("quoted",)),
        ('She said "are you suicidal" like a tick box', ("quoted",)),
        ("Staff should be trained to talk to people who self-harm", ("general",)),
        ("Suicide prevention needs more money", ("general",)),
        ("I want to die", ()),
    ],
)
def test_cues(text, expected):
    assert cues(normalise(text), text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Two years ago I took an overdose and I'm thinking about it again",
        "I used to cut and lately I've started again",
        "I was suicidal in 2019 and it's back tonight",
    ],
)
def test_the_past_is_no_cue_when_it_is_back(text):
    assert "past" not in cues(normalise(text), text)


@pytest.mark.parametrize(
    "text", ["cant anymore", "I can no longer cope", "I don't want to live any more"]
)
def test_any_more_and_no_longer_are_not_the_past(text):
    assert "past" not in cues(normalise(text), text)
