"""Report and export wording comes from the catalogue, and every key asked for is there."""

from datetime import UTC
from pathlib import Path

import pytest

import bot.exports
import bot.reports
from bot.exports.scope import Scope
from bot.reports.figures import gather, summary_text
from bot.reports.report_cli import summary_markdown
from conversations.catalog import catalog
from tests.bot.exports.test_export import make_database
from tests.support.catalog_keys import keys_asked_for

MODULES = sorted(
    path
    for package in (bot.reports, bot.exports)
    for path in Path(package.__path__[0]).glob("*.py")
)


def test_every_key_reports_and_exports_ask_for_is_in_the_catalogue():
    asked = set().union(*(keys_asked_for(path.read_text(encoding="utf-8")) for path in MODULES))
    assert {"report_started", "report_equality_key", "chart_n", "scope_everything"} <= asked
    assert sorted(asked - catalog("en").keys()) == []


@pytest.mark.parametrize(
    ("key", "wording", "seen"),
    [
        ("report_started", "Begun: {count}", "Begun: 7"),
        ("report_equality_title", "By equality answer:", "\nBy equality answer:\n"),
        ("report_no_answer", "Not given", "• Not given: completed <5"),
        ("report_minutes", "{minutes} minutes", "Median time to complete: 2 minutes"),
    ],
)
async def test_report_message_says_what_the_catalogue_says(
    tmp_path, monkeypatch, key, wording, seen
):
    path = tmp_path / "heard.db"
    await make_database(path)
    monkeypatch.setitem(catalog("en")._texts, key, wording)
    assert seen in summary_text(await gather(path, Scope(), UTC))


async def test_report_markdown_says_what_the_catalogue_says(tmp_path, monkeypatch):
    path = tmp_path / "heard.db"
    await make_database(path)
    words = catalog("en")._texts
    monkeypatch.setitem(words, "report_markdown_title", "Summary of {title}")
    monkeypatch.setitem(words, "report_column_rate", "rate")
    monkeypatch.setitem(words, "scope_everything", "everything")
    markdown = summary_markdown(await gather(path, Scope(), UTC), [])
    assert markdown.startswith("# Summary of everything\n")
    assert "| answer | completed | not completed | rate |" in markdown
