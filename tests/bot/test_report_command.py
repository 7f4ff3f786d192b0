"""/report in Telegram: figures, then one chart per question, for staff only."""

import sqlite3

from tests.bot.conftest import ADMIN_ID

STAFF = 4343
PNG = b"\x89PNG\r\n\x1a\n"


def rows(database, sql):
    db = sqlite3.connect(database)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


async def test_report_command_sends_figures_and_charts(make_user, fake, database):
    participant = make_user(3101)
    await participant.send("/start")
    await participant.press("Yes, I'm 18 or older")
    await participant.press("Yes, I agree")
    await participant.press("Yes")
    await participant.press("4")
    staff = make_user(STAFF)
    await staff.send("/help")
    await make_user(ADMIN_ID).send(f"/grant {STAFF} staff")

    await staff.send("/report sample")

    photos = [c for c in fake.calls_of("sendPhoto") if c.ok]
    assert len(photos) >= 2
    pictures = [m.photo for m in staff.messages() if m.photo is not None]
    assert len(pictures) == len(photos)
    assert all(picture["content"].startswith(PNG) for picture in pictures)
    texts = [m.text for m in staff.messages() if m.text]
    assert any("1" in t and "started" in t.lower() for t in texts), texts
    [(detail,)] = rows(database, "SELECT detail FROM audit_log WHERE action = 'report'")
    assert detail.startswith("sample: 1 runs")


async def test_report_command_is_refused_to_participants(make_user, database):
    participant = make_user(3102)
    await participant.send("/report")
    assert participant.last_text().startswith("I don't know that command")
    assert rows(database, "SELECT detail FROM audit_log") == [("/report in a private chat",)]
