"""Answers held for safeguarding review are withheld from every export until a reviewer acts."""

import csv
import json
import zipfile
from datetime import timedelta
from typing import NamedTuple

import pytest
from openpyxl import load_workbook

from bot.exports.export import export
from conversations.catalog import catalog
from storage.export import stream_responses, stream_runs
from storage.repository import ConsentGiven
from storage.sqlite import SQLiteRepository
from tests.bot.conftest import ADMIN_ID, SAFEGUARDING_CHAT
from tests.bot.exports.test_export import NOW, make_database
from tests.support.audit import entry
from tests.support.coordinating import joined

WITHHELD = "withheld (safeguarding review)"
WITHHELD_COUNT = "answers withheld (safeguarding review)"
# What the held participant typed: Welsh for "I don't want to be here any more". The scans
# look for the fragment too: it is plain ASCII, written the same way in every format.
HELD_TEXT = "Dw i ddim eisiau bod yma mwyach 💔"
HELD_FRAGMENT = "eisiau bod yma"
HELPED = ["helped: The staff", "helped: Being seen quickly", "helped: The place itself"]
REVIEWER = 7777


class Held(NamedTuple):
    """The run whose answers are held, and the flags that hold them."""

    code: str
    run_id: int
    open_flags: list[int]  # on its answers to "change", "helped", "rating" and "age"
    released_run_id: int  # an earlier run whose flagged answer a reviewer has released


async def make_held_database(path) -> Held:
    """Add to make_database a run whose answers are flagged, four of them still open.

    Its answer to "change" is words of risk; "helped", "rating" and "age" are flagged too, to
    show every kind of column withheld. It also has a flag on a question it never answered
    and one on a message that was no answer at all: neither holds anything. Run 2's answer to
    "why-not" was flagged and reviewed: it is released.
    """
    await make_database(path)
    repository = await SQLiteRepository.open(path)
    try:
        who = await repository.enrol(
            user_id=123456780,
            chat_id=123456780,
            language="en",
            consent=ConsentGiven("drop-in-clinic", 1, 1),
            now=NOW,
        )
        run = await repository.start_run(who.code, "drop-in-clinic", 1, "{}", NOW)
        answers = [
            ("visited", "true"),
            ("visits", "2"),
            ("rating", "2"),
            ("helped", '["place"]'),
            ("change", json.dumps(HELD_TEXT)),
            ("age", '"25-44"'),
        ]
        await repository.save(run.id, "{}", "completed", answers, NOW + timedelta(minutes=9))
        later = NOW + timedelta(minutes=10)
        open_flags = []
        for step in ("change", "helped", "rating", "age"):
            flag = await repository.add_flag(who.code, run.id, step, "risk", HELD_TEXT, later)
            open_flags.append(flag.id)
        await repository.add_flag(who.code, run.id, "why-not", "risk", "not an answer", later)
        await repository.add_flag(who.code, run.id, None, "risk", "between questions", later)
        earlier = await repository.run(2)
        assert earlier is not None
        released = await repository.add_flag(
            earlier.participant_code, 2, "why-not", "risk", "x", later
        )
        await repository.review_flag(released.id, REVIEWER, "no action needed", entry(later))
    finally:
        await repository.close()
    return Held(who.code, run.id, open_flags, 2)


async def release(path, flag_ids):
    """Record a reviewer's outcome on each flag."""
    repository = await SQLiteRepository.open(path)
    try:
        for flag_id in flag_ids:
            assert await repository.review_flag(
                flag_id, REVIEWER, "support message sent", entry(NOW)
            )
    finally:
        await repository.close()


@pytest.fixture
async def held(tmp_path):
    path = tmp_path / "heard.db"
    return path, await make_held_database(path)


def csv_by_code(path):
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    return {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}


def export_bytes(path):
    """Return a file's bytes; for a workbook, the XML of every part inside it."""
    if path.suffix != ".xlsx":
        return path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        return b"".join(archive.read(name) for name in archive.namelist())


def test_withheld_marker_is_the_catalogues_word():
    assert catalog("en")("export_withheld") == WITHHELD
    assert catalog("en")("export_withheld_count") == WITHHELD_COUNT


async def test_stream_runs_and_responses_read_a_held_answer_as_none(held):
    database, found = held
    [run] = [run for run in stream_runs(database) if run.run_id == found.run_id]
    values = {answer.step_id: answer.value for answer in run.answers}
    assert values == {
        "visited": "true",
        "visits": "2",
        "rating": None,
        "helped": None,
        "change": None,
        "age": None,
    }
    assert [answer.held for answer in run.answers] == [False, False, True, True, True, True]
    [response] = [r for r in stream_responses(database) if r.run.run_id == found.run_id]
    assert response.answers == values
    [earlier] = [run for run in stream_runs(database) if run.run_id == found.released_run_id]
    assert {a.step_id: a.value for a in earlier.answers}["why-not"] == '"=HYPERLINK(\\"x\\")"'


async def test_stream_runs_holds_an_answer_while_any_of_its_flags_is_open(held):
    database, found = held
    repository = await SQLiteRepository.open(database)
    try:
        first = await repository.add_flag(found.code, found.run_id, "visits", "risk", "2", NOW)
        again = await repository.add_flag(found.code, found.run_id, "visits", "risk", "2", NOW)
    finally:
        await repository.close()

    async def visits():
        [run] = [run for run in stream_runs(database) if run.run_id == found.run_id]
        return {a.step_id: a.value for a in run.answers}["visits"]

    assert await visits() is None
    await release(database, [first.id])
    assert await visits() is None  # the second flag is still open
    await release(database, [again.id])
    assert await visits() == "2"


async def test_export_csv_withholds_a_held_answer_in_every_cell(held, tmp_path):
    database, found = held
    out = tmp_path / "r.csv"
    summary = await export(database, out, "csv")
    assert (summary.runs, summary.answers) == (8, 42)
    rows = csv_by_code(out)
    row = rows[found.code]
    assert (row["visited"], row["visits"]) == ("Yes", "2")
    assert (row["change"], row["rating"]) == (WITHHELD, WITHHELD)
    # Multiple choice: every option's column, so no 1 or 0 gives the answer away.
    assert [row[column] for column in HELPED] == [WITHHELD] * 3
    # Released after review: the answer as given, neutralised as any formula is.
    assert [r["why-not"] for r in rows.values()].count('\'=HYPERLINK("x")') == 2
    assert sum(WITHHELD in r.values() for r in rows.values()) == 1


async def test_export_xlsx_withholds_a_held_answer_on_every_sheet(held, tmp_path):
    database, found = held
    out = tmp_path / "r.xlsx"
    await export(database, out, "xlsx")
    book = load_workbook(out)
    responses = list(book["Responses"].values)
    row = next(dict(zip(responses[0], r, strict=True)) for r in responses if r[0] == found.code)
    assert (row["visited"], row["visits"], row["rating"]) == ("Yes", 2, WITHHELD)
    assert row["change"] == WITHHELD
    assert [row[column] for column in HELPED] == [WITHHELD] * 3
    answers = [r for r in list(book["Answers"].values)[1:] if r[0] == found.code]
    by_question = {r[2]: (r[4], r[5]) for r in answers}
    assert by_question == {
        "visited": ("Yes", None),
        "visits": (2, None),
        "rating": (WITHHELD, None),  # withheld, not skipped
        "helped": (WITHHELD, None),
        "change": (WITHHELD, None),
    }
    summary = {r[0]: r[1] for r in list(book["Summary"].values)[1:]}
    assert summary[WITHHELD_COUNT] == 3  # those shown withheld; age is only ever counted
    # Held, the age counts as no answer: the other five aged 25 to 44 are shown, not six.
    equality = {(q, a): n for q, a, n in list(book["Equality"].values)[1:]}
    assert equality[("age", "25 to 44")] == 5
    assert equality[("age", "No answer (skipped or not reached)")] == "<5"


async def test_export_json_marks_a_held_answer_withheld(held, tmp_path):
    database, found = held
    out = tmp_path / "r.json"
    await export(database, out, "json", linked_equality=True)
    runs = {run["participant"]: run for run in json.loads(out.read_text(encoding="utf-8"))}
    answers = {a["question"]: a for a in runs[found.code]["answers"]}
    for question in ("rating", "helped", "change", "age"):
        assert (answers[question]["value"], answers[question]["shown"]) == (None, WITHHELD)
        assert (answers[question]["skipped"], answers[question]["withheld"]) == (False, True)
    assert answers["age"]["text"] == "How old are you?"
    assert (answers["visits"]["value"], answers["visits"]["withheld"]) == (2, False)
    withheld = [a for run in runs.values() for a in run["answers"] if a["withheld"]]
    assert len(withheld) == 4


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
async def test_export_bytes_hold_no_held_text_until_it_is_released(held, tmp_path, fmt):
    database, found = held
    out = tmp_path / f"r.{fmt}"
    await export(database, out, fmt, linked_equality=True)
    content = export_bytes(out)
    assert WITHHELD.encode() in content
    assert HELD_FRAGMENT.encode() not in content
    assert HELD_TEXT.encode() not in content
    await release(database, found.open_flags)
    await export(database, out, fmt, linked_equality=True)
    content = export_bytes(out)
    assert HELD_FRAGMENT.encode() in content  # the emoji may be written as &#128148; in XML
    if fmt != "xlsx":  # the workbook's Summary names the count of withheld answers, now 0
        assert WITHHELD.encode() not in content


async def test_export_shows_the_real_values_once_the_flags_are_reviewed(held, tmp_path):
    database, found = held
    await release(database, found.open_flags)
    row = csv_by_code(await _exported(database, tmp_path / "r.csv"))[found.code]
    assert (row["change"], row["rating"]) == (HELD_TEXT, "2")
    assert [row[column] for column in HELPED] == ["0", "0", "1"]
    book = load_workbook(await _exported(database, tmp_path / "r.xlsx"))
    for sheet in ("Responses", "Answers"):
        assert not any(WITHHELD in row for row in book[sheet].values)
    summary = {r[0]: r[1] for r in list(book["Summary"].values)[1:]}
    assert summary[WITHHELD_COUNT] == 0
    equality = {(q, a): n for q, a, n in list(book["Equality"].values)[1:]}
    assert equality[("age", "25 to 44")] == 6
    runs = json.loads((await _exported(database, tmp_path / "r.json")).read_text("utf-8"))
    answers = {a["question"]: a for a in runs[-1]["answers"]}
    assert (answers["change"]["value"], answers["change"]["withheld"]) == (HELD_TEXT, False)
    assert answers["helped"]["shown"] == "The place itself"


async def _exported(database, out):
    await export(database, out, out.suffix[1:])
    return out


async def test_export_withholds_words_of_risk_typed_in_the_bot_until_reviewed(
    fake, heard, make_user, database, tmp_path
):
    """End to end: a participant types words of risk; a reviewer records an outcome in /flags."""
    update_id = fake.send_text(8001, "hi", chat_id=SAFEGUARDING_CHAT, chat_type="group")
    await heard.settle(update_id)
    participant = make_user(2001)
    await joined(participant)
    await participant.press("No")
    words = "I feel like a burden to everyone"
    await participant.send(words)
    out = tmp_path / "r.csv"
    await export(database, out, "csv")
    [row] = csv_by_code(out).values()
    assert row["why_not"] == WITHHELD
    assert words.encode() not in out.read_bytes()
    reviewer = make_user(REVIEWER)
    await reviewer.send("/help")
    await make_user(ADMIN_ID).send(f"/grant {REVIEWER} safeguarding")
    await reviewer.send("/flags")
    await reviewer.press("No action needed")
    assert reviewer.last_text().startswith("F-1 recorded as: no action needed.")
    await export(database, out, "csv")
    [row] = csv_by_code(out).values()
    assert row["why_not"] == words
