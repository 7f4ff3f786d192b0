"""Rounds, the outbox and declines on a real SQLite file (storage/sqlite_rounds.py)."""

import sqlite3
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from storage.repository import ConsentGiven
from storage.rounds import CONTACTABLE, NewRound, took_part_in
from storage.sqlite import SQLiteRepository
from tests.support.audit import entry, entry_from

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)
CONSENT = ConsentGiven("sample", 1, 1)


@pytest.fixture
def path(tmp_path):
    return tmp_path / "heard.db"


@pytest.fixture
async def repo(path):
    repository = await SQLiteRepository.open(path)
    await repository.register_flow("sample", 1, "hash-1", '{"id": "sample"}', NOW)
    yield repository
    await repository.close()


def outbox(path, where="1", args=()):
    """Read outbox rows straight from the file, as dicts, in id order."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        rows = db.execute(f"SELECT * FROM outbox WHERE {where} ORDER BY id", args).fetchall()
        return [dict(row) for row in rows]
    finally:
        db.close()


def count(path, table):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    finally:
        db.close()


async def person(repo, user_id, contact=True):
    """Enrol someone and record whether they agreed to hear about future rounds."""
    who = await repo.enrol(
        user_id=user_id, chat_id=user_id, language="en", consent=CONSENT, now=NOW
    )
    await repo.set_contact(who.code, contact, NOW)
    return who.code


async def new_round(repo, *, opens=NOW, closes=None, reminders=1, days=3.0, audience=CONTACTABLE):
    return await repo.create_round(
        NewRound(
            title="Spring round",
            flow_id="sample",
            opens_at=opens,
            closes_at=closes or opens + timedelta(days=14),
            created_by="cli",
            audience=audience,
            reminders=reminders,
            reminder_days=days,
        ),
        NOW,
        entry_from(NOW),
    )


async def opened(repo, **kwargs):
    """Create a round that opens now and open it."""
    made = await new_round(repo, **kwargs)
    assert [r.id for r in await repo.open_due_rounds(NOW)] == [made.id]
    return made


async def send_invitations(repo, at=NOW):
    """Claim every due invitation and record it as sent; return them by participant."""
    items = await repo.claim_due(at, at + LEASE, 100)
    for item in items:
        await repo.mark_sent(item.id, at)
    return {item.participant_code: item for item in items}


async def test_rounds_create_round_is_stored_and_listed_newest_first(repo):
    london = ZoneInfo("Europe/London")
    opens = datetime(2026, 4, 1, 10, 0, tzinfo=london)  # BST: 09:00 UTC
    first = await new_round(repo, opens=opens, reminders=2, days=2.5)
    second = await new_round(repo, audience=took_part_in(first.id), reminders=0)

    assert first.id != second.id
    assert (first.status, first.created_by, first.created_at) == ("scheduled", "cli", NOW)
    assert first.opens_at == datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
    assert first.closes_at == opens + timedelta(days=14)
    assert (first.reminders, first.reminder_days, first.audience) == (2, 2.5, CONTACTABLE)
    assert (first.feedback, first.feedback_at, first.closed_at) == (None, None, None)
    assert await repo.round(first.id) == first
    assert second.audience == f"round:{first.id}"
    assert [r.id for r in await repo.rounds()] == [second.id, first.id]
    assert await repo.round(999) is None


async def test_rounds_create_round_refuses_unknown_audience_and_close_before_open(repo):
    with pytest.raises(ValueError, match="unknown audience 'friends'"):
        await new_round(repo, audience="friends")
    with pytest.raises(sqlite3.IntegrityError):
        await new_round(repo, closes=NOW - timedelta(minutes=1))
    with pytest.raises(sqlite3.IntegrityError):
        await new_round(repo, reminders=3)
    with pytest.raises(ValueError, match="timezone-aware"):
        await new_round(repo, opens=datetime(2026, 4, 1, 10, 0))
    assert await repo.rounds() == []


async def test_rounds_audience_size_counts_only_active_people_who_agreed(repo):
    yes = await person(repo, 1)
    await person(repo, 2, contact=False)
    await repo.enrol(user_id=3, chat_id=3, language="en", consent=CONSENT, now=NOW)  # never asked
    stopped = await person(repo, 4)
    await repo.set_status(stopped, "stopped")
    unreachable = await person(repo, 5)
    await repo.set_status(unreachable, "unreachable")

    assert await repo.audience_size(CONTACTABLE) == 1

    earlier = await new_round(repo)
    other = await new_round(repo)
    await repo.start_run(yes, "sample", 1, "{}", NOW, round_id=earlier.id)
    await repo.start_run(yes, "sample", 1, "{}", NOW, round_id=earlier.id)  # counted once
    await repo.start_run(stopped, "sample", 1, "{}", NOW, round_id=earlier.id)
    unwilling = await person(repo, 6, contact=False)
    await repo.start_run(unwilling, "sample", 1, "{}", NOW, round_id=earlier.id)
    elsewhere = await person(repo, 7)
    await repo.start_run(elsewhere, "sample", 1, "{}", NOW, round_id=other.id)
    await repo.start_run(elsewhere, "sample", 1, "{}", NOW)  # outside any round

    assert await repo.audience_size(CONTACTABLE) == 2
    assert await repo.audience_size(took_part_in(earlier.id)) == 1
    assert await repo.audience_size(took_part_in(other.id)) == 1
    assert await repo.audience_size(took_part_in(999)) == 0


async def test_rounds_open_due_rounds_queues_one_invitation_each_once(repo, path):
    codes = {await person(repo, user_id) for user_id in (1, 2, 3)}
    await person(repo, 4, contact=False)
    later = await new_round(repo, opens=NOW + timedelta(hours=1))

    assert await repo.open_due_rounds(NOW) == []
    assert outbox(path) == []
    assert (await repo.round(later.id)).status == "scheduled"

    at = NOW + timedelta(hours=1)
    assert [r.id for r in await repo.open_due_rounds(at)] == [later.id]
    assert await repo.open_due_rounds(at) == []
    assert await repo.open_due_rounds(at + timedelta(hours=1)) == []

    rows = outbox(path)
    assert sorted(row["participant_code"] for row in rows) == sorted(codes)
    assert {row["kind"] for row in rows} == {"invitation"}
    assert {row["status"] for row in rows} == {"pending"}
    assert {row["round_id"] for row in rows} == {later.id}
    assert {row["flow_id"] for row in rows} == {"sample"}
    assert {datetime.fromisoformat(row["due_at"]) for row in rows} == {at}
    assert (await repo.round(later.id)).status == "open"


async def test_rounds_opened_late_invitations_are_due_when_opened(repo, path):
    await person(repo, 1)
    made = await new_round(repo, opens=NOW)
    late = NOW + timedelta(hours=5)
    assert [r.id for r in await repo.open_due_rounds(late)] == [made.id]
    [row] = outbox(path)
    assert datetime.fromisoformat(row["due_at"]) == late


async def test_rounds_claim_due_leases_rows_and_recovers_expired_claims(repo):
    code = await person(repo, 1)
    made = await opened(repo)

    assert await repo.claim_due(NOW - timedelta(seconds=1), NOW + LEASE, 10) == []
    [item] = await repo.claim_due(NOW, NOW + LEASE, 10)
    assert (item.kind, item.participant_code, item.round_id, item.flow_id) == (
        "invitation",
        code,
        made.id,
        "sample",
    )
    assert (item.status, item.attempts, item.recovered) == ("claimed", 1, False)
    assert (item.chat_id, item.language, item.participant_status, item.contact_ok) == (
        1,
        "en",
        "active",
        True,
    )
    assert item.key == f"invitation:{made.id}:{code}"

    assert await repo.claim_due(NOW + timedelta(seconds=30), NOW + LEASE, 10) == []
    assert await repo.claim_due(NOW + LEASE - timedelta(microseconds=1), NOW + LEASE, 10) == []

    [again] = await repo.claim_due(NOW + LEASE, NOW + 2 * LEASE, 10)
    assert again.id == item.id
    assert (again.status, again.attempts, again.recovered) == ("claimed", 2, True)
    assert (await repo.outbox_item(item.id)).recovered


async def test_rounds_claim_due_takes_at_most_the_limit(repo):
    for user_id in (1, 2, 3):
        await person(repo, user_id)
    await opened(repo)
    first = await repo.claim_due(NOW, NOW + LEASE, 2)
    rest = await repo.claim_due(NOW, NOW + LEASE, 2)
    assert len(first) == 2
    assert len(rest) == 1
    assert {item.id for item in first}.isdisjoint(item.id for item in rest)
    assert await repo.claim_due(NOW, NOW + LEASE, 2) == []


async def test_rounds_retry_later_puts_a_claim_back_until_its_new_time(repo):
    await person(repo, 1)
    await opened(repo)
    [item] = await repo.claim_due(NOW, NOW + LEASE, 10)
    await repo.retry_later(item.id, NOW + timedelta(minutes=5), "Telegram asked to wait")
    assert await repo.claim_due(NOW + timedelta(minutes=4), NOW + timedelta(hours=1), 10) == []
    [again] = await repo.claim_due(NOW + timedelta(minutes=5), NOW + timedelta(hours=1), 10)
    assert (again.id, again.attempts, again.recovered) == (item.id, 2, False)


async def test_rounds_mark_sent_queues_reminders_days_apart_before_close(repo, path):
    code = await person(repo, 1)
    made = await opened(repo, reminders=2, days=3.0, closes=NOW + timedelta(days=14))
    sent_at = NOW + timedelta(hours=2)
    [item] = await repo.claim_due(sent_at, sent_at + LEASE, 10)
    await repo.mark_sent(item.id, sent_at)
    await repo.mark_sent(item.id, sent_at + timedelta(hours=1))  # a repeat queues nothing new

    assert (await repo.outbox_item(item.id)).status == "sent"
    reminders = outbox(path, "kind = 'reminder'")
    assert [row["key"] for row in reminders] == [
        f"reminder:{made.id}:{code}:1",
        f"reminder:{made.id}:{code}:2",
    ]
    assert [datetime.fromisoformat(row["due_at"]) for row in reminders] == [
        sent_at + timedelta(days=3),
        sent_at + timedelta(days=6),
    ]
    assert {(row["status"], row["flow_id"], row["round_id"]) for row in reminders} == {
        ("pending", "sample", made.id)
    }

    # Sending a reminder queues nothing further.
    [first] = await repo.claim_due(sent_at + timedelta(days=3), sent_at + timedelta(days=4), 10)
    await repo.mark_sent(first.id, sent_at + timedelta(days=3))
    assert len(outbox(path, "kind = 'reminder'")) == 2


async def test_rounds_reminders_are_never_due_at_or_after_the_close(repo, path):
    code = await person(repo, 1)
    made = await opened(repo, reminders=2, days=3.0, closes=NOW + timedelta(days=6))
    await send_invitations(repo)
    [reminder] = outbox(path, "kind = 'reminder'")  # the second would fall exactly at the close
    assert reminder["key"] == f"reminder:{made.id}:{code}:1"

    await person(repo, 2)
    late = await opened(repo, reminders=2, days=3.0, closes=NOW + timedelta(days=2))
    await send_invitations(repo)
    assert outbox(path, "kind = 'reminder' AND round_id = ?", (late.id,)) == []


async def test_rounds_no_reminders_when_the_round_has_none(repo, path):
    await person(repo, 1)
    await opened(repo, reminders=0)
    await send_invitations(repo)
    assert outbox(path, "kind = 'reminder'") == []
    assert outbox(path, "kind = 'invitation' AND status = 'sent'") != []


async def test_rounds_decline_is_recorded_once_and_skips_pending_reminders(repo, path):
    declining = await person(repo, 1)
    staying = await person(repo, 2)
    made = await opened(repo, reminders=2)
    invitations = await send_invitations(repo)
    invitation = invitations[declining]

    assert not await repo.decline(invitation.id, staying, NOW)  # not their invitation
    assert not await repo.has_declined(declining, made.id)
    assert await repo.decline(invitation.id, declining, NOW + timedelta(hours=1))
    assert await repo.has_declined(declining, made.id)
    assert not await repo.decline(invitation.id, declining, NOW + timedelta(hours=2))
    assert not await repo.has_declined(staying, made.id)

    theirs = outbox(path, "kind = 'reminder' AND participant_code = ?", (declining,))
    assert [(row["status"], row["last_error"]) for row in theirs] == [("skipped", "declined")] * 2
    others = outbox(path, "kind = 'reminder' AND participant_code = ?", (staying,))
    assert [row["status"] for row in others] == ["pending", "pending"]
    assert (await repo.round_figures(made.id)).declined == 1


async def test_rounds_stop_participant_drops_every_unsent_message(repo, path):
    stopping = await person(repo, 1)
    other = await person(repo, 2)
    made = await opened(repo, reminders=2)
    invitations = await send_invitations(repo)

    dropped = await repo.stop_participant(stopping, NOW + timedelta(hours=1))

    assert dropped == 2  # both reminders; the invitation was already sent
    stored = await repo.participant(stopping)
    assert (stored.status, stored.contact_ok) == ("stopped", False)
    assert stored.contact_changed_at == NOW + timedelta(hours=1)
    theirs = outbox(path, "participant_code = ?", (stopping,))
    assert [(row["kind"], row["status"]) for row in theirs] == [
        ("invitation", "sent"),
        ("reminder", "skipped"),
        ("reminder", "skipped"),
    ]
    assert {row["last_error"] for row in theirs if row["kind"] == "reminder"} == {"stopped"}
    assert (await repo.outbox_item(invitations[stopping].id)).participant_status == "stopped"
    later = await repo.claim_due(NOW + timedelta(days=30), NOW + timedelta(days=31), 100)
    assert {item.participant_code for item in later} == {other}
    assert (await repo.round_figures(made.id)).stopped == 1
    assert await repo.audience_size(CONTACTABLE) == 1


async def test_rounds_mark_unreachable_drops_pending_and_claimed_sends(repo, path):
    gone = await person(repo, 1)
    await opened(repo)
    [item] = await repo.claim_due(NOW, NOW + LEASE, 10)

    await repo.mark_unreachable(gone)

    assert (await repo.participant(gone)).status == "unreachable"
    [row] = outbox(path)
    assert (row["status"], row["last_error"], row["lease_until"]) == (
        "skipped",
        "unreachable",
        None,
    )
    assert await repo.claim_due(NOW + LEASE, NOW + 2 * LEASE, 10) == []
    assert (await repo.outbox_item(item.id)).participant_status == "unreachable"


async def test_rounds_end_round_skips_unsent_and_tells_those_part_way(repo, path):
    finished = await person(repo, 1)
    midway = await person(repo, 2)
    waiting = await person(repo, 3)
    made = await opened(repo, reminders=1)
    invitations = await repo.claim_due(NOW, NOW + LEASE, 100)
    for item in invitations:
        if item.participant_code != waiting:
            await repo.mark_sent(item.id, NOW)
    done = await repo.start_run(finished, "sample", 1, "{}", NOW, round_id=made.id)
    await repo.save(done.id, "{}", "completed", [], NOW)
    part = await repo.start_run(midway, "sample", 1, "{}", NOW, round_id=made.id)
    await repo.save(part.id, "{}", "active", [], NOW)
    await repo.start_run(waiting, "sample", 1, "{}", NOW)  # a run outside the round
    closing = NOW + timedelta(days=1)

    assert await repo.end_round(made.id, "closed", closing, entry(closing))
    assert not await repo.end_round(made.id, "closed", closing, entry(closing))
    assert not await repo.end_round(made.id, "cancelled", closing, entry(closing))
    assert not await repo.end_round(999, "closed", closing, entry(closing))

    ended = await repo.round(made.id)
    assert (ended.status, ended.closed_at) == ("closed", closing)
    kinds = {
        (row["kind"], row["participant_code"]): (row["status"], row["last_error"])
        for row in outbox(path)
    }
    assert kinds == {
        ("invitation", finished): ("sent", None),
        ("invitation", midway): ("sent", None),
        ("invitation", waiting): ("skipped", "round closed"),
        ("reminder", finished): ("skipped", "round closed"),
        ("reminder", midway): ("skipped", "round closed"),
        ("closed", midway): ("pending", None),
    }
    [note] = outbox(path, "kind = 'closed'")
    assert (note["run_id"], note["round_id"]) == (part.id, made.id)
    assert datetime.fromisoformat(note["due_at"]) == closing
    tally = await repo.send_tally(made.id, "invitation")
    assert (tally.total, tally.sent, tally.failed, tally.skipped, tally.done) == (3, 2, 0, 1, True)


async def test_rounds_cancelling_a_scheduled_round_queues_nothing(repo, path):
    await person(repo, 1)
    made = await new_round(repo, opens=NOW + timedelta(days=1))
    assert await repo.end_round(made.id, "cancelled", NOW, entry(NOW))
    assert (await repo.round(made.id)).status == "cancelled"
    assert await repo.open_due_rounds(NOW + timedelta(days=2)) == []
    assert outbox(path) == []


async def test_rounds_close_due_rounds_closes_only_rounds_past_their_close(repo):
    short = await opened(repo, closes=NOW + timedelta(days=1))
    long = await opened(repo, closes=NOW + timedelta(days=7))
    assert await repo.close_due_rounds(NOW + timedelta(hours=23)) == []
    assert [r.id for r in await repo.close_due_rounds(NOW + timedelta(days=1))] == [short.id]
    assert await repo.close_due_rounds(NOW + timedelta(days=1)) == []
    assert (await repo.round(short.id)).status == "closed"
    assert (await repo.round(long.id)).status == "open"


async def test_rounds_figures_count_each_outcome(repo):
    codes = [await person(repo, user_id) for user_id in range(1, 7)]
    completed, started, declined, stopped, failed, pending = codes
    made = await opened(repo)
    items = {item.participant_code: item for item in await repo.claim_due(NOW, NOW + LEASE, 100)}
    for code in (completed, started, declined, stopped):
        await repo.mark_sent(items[code].id, NOW)
    await repo.give_up(items[failed].id, "failed", "network")
    await repo.retry_later(items[pending].id, NOW + timedelta(hours=1), "wait")
    done = await repo.start_run(completed, "sample", 1, "{}", NOW, round_id=made.id)
    await repo.save(done.id, "{}", "completed", [], NOW)
    await repo.start_run(started, "sample", 1, "{}", NOW, round_id=made.id)
    await repo.decline(items[declined].id, declined, NOW)
    await repo.stop_participant(stopped, NOW)

    figures = await repo.round_figures(made.id)

    assert (
        figures.eligible,
        figures.invited,
        figures.started,
        figures.completed,
        figures.declined,
        figures.stopped,
        figures.failed,
        figures.waiting,
    ) == (6, 4, 2, 1, 1, 1, 1, 1)
    assert await repo.round_run_id(started, made.id) is not None
    assert await repo.round_run_id(declined, made.id) is None


async def test_rounds_feedback_reaches_only_active_contactable_people_who_took_part(repo, path):
    made = await opened(repo)
    other = await opened(repo)
    took_part = await person(repo, 1)
    changed_mind = await person(repo, 2)
    stopped = await person(repo, 3)
    unreachable = await person(repo, 4)
    only_invited = await person(repo, 5)
    elsewhere = await person(repo, 6)
    for code in (took_part, took_part, changed_mind, stopped, unreachable):
        await repo.start_run(code, "sample", 1, "{}", NOW, round_id=made.id)
    await repo.start_run(elsewhere, "sample", 1, "{}", NOW, round_id=other.id)
    await repo.set_contact(changed_mind, False, NOW)
    await repo.stop_participant(stopped, NOW)
    await repo.mark_unreachable(unreachable)
    assert only_invited  # contactable, but never started a run in the round

    assert await repo.feedback_audience(made.id) == 1
    sent_at = NOW + timedelta(days=20)
    assert (
        await repo.queue_feedback(made.id, "You said, we did.", sent_at, entry_from(sent_at)) == 1
    )
    assert (
        await repo.queue_feedback(made.id, "You said, we did.", sent_at, entry_from(sent_at)) == 0
    )

    [row] = outbox(path, "kind = 'feedback'")
    assert (row["participant_code"], row["round_id"], row["status"]) == (
        took_part,
        made.id,
        "pending",
    )
    stored = await repo.round(made.id)
    assert (stored.feedback, stored.feedback_at) == ("You said, we did.", sent_at)


async def test_rounds_deleting_a_participant_removes_their_sends_and_declines(repo, path):
    leaving = await person(repo, 1)
    staying = await person(repo, 2)
    made = await opened(repo, reminders=2)
    invitations = await send_invitations(repo)
    await repo.decline(invitations[leaving].id, leaving, NOW)
    await repo.decline(invitations[staying].id, staying, NOW)
    run = await repo.start_run(leaving, "sample", 1, "{}", NOW, round_id=made.id)
    await repo.end_round(made.id, "closed", NOW + timedelta(days=1), entry(NOW))
    assert outbox(path, "participant_code = ? AND kind = 'closed'", (leaving,)) != []

    await repo.delete_participant(leaving, entry_from(NOW))

    assert outbox(path, "participant_code = ?", (leaving,)) == []
    assert outbox(path, "run_id = ?", (run.id,)) == []
    assert len(outbox(path, "participant_code = ?", (staying,))) == 3
    assert count(path, "declines") == 1
    assert not await repo.has_declined(leaving, made.id)
    assert await repo.has_declined(staying, made.id)
    figures = await repo.round_figures(made.id)
    assert (figures.eligible, figures.declined) == (1, 1)
