"""What staff read about a flag: the alert, kept up to date, and the messages that follow it.

Staff text is English (the charity's working language) and names people only by their code:
no Telegram id, name or username ever appears.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.safety import ContactMessage, Flag

TEXT_LIMIT = 1500
WHERE = {
    "answer": None,
    "message": "a message outside any question",
    "caption": "the caption of a photo, video or file",
    "edit": "an edited message",
    "reply": "a reply to a message from staff",
    "before_question": "a message sent before their question reached them",
    "help_button": "the “I need help now” button",
}


@dataclass(frozen=True)
class FlagContext:
    """Where a flag's words were written, for the alert: the conversation and question."""

    conversation: str = "none"
    question: str | None = None


def alert(flag: Flag, context: FlagContext, *, heading: str | None = None) -> str:
    """Describe a flag (or a concern) as it now stands: the words, the check-in, the review."""
    title = f"Safeguarding flag F-{flag.id}"
    if flag.priority == "concern":
        title = f"Safeguarding concern F-{flag.id} (lower priority)"
    if flag.urgent_at is not None:
        title = f"URGENT: {title}"
    lines = [f"{heading} {title}" if heading else title]
    lines.append(f"Participant: {flag.participant_code or 'deleted'}")
    lines.append(f"Conversation: {context.conversation}")
    where = WHERE.get(flag.source)
    if where is not None:
        lines.append(f"Where: {where}")
    else:
        lines.append(f"Question: {context.question or 'a message outside any question'}")
    if flag.source != "help_button":
        lines.append(f"Matched: {flag.phrase}")
    lines.append(f"They wrote: {_words(flag)}")
    lines.append(f"Time: {_at(flag.created_at)}")
    if flag.stored_at is not None:
        lines.append(f"Stored: {_at(flag.stored_at)} (the database was refusing writes before)")
    lines += ["", _check_in(flag), _review(flag)]
    if flag.participant_code is not None and flag.reviewed_at is None:
        lines.append(
            f"Record an outcome with /flags; message them with /reply {flag.participant_code}"
        )
    return "\n".join(lines)


def urgent(flag: Flag) -> str:
    """Say at once that someone pressed "I need help now"."""
    code = flag.participant_code or "a participant"
    return (
        f"URGENT: {code} pressed “I need help now” at {_at(flag.urgent_at or flag.created_at)} "
        f"(F-{flag.id}).\n"
        "They were shown 999, A&E and crisis lines, and told Heard cannot call them or send help. "
        f"Follow your safeguarding policy now. Message them with /reply {code}"
    )


def relayed(message: ContactMessage) -> str:
    """Pass on what a participant wrote back to staff."""
    about = f" (about F-{message.flag_id})" if message.flag_id is not None else ""
    return (
        f"Message from {message.participant_code}{about}, {_at(message.created_at)}:\n\n"
        f"{_cut(message.text)}\n\n"
        f"Answer with /reply {message.participant_code} your message"
    )


def removed(flag_id: int | None) -> str:
    """Replace a post whose participant deleted their data."""
    name = f"F-{flag_id}" if flag_id is not None else "This message"
    return f"{name}: removed, because the participant deleted their data."


def _words(flag: Flag) -> str:
    if flag.text is None:
        return "(removed: their data was deleted)"
    if flag.source == "help_button":
        return "(nothing: they pressed the button)"
    return _cut(flag.text)


def _check_in(flag: Flag) -> str:
    if flag.priority == "concern":
        return (
            "No check-in and no alert (a concern): Heard shows a short note with support lines "
            "(not more than once a day) and the conversation goes on. The answer is not "
            "withheld from exports."
        )
    if flag.urgent_at is not None:
        return (
            f"Check-in: they pressed “I need help now” at {_at(flag.urgent_at)} and were shown "
            "999, A&E and crisis lines."
        )
    if flag.safe_at is not None:
        return f"Check-in: they said they are safe and carried on ({_at(flag.safe_at)})."
    return "Check-in: they were shown support lines and asked if they are safe now; no answer yet."


def _review(flag: Flag) -> str:
    if flag.reviewed_at is None:
        return "Review: not reviewed yet."
    note = f" Note: {flag.note}" if flag.note else ""
    return f"Review: {flag.outcome} ({_at(flag.reviewed_at)}).{note}"


def _cut(text: str) -> str:
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"


def _at(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M UTC")
