"""Golden transcripts: whole conversations, rendered as the participant would read them.

A transcript that differs from its file in `golden/` fails the test. After a deliberate change,
run `pytest tests/conversations --update-golden`, then read the diff before committing it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conversations.catalog import catalog
from conversations.loader import load_flow_file, shipped_flows_dir
from conversations.model import (
    FreeTextStep,
    MultipleChoiceStep,
    NumberStep,
    ScaleStep,
    SingleChoiceStep,
    YesNoStep,
)
from tests.conversations.conftest import Chat

GOLDEN = Path(__file__).parent / "golden"
SHIPPED = sorted(shipped_flows_dir().glob("*.yaml"))
MOST_STEPS = 200


def check_golden(name: str, transcript: str, update: bool) -> None:
    """Compare a transcript with its golden file, or rewrite the file when updating."""
    path = GOLDEN / f"{name}.txt"
    if update:
        path.parent.mkdir(exist_ok=True)
        path.write_text(transcript, encoding="utf-8")
        return
    assert path.exists(), f"no {path.name}: run `pytest --update-golden`, then review the file"
    assert transcript == path.read_text(encoding="utf-8")


def test_transcript_sample_used_the_service(chat: Chat, update_golden: bool) -> None:
    chat.open()
    chat.press("Yes, I agree")
    chat.press("Yes")
    chat.press("4")
    chat.press("The staff")
    chat.press("The place")
    chat.press("Done")
    chat.send("1")
    chat.send("Shorter waits, please.")
    chat.send("34")

    assert chat.state.status == "completed"
    check_golden("sample-used-the-service", chat.transcript(), update_golden)


def test_transcript_sample_did_not_use_it_typing_answers(chat: Chat, update_golden: bool) -> None:
    chat.open()
    chat.press("Yes, I agree")
    chat.send("no")
    chat.send(
        ("It was too far away, and the bus only comes twice a day.\nEvery day!\n" * 2).strip()
    )
    chat.send("Too far away.")
    chat.send("/skip")
    chat.send("A bus stop nearer.")
    chat.send("/skip")

    assert chat.state.status == "completed"
    assert chat.state.answers == {
        "used": False,
        "why_not": "Too far away.",
        "change": "A bus stop nearer.",
        "age": None,
    }
    check_golden("sample-did-not-use-it", chat.transcript(), update_golden)


def test_transcript_sample_detours(chat: Chat, update_golden: bool) -> None:
    chat.open()
    chat.press("Yes, I agree")
    chat.send("/back")  # nothing to go back to
    chat.press("Yes")
    chat.send("7")  # off the scale
    chat.send_photo()
    chat.press("2")
    chat.press("Done")  # nothing chosen yet
    chat.press("Being seen quickly")
    chat.send("/pause")
    chat.send("Hello again")  # resumes; not an answer
    chat.press("1", message=10)  # a double tap on the scale, answered already
    chat.send("/back")
    chat.press("5")
    chat.send("done")  # the selection was dropped by going back
    chat.send("1 and 3")
    chat.press("Go back")
    chat.press("Done")  # the earlier choice comes back ticked
    chat.press("Phone")
    chat.send("Nothing")
    chat.send("17")
    chat.send("18")
    chat.send("Is that it?")

    assert chat.state.status == "completed"
    assert chat.state.answers["rating"] == 5
    assert chat.state.answers["liked"] == ["staff", "place"]
    check_golden("sample-detours", chat.transcript(), update_golden)


def answer_step(chat: Chat) -> None:
    """Give one simple, valid input to the question on screen (multiple choice takes two)."""
    assert chat.state.current is not None
    step = chat.flow.step(chat.state.current)
    words = catalog(chat.language)
    if isinstance(step, SingleChoiceStep):
        chat.press(chat.labels()[0])
    elif isinstance(step, MultipleChoiceStep):
        chat.press(words("button_done") if chat.state.selected else chat.labels()[0])
    elif isinstance(step, YesNoStep):
        chat.press(words("button_yes"))
    elif isinstance(step, ScaleStep):
        chat.press(str(step.max))
    elif isinstance(step, NumberStep):
        number = next((bound for bound in (step.min, step.max) if bound is not None), 1.0)
        chat.send(str(int(number)) if number.is_integer() else str(number))
    else:
        assert isinstance(step, FreeTextStep)
        chat.send("Nothing more to add."[: step.max_length])


def answer_everything(chat: Chat) -> None:
    """Answer every question: first option, Yes, the top of the scale, the lowest number."""
    for _ in range(MOST_STEPS):
        if chat.state.status != "active":
            return
        answer_step(chat)
    pytest.fail(f"still going after {MOST_STEPS} inputs:\n{chat.transcript()}")


def skip_everything(chat: Chat) -> None:
    """Skip every question that allows it; answer the rest."""
    for _ in range(MOST_STEPS):
        if chat.state.status != "active":
            return
        assert chat.state.current is not None
        if chat.flow.can_skip(chat.flow.step(chat.state.current)):
            chat.send("/skip")
        else:
            answer_step(chat)
    pytest.fail(f"still going after {MOST_STEPS} inputs:\n{chat.transcript()}")


SCRIPTS = {"answers": answer_everything, "skips": skip_everything}


@pytest.mark.parametrize("path", SHIPPED or [None], ids=lambda p: p.stem if p else "none")
@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_transcript_shipped_flow(path: Path | None, script: str, update_golden: bool) -> None:
    if path is None:
        pytest.skip("no shipped flows in conversations/flows yet")
    chat = Chat(load_flow_file(path).flow)
    chat.open()
    chat.press(catalog(chat.language)("button_agree"))

    SCRIPTS[script](chat)

    assert chat.state.status == "completed"
    check_golden(f"shipped-{path.stem}-{script}", chat.transcript(), update_golden)
