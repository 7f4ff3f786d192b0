"""/report for staff: the headline figures in one message, then one chart per question."""

from __future__ import annotations

import asyncio
from pathlib import Path

from telegram.ext import Application, CommandHandler, ContextTypes, filters

from bot.access import Access
from bot.journey import Journey, Who
from bot.reports.charts import report_charts
from bot.reports.figures import gather, summary_text
from bot.staff import guarded
from conversations.catalog import catalog
from conversations.render import Send

Context = ContextTypes.DEFAULT_TYPE


class ReportHandlers:
    """The /report command."""

    def __init__(self, access: Access, journey: Journey, database: Path) -> None:
        self.access = access
        self.journey = journey
        self.database = database
        self.words = catalog("en")

    def install(self, app: Application) -> None:  # type: ignore[type-arg]
        """Add /report; before the participant handlers."""
        private = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE
        handler = guarded(self.access, self.journey, "report", self.report)
        app.add_handler(CommandHandler("report", handler, filters=private))

    async def report(self, person: Who, args: list[str], context: Context) -> None:
        """Send the figures of one conversation (or all), then each chart as a photo."""
        flows = sorted(self.journey.flows.current)
        flow_id = args[0] if args else None
        if len(args) > 1 or (flow_id is not None and flow_id not in flows):
            await self._reply(person, self.words("report_usage", flows=", ".join(flows)))
            return
        await self._reply(person, self.words("report_working"))
        report = await gather(self.database, flow_id)
        # Drawing takes a moment per chart: keep the event loop free for the conversations.
        charts = await asyncio.to_thread(report_charts, report)
        await self._reply(person, summary_text(report))
        for _, png in charts:
            await context.bot.send_photo(person.chat_id, png)
        detail = f"{flow_id or 'all conversations'}: {report.started} runs, {len(charts)} charts"
        await self.access.record(person.user_id, "report", detail)

    async def _reply(self, person: Who, text: str) -> None:
        await self.journey.sender.deliver(person.chat_id, [Send(text[:4096])], None)
