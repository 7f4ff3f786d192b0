"""Access: roles from settings and the database, menus by role, audit actors."""

from datetime import UTC, datetime

import pytest

from bot.access import PARTICIPANT_MENU, Access
from storage.repository import ConsentGiven
from storage.sqlite import SQLiteRepository
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
