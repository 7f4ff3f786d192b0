"""/export for staff: choose a round, a conversation or everything, then the format, with buttons.

The file arrives in the same private chat.
"""

from __future__ import annotations

import asyncio
import tempfile
from contextlib import suppress
from pathlib import Path

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.access import Access
from bot.exports.export import FORMATS, Format, export
from bot.exports.scope import EVERYTHING, Scope, round_scope, token_round
from bot.handlers import who
from bot.journey import Journey, Who
from bot.staff import guarded
from conversations.callbacks import ExportButton, decode
from conversations.catalog import catalog
from conversations.render import Button, Outgoing, PromptButtons, Send
from storage.export import ExportRound, export_rounds

Context = ContextTypes.DEFAULT_TYPE
ROUNDS_OFFERED = 10  # the newest rounds that have opened; older ones are on the command line


class ExportHandlers:
    """The /export command and its buttons."""

    def __init__(self, access: Access, journey: Journey, database: Path) -> None:
        self.access = access
        self.journey = journey
        self.database = database
        self.words = catalog("en")

    def install(self, app: Application) -> None:  # type: ignore[type-arg]
        """Add /export and its buttons; before the participant handlers."""
        private = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE
        handler = guarded(self.access, self.journey, "export", self.start)
        app.add_handler(CommandHandler("export", handler, filters=private))
        app.add_handler(CallbackQueryHandler(self.choose, pattern=r"^v1\|x\|"))

    async def start(self, person: Who, args: list[str], context: Context) -> None:
        """Ask which results to export: a recent round, a conversation, or everything."""
        rows = [
            (Button(self.words("export_round", id=found.id, title=found.title), _data(found)),)
            for found in await asyncio.to_thread(export_rounds, self.database, ROUNDS_OFFERED)
        ]
        rows += [
            (Button(flow_id, ExportButton(flow_id).encode()),)
            for flow_id in sorted(self.journey.flows.current)
        ]
        rows.append((Button(self.words("export_everything"), ExportButton(EVERYTHING).encode()),))
        await self._send(person, [Send(self.words("export_which"), tuple(rows))])

    async def choose(self, update: Update, context: Context) -> None:
        """Ask for the format, then make the file and send it."""
        query, person = update.callback_query, who(update)
        if query is None or person is None:
            return
        await self.journey.sender.answer_button(query.id)
        button = decode(query.data or "")
        if not isinstance(button, ExportButton):
            return
        if not await self.access.allows(person.user_id, "staff"):
            await self.access.refused(person.user_id, "export (button)")
            await self.journey.say(person, "stale")
            return
        prompt = query.message.message_id if query.message else None
        closed = PromptButtons(())
        scope = await self._scope(button.scope)
        if scope is None:
            await self._send(person, [closed, Send(self.words("export_unknown"))], prompt)
            return
        fmt = next((f for f in FORMATS if f == button.fmt), None)
        if fmt is None:
            choices = tuple(
                Button(f.upper(), ExportButton(button.scope, f).encode()) for f in FORMATS
            )
            ask = Send(self.words("export_format"), (choices,))
            await self._send(person, [closed, ask], prompt)
            return
        await self._send(person, [closed], prompt)
        await self._export(person, scope, fmt, context)

    async def _scope(self, token: str) -> Scope | None:
        """Return what a button asks to export; None if that round or conversation is gone."""
        if token == EVERYTHING:
            return Scope()
        round_id = token_round(token)
        if round_id is not None:
            return await round_scope(self.database, round_id)
        return Scope(token) if token in self.journey.flows.current else None

    async def _export(self, person: Who, scope: Scope, fmt: Format, context: Context) -> None:
        status = await context.bot.send_message(person.chat_id, self.words("export_working"))

        async def progress(runs: int) -> None:
            # Progress is a courtesy: the export goes on if an edit fails.
            with suppress(TelegramError):
                await status.edit_text(self.words("export_progress", runs=f"{runs:,}"))

        name = scope.file_name(self.access.clock.now().date(), fmt)
        with tempfile.TemporaryDirectory(prefix="heard-export-") as folder:
            path = Path(folder) / name
            summary = await export(
                self.database,
                path,
                fmt,
                scope.flow_id,
                progress=progress,
                round_id=scope.round_id,
            )
            made = await asyncio.to_thread(path.read_bytes)
            await self.journey.sender.send_file(person.chat_id, name, made)
        detail = f"{fmt} of {scope.label}: {summary.runs} runs"
        await self.access.record(person.user_id, "export", detail)
        done = self.words("export_done", runs=summary.runs, answers=summary.answers)
        await self._send(person, [Send(done)])

    async def _send(
        self, person: Who, messages: list[Outgoing], prompt_id: int | None = None
    ) -> None:
        await self.journey.sender.deliver(person.chat_id, messages, prompt_id)


def _data(found: ExportRound) -> str:
    return ExportButton(Scope.of_round(found).token).encode()
