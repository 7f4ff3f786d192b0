"""Rounds as participants meet them: invitations, reminders, closing, stop, at decent hours."""

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta

from storage.rounds import NewRound
from storage.sqlite import SQLiteRepository
from tests.bot.test_data_rights import finish
from tests.support.audit import entry_from

INVITED = "We'd like to hear from you about"


def rows(database, sql, args=()):
    db = sqlite3.connect(database)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


async def member(make_user, user_id, contact=True):
    """A participant who finished the default conversation and said whether to be contacted."""
    user = make_user(user_id)
    await finish(user)
    await user.press("Yes, message me" if contact else "No, thank you")
    return user


async def new_round(database, clock, opens=None, days=14, **more):
    repo = await SQLiteRepository.open(database)
    try:
        opens_at = opens or clock.now()
        made = await repo.create_round(
            NewRound(
                title="Winter services",
                flow_id="sample",
                opens_at=opens_at,
                closes_at=opens_at + timedelta(days=days),
                created_by="test",
                **more,
            ),
            clock.now(),
            entry_from(clock.now()),
        )
        return made.id
    finally:
        await repo.close()


def invitations(user):
    return [m for m in user.messages() if INVITED in (m.text or "")]


def outbox(database, kind=None):
    sql = "SELECT kind, participant_code, status, last_error FROM outbox"
    if kind:
        return rows(database, sql + " WHERE kind = ? ORDER BY id", (kind,))
    return rows(database, sql + " ORDER BY id")


async def until(predicate, bound=10.0):
    """Wait (at most `bound` seconds) until predicate() holds; fail saying so if it never does."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + bound
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("the condition never held")
        await asyncio.sleep(0.05)


async def quiet_for(seconds=0.8):
    """Let several dispatcher ticks pass (they run every 0.2 s in tests)."""
    await asyncio.sleep(seconds)


async def test_dispatch_invites_each_contactable_person_once_and_take_part_begins(
    make_user, fake, database, clock
):
    yes = await member(make_user, 2001)
    no = await member(make_user, 2002, contact=False)
    round_id = await new_round(database, clock)
    await fake.wait_for(lambda: invitations(yes), timeout=10)
    message = invitations(yes)[0]
    assert "Winter services" not in message.text  # the default text names the conversation
    assert "Sample consultation" in message.text
    assert "/stop" in message.text
    assert [b["text"] for b in message.inline_buttons()] == ["Take part", "Not this time"]
    assert not invitations(no)
    await yes.press("Take part")
    assert "Have you used the service?" in yes.last_text()
    [(run_round,)] = rows(
        database, "SELECT round_id FROM runs WHERE id = (SELECT MAX(id) FROM runs)"
    )
    assert run_round == round_id
    # The invitation's buttons are gone, and pressing an old copy starts nothing new.
    assert fake.buttons(yes.chat_id, message.message_id) == []
    await quiet_for()
    assert len(invitations(yes)) == 1
    assert [r[2] for r in outbox(database, "invitation")] == ["sent"]


async def test_dispatch_decline_is_kept_and_reminds_only_those_not_finished(
    make_user, fake, database, clock
):
    declines, ignores, finishes, pauses = [await member(make_user, 2100 + n) for n in range(4)]
    await new_round(database, clock, reminders=2)
    await until(lambda: all(invitations(u) for u in (declines, ignores, finishes, pauses)))
    await declines.press("Not this time")
    assert declines.last_text().startswith("Thank you for letting us know")
    assert rows(database, "SELECT COUNT(*) FROM declines") == [(1,)]
    await finishes.press("Take part")
    await finishes.press("No")
    await finishes.send("Too far")
    await finishes.send("Closer")
    await finishes.send("/skip")
    await pauses.press("Take part")
    await pauses.press("Yes")
    before = {u.user_id: len(u.messages()) for u in (declines, ignores, finishes, pauses)}
    clock.advance(days=3, minutes=1)
    await until(lambda: len(ignores.messages()) > before[ignores.user_id])
    await until(lambda: len(pauses.messages()) > before[pauses.user_id])
    assert ignores.last_text().startswith("A gentle reminder: we'd still like to hear from you")
    assert ignores.buttons() == ["Take part", "Not this time"]
    assert pauses.last_text().startswith("A gentle reminder: you started")
    assert pauses.buttons() == ["Carry on"]
    await pauses.press("Carry on")
    assert "How was it?" in pauses.last_text()
    await quiet_for()
    assert len(declines.messages()) == before[declines.user_id]
    assert len(finishes.messages()) == before[finishes.user_id]
    # The second reminder, three days on: again only to those who have not finished; the one
    # who answered a moment ago (clock-wise) is not nagged.
    clock.advance(days=3, minutes=1)
    count = len(ignores.messages())
    await until(lambda: len(ignores.messages()) > count)
    await quiet_for()
    assert len(invitations(ignores)) == 1
    assert len(declines.messages()) == before[declines.user_id]
    assert len(finishes.messages()) == before[finishes.user_id]
    reasons = {r[3] for r in outbox(database, "reminder") if r[2] == "skipped"}
    assert reasons == {"declined", "finished"}
    # Never a third.
    clock.advance(days=3, minutes=1)
    count = len(ignores.messages())
    await quiet_for()
    assert len(ignores.messages()) == count


async def test_dispatch_closing_tells_those_midway_and_buttons_stop_working(
    make_user, fake, database, clock, heard
):
    midway = await member(make_user, 2201)
    waiting = await member(make_user, 2202)
    round_id = await new_round(database, clock, days=2)
    await until(lambda: invitations(midway) and invitations(waiting))
    await midway.press("Take part")
    await midway.press("Yes")
    question = midway.messages()[-1]
    assert "How was it?" in question.text
    clock.advance(days=2)
    await until(lambda: "has now closed" in midway.last_text())
    assert midway.last_text().startswith('"Winter services" has now closed. Thank you')
    assert fake.buttons(midway.chat_id, question.message_id) == []
    # Pressing an old copy of a button, or typing, adds nothing.
    await midway.press_data(question.message_id, f"v1|q|{_run(database, 2201)}|1|2|p|3")
    assert "has closed, so no more answers can be added" in midway.last_text()
    await midway.send("It was OK")
    assert "has closed, so no more answers can be added" in midway.last_text()
    assert rows(
        database, "SELECT COUNT(*) FROM answers WHERE run_id = ?", (_run(database, 2201),)
    ) == [(1,)]
    # Someone who had not started hears nothing at closing, and "Take part" says it closed.
    assert not any("has now closed" in m.text for m in waiting.messages())
    await waiting.press("Take part")
    assert waiting.last_text().startswith("Thank you, but this has now closed")
    assert rows(database, "SELECT status FROM rounds WHERE id = ?", (round_id,)) == [("closed",)]
    # Words of risk after closing still get support and a flag.
    await midway.send("I want to end it all")
    assert rows(database, "SELECT COUNT(*) FROM flags") == [(1,)]


def _run(database, user_id):
    [(run_id,)] = rows(
        database,
        "SELECT MAX(r.id) FROM runs r "
        "JOIN identities i ON i.participant_code = r.participant_code "
        "WHERE i.telegram_user_id = ?",
        (user_id,),
    )
    return run_id


async def test_dispatch_waits_out_quiet_hours_in_local_time(make_user, fake, database, clock):
    person = await member(make_user, 2301)
    # 2026-03-02 is GMT: 22:00 UTC is 22:00 local, inside 21:00-09:00.
    clock.current = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)
    await new_round(database, clock)
    await quiet_for()
    assert not invitations(person)
    assert [r[2] for r in outbox(database, "invitation")] == ["pending"]
    clock.current = datetime(2026, 3, 3, 8, 59, tzinfo=UTC)
    await quiet_for()
    assert not invitations(person)
    clock.current = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    await until(lambda: invitations(person))


async def test_dispatch_quiet_hours_follow_british_summer_time(make_user, fake, database, clock):
    person = await member(make_user, 2302)
    # The clocks went forward at 01:00 UTC on 2026-03-29: 08:30 UTC is 09:30 BST, allowed;
    # 07:30 UTC is 08:30 BST, still quiet.
    clock.current = datetime(2026, 3, 29, 7, 30, tzinfo=UTC)
    await new_round(database, clock)
    await quiet_for()
    assert not invitations(person)
    clock.current = datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
    await until(lambda: invitations(person))


async def test_dispatch_stop_drops_every_pending_send_and_asks_on_return(
    make_user, fake, database, clock
):
    person = await member(make_user, 2401)
    await new_round(database, clock)
    await until(lambda: invitations(person))
    await person.send("/stop")
    assert rows(database, "SELECT status, contact_ok FROM participants") == [("stopped", 0)]
    clock.advance(days=4)
    count = len(person.messages())
    await quiet_for()
    assert len(person.messages()) == count
    # A new round does not reach them either.
    await new_round(database, clock)
    await quiet_for()
    assert len(person.messages()) == count
    assert len(outbox(database, "invitation")) == 1  # not in the new round's audience at all
    assert [r[2:] for r in outbox(database, "reminder")] == [("skipped", "stopped")]
    # Writing again asks first whether they want to hear about future rounds.
    await person.send("/start")
    texts = person.texts_since(count)
    assert texts[0].startswith("Welcome back. Before anything else")
    assert rows(database, "SELECT status, contact_ok FROM participants") == [("active", 0)]


async def test_dispatch_blocked_chat_marks_unreachable_and_is_never_retried(
    make_user, fake, database, clock
):
    blocked = await member(make_user, 2501)
    fine = await member(make_user, 2502)
    fake.block(blocked.chat_id)
    await new_round(database, clock, reminders=2)
    await until(lambda: invitations(fine))
    await until(lambda: ("failed", "unreachable") in [r[2:] for r in outbox(database)])
    [(status,)] = rows(
        database,
        "SELECT p.status FROM participants p JOIN identities i ON i.participant_code = p.code "
        "WHERE i.telegram_user_id = 2501",
    )
    assert status == "unreachable"
    attempts = len([c for c in fake.calls_of("sendMessage") if c.params.get("chat_id") == 2501])
    clock.advance(days=3, minutes=1)
    await until(lambda: len(invitations(fine)) == 1 and len(fine.messages()) > 0)
    await quiet_for()
    after = len([c for c in fake.calls_of("sendMessage") if c.params.get("chat_id") == 2501])
    assert after == attempts


async def test_dispatch_network_errors_retry_with_backoff(make_user, fake, database, clock):
    person = await member(make_user, 2601)
    fake.fail_next("sendMessage", error_code=502, description="Bad Gateway", times=1)
    await new_round(database, clock)
    await until(
        lambda: (
            [r[2] for r in outbox(database, "invitation")] == ["pending"]
            and outbox(database, "invitation")[0][3] == "network: Bad Gateway"
        )
    )
    assert not invitations(person)
    clock.advance(seconds=31)
    await until(lambda: invitations(person))
    await quiet_for()
    assert len(invitations(person)) == 1
    assert outbox(database, "invitation")[0][2:] == ("sent", None)


async def test_dispatch_feedback_reaches_those_who_took_part(make_user, fake, database, clock):
    took_part = await member(make_user, 2701)
    did_not = await member(make_user, 2702)
    round_id = await new_round(database, clock)
    await until(lambda: invitations(took_part) and invitations(did_not))
    await took_part.press("Take part")
    repo = await SQLiteRepository.open(database)
    try:
        assert await repo.feedback_audience(round_id) == 1
        await repo.queue_feedback(
            round_id, "We now open on Saturdays.", clock.now(), entry_from(clock.now())
        )
    finally:
        await repo.close()
    await until(lambda: "You said, we did" in took_part.last_text())
    assert "We now open on Saturdays." in took_part.last_text()
    await quiet_for()
    assert not any("You said, we did" in m.text for m in did_not.messages())


async def test_dispatch_progress_message_for_the_coordinator(make_user, fake, database, clock):
    coordinator = make_user(9001)
    await coordinator.send("/help")
    people = [await member(make_user, 2800 + n) for n in range(3)]
    await new_round(database, clock, notify_chat=coordinator.chat_id)
    await until(lambda: all(invitations(p) for p in people))
    await until(lambda: "are all out: 3 of 3 sent, 0 failed" in coordinator.last_text())
    progress = [m for m in coordinator.messages() if "Invitations for R1" in m.text]
    assert len(progress) == 1  # one message, edited as it goes


async def test_dispatch_other_conversation_asks_consent_first(
    make_user, fake, database, clock, flows_dir, heard
):
    person = await member(make_user, 2901)
    repo = await SQLiteRepository.open(database)
    try:
        made = await repo.create_round(
            NewRound(
                title="Clinic",
                flow_id="sample",
                opens_at=clock.now(),
                closes_at=clock.now() + timedelta(days=3),
                created_by="test",
            ),
            clock.now(),
            entry_from(clock.now()),
        )
        # Pretend they agreed to an older consent text only.
        await repo._db.run(lambda db: db.execute("UPDATE consents SET consent_version = 0"))
    finally:
        await repo.close()
    await until(lambda: invitations(person))
    await person.press("Take part")
    assert person.last_text() == "Are you happy to take part?"
    await person.press("Yes, I agree")
    assert "Have you used the service?" in person.last_text()
    [(round_id,)] = rows(database, "SELECT round_id FROM runs ORDER BY id DESC LIMIT 1")
    assert round_id == made.id
    assert rows(database, "SELECT COUNT(*) FROM consents") == [(2,)]


async def test_dispatch_sends_nothing_to_someone_who_deleted_their_data(
    make_user, fake, database, clock
):
    person = await member(make_user, 3101)
    other = await member(make_user, 3102)
    await new_round(database, clock, reminders=1)
    await until(lambda: invitations(person) and invitations(other))
    assert rows(database, "SELECT COUNT(*) FROM outbox WHERE status = 'pending'") == [(2,)]
    await person.send("/delete")
    await person.press("Yes, delete my data")
    # Their waiting reminder went with them; the other person's is still there.
    assert rows(database, "SELECT COUNT(*) FROM outbox WHERE status = 'pending'") == [(1,)]
    count = len(person.messages())
    clock.advance(days=3, minutes=1)
    await until(lambda: len(other.messages()) and "gentle reminder" in other.last_text())
    await quiet_for()
    assert len(person.messages()) == count


async def test_dispatch_gives_up_after_five_network_failures_and_counts_them(
    make_user, fake, database, clock
):
    person = await member(make_user, 3201)
    fake.fail_next("sendMessage", error_code=500, description="Internal Server Error", times=5)
    round_id = await new_round(database, clock)
    state = "SELECT attempts, status FROM outbox"
    for attempt in range(1, 6):
        # Each failure is put back for later: 30 s, then 60, 120 and 240; the fifth is final.
        await until(lambda n=attempt: rows(database, state) in ([(n, "pending")], [(5, "failed")]))
        backoff = 30 * 2 ** (attempt - 1)
        if attempt == 2:
            clock.advance(seconds=backoff - 2)
            await quiet_for()
            assert rows(database, state) == [(2, "pending")]  # not before its time
            clock.advance(seconds=3)
        else:
            clock.advance(seconds=backoff + 1)
    await until(lambda: outbox(database, "invitation")[0][2] == "failed")
    assert outbox(database, "invitation")[0][3].startswith("network: ")
    assert not invitations(person)
    repo = await SQLiteRepository.open(database)
    try:
        figures = await repo.round_figures(round_id)
    finally:
        await repo.close()
    assert (figures.eligible, figures.invited, figures.failed) == (1, 0, 1)


async def test_dispatch_a_429_that_outlasts_the_rate_limiter_pauses_and_retries(
    make_user, fake, database, clock
):
    person = await member(make_user, 3301)
    # The rate limiter waits out three 429s itself; the fourth reaches the dispatcher.
    fake.fail_next(
        "sendMessage",
        error_code=429,
        description="Too Many Requests: retry after 1",
        retry_after=1,
        times=4,
    )
    await new_round(database, clock)
    await until(
        lambda: (
            outbox(database, "invitation")
            and outbox(database, "invitation")[0][3] == "Telegram asked to wait 1s"
        ),
        bound=15,
    )
    assert not invitations(person)
    clock.advance(seconds=1)
    await until(lambda: invitations(person))
    assert len(invitations(person)) == 1
