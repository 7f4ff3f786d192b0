"""/export in Telegram: staff choose with buttons and get the file; others are refused."""

import io
import json
import sqlite3
import zipfile
from datetime import timedelta

from openpyxl import load_workbook

from conversations.callbacks import MAX_BYTES, ExportButton, decode
from tests.bot.conftest import ADMIN_ID
from tests.support.coordinating import code_of, member, opened, repository, stored_round

STAFF = 4242


def rows(database, sql):
    db = sqlite3.connect(database)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


async def take_part(user):
    await user.send("/start")
    await user.press("Yes, I'm 18 or older")
    await user.press("Yes, I agree")
    await user.press("Yes")
    await user.press("4")


async def test_export_command_sends_a_workbook_to_staff(make_user, database):
    await take_part(make_user(3001))
    staff = make_user(STAFF)
    await staff.send("/help")
    await make_user(ADMIN_ID).send(f"/grant {STAFF} staff")

    await staff.send("/export")
    assert staff.buttons() == ["sample", "Everything"]
    await staff.press("sample")
    assert staff.buttons() == ["CSV", "XLSX", "JSON"]
    await staff.press("XLSX")

    [document] = [m for m in staff.messages() if m.document is not None]
    assert document.document["file_name"] == "heard-sample-2026-03-02.xlsx"
    book = load_workbook(io.BytesIO(document.document["content"]))
    header, first = list(book["Responses"].values)[:2]
    row = dict(zip(header, first, strict=True))
    assert row["used"] == "Yes"
    assert row["rating"] == 4
    assert str(3001).encode() not in document.document["content"]
    assert staff.last_text().startswith("Here is your export: 1 conversation runs, 2 answers.")
    assert ("export", "xlsx of sample: 1 runs") in rows(
        database, "SELECT action, detail FROM audit_log"
    )


async def test_export_command_is_refused_to_participants(make_user, database):
    participant = make_user(3002)
    await take_part(participant)
    await participant.send("/export")
    assert participant.last_text().startswith("I don't know that command")
    await participant.press_data(participant.messages()[-1].message_id, "v1|x|*|csv")
    assert all(m.document is None for m in participant.messages())
    refused = [d for (d,) in rows(database, "SELECT detail FROM audit_log")]
    assert refused == ["/export in a private chat", "/export (button) in a private chat"]


async def test_export_after_delete_leaves_the_person_out(make_user, database):
    participant = make_user(3003)
    await take_part(participant)
    await participant.send("/delete")
    await participant.press("Yes, delete my data")
    staff = make_user(STAFF)
    await staff.send("/help")
    await make_user(ADMIN_ID).send(f"/grant {STAFF} staff")
    await staff.send("/export")
    await staff.press("Everything")
    await staff.press("JSON")
    [document] = [m for m in staff.messages() if m.document is not None]
    assert document.document["content"].strip() == b"[\n]"


async def staff_member(make_user):
    staff = make_user(STAFF)
    await staff.send("/help")
    await make_user(ADMIN_ID).send(f"/grant {STAFF} staff")
    return staff


async def round_with_one_run(make_user, database, clock):
    """Open round 1 to two members, send both invitations and store one finished run in it.

    Each member has also finished a run outside any round; round 2 has not opened yet.
    """
    await member(make_user(3004))
    await member(make_user(3005))
    round_id = await stored_round(database, clock.now(), "Winter check-in")
    await opened(database, clock.now())
    await stored_round(database, clock.now() + timedelta(days=30), "Not open yet")
    code = code_of(database, 3005)
    tomorrow = clock.now() + timedelta(days=1)
    async with repository(database) as repo:
        for item in await repo.claim_due(tomorrow, tomorrow + timedelta(minutes=1), 10):
            await repo.mark_sent(item.id, tomorrow)
        run = await repo.start_run(code, "sample", 1, "{}", tomorrow, round_id=round_id)
        answers = [("used", "true"), ("rating", "2")]
        await repo.save(run.id, "{}", "completed", answers, tomorrow + timedelta(minutes=7))
    return round_id, code


async def test_export_command_offers_opened_rounds_first(make_user, database, clock):
    round_id, code = await round_with_one_run(make_user, database, clock)
    staff = await staff_member(make_user)

    await staff.send("/export")
    assert staff.buttons() == [f"R{round_id} Winter check-in", "sample", "Everything"]
    await staff.press(f"R{round_id} Winter check-in")
    assert staff.buttons() == ["CSV", "XLSX", "JSON"]
    await staff.press("JSON")

    [document] = [m for m in staff.messages() if m.document is not None]
    assert document.document["file_name"] == f"heard-r{round_id}-2026-03-02.json"
    runs = json.loads(document.document["content"])
    assert [(r["participant"], r["round"], r["status"]) for r in runs] == [
        (code, round_id, "completed")
    ]
    for user_id in (3004, 3005, STAFF, ADMIN_ID):
        assert str(user_id).encode() not in document.document["content"]
    assert ("export", f"json of R{round_id} Winter check-in: 1 runs") in rows(
        database, "SELECT action, detail FROM audit_log"
    )


async def test_export_command_xlsx_of_a_round_holds_no_telegram_id(make_user, database, clock):
    round_id, _ = await round_with_one_run(make_user, database, clock)
    staff = await staff_member(make_user)
    await staff.send("/export")
    await staff.press(f"R{round_id} Winter check-in")
    await staff.press("XLSX")
    [document] = [m for m in staff.messages() if m.document is not None]
    content = document.document["content"]
    book = load_workbook(io.BytesIO(content))
    responses = list(book["Responses"].values)
    assert [row[2] for row in responses[1:]] == [round_id]
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        unpacked = b"".join(archive.read(name) for name in archive.namelist())
    assert b"P-" in unpacked
    for user_id in (3004, 3005, STAFF, ADMIN_ID):
        assert str(user_id).encode() not in unpacked


async def test_export_command_refuses_a_round_that_does_not_exist(make_user, database):
    staff = await staff_member(make_user)
    await staff.send("/export")
    await staff.press_data(staff.messages()[-1].message_id, "v1|x|R99|")
    assert staff.last_text().startswith("That round or conversation is not available any more.")
    await staff.press_data(staff.messages()[-1].message_id, "v1|x|R99|csv")
    assert all(m.document is None for m in staff.messages())


def test_export_button_scopes_round_trip_within_64_bytes():
    for scope in ("*", "R3", "R999999999999", "a" * 40):
        for fmt in ("", "csv", "xlsx", "json"):
            data = ExportButton(scope, fmt).encode()
            assert len(data.encode()) <= MAX_BYTES
            assert decode(data) == ExportButton(scope, fmt)
    assert ExportButton("R3", "xlsx").encode() == "v1|x|R3|xlsx"
