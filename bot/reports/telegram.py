"""/report for staff: the headline figures in one message, then one chart per question."""

from __future__ import annotations

import asyncio
from datetime import UTC, tzinfo
from pathlib import Path

from telegram.ext import Application, CommandHandler, ContextTypes, filters

from bot.access import Access
from bot.exports.scope import Scope, round_scope, typed_round
from bot.journey import Journey, Who
from bot.reports.charts import report_charts
from bot.reports.figures import gather, summary_text
from bot.staff import guarded
from conversations.catalog import catalog
from conversations.render import Send

Context = ContextTypes.DEFAULT_TYPE


class ReportHandlers:
    """The /report command."""

    def __init__(
        self, access: Access, journey: Journey, database: Path, zone: tzinfo = UTC
    ) -> None:
        self.access = access
        self.journey = journey
        self.database = database
        self.zone = zone  # days in the chart of responses over time are this zone's
        self.words = catalog("en")

    def install(self, app: Application) -> None:  # type: ignore[type-arg]
        """Add /report; before the participant handlers."""
        private = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE
        handler = guarded(self.access, self.journey, "report", self.report)
        app.add_handler(CommandHandler("report", handler, filters=private))

    async def report(self, person: Who, args: list[str], context: Context) -> None:
        """Send the figures of a round, a conversation or all, then each chart as a photo."""
        scope = await self._scope(person, args)
        if scope is None:
            return
        await self._reply(person, self.words("report_working"))
        report = await gather(self.database, scope, self.zone)
        # Drawing takes a moment per chart: keep the event loop free for the conversations.
        charts = await asyncio.to_thread(report_charts, report)
        await self._reply(person, summary_text(report))
        for _, png in charts:
            await context.bot.send_photo(person.chat_id, png)
        detail = f"{scope.label}: {report.started} runs, {len(charts)} charts"
        await self.access.record(person.user_id, "report", detail)

    async def _scope(self, person: Who, args: list[str]) -> Scope | None:
        """Read what /report asks for; say how to ask (and return None) if it cannot be used."""
        flows = sorted(self.journey.flows.current)
        if not args:
            return Scope()
        # A conversation's id first: "3" or "r3" may be a conversation as well as a round.
        if len(args) == 1 and args[0] in flows:
            return Scope(args[0])
        number = typed_round(args[0]) if len(args) == 1 else None
        if number is None:
            await self._reply(person, self.words("report_usage", flows=", ".join(flows)))
            return None
        found = await round_scope(self.database, number)
        if found is None:
            await self._reply(person, self.words("report_no_round", round=f"R{number}"))
        return found

    async def _reply(self, person: Who, text: str) -> None:
        await self.journey.sender.deliver(person.chat_id, [Send(text[:4096])], None)
