"""Access: roles from settings and the database, menus by role, audit actors."""

from datetime import UTC, datetime

import pytest

from bot.access import PARTICIPANT_MENU, Access
from storage.repository import ConsentGiven
from storage.sqlite import SQLiteRepository
from tests.bot.conftest import ADMIN_ID
from tests.support.audit import entry
from tests.support.bot_harness import FixedClock

NOW = datetime(2026, 3, 2, tzinfo=UTC)


@pytest.fixture
async def access(tmp_path):
    repository = await SQLiteRepository.open(tmp_path / "a.db")
    yield Access(repository, (1,), FixedClock())
    await repository.close()


async def test_access_admins_are_coordinators_too(access):
    assert await access.roles(1) == {"admin", "coordinator"}
    assert await access.roles(2) == set()
    await access.repository.grant_role(2, "staff", 1, entry(NOW))
    assert await access.allows(2, "staff")
    assert not await access.allows(2, "admin")


async def test_access_menus_list_only_allowed_commands(access):
    participant = [c.command for c in await access.commands_for(2)]
    assert participant == [command for command, _ in PARTICIPANT_MENU]
    admin = [c.command for c in await access.commands_for(1)]
    # Admins are coordinators too.
    coordinating = ["newround", "rounds", "round", "feedback"]
    assert admin == [*participant, "grant", "revoke", "staff", "audit", *coordinating]
    assert all(c.description for c in await access.commands_for(1))


async def test_access_actor_never_names_a_participant_by_telegram_id(access):
    await access.repository.enrol(
        user_id=555, chat_id=555, language="en", consent=ConsentGiven("f", 1, 1), now=NOW
    )
    assert (await access.actor(555)).startswith("P-")
    assert await access.actor(556) == "not a participant"
    assert await access.actor(1) == "staff:1"


async def test_access_refused_attempt_by_revoked_staff_names_their_staff_code(make_user, database):
    admin, former = make_user(ADMIN_ID), make_user(5005)
    await former.send("/help")
    await admin.send("/grant 5005 staff")
    await admin.send("/revoke 5005 staff")
    await former.send("/export")
    assert former.last_text().startswith("I don't know that command")
    entries = await audit_rows(database)
    revoke = next(e for e in entries if e.action == "revoke")
    refused = next(e for e in entries if e.action == "refused")
    code = revoke.detail.rsplit("code ", 1)[1]
    assert code.startswith("S-")
    assert refused.actor == code
    assert "5005" not in refused.actor + refused.detail
    assert refused.actor != "not a participant"


async def test_access_who_tried_is_a_participant_code_or_a_stable_staff_code(access):
    await access.repository.enrol(
        user_id=555, chat_id=555, language="en", consent=ConsentGiven("f", 1, 1), now=NOW
    )
    assert (await access.who_tried(555)).startswith("P-")
    stranger = await access.who_tried(556)
    assert stranger.startswith("S-")
    assert "556" not in stranger
    assert await access.who_tried(556) == stranger
    assert await access.who_tried(557) != stranger
    # Staff are named by their code even when they are participants too.
    await access.repository.grant_role(555, "staff", 1, entry(NOW))
    assert await access.who_tried(555) == access.codes.code(555)
    assert await access.who_tried(1) == access.codes.code(1)


async def audit_rows(database):
    repository = await SQLiteRepository.open(database)
    try:
        return list(reversed(await repository.audit_entries()))
    finally:
        await repository.close()
