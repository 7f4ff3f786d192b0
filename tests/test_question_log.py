"""The fault suite's question log: what counts as asking a question again."""

from types import SimpleNamespace

import pytest

from tests.support.question_log import Asked, QuestionLog

PATH = ("used", "rating", "liked", "contact", "change")


def log_of(*steps):
    """A log whose chat 1 was asked these steps, one a second from t=1."""
    log = QuestionLog(SimpleNamespace(calls=[]), flow=None)  # type: ignore[arg-type]
    log._asked[1] = [Asked(float(n), step, n) for n, step in enumerate(steps, start=1)]
    return log


def repeats(log, backs=()):
    return [(a.step, a.at) for a in log.repeated(1, PATH, backs)]


def test_question_log_forward_and_the_current_again_are_fine():
    assert repeats(log_of("used", "rating", "rating", "liked", "contact")) == []


def test_question_log_an_earlier_question_without_a_back_is_a_repeat():
    assert repeats(log_of("used", "rating", "liked", "rating")) == [("rating", 4.0)]


def test_question_log_a_back_allows_one_step_once():
    assert repeats(log_of("used", "rating", "liked", "rating"), backs=[3.5]) == []
    assert repeats(log_of("used", "rating", "liked", "rating", "liked", "used"), [3.5]) == [
        ("used", 6.0)
    ]
    assert repeats(log_of("used", "rating", "liked", "used"), backs=[3.5]) == [("used", 4.0)]


def test_question_log_a_restart_showing_the_current_question_does_not_use_up_a_back():
    # Go back pressed on "contact" just before a crash; the new process first shows "contact"
    # again (the run was saved but not shown), then acts on the press and shows "liked".
    asked = log_of("used", "rating", "liked", "contact", "contact", "liked", "contact")
    assert repeats(asked, backs=[4.5]) == []


@pytest.mark.parametrize("backs", [[], [6.5]])
def test_question_log_a_back_pressed_later_does_not_excuse_an_earlier_repeat(backs):
    assert repeats(log_of("used", "rating", "liked", "contact", "liked"), backs) == [
        ("liked", 5.0)
    ]
