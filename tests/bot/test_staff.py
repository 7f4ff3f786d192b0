"""Roles and the audit log: admins grant and revoke; everyone else meets the participant bot."""

import asyncio
import os
import sqlite3
from datetime import UTC, datetime

from bot.cli import main
from bot.staff_codes import StaffCodes
from storage.sqlite import SQLiteRepository
from tests.bot.conftest import ADMIN_ID


def audit_rows(database):
    db = sqlite3.connect(database)
    try:
        return db.execute("SELECT actor, action, detail FROM audit_log ORDER BY id").fetchall()
    finally:
        db.close()


def roles(database):
    db = sqlite3.connect(database)
    try:
        return db.execute("SELECT telegram_user_id, role FROM staff_roles").fetchall()
    finally:
        db.close()


async def test_staff_admin_grants_and_revokes_a_role(make_user, fake, database):
    admin = make_user(ADMIN_ID)
    colleague = make_user(1234)
    await colleague.send("/help")
    await admin.send("/grant 1234 staff")
    assert admin.last_text() == "Done: 1234 now has the staff role. Their command menu is updated."
    assert roles(database) == [(1234, "staff")]
    await admin.send("/grant 1234 STAFF")
    assert "already has the staff role" in admin.last_text()
    await admin.send("/revoke 1234 staff")
    assert admin.last_text() == "Done: 1234 no longer has the staff role."
    assert roles(database) == []
    code = StaffCodes.beside(database).code(1234)
    assert audit_rows(database) == [
        (f"staff:{ADMIN_ID}", "grant", f"1234 staff, code {code}"),
        (f"staff:{ADMIN_ID}", "revoke", f"1234 staff, code {code}"),
    ]


async def test_staff_grant_does_not_stand_when_its_audit_entry_cannot_be_written(
    make_user, database
):
    admin = make_user(ADMIN_ID)
    await admin.send("/grant 1234 staff")
    db = sqlite3.connect(database)
    with db:
        # The next audit entry fails, as a failing disk would fail it.
        db.execute(
            "CREATE TRIGGER audit_fails BEFORE INSERT ON audit_log "
            "BEGIN INSERT INTO no_such_table VALUES (1); END"
        )
    db.close()
    await admin.send("/grant 1234 safeguarding")
    await admin.send("/revoke 1234 staff")
    assert "Sorry" in admin.last_text()
    # Neither change stands without its entry in the audit log.
    assert roles(database) == [(1234, "staff")]
    [(actor, action, detail)] = audit_rows(database)
    assert (actor, action) == (f"staff:{ADMIN_ID}", "grant")
    assert detail.startswith("1234 staff, code S-")


async def test_staff_bad_usage_explains_itself(make_user, database):
    admin = make_user(ADMIN_ID)
    for text in ("/grant", "/grant 1234", "/grant abc staff", "/grant 1234 owner"):
        await admin.send(text)
        assert admin.last_text().startswith("To give someone a role, send: /grant USER_ID ROLE")
    assert roles(database) == []


async def test_staff_participant_gets_the_participant_bot_and_is_audited(make_user, database):
    participant = make_user(2222)
    await participant.send("/start")
    await participant.press("Yes, I'm 18 or older")
    await participant.press("Yes, I agree")
    await participant.send("/grant 2222 staff")
    assert participant.last_text() == "I don't know that command. Send /help to see what I can do."
    assert roles(database) == []
    [(actor, action, detail)] = audit_rows(database)
    assert actor.startswith("P-")
    assert (action, detail) == ("refused", "/grant in a private chat")
    stranger = make_user(3333)
    await stranger.send("/audit")
    assert "I don't know that command" in stranger.last_text()
    # Someone who is neither staff nor a participant is named by a code, not their id.
    code = StaffCodes.beside(database).code(3333)
    assert audit_rows(database)[-1] == (code, "refused", "/audit in a private chat")


async def test_staff_commands_in_a_group_are_refused_and_audited(fake, heard, database):
    update_id = fake.send_text(ADMIN_ID, "/grant 1234 staff", chat_id=-100555, chat_type="group")
    await heard.settle(update_id)
    assert roles(database) == []
    code = StaffCodes.beside(database).code(ADMIN_ID)
    assert audit_rows(database) == [(code, "refused", "/grant in a group chat")]


async def test_staff_role_changes_take_effect_at_once(make_user, database):
    admin, colleague = make_user(ADMIN_ID), make_user(1234)
    await colleague.send("/staff")
    assert "I don't know that command" in colleague.last_text()
    await admin.send("/grant 1234 coordinator")
    await colleague.send("/staff")
    assert "I don't know that command" in colleague.last_text()  # /staff is for admins only
    await admin.send("/staff")
    assert f"admins come from HEARD_ADMINS: {ADMIN_ID}" in admin.last_text()
    assert f"• 1234: coordinator, given by {ADMIN_ID} on 2026-03-02" in admin.last_text()


async def test_staff_audit_command(make_user, database):
    admin = make_user(ADMIN_ID)
    await admin.send("/audit")
    assert admin.last_text().startswith("The latest 1 privileged actions")
    await admin.send("/grant 1234 safeguarding")
    await admin.send("/audit")
    text = admin.last_text()
    assert f"staff:{ADMIN_ID}: grant 1234 safeguarding" in text
    assert text.index("viewed the audit log") < text.index("grant 1234")


def test_staff_audit_cli(tmp_path, capsys, monkeypatch):
    database = tmp_path / "heard.db"

    async def record():
        repository = await SQLiteRepository.open(database)
        await repository.audit("staff:1", "grant", "2 staff", datetime(2026, 1, 5, tzinfo=UTC))
        await repository.audit("staff:1", "revoke", "2 staff", datetime(2026, 1, 6, tzinfo=UTC))
        await repository.close()

    asyncio.run(record())
    monkeypatch.setenv("HEARD_DATABASE", str(database))
    assert main(["--env-file", os.devnull, "audit", "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert out == (
        "The latest 1 privileged actions, newest first:\n"
        "• 2026-01-06 00:00 staff:1: revoke 2 staff\n"
    )


def test_staff_audit_cli_without_a_database_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HEARD_DATABASE", str(tmp_path / "none.db"))
    assert main(["--env-file", os.devnull, "audit"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


async def test_staff_menu_is_scoped_to_the_admins_chat(make_user, fake):
    admin = make_user(ADMIN_ID)
    await admin.send("/grant 1234 staff")
    colleague = make_user(1234)
    await colleague.send("/help")
    await admin.send("/revoke 1234 staff")
    scoped = [c for c in fake.calls_of("deleteMyCommands") if c.ok]
    assert scoped, fake.describe_calls()
