"""/export in Telegram: staff choose with buttons and get the file; others are refused."""

import io
import sqlite3

from openpyxl import load_workbook

from tests.bot.conftest import ADMIN_ID

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
