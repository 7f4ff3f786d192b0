"""Exports read back cell by cell: pseudonymous, formula-safe, accents and emoji intact."""

import asyncio
import csv
import json
import os
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from bot.cli import main
from bot.exports.export import export
from conversations.loader import flow_to_json, load_flow_file
from storage.repository import ConsentGiven
from storage.sqlite import SQLiteRepository
from tests.support.bot_harness import SAMPLE_FLOWS

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
USER_IDS = [987654321 + i for i in range(7)]
WELSH = "Roedd y staff yn garedig iawn 💚 — diolch"


@pytest.fixture
async def database(tmp_path):
    path = tmp_path / "heard.db"
    await make_database(path)
    return path


async def make_database(path):
    loaded = load_flow_file(SAMPLE_FLOWS / "docs_example.yaml")
    flow = loaded.flow
    repository = await SQLiteRepository.open(path)
    await repository.register_flow(
        flow.id, flow.version, loaded.content_hash, flow_to_json(flow), NOW
    )
    answers = [
        [
            ("visited", "true"),
            ("visits", "3"),
            ("rating", "4"),
            ("helped", '["staff", "place"]'),
            ("change", json.dumps(WELSH)),
            ("age", '"25-44"'),
        ],
        [("visited", "false"), ("why-not", json.dumps('=HYPERLINK("x")')), ("age", '"25-44"')],
        [
            ("visited", "true"),
            ("visits", "null"),
            ("rating", "null"),
            ("helped", "null"),
            ("change", json.dumps("+44 7700 900000 @home")),
            ("age", '"prefer-not"'),
        ],
    ]
    for i, user_id in enumerate(USER_IDS):
        who = await repository.enrol(
            user_id=user_id,
            chat_id=user_id,
            language="en",
            consent=ConsentGiven(flow.id, flow.version, 1),
            now=NOW,
        )
        run = await repository.start_run(who.code, flow.id, flow.version, "{}", NOW)
        status = "completed" if i < 5 else "active"
        await repository.save(run.id, "{}", status, answers[i % 3], NOW + timedelta(minutes=i))
    await repository.close()


async def test_export_csv_is_the_responses_sheet_with_a_bom(database, tmp_path):
    out = tmp_path / "r.csv"
    summary = await export(database, out, "csv")
    assert (summary.runs, summary.answers) == (7, 36)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    header = rows[0]
    assert header[:8] == [
        "participant",
        "run",
        "round",
        "conversation",
        "version",
        "started (UTC)",
        "completed (UTC)",
        "status",
    ]
    assert "age" not in header  # equality answers never sit beside a response
    first = dict(zip(header, rows[1], strict=True))
    assert first["participant"].startswith("P-")
    assert first["visited"] == "Yes"
    assert first["rating"] == "4"
    assert first["helped: The staff"] == "1"
    assert first["helped: Being seen quickly"] == "0"
    assert first["change"] == WELSH
    second = dict(zip(header, rows[2], strict=True))
    assert second["why-not"] == '\'=HYPERLINK("x")'
    assert second["helped: The staff"] == ""
    third = dict(zip(header, rows[3], strict=True))
    assert third["change"] == "'+44 7700 900000 @home"
    assert third["rating"] == ""


async def test_export_xlsx_sheets_read_back_cell_by_cell(database, tmp_path):
    out = tmp_path / "r.xlsx"
    await export(database, out, "xlsx")
    book = load_workbook(out)
    assert book.sheetnames == ["Responses", "Answers", "Questions", "Summary", "Equality"]
    responses = list(book["Responses"].values)
    header = list(responses[0])
    first = dict(zip(header, responses[1], strict=True))
    assert first["change"] == WELSH
    assert isinstance(first["started (UTC)"], datetime)
    assert first["helped: The place itself"] == 1
    answers = list(book["Answers"].values)
    skipped = [row for row in answers[1:] if row[5] == "yes"]
    assert {row[2] for row in skipped} == {"visits", "rating", "helped"}
    assert all(row[2] != "age" for row in answers[1:])
    summary: dict = {row[0]: row[1] for row in list(book["Summary"].values)[1:]}
    assert summary["conversations"] == 7
    assert summary["completed"] == 5
    assert summary["completion rate"] == "71%"
    equality = {(q, a): n for q, a, n in list(book["Equality"].values)[1:]}
    assert equality[("age", "25 to 44")] == 5
    assert equality[("age", "Prefer not to say")] == "<5"
    assert book["Responses"].freeze_panes == "A2"


async def test_export_xlsx_bytes_hold_no_telegram_id(database, tmp_path):
    out = tmp_path / "r.xlsx"
    await export(database, out, "xlsx", linked_equality=True)
    with zipfile.ZipFile(out) as archive:
        content = b"".join(archive.read(name) for name in archive.namelist())
    for user_id in USER_IDS:
        assert str(user_id).encode() not in content
    book = load_workbook(out)
    assert "Equality" not in book.sheetnames
    assert any(str(h).startswith("age") for h in next(book["Responses"].values))


async def test_export_json_runs_with_answers(database, tmp_path):
    out = tmp_path / "r.json"
    await export(database, out, "json")
    runs = json.loads(out.read_text(encoding="utf-8"))
    assert len(runs) == 7
    first = runs[0]
    assert first["participant"].startswith("P-")
    shown = {a["question"]: a["shown"] for a in first["answers"]}
    assert shown["helped"] == "The staff; The place itself"
    assert shown["change"] == WELSH
    assert "age" not in shown
    for user_id in USER_IDS:
        assert str(user_id) not in out.read_text(encoding="utf-8")


async def test_export_of_one_conversation_only(database, tmp_path):
    out = tmp_path / "none.json"
    summary = await export(database, out, "json", flow_id="no-such-flow")
    assert summary.runs == 0
    assert json.loads(out.read_text()) == []


def test_export_cli_writes_and_audits(tmp_path, capsys, monkeypatch):
    path = tmp_path / "heard.db"
    asyncio.run(make_database(path))
    monkeypatch.setenv("HEARD_DATABASE", str(path))
    out = tmp_path / "heard-all.xlsx"
    argv = ["--env-file", os.devnull, "export", "--format", "xlsx", "--output", str(out)]
    assert main(argv) == 0
    assert capsys.readouterr().out == f"wrote 7 conversation run(s), 36 answer(s) to {out}\n"
    assert load_workbook(out).sheetnames[0] == "Responses"
    assert main(["--env-file", os.devnull, "audit"]) == 0
    assert "heard export: export xlsx of all conversations: 7 runs" in capsys.readouterr().out
