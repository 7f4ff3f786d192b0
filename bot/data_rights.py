"""A participant's control over their data: /settings, /mydata and /delete."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.clock import Clock
from bot.flows import FlowLibrary
from bot.journey import Who
from bot.sender import Sender, Unreachable
from bot.support import NATIONS, SupportFile, render_support
from conversations.callbacks import ChoiceButton
from conversations.catalog import Catalog, catalog
from conversations.engine import RunState
from conversations.model import MessageStep, text_in
from conversations.render import Button, Keyboard, Outgoing, PromptButtons, Renderer, Send
from storage.audit import Audit
from storage.repository import Deleted, Participant, Repository, Run

CHOSEN_NATIONS = [nation for nation in NATIONS if nation != "uk"]


class DataRights:
    """Let participants see, change and delete what Heard keeps about them."""

    def __init__(
        self,
        repository: Repository,
        flows: FlowLibrary,
        sender: Sender,
        clock: Clock,
        support: SupportFile,
    ) -> None:
        self.repository = repository
        self.flows = flows
        self.sender = sender
        self.clock = clock
        self.support = support

    async def settings(self, who: Who) -> None:
        """Show the participant's choices with buttons to change them."""
        participant = await self._participant(who)
        if participant is None:
            return
        words = catalog(participant.language)
        await self._send(who, [self._settings(participant, words)])

    async def my_data(self, who: Who) -> None:
        """Send everything stored about the participant, as text and as JSON."""
        participant = await self._participant(who)
        if participant is None:
            return
        words = catalog(participant.language)
        data = await self._collect(participant)
        stamp = self.clock.now().strftime("%Y-%m-%d")
        try:
            await self.sender.send_file(
                who.chat_id, f"heard-my-data-{stamp}.txt", _readable(data, words).encode()
            )
            content = json.dumps(data, ensure_ascii=False, indent=2).encode()
            await self.sender.send_file(who.chat_id, f"heard-my-data-{stamp}.json", content)
        except Unreachable:
            await self.repository.set_status(participant.code, "unreachable")
            return
        await self._send(who, [Send(words("mydata_sent"))])

    async def delete(self, who: Who) -> None:
        """Explain what deleting does and does not do, and ask to confirm."""
        participant = await self._participant(who)
        if participant is None:
            return
        words = catalog(participant.language)
        buttons = (
            (Button(words("button_delete_yes"), ChoiceButton("delete", "y").encode()),),
            (Button(words("button_delete_no"), ChoiceButton("delete", "n").encode()),),
        )
        await self._send(who, [Send(words("delete_question"), buttons)])

    async def choose(self, who: Who, button: ChoiceButton, message_id: int | None) -> None:
        """Apply a settings, contact or delete button."""
        participant = await self._participant(who)
        if participant is None:
            return
        words = catalog(participant.language)
        done: list[Outgoing] = [PromptButtons(())]
        if button.topic == "delete" and button.value == "y":
            await self.repository.delete_participant(participant.code, self._deletion_entry)
            await self._send(who, [*done, Send(words("deleted"))], message_id)
        elif button.topic == "delete":
            await self._send(who, [*done, Send(words("delete_kept"))], message_id)
        elif button.topic == "contact" and button.value in ("y", "n"):
            agreed = button.value == "y"
            await self.repository.set_contact(participant.code, agreed, self.now)
            replies: list[Outgoing] = [Send(words("contact_yes" if agreed else "contact_no"))]
            if participant.nation is None:
                # Asked once, and optional: "I'd rather not say" is remembered too.
                replies.append(self._nation_question(words))
            await self._send(who, [*done, *replies], message_id)
        elif button.topic == "nation" and button.value == "ask":
            await self._send(who, [*done, self._nation_question(words)], message_id)
        elif button.topic == "nation" and button.value in [*CHOSEN_NATIONS, "none"]:
            await self.repository.set_nation(participant.code, button.value)
            nation = None if button.value == "none" else button.value
            lines = render_support(self.support, nation, participant.language)
            await self._send(who, [*done, Send(words("nation_saved", lines=lines))], message_id)
        else:
            await self._send(who, [Send(words("stale")), self._settings(participant, words)])

    @property
    def now(self) -> datetime:
        """Return the current time."""
        return self.clock.now()

    def _deletion_entry(self, deleted: Deleted) -> Audit:
        """Make the audit entry for a deletion, stored in the deletion's own transaction."""
        detail = f"runs {deleted.runs}, answers {deleted.answers}, consents {deleted.consents}"
        return Audit("a participant", "deleted their data", detail, self.now)

    async def _participant(self, who: Who) -> Participant | None:
        contact = await self.repository.contact_for_user(who.user_id)
        if contact is None:
            await self._send(who, [Send(catalog("en")("no_data"))])
            return None
        return contact.participant

    def _settings(self, participant: Participant, words: Catalog) -> Send:
        contact = words("setting_yes" if participant.contact_ok else "setting_no")
        nation = words(_nation_key(participant.nation))
        on = participant.contact_ok
        switch = ("button_contact_off", "n") if on else ("button_contact_on", "y")
        buttons: Keyboard = (
            (Button(words(switch[0]), ChoiceButton("contact", switch[1]).encode()),),
            (Button(words("button_nation"), ChoiceButton("nation", "ask").encode()),),
        )
        return Send(words("settings", contact=contact, nation=nation), buttons)

    def _nation_question(self, words: Catalog) -> Send:
        rows = [
            (Button(words(f"nation_{nation}"), ChoiceButton("nation", nation).encode()),)
            for nation in CHOSEN_NATIONS
        ]
        none = ChoiceButton("nation", "none").encode()
        rows.append((Button(words("button_nation_none"), none),))
        return Send(words("nation_question"), tuple(rows))

    async def _collect(self, participant: Participant) -> dict[str, Any]:
        consents = await self.repository.consents_of(participant.code)
        stored_runs = await self.repository.runs_of(participant.code)
        runs = [await self._run(run, participant.language) for run in stored_runs]
        return {
            "made_on": self.clock.now().date().isoformat(),
            "code": participant.code,
            "language": participant.language,
            "messages_about_future_rounds": participant.contact_ok,
            "nation": participant.nation,
            "joined": participant.created_at.isoformat(),
            "consents": [
                {
                    "conversation": c.flow_id,
                    "conversation_version": c.flow_version,
                    "consent_version": c.consent_version,
                    "given_at": c.given_at.isoformat(),
                    "title": await self._title(c.flow_id, c.flow_version, participant.language),
                }
                for c in consents
            ],
            "conversations": runs,
            "scheduled_messages": [
                {"kind": item.kind, "due": item.due_at.isoformat()}
                for item in await self.repository.waiting_for(participant.code)
            ],
            **await self._safeguarding(participant),
        }

    async def _safeguarding(self, participant: Participant) -> dict[str, Any]:
        """Collect what safeguarding keeps about a person: flags, notes, messages, words aside."""
        code = participant.code
        return {
            "safeguarding_flags": [
                {
                    "flag": f"F-{flag.id}",
                    "written_at": flag.created_at.isoformat(),
                    "priority": flag.priority,
                    "where": flag.source,
                    "your_words": flag.text,
                    "matched": flag.phrase,
                    "needed_help_now_at": _stamp(flag.urgent_at),
                    "said_safe_at": _stamp(flag.safe_at),
                    "outcome": flag.outcome,
                    "reviewed_at": _stamp(flag.reviewed_at),
                    "note": flag.note,
                }
                for flag in await self.repository.flags_of(code)
            ],
            "messages_with_staff": [
                {
                    "from": "staff" if m.direction == "to_participant" else "you",
                    "text": m.text,
                    "at": m.created_at.isoformat(),
                }
                for m in await self.repository.contact_messages_of(code)
            ],
            "messages_kept_aside": [
                {"text": k.text, "why": k.why, "written_at": k.written_at.isoformat()}
                for k in await self.repository.kept_of(code)
            ],
        }

    async def _run(self, run: Run, language: str) -> dict[str, Any]:
        flow = await self.flows.version(run.flow_id, run.flow_version)
        state = RunState.model_validate_json(run.state)
        answers = []
        for stored in await self.repository.answers(run.id):
            value = json.loads(stored.value)
            question, shown = stored.step_id, str(value)
            if flow is not None and flow.has_step(stored.step_id):
                step = flow.step(stored.step_id)
                question = text_in(step.text, language, flow.default_language)
                if not isinstance(step, MessageStep):
                    shown = Renderer(flow, language, run.id).answer(step, value)
            answers.append(
                {
                    "question_id": stored.step_id,
                    "question": question,
                    "answer": value,
                    "answer_as_shown": shown,
                    "answered_at": stored.answered_at.isoformat(),
                }
            )
        return {
            "conversation": run.flow_id,
            "conversation_version": run.flow_version,
            "title": await self._title(run.flow_id, run.flow_version, language),
            "status": state.status,
            "started_at": run.started_at.isoformat(),
            "completed_at": run.completed_at.isoformat() if run.completed_at else None,
            "answers": answers,
        }

    async def _title(self, flow_id: str, version: int, language: str) -> str:
        flow = await self.flows.version(flow_id, version)
        return flow_id if flow is None else text_in(flow.title, language, flow.default_language)

    async def _send(
        self, who: Who, messages: list[Outgoing], prompt_id: int | None = None
    ) -> None:
        try:
            await self.sender.deliver(who.chat_id, messages, prompt_id)
        except Unreachable:
            return


def _readable(data: dict[str, Any], words: Catalog) -> str:
    """Write the collected data as plain text a person can read."""
    yes_no = {True: words("setting_yes"), False: words("setting_no")}
    nation = words(_nation_key(data["nation"]))
    lines = [
        words("mydata_heading", date=data["made_on"]),
        "",
        words("mydata_code", code=data["code"]),
        words(
            "mydata_choices",
            language=data["language"],
            contact=yes_no[data["messages_about_future_rounds"]],
            nation=nation,
        ),
        "",
    ]
    for consent in data["consents"]:
        lines.append(
            words(
                "mydata_consent",
                title=consent["title"],
                version=consent["consent_version"],
                date=_shown(consent["given_at"]),
            )
        )
    for run in data["conversations"]:
        lines += [
            "",
            words(
                "mydata_run",
                title=run["title"],
                version=run["conversation_version"],
                started=_shown(run["started_at"]),
                status=words(f"status_{run['status']}"),
            ),
        ]
        lines += [
            words("mydata_answer", question=a["question"], answer=a["answer_as_shown"])
            for a in run["answers"]
        ]
    scheduled = data["scheduled_messages"]
    lines += ["", words("mydata_scheduled" if scheduled else "mydata_nothing_scheduled")]
    lines += [
        words(
            "mydata_scheduled_item",
            kind=words(f"outbox_{item['kind']}"),
            due=_shown(item["due"]),
        )
        for item in scheduled
    ]
    return "\n".join(lines + _readable_safeguarding(data, words)) + "\n"


def _readable_safeguarding(data: dict[str, Any], words: Catalog) -> list[str]:
    """Write the safeguarding part of the collected data as plain text."""
    lines: list[str] = []
    if data["safeguarding_flags"]:
        lines += ["", words("mydata_flags")]
    for flag in data["safeguarding_flags"]:
        outcome = flag["outcome"] or words("mydata_flag_waiting")
        text = flag["your_words"] or ""
        lines.append(
            words("mydata_flag", date=_shown(flag["written_at"]), text=text, outcome=outcome)
        )
        if flag["priority"] == "concern":
            lines.append(words("mydata_flag_concern"))
        if flag["needed_help_now_at"]:
            lines.append(words("mydata_flag_urgent", date=_shown(flag["needed_help_now_at"])))
        if flag["said_safe_at"]:
            lines.append(words("mydata_flag_safe", date=_shown(flag["said_safe_at"])))
        if flag["note"]:
            lines.append(words("mydata_flag_note", note=flag["note"]))
    if data["messages_with_staff"]:
        lines += ["", words("mydata_thread")]
    for message in data["messages_with_staff"]:
        key = "mydata_thread_staff" if message["from"] == "staff" else "mydata_thread_you"
        lines.append(words(key, date=_shown(message["at"]), text=message["text"]))
    if data["messages_kept_aside"]:
        lines += ["", words("mydata_kept")]
    lines += [
        words("mydata_kept_item", date=_shown(kept["written_at"]), text=kept["text"])
        for kept in data["messages_kept_aside"]
    ]
    return lines


def _shown(stamp: str) -> str:
    """Show a stored time as people read it: to the minute."""
    return stamp[:16].replace("T", " ")


def _stamp(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def _nation_key(nation: str | None) -> str:
    """Return the catalogue key naming a participant's nation ("not said" if none)."""
    return f"nation_{nation}" if nation in CHOSEN_NATIONS else "nation_none"
