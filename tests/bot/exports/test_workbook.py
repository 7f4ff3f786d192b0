"""The Excel export's Equality sheet holds back small counts as reports do."""

import json
from datetime import timedelta

from openpyxl import load_workbook

from bot.exports.export import export
from conversations.loader import flow_to_json, load_flow_file
from conversations.model import Flow
from storage.repository import ConsentGiven
from storage.sqlite import SQLiteRepository
from tests.bot.exports.test_export import NOW, make_database
from tests.bot.reports.test_figures import clinic_runs
from tests.support.bot_harness import SAMPLE_FLOWS

NO_ANSWER = "No answer (skipped or not reached)"


def equality_sheet(path):
    book = load_workbook(path)
    return [tuple(row) for row in list(book["Equality"].values)[1:]]


async def test_equality_sheet_hides_a_second_count_when_only_one_is_small(tmp_path):
    path = tmp_path / "heard.db"
    counts = {"under-25": 5, "25-44": 6, "45-64": 7, "65-plus": 6, "prefer-not": 5, None: 1}
    ages = [age for age, count in counts.items() for _ in range(count)]
    await clinic_runs(path, [(NOW, "completed", age) for age in ages])
    out = tmp_path / "r.xlsx"
    await export(path, out, "xlsx")
    # Summary says 30 conversations: with only the 1 shown as "<5", 30 - 29 would give it away.
    assert equality_sheet(out) == [
        ("age", "Under 25", "hidden"),
        ("age", "25 to 44", 6),
        ("age", "45 to 64", 7),
        ("age", "65 or over", 6),
        ("age", "Prefer not to say", 5),
        ("age", NO_ANSWER, "<5"),
    ]
    summary = {row[0]: row[1] for row in list(load_workbook(out)["Summary"].values)[1:]}
    assert summary["conversations"] == 30


async def test_equality_sheet_lists_every_option_and_no_answer(tmp_path):
    path = tmp_path / "heard.db"
    await make_database(path)  # 7 runs: five aged 25 to 44, two who prefer not to say
    out = tmp_path / "r.xlsx"
    await export(path, out, "xlsx")
    assert equality_sheet(out) == [
        ("age", "Under 25", "<5"),  # nobody: 0 is held back too
        ("age", "25 to 44", 5),
        ("age", "45 to 64", "<5"),
        ("age", "65 or over", "<5"),
        ("age", "Prefer not to say", "<5"),
        ("age", NO_ANSWER, "<5"),
    ]


async def test_equality_sheet_counts_no_typed_answers(tmp_path):
    clinic = load_flow_file(SAMPLE_FLOWS / "docs_example.yaml").flow
    data = clinic.model_dump()
    data["steps"].append(
        {"id": "gender", "kind": "free_text", "text": "Your gender?", "equality": True}
    )
    typed = Flow.model_validate(data)
    path = tmp_path / "heard.db"
    repository = await SQLiteRepository.open(path)
    await repository.register_flow("drop-in-clinic", 1, "hash", flow_to_json(typed), NOW)
    for user_id in range(800, 806):
        who = await repository.enrol(
            user_id=user_id,
            chat_id=user_id,
            language="en",
            consent=ConsentGiven("drop-in-clinic", 1, 1),
            now=NOW,
        )
        run = await repository.start_run(who.code, "drop-in-clinic", 1, "{}", NOW)
        answers = [("visited", "true"), ("age", '"25-44"'), ("gender", '"Agender"')]
        await repository.save(run.id, "{}", "completed", answers, NOW + timedelta(minutes=1))
    await repository.close()
    out = tmp_path / "r.xlsx"
    await export(path, out, "xlsx")
    rows = equality_sheet(out)
    assert ("age", "25 to 44", 6) in rows
    assert [row for row in rows if row[0] == "gender"] == [
        ("gender", "Typed answers: not counted, so that no one can be picked out", None)
    ]
    assert "Agender" not in str(list(load_workbook(out)["Answers"].values))


async def test_workbook_reads_the_same_in_read_only_mode(tmp_path):
    path = tmp_path / "heard.db"
    await make_database(path)
    out = tmp_path / "r.xlsx"
    await export(path, out, "xlsx")
    normal = load_workbook(out)
    fast = load_workbook(out, read_only=True)
    try:
        assert fast.sheetnames == normal.sheetnames
        for title in normal.sheetnames:
            rows = [list(row) for row in fast[title].iter_rows(values_only=True)]
            assert rows == [list(row) for row in normal[title].values]
    finally:
        fast.close()
    answers = list(normal["Answers"].values)
    assert len(answers) == 1 + 36 - 7  # a row per answer, the seven ages counted elsewhere
    assert normal["Answers"]["G2"].number_format == "yyyy-mm-dd hh:mm"
    assert [cell.font.b for cell in normal["Answers"][1]] == [True] * 7


async def test_workbook_survives_a_control_character_typed_in_an_answer(tmp_path):
    path = tmp_path / "heard.db"
    repository = await SQLiteRepository.open(path)
    clinic = load_flow_file(SAMPLE_FLOWS / "docs_example.yaml")
    await repository.register_flow("drop-in-clinic", 1, "hash", flow_to_json(clinic.flow), NOW)
    who = await repository.enrol(
        user_id=900,
        chat_id=900,
        language="en",
        consent=ConsentGiven("drop-in-clinic", 1, 1),
        now=NOW,
    )
    run = await repository.start_run(who.code, "drop-in-clinic", 1, "{}", NOW)
    typed = json.dumps("pasted\x0bfrom <somewhere> & \x1b[0m elsewhere")
    answers = [("visited", "true"), ("change", typed)]
    await repository.save(run.id, "{}", "completed", answers, NOW)
    await repository.close()
    out = tmp_path / "r.xlsx"
    await export(path, out, "xlsx")
    [row] = list(load_workbook(out)["Answers"].values)[2:]
    assert row[4] == "pasted\ufffdfrom <somewhere> & \ufffd[0m elsewhere"
