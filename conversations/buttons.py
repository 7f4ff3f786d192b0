"""Turn a pressed question button back into the engine input it stands for."""

from __future__ import annotations

from conversations.callbacks import QuestionButton
from conversations.events import Back, Done, Input, NeedHelp, Pause, Pick, Safe, Skip, Toggle
from conversations.model import Flow, MultipleChoiceStep, SingleChoiceStep

MAX_OPTION_DIGITS = 3


def button_input(flow: Flow, button: QuestionButton) -> Input | None:
    """Return the input a button means in this flow version; None if it cannot be one of ours."""
    if button.version != flow.version or not 0 <= button.step < len(flow.steps):
        return None
    step = flow.steps[button.step]
    choice = button.choice
    if button.action in ("p", "t") and isinstance(step, SingleChoiceStep | MultipleChoiceStep):
        if not (choice.isascii() and choice.isdecimal() and len(choice) <= MAX_OPTION_DIGITS):
            return None
        if int(choice) >= len(step.options):
            return None
        choice = step.options[int(choice)].id
    if button.action == "p":
        return Pick(step.id, choice)
    if button.action == "t":
        return Toggle(step.id, choice)
    if button.action == "d":
        return Done(step.id)
    if button.action == "s":
        return Skip(step.id)
    if button.action == "k":
        return Safe()
    if button.action == "h":
        return NeedHelp()
    if button.action == "w":
        return Pause()
    return Back(step.id)
