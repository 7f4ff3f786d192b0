"""PNG charts for reports, drawn headless with matplotlib's Agg canvas: no display, no globals.

matplotlib is imported when the first chart is drawn, not with this module: it is a third of
the bot's memory and a third of its start-up, and most processes never draw a chart.
"""

from __future__ import annotations

import io
import textwrap
import warnings
from collections.abc import Mapping
from datetime import date, timedelta
from typing import TYPE_CHECKING

from bot.exports.codebook import Entry
from bot.reports.figures import Report
from conversations.catalog import catalog

if TYPE_CHECKING:
    from matplotlib.figure import Figure

WIDTH = 6.0  # inches; at 150 dpi a chart is 900 pixels wide, sharp on a phone
DPI = 150
FONT = 12
BAR = "#2a6f97"
LABEL_WIDTH = 22
TITLE_WIDTH = 44
MAX_DATE_TICKS = 6


def question_chart(entry: Entry, counts: Mapping[str, int], n: int) -> bytes:
    """Draw one question's answers as horizontal bars with counts and percentages."""
    labels = [_wrap(label, LABEL_WIDTH) for _, label in entry.options]
    values = [counts.get(option, 0) for option, _ in entry.options]
    lines = sum(label.count("\n") + 1 for label in labels)
    figure = _figure(max(4.0, 1.4 + 0.32 * lines + 0.2 * len(labels)))
    axes = figure.add_subplot()
    positions = list(range(len(values)))
    bars = axes.barh(positions, values, color=BAR)
    axes.set_yticks(positions, labels, fontsize=FONT)
    axes.invert_yaxis()  # the first option on top, as it was offered
    words = catalog("en")
    axes.bar_label(
        bars,
        labels=[
            words("chart_bar", count=v, percent=f"{v / n:.0%}") if n else str(v) for v in values
        ],
        padding=4,
        fontsize=FONT,
    )
    axes.set_xlim(0, max([*values, 1]) * 1.35)  # room for the labels beside the longest bar
    axes.set_xticks([])
    for side in ("top", "right", "bottom"):
        axes.spines[side].set_visible(False)
    _title(figure, f"{_wrap(entry.text, TITLE_WIDTH)}\n{words('chart_n', n=n)}")
    return _png(figure)


def over_time_chart(per_day: Mapping[date, int]) -> bytes:
    """Draw conversations started per day, with the quiet days shown as gaps."""
    from matplotlib.ticker import MaxNLocator

    figure = _figure(4.0)
    axes = figure.add_subplot()
    days = _every_day(per_day)
    positions = list(range(len(days)))
    axes.bar(positions, [per_day.get(day, 0) for day in days], color=BAR, width=0.8)
    step = max(1, -(-len(days) // MAX_DATE_TICKS))
    ticks = positions[::step]
    axes.set_xticks(ticks, [f"{days[i].day} {days[i]:%b}" for i in ticks])
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.tick_params(labelsize=FONT)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    words = catalog("en")
    total = sum(per_day.values())
    what = words("report_per_day")
    if days:
        what = words("chart_per_day_since", what=what, day=f"{days[0].day} {days[0]:%b %Y}")
    _title(figure, f"{what}\n{words('chart_n', n=total)}")
    return _png(figure)


def report_charts(report: Report) -> list[tuple[str, bytes]]:
    """Draw every chart of a report, named as chart_name() says and 'over-time'."""
    charts = [
        (chart_name(q.entry), question_chart(q.entry, q.counts, q.answered))
        for q in report.charted()
    ]
    if report.per_day:
        charts.append(("over-time", over_time_chart(report.per_day)))
    return charts


def chart_name(entry: Entry) -> str:
    """Return a question's chart name: 'q-rating', or 'q-sample.rating' if the id is shared."""
    if entry.flow_id is None:
        return f"q-{entry.step_id}"
    return f"q-{entry.flow_id}.{entry.step_id}"  # ids have no dots: the name cannot clash


def _every_day(per_day: Mapping[date, int]) -> list[date]:
    if not per_day:
        return []
    first, last = min(per_day), max(per_day)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _figure(height: float) -> Figure:
    """Return a new figure of the charts' width, laid out so that nothing is cut off."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH, height), dpi=DPI)
    figure.set_layout_engine("constrained")
    return figure


def _title(figure: Figure, title: str) -> None:
    figure.suptitle(title, x=0.02, horizontalalignment="left", fontsize=FONT + 1)


def _wrap(text: str, width: int) -> str:
    """Wrap text for a chart, with '$' kept literal rather than read as mathematics."""
    return "\n".join(textwrap.wrap(text, width) or [""]).replace("$", r"\$")


def _png(figure: Figure) -> bytes:
    """Render a figure to PNG bytes; the figure is dropped with its canvas, nothing lingers."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)  # draw with Agg, whatever backend pyplot may have chosen
    out = io.BytesIO()
    with warnings.catch_warnings():
        # Emoji are missing from the bundled font: they show as boxes, not an error.
        warnings.filterwarnings(
            "ignore", message="Glyph .* missing from font", category=UserWarning
        )
        figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()
