"""Contract tests every Repository implementation must pass (SQLite for now)."""

import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from storage.repository import ConsentGiven, FlowVersionConflict
from storage.rounds import NewRound
from storage.sqlite import CODE_ALPHABET, SQLiteRepository, new_code
from tests.support.audit import entry, entry_from

NOW = datetime(2026, 3, 29, 9, 30, tzinfo=UTC)
CONSENT = ConsentGiven("sample", 1, 1)


@pytest.fixture
async def repo(tmp_path):
    repository = await SQLiteRepository.open(tmp_path / "heard.db")
    await repository.register_flow("sample", 1, "hash-1", '{"id": "sample"}', NOW)
    yield repository
    await repository.close()


async def enrol(repo, user_id=1001, chat_id=1001):
    return await repo.enrol(
        user_id=user_id, chat_id=chat_id, language="en", consent=CONSENT, now=NOW
    )


def test_new_code_is_short_and_unambiguous():
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert code.startswith("P-")
        assert len(code) == 8
        assert set(code[2:]) <= set(CODE_ALPHABET)


async def test_repository_register_flow_is_idempotent_and_refuses_changed_content(repo):
    await repo.register_flow("sample", 1, "hash-1", '{"id": "sample"}', NOW)
    with pytest.raises(FlowVersionConflict, match="version 1 has changed"):
        await repo.register_flow("sample", 1, "hash-2", '{"id": "other"}', NOW)
    await repo.register_flow("sample", 2, "hash-2", '{"id": "sample", "v": 2}', NOW)
    assert await repo.flow_definition("sample", 1) == '{"id": "sample"}'
    assert await repo.flow_definition("sample", 2) == '{"id": "sample", "v": 2}'
    assert await repo.flow_definition("sample", 3) is None


async def test_repository_enrol_creates_participant_once(repo):
    assert await repo.contact_for_user(1001) is None
    first = await enrol(repo)
    again = await enrol(repo)
    assert first.code == again.code
    contact = await repo.contact_for_user(1001)
    assert contact is not None
    assert contact.participant.code == first.code
    assert contact.chat_id == 1001
    assert contact.participant.status == "active"


async def test_repository_save_stores_state_and_answers_in_order(repo):
    participant = await enrol(repo)
    run = await repo.start_run(participant.code, "sample", 1, '{"s": 0}', NOW)
    assert (await repo.latest_run(participant.code)).id == run.id
    later = NOW + timedelta(minutes=1)
    await repo.save(run.id, '{"s": 1}', "active", [("q1", "true"), ("q2", "null")], later)
    await repo.save(run.id, '{"s": 2}', "active", [("q3", json.dumps("ok ✓"))], later)
    stored = await repo.run(run.id)
    assert stored.state == '{"s": 2}'
    assert stored.needs_delivery
    assert stored.updated_at == later
    answers = await repo.answers(run.id)
    assert [(a.step_id, a.value) for a in answers] == [
        ("q1", "true"),
        ("q2", "null"),
        ("q3", json.dumps("ok ✓")),
    ]


async def test_repository_changed_answer_replaces_the_old_one(repo):
    participant = await enrol(repo)
    run = await repo.start_run(participant.code, "sample", 1, "{}", NOW)
    await repo.save(run.id, "{}", "active", [("q1", '"a"'), ("q2", '"b"')], NOW)
    await repo.save(run.id, "{}", "active", [("q1", '"c"')], NOW)
    answers = await repo.answers(run.id)
    assert [(a.step_id, a.value) for a in answers] == [("q2", '"b"'), ("q1", '"c"')]


async def test_repository_completion_is_timed_once(repo):
    participant = await enrol(repo)
    run = await repo.start_run(participant.code, "sample", 1, "{}", NOW)
    await repo.save(run.id, "{}", "completed", [], NOW)
    await repo.save(run.id, "{}", "completed", [], NOW + timedelta(hours=1))
    assert (await repo.run(run.id)).completed_at == NOW


async def test_repository_undelivered_until_marked(repo):
    participant = await enrol(repo)
    run = await repo.start_run(participant.code, "sample", 1, "{}", NOW)
    assert await repo.undelivered() == []
    await repo.save(run.id, "{}", "active", [], NOW)
    pending = await repo.undelivered()
    assert [(p.run.id, p.chat_id, p.language) for p in pending] == [(run.id, 1001, "en")]
    await repo.mark_delivered(run.id, 77)
    assert await repo.undelivered() == []
    assert (await repo.run(run.id)).prompt_message_id == 77
    await repo.mark_delivered(run.id, None)
    assert (await repo.run(run.id)).prompt_message_id == 77


async def test_repository_unreachable_participants_are_not_redelivered(repo):
    participant = await enrol(repo)
    run = await repo.start_run(participant.code, "sample", 1, "{}", NOW)
    await repo.save(run.id, "{}", "active", [], NOW)
    await repo.set_status(participant.code, "unreachable")
    assert await repo.undelivered() == []
    assert (await repo.contact_for_user(1001)).participant.status == "unreachable"


async def test_repository_run_needs_a_registered_flow_version(repo):
    participant = await enrol(repo)
    with pytest.raises(sqlite3.IntegrityError):
        await repo.start_run(participant.code, "sample", 9, "{}", NOW)


async def test_repository_telegram_ids_live_only_in_identities(repo, tmp_path):
    participant = await enrol(repo, user_id=987654321, chat_id=987654321)
    run = await repo.start_run(participant.code, "sample", 1, "{}", NOW)
    await repo.save(run.id, "{}", "active", [("q1", '"x"')], NOW)
    await repo.close()
    db = sqlite3.connect(tmp_path / "heard.db")
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    holding = []
    for table in tables:
        for row in db.execute(f"SELECT * FROM {table}"):
            if any(str(cell) == "987654321" for cell in row):
                holding.append(table)
    db.close()
    assert holding == ["identities"]
    reopened = await SQLiteRepository.open(tmp_path / "heard.db")
    await reopened.close()


async def test_repository_migrations_are_recorded_and_run_once(tmp_path):
    path = tmp_path / "m.db"
    first = await SQLiteRepository.open(path)
    await first.close()
    second = await SQLiteRepository.open(path)
    await second.close()
    db = sqlite3.connect(path)
    names = [r[0] for r in db.execute("SELECT name FROM schema_migrations")]
    mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    db.close()
    assert names == [
        "0001_participant_journey",
        "0002_staff_roles_and_audit",
        "0003_participant_choices",
        "0004_safeguarding_flags",
        "0005_rounds_and_outbox",
        "0006_round_retention",
        "0007_crisis_path",
        "0008_concern_priority",
    ]
    assert mode == "wal"


async def test_repository_roles_are_granted_once_and_revoked(repo):
    assert await repo.grant_role(42, "staff", 7, entry(NOW))
    assert not await repo.grant_role(42, "staff", 7, entry(NOW))
    assert await repo.grant_role(42, "safeguarding", 7, entry(NOW))
    assert await repo.roles_of(42) == {"staff", "safeguarding"}
    assert [(r.user_id, r.role, r.granted_by) for r in await repo.staff_roles()] == [
        (42, "safeguarding", 7),
        (42, "staff", 7),
    ]
    assert await repo.revoke_role(42, "staff", entry(NOW))
    assert not await repo.revoke_role(42, "staff", entry(NOW))
    assert await repo.roles_of(42) == {"safeguarding"}


async def test_repository_refuses_an_unknown_role(repo):
    with pytest.raises(sqlite3.IntegrityError):
        await repo.grant_role(42, "owner", 7, entry(NOW))


async def test_repository_audit_log_is_newest_first(repo):
    await repo.audit("staff:7", "grant", "42 staff", NOW)
    await repo.audit("P-ABCDEF", "refused", "/export", NOW + timedelta(seconds=1))
    entries = await repo.audit_entries()
    assert [(e.actor, e.action, e.detail) for e in entries] == [
        ("P-ABCDEF", "refused", "/export"),
        ("staff:7", "grant", "42 staff"),
    ]
    assert len(await repo.audit_entries(limit=1)) == 1


async def test_repository_participant_choices(repo):
    participant = await enrol(repo)
    assert participant.nation is None
    assert participant.contact_changed_at is None
    await repo.set_contact(participant.code, True, NOW)
    await repo.set_nation(participant.code, "wales")
    stored = await repo.participant(participant.code)
    assert (stored.contact_ok, stored.contact_changed_at, stored.nation) == (True, NOW, "wales")
    assert await repo.participant("P-NOBODY") is None


async def test_repository_delete_participant_removes_everything_in_one_go(repo, tmp_path):
    participant = await enrol(repo)
    await enrol(repo)  # a second consent record
    run = await repo.start_run(participant.code, "sample", 1, "{}", NOW)
    await repo.save(run.id, "{}", "active", [("q1", '"a"'), ("q2", '"b"')], NOW)
    other = await enrol(repo, user_id=2002, chat_id=2002)
    kept = await repo.start_run(other.code, "sample", 1, "{}", NOW)
    await repo.save(kept.id, "{}", "active", [("q1", '"c"')], NOW)
    assert [c.consent_version for c in await repo.consents_of(participant.code)] == [1, 1]
    assert [r.id for r in await repo.runs_of(participant.code)] == [run.id]

    deleted = await repo.delete_participant(participant.code, entry_from(NOW))

    assert (deleted.runs, deleted.answers, deleted.consents) == (1, 2, 2)
    assert await repo.contact_for_user(1001) is None
    assert await repo.runs_of(participant.code) == []
    assert await repo.answers(run.id) == []
    assert [a.value for a in await repo.answers(kept.id)] == ['"c"']
    await repo.close()
    db = sqlite3.connect(tmp_path / "heard.db")
    leftover = [
        table
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        for row in db.execute(f"SELECT * FROM {table}")
        if participant.code in map(str, row) or "1001" in map(str, row)
    ]
    db.close()
    assert leftover == []


async def test_repository_purge_removes_old_runs_and_people_left_with_nothing(repo):
    old = await enrol(repo, user_id=1, chat_id=1)
    done = await repo.start_run(old.code, "sample", 1, "{}", NOW)
    await repo.save(done.id, "{}", "completed", [("q1", '"a"'), ("q2", '"b"')], NOW)
    recent = await repo.enrol(user_id=2, chat_id=2, language="en", consent=CONSENT, now=NOW)
    kept = await repo.start_run(recent.code, "sample", 1, "{}", NOW)
    await repo.save(kept.id, "{}", "active", [("q1", '"c"')], NOW + timedelta(days=400))
    # Kept for 365 days: on day 730, what was last touched before day 365 goes.
    later = NOW + timedelta(days=730)

    preview = await repo.purge(later, 365, dry_run=True)
    assert (preview.runs, preview.answers, preview.participants) == (1, 2, 1)
    assert await repo.contact_for_user(1) is not None

    purged = await repo.purge(later, 365)

    assert purged == preview
    assert await repo.contact_for_user(1) is None
    assert await repo.answers(done.id) == []
    assert await repo.contact_for_user(2) is not None
    assert [a.value for a in await repo.answers(kept.id)] == ['"c"']
    assert await repo.purge(later, 365) == type(purged)(0, 0, 0)


async def test_repository_purge_keeps_a_round_to_its_own_retention(repo):
    person = await enrol(repo, user_id=1, chat_id=1)
    short = await repo.create_round(
        NewRound("Short", "sample", NOW, NOW + timedelta(days=7), "test", retention_days=30),
        NOW,
        entry_from(NOW),
    )
    long = await repo.create_round(
        NewRound("Long", "sample", NOW, NOW + timedelta(days=7), "test", retention_days=3000),
        NOW,
        entry_from(NOW),
    )
    runs = {}
    for name, round_id in (("short", short.id), ("long", long.id), ("none", None)):
        run = await repo.start_run(person.code, "sample", 1, "{}", NOW, round_id=round_id)
        await repo.save(run.id, "{}", "completed", [("q1", f'"{name}"')], NOW)
        runs[name] = run.id
    # Day 40: only the 30-day round's run has gone.
    assert (await repo.purge(NOW + timedelta(days=40), 365)).runs == 1
    assert await repo.answers(runs["short"]) == []
    assert [a.value for a in await repo.answers(runs["none"])] == ['"none"']
    # Day 400: the setting's 365 days have passed too, but the 3,000-day round keeps its run
    # and so its person.
    assert (await repo.purge(NOW + timedelta(days=400), 365)).runs == 1
    assert [a.value for a in await repo.answers(runs["long"])] == ['"long"']
    assert await repo.contact_for_user(1) is not None
    purged = await repo.purge(NOW + timedelta(days=3001), 365)
    assert (purged.runs, purged.participants) == (1, 1)


async def test_repository_flags_mark_the_answer_and_lose_their_text_on_deletion(repo):
    participant = await enrol(repo)
    run = await repo.start_run(participant.code, "sample", 1, "{}", NOW)
    await repo.save(run.id, "{}", "checking", [("why", '"no point going on"')], NOW)
    flag = await repo.add_flag(
        participant.code, run.id, "why", "no point going on", "no point going on", NOW
    )
    await repo.mark_alerted(flag.id, NOW)
    [stored] = await repo.flags()
    assert (stored.participant_code, stored.step_id, stored.text) == (
        participant.code,
        "why",
        "no point going on",
    )
    assert stored.alerted_at == NOW
    await repo.delete_participant(participant.code, entry_from(NOW))
    [kept] = await repo.flags()
    assert (kept.participant_code, kept.run_id, kept.text) == (None, None, None)
    assert kept.phrase == "no point going on"


async def test_contact_and_run_reads_both_at_once(tmp_path):
    repo = await SQLiteRepository.open(tmp_path / "heard.db")
    try:
        await repo.register_flow("sample", 1, "hash-1", '{"id": "sample"}', NOW)
        assert await repo.contact_and_run(4242) == (None, None)
        participant = await repo.enrol(
            user_id=4242,
            chat_id=4243,
            language="en",
            consent=ConsentGiven("sample", 1, 1),
            now=NOW,
        )
        contact, run = await repo.contact_and_run(4242)
        assert contact is not None
        assert contact == await repo.contact_for_user(4242)
        assert contact.chat_id == 4243
        assert run is None
        first = await repo.start_run(participant.code, "sample", 1, "{}", NOW)
        second = await repo.start_run(participant.code, "sample", 1, '{"n": 2}', NOW)
        await repo.mark_delivered(second.id, 9)
        contact, run = await repo.contact_and_run(4242)
        assert run is not None
        assert run == await repo.latest_run(participant.code)
        assert run.id == second.id != first.id
        assert run.prompt_message_id == 9
    finally:
        await repo.close()
