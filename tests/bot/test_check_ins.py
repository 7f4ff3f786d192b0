"""What typed answers to "Are you safe right now?" mean "no"."""

import pytest

from bot.check_ins import not_safe


@pytest.mark.parametrize(
    "text",
    ["no", "No.", "NO!!", "nope", "I'm not safe", "im not safe", "no not really", "help me"],
)
def test_check_ins_these_mean_not_safe(text):
    assert not_safe(text, "en")


@pytest.mark.parametrize(
    "text", ["ok", "yes", "I'm safe", "not sure what to say", "no idea", "what now"]
)
def test_check_ins_these_do_not(text):
    assert not not_safe(text, "en")
