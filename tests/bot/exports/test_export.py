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
from bot.exports.scope import Scope, token_round, typed_round
from bot.exports.xlsx import serial
from conversations.loader import flow_to_json, load_flow_file
from storage.export import (
    ExportRound,
    export_rounds,
    stream_responses,
    stream_runs,
    stream_sheet_runs,
)
from storage.repository import ConsentGiven
from storage.rounds import NewRound
from storage.sqlite import SQLiteRepository
from tests.support.audit import entry_from
from tests.support.bot_harness import SAMPLE_FLOWS

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
USER_IDS = [987654321 + i for i in range(7)]
ROUND_USER_IDS = [876543219 + i for i in range(5)]
WELSH = "Roedd y staff yn garedig iawn 💚 — diolch"
ROUND_TITLE = "Winter check-in"


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


async def make_round_database(path):
    """Add to make_database: round 1 of the clinic conversation, and a sample run outside it.

    Five people are eligible; four invitations are sent and one fails. One person completes,
    one is part-way, one says "not this time" and one says /stop. Round 2 is scheduled.
    """
    await make_database(path)
    sample = load_flow_file(SAMPLE_FLOWS / "sample.yaml")
    repository = await SQLiteRepository.open(path)
    await repository.register_flow(
        "sample", 1, sample.content_hash, flow_to_json(sample.flow), NOW
    )
    codes = []
    for user_id in ROUND_USER_IDS:
        consent = ConsentGiven("drop-in-clinic", 1, 1)
        who = await repository.enrol(
            user_id=user_id, chat_id=user_id, language="en", consent=consent, now=NOW
        )
        await repository.set_contact(who.code, True, NOW)
        codes.append(who.code)
    made = await repository.create_round(
        NewRound(ROUND_TITLE, "drop-in-clinic", NOW, NOW + timedelta(days=14), "cli"),
        NOW,
        entry_from(NOW),
    )
    await repository.open_due_rounds(NOW)
    items = {i.participant_code: i for i in await repository.claim_due(NOW, NOW + HOUR, 10)}
    for code in codes[:4]:
        await repository.mark_sent(items[code].id, NOW)
    await repository.give_up(items[codes[4]].id, "failed", "network")
    done = await repository.start_run(codes[0], "drop-in-clinic", 1, "{}", NOW, round_id=made.id)
    answers = [("visited", "true"), ("rating", "5"), ("age", '"under-25"')]
    await repository.save(done.id, "{}", "completed", answers, NOW + timedelta(minutes=30))
    part_way = await repository.start_run(
        codes[1], "drop-in-clinic", 1, "{}", NOW, round_id=made.id
    )
    await repository.save(part_way.id, "{}", "active", [("visited", "false")], NOW)
    await repository.decline(items[codes[2]].id, codes[2], NOW)
    await repository.stop_participant(codes[3], NOW)
    outside = await repository.start_run(codes[4], "sample", 1, "{}", NOW)
    await repository.save(outside.id, "{}", "completed", [("used", "true")], NOW)
    later = NOW + timedelta(days=30)
    await repository.create_round(
        NewRound("Spring", "drop-in-clinic", later, later + timedelta(days=14), "cli"),
        NOW,
        entry_from(NOW),
    )
    await repository.close()
    return made.id, codes


@pytest.fixture
async def round_database(tmp_path):
    path = tmp_path / "heard.db"
    round_id, codes = await make_round_database(path)
    return path, round_id, codes


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


@pytest.mark.parametrize("in_round", [False, True], ids=["everything", "round"])
async def test_export_xlsx_bytes_hold_no_telegram_id(round_database, tmp_path, in_round):
    database, round_id, _ = round_database
    out = tmp_path / "r.xlsx"
    scope = {"flow_id": "drop-in-clinic", "round_id": round_id} if in_round else {}
    summary = await export(database, out, "xlsx", linked_equality=True, **scope)
    assert summary.runs == (2 if in_round else 10)
    with zipfile.ZipFile(out) as archive:
        content = b"".join(archive.read(name) for name in archive.namelist())
    assert b"P-" in content  # the scan reads the sheets' text: codes are there, ids are not
    for user_id in USER_IDS + ROUND_USER_IDS:
        assert str(user_id).encode() not in content
    book = load_workbook(out)
    assert "Equality" not in book.sheetnames
    assert any(str(h).startswith("age") for h in next(book["Responses"].values))


@pytest.mark.parametrize("fmt", ["csv", "json"])
async def test_export_text_formats_hold_no_telegram_id(round_database, tmp_path, fmt):
    database, round_id, _ = round_database
    for scope in ({}, {"flow_id": "drop-in-clinic", "round_id": round_id}):
        out = tmp_path / f"r.{fmt}"
        await export(database, out, fmt, linked_equality=True, **scope)
        content = out.read_bytes()
        assert b"P-" in content
        for user_id in USER_IDS + ROUND_USER_IDS:
            assert str(user_id).encode() not in content


async def test_export_of_a_round_holds_only_its_runs(round_database, tmp_path):
    database, round_id, codes = round_database
    out = tmp_path / "round.json"
    summary = await export(database, out, "json", "drop-in-clinic", round_id=round_id)
    runs = json.loads(out.read_text(encoding="utf-8"))
    assert (summary.runs, summary.answers) == (2, 4)
    assert [(r["participant"], r["round"], r["status"]) for r in runs] == [
        (codes[0], round_id, "completed"),
        (codes[1], round_id, "active"),
    ]
    assert {a["question"]: a["shown"] for a in runs[0]["answers"]} == {
        "visited": "Yes",
        "rating": 5,
    }


async def test_export_of_a_round_has_its_conversations_questions_only(round_database, tmp_path):
    database, round_id, codes = round_database
    everything = tmp_path / "all.csv"
    await export(database, everything, "csv")
    header = next(csv.reader(everything.read_text(encoding="utf-8-sig").splitlines()))
    assert "used" in header  # the sample conversation's question, outside the round
    out = tmp_path / "round.csv"
    await export(database, out, "csv", "drop-in-clinic", round_id=round_id)
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert "used" not in rows[0]
    assert "visited" in rows[0]
    assert [(row[0], row[2]) for row in rows[1:]] == [(codes[0], "1"), (codes[1], "1")]


async def test_export_xlsx_of_a_round_sums_up_its_invitations(round_database, tmp_path):
    database, round_id, _ = round_database
    out = tmp_path / "round.xlsx"
    await export(database, out, "xlsx", "drop-in-clinic", round_id=round_id)
    book = load_workbook(out)
    responses = list(book["Responses"].values)
    assert len(responses) == 3
    assert {row[2] for row in responses[1:]} == {round_id}
    summary: dict = {row[0]: row[1] for row in list(book["Summary"].values)[1:]}
    assert summary["conversations"] == 2
    assert summary["completed"] == 1
    assert summary["round: eligible"] == 5
    assert summary["round: invited"] == 4
    assert summary["round: declined"] == 1
    assert summary["round: stopped"] == 1
    assert summary["round: failed"] == 1
    # Every option is listed, chosen or not: one under 25, one who has not reached the question.
    equality = [tuple(row) for row in list(book["Equality"].values)[1:]]
    assert equality == [
        ("age", "Under 25", "<5"),
        ("age", "25 to 44", "<5"),
        ("age", "45 to 64", "<5"),
        ("age", "65 or over", "<5"),
        ("age", "Prefer not to say", "<5"),
        ("age", "No answer (skipped or not reached)", "<5"),
    ]


async def test_stream_runs_filters_by_round_and_conversation(round_database):
    database, round_id, codes = round_database
    in_round = [run for run in stream_runs(database, round_id=round_id)]
    assert [(run.participant_code, run.round_id) for run in in_round] == [
        (codes[0], round_id),
        (codes[1], round_id),
    ]
    assert [run for run in stream_runs(database, "sample", round_id=round_id)] == []
    clinic = [run for run in stream_runs(database, "drop-in-clinic")]
    assert len(clinic) == 9
    assert [run for run in stream_runs(database, round_id=round_id + 5)] == []


@pytest.mark.parametrize("chunk", [1, 3, 500])
async def test_stream_responses_holds_what_stream_runs_holds(round_database, chunk):
    database, round_id, _ = round_database
    for scope in ({}, {"flow_id": "drop-in-clinic"}, {"round_id": round_id}):
        runs = [run for run in stream_runs(database, chunk=chunk, **scope)]
        wide = [response for response in stream_responses(database, chunk=chunk, **scope)]
        assert [response.run.run_id for response in wide] == [run.run_id for run in runs]
        for response, run in zip(wide, runs, strict=True):
            assert response.answers == {a.step_id: a.value for a in run.answers}
            assert response.run.answers == []
            run.answers = []
            assert response.run == run
    assert len(runs) == 2  # the last scope, the round: its two runs


@pytest.mark.parametrize("chunk", [1, 3, 500])
async def test_stream_sheet_runs_holds_what_stream_runs_holds_with_day_numbers(
    round_database, chunk
):
    database, round_id, _ = round_database
    for scope in ({}, {"flow_id": "drop-in-clinic"}, {"round_id": round_id}):
        runs = [run for run in stream_runs(database, chunk=chunk, **scope)]
        sheet = [found for found in stream_sheet_runs(database, chunk=chunk, **scope)]
        assert [found.run.run_id for found in sheet] == [run.run_id for run in runs]
        for found, run in zip(sheet, runs, strict=True):
            assert [(a[1], a[2]) for a in found.answers] == [
                (a.step_id, a.value) for a in run.answers
            ]
            for day, answer in zip([a[3] for a in found.answers], run.answers, strict=True):
                assert day == pytest.approx(serial(answer.answered_at), abs=1e-8)  # < 1 ms
            assert found.run.answers == []
            run.answers = []
            assert found.run == run


async def test_stream_responses_keeps_a_run_without_answers(tmp_path):
    path = tmp_path / "heard.db"
    loaded = load_flow_file(SAMPLE_FLOWS / "sample.yaml")
    repository = await SQLiteRepository.open(path)
    await repository.register_flow(
        "sample", 1, loaded.content_hash, flow_to_json(loaded.flow), NOW
    )
    who = await repository.enrol(
        user_id=1, chat_id=1, language="en", consent=ConsentGiven("sample", 1, 1), now=NOW
    )
    await repository.start_run(who.code, "sample", 1, "{}", NOW)
    await repository.close()
    [response] = [response for response in stream_responses(path)]
    assert (response.run.participant_code, response.answers) == (who.code, {})


async def test_export_rounds_lists_opened_rounds_newest_first(round_database, tmp_path):
    database, round_id, _ = round_database
    # Round 2 is only scheduled: nothing to export yet.
    assert export_rounds(database, 10) == [
        ExportRound(round_id, ROUND_TITLE, "drop-in-clinic", "open")
    ]
    assert export_rounds(database, 0) == []


def test_scope_names_rounds_conversations_and_everything():
    winter = Scope.of_round(ExportRound(3, ROUND_TITLE, "drop-in-clinic", "closed"))
    day = NOW.date()
    assert (winter.token, winter.label, winter.round_id) == ("R3", "R3 Winter check-in", 3)
    assert winter.flow_id == "drop-in-clinic"
    assert winter.file_name(day, "xlsx") == "heard-r3-2026-05-04.xlsx"
    assert Scope("sample").file_name(day, "csv") == "heard-sample-2026-05-04.csv"
    assert Scope().file_name(day, "json") == "heard-all-2026-05-04.json"
    assert (Scope().token, Scope().label, Scope("sample").token) == (
        "*",
        "all conversations",
        "sample",
    )


def test_scope_reads_round_numbers():
    assert [typed_round(t) for t in ("3", "R3", "r3", "#3", "R0", "sample", "R3x", "")] == [
        3,
        3,
        3,
        3,
        None,
        None,
        None,
        None,
    ]
    assert [token_round(t) for t in ("R3", "R12", "r3", "3", "*", "R", "R1" + "0" * 12)] == [
        3,
        12,
        None,
        None,
        None,
        None,
        None,
    ]


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


async def make_clash_database(path):
    """Two conversations that both ask "age" and "rating", meaning different things.

    The clinic asks age as an equality question with choices; the sample conversation, in its
    newer version 2, asks it as a plain number. Both ask "rating" on scales with other words.
    Returns the codes of the clinic's two runs and the sample's two.
    """
    clinic = load_flow_file(SAMPLE_FLOWS / "docs_example.yaml")
    sample = load_flow_file(SAMPLE_FLOWS / "sample.yaml")
    newer = sample.flow.model_copy(update={"version": 2})
    repository = await SQLiteRepository.open(path)
    await repository.register_flow(
        "drop-in-clinic", 1, clinic.content_hash, flow_to_json(clinic.flow), NOW
    )
    await repository.register_flow("sample", 2, sample.content_hash, flow_to_json(newer), NOW)
    runs = [
        (
            "drop-in-clinic",
            1,
            "completed",
            [("visited", "true"), ("rating", "2"), ("age", '"25-44"')],
        ),
        ("drop-in-clinic", 1, "active", [("visited", "false"), ("age", '"65-plus"')]),
        ("sample", 2, "completed", [("used", "true"), ("rating", "5"), ("age", "34")]),
        ("sample", 2, "completed", [("used", "false"), ("rating", "null"), ("age", "71")]),
    ]
    codes = []
    for user_id, (flow_id, version, status, answers) in enumerate(runs, start=765432100):
        who = await repository.enrol(
            user_id=user_id,
            chat_id=user_id,
            language="en",
            consent=ConsentGiven(flow_id, version, 1),
            now=NOW,
        )
        run = await repository.start_run(who.code, flow_id, version, "{}", NOW)
        await repository.save(run.id, "{}", status, answers, NOW + timedelta(minutes=user_id % 7))
        codes.append(who.code)
    await repository.close()
    return codes


@pytest.fixture
async def clash_database(tmp_path):
    path = tmp_path / "heard.db"
    return path, await make_clash_database(path)


def csv_rows(path):
    return list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))


async def test_export_csv_keeps_two_conversations_questions_apart(clash_database, tmp_path):
    database, codes = clash_database
    out = tmp_path / "all.csv"
    await export(database, out, "csv")
    text = out.read_text(encoding="utf-8-sig")
    # The clinic's equality answers are nowhere, neither as ids nor as labels.
    for held_back in ("25-44", "25 to 44", "65-plus", "65 or over"):
        assert held_back not in text
    rows = csv_rows(out)
    header = rows[0]
    assert [h for h in header if h.startswith(("age", "rating"))] == [
        "rating (drop-in-clinic)",
        "rating (sample)",
        "age (sample)",
    ]
    by_code = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert [by_code[code]["rating (drop-in-clinic)"] for code in codes] == ["2", "", "", ""]
    assert [by_code[code]["rating (sample)"] for code in codes] == ["", "", "5", ""]
    assert [by_code[code]["age (sample)"] for code in codes] == ["", "", "34", "71"]


async def test_export_linked_shows_each_conversations_age_in_its_own_column(
    clash_database, tmp_path
):
    database, codes = clash_database
    out = tmp_path / "linked.csv"
    await export(database, out, "csv", linked_equality=True)
    rows = csv_rows(out)
    by_code = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert [by_code[code]["age (drop-in-clinic)"] for code in codes] == [
        "25 to 44",
        "65 or over",
        "",
        "",
    ]
    assert [by_code[code]["age (sample)"] for code in codes] == ["", "", "34", "71"]


@pytest.mark.parametrize("linked", [False, True], ids=["grouped", "linked"])
async def test_export_xlsx_keeps_two_conversations_questions_apart(
    clash_database, tmp_path, linked
):
    database, _ = clash_database
    out = tmp_path / "all.xlsx"
    await export(database, out, "xlsx", linked_equality=linked)
    book = load_workbook(out)
    # Responses match the CSV cell by cell, though each is read from the database its own way.
    text_out = tmp_path / "all.csv"
    await export(database, text_out, "csv", linked_equality=linked)
    responses = list(book["Responses"].values)
    as_text = [["" if c is None else str(c) for c in row] for row in responses]
    assert as_text == csv_rows(text_out)
    # Each answer's own time, row by row (the sheet's date cells are given each row's in turn).
    stored: dict = {
        (run.run_id, a.step_id): a.answered_at.replace(tzinfo=None)
        for run in stream_runs(database)
        for a in run.answers
    }
    rows = list(book["Answers"].values)[1:]
    assert len({row[6] for row in rows}) == 4
    assert all(row[6] == stored[(row[1], str(row[2]).split(" ")[0])] for row in rows)
    answers = [row for row in rows if str(row[2]).startswith("age")]
    expected: list[tuple[str, object]] = [("age (sample)", 34), ("age (sample)", 71)]
    if linked:
        expected = [("age (drop-in-clinic)", "25 to 44"), ("age (drop-in-clinic)", "65 or over")]
        expected += [("age (sample)", 34), ("age (sample)", 71)]
    assert [(row[2], row[4]) for row in answers] == expected
    questions = {row[0]: row[4] for row in list(book["Questions"].values)[1:]}
    assert (questions["age (drop-in-clinic)"], questions["age (sample)"]) == ("yes", None)
    if linked:
        assert "Equality" not in book.sheetnames
        return
    equality = [tuple(row) for row in list(book["Equality"].values)[1:]]
    assert {row[0] for row in equality} == {"age (drop-in-clinic)"}
    assert [row[1] for row in equality] == [
        "Under 25",
        "25 to 44",
        "45 to 64",
        "65 or over",
        "Prefer not to say",
        "No answer (skipped or not reached)",
    ]
    assert {row[2] for row in equality} == {"<5"}


async def test_export_json_holds_back_only_the_equality_question(clash_database, tmp_path):
    database, codes = clash_database
    out = tmp_path / "all.json"
    await export(database, out, "json")
    runs = {run["participant"]: run for run in json.loads(out.read_text(encoding="utf-8"))}
    questions = {code: [a["question"] for a in runs[code]["answers"]] for code in codes}
    assert questions[codes[0]] == ["visited", "rating"]
    assert questions[codes[1]] == ["visited"]
    ages = [a for a in runs[codes[2]]["answers"] if a["question"] == "age"]
    assert ages == [
        {
            "question": "age",
            "text": "How old are you?",
            "value": 34,
            "shown": 34,
            "skipped": False,
            "withheld": False,
            "answered_at": ages[0]["answered_at"],
        }
    ]
