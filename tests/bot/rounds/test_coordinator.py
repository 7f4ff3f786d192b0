"""/rounds, /round ID (Close, Cancel) and /feedback ID in Telegram, for coordinators only."""

from datetime import timedelta

from conversations.catalog import catalog
from tests.bot.conftest import ADMIN_ID
from tests.support.coordinating import (
    code_of,
    joined,
    member,
    opened,
    repository,
    rows,
    stored_round,
    took_part,
)

STALE = "That button is from an earlier message, so nothing was changed."
FEEDBACK = (
    "We heard that the clinics were too far away. From May there is a clinic in the town "
    "centre on Tuesdays. Evening hours did not change: there are not enough staff yet."
)


async def test_rounds_without_any_points_to_newround(make_user):
    coordinator = make_user(ADMIN_ID)
    await coordinator.send("/rounds")
    assert coordinator.last_text() == "There are no rounds yet. Send /newround to set one up."


async def test_rounds_shows_each_round_with_live_figures(make_user, database, clock):
    users = [await member(make_user(user_id)) for user_id in (3001, 3002, 3003)]
    await member(make_user(3004), contact=False)
    first = await stored_round(database, clock.now(), "Winter services")
    coordinator = make_user(ADMIN_ID)

    await coordinator.send("/rounds")
    assert coordinator.last_text() == (
        "Rounds, newest first. Send /round ID to see one in detail.\n\n"
        'R1 "Winter services": scheduled\n'
        "Opens Tue 3 Mar 2026, 10:00; closes Tue 17 Mar 2026, 10:00\n"
        "Eligible 3, invited 0, started 0, completed 0, declined 0, stopped 0, failed 0"
    )

    # The round opens: three invitations; two are sent, one fails; one person says
    # "not this time", one took part and finished, one stops all messages.
    await opened(database, clock.now())
    later = clock.now() + timedelta(days=1)
    async with repository(database) as repo:
        items = await repo.claim_due(later, later + timedelta(hours=1), 10)
        by_code = {item.participant_code: item.id for item in items}
        codes = [code_of(database, user.user_id) for user in users]
        await repo.mark_sent(by_code[codes[0]], later)
        await repo.mark_sent(by_code[codes[1]], later)
        await repo.decline(by_code[codes[1]], codes[1], later)
        await repo.give_up(by_code[codes[2]], "failed", "network")
    took_part(database, users[0].user_id, first)
    await users[2].send("/stop")
    await stored_round(database, clock.now(), "Spring check-in")

    await coordinator.send("/rounds")
    listed = coordinator.last_text()
    assert listed.index('R2 "Spring check-in": scheduled') < listed.index('R1 "Winter')
    assert (
        'R1 "Winter services": open\n'
        "Opens Tue 3 Mar 2026, 10:00; closes Tue 17 Mar 2026, 10:00\n"
        "Eligible 3, invited 2, started 1, completed 1, declined 1, stopped 1, failed 1"
    ) in listed
    assert ("rounds", "viewed 2 round(s)") in rows(
        database, "SELECT action, detail FROM audit_log"
    )


async def test_rounds_lists_only_the_newest_twenty(make_user, database, clock):
    for number in range(1, 23):
        await stored_round(database, clock.now(), f"Round number {number}")
    coordinator = make_user(ADMIN_ID)
    await coordinator.send("/rounds")
    listed = "\n\n".join(coordinator.texts_since(0))
    assert 'R22 "Round number 22"' in listed
    assert 'R3 "Round number 3"' in listed
    assert 'R2 "Round number 2"' not in listed
    assert listed.endswith(
        "Showing the newest 20 of 22 rounds. Send /round ID to see any of them."
    )
    assert all(len(text) <= 4096 for text in coordinator.texts_since(0))


async def test_round_shows_the_detail_and_closes_only_when_confirmed(make_user, database, clock):
    finished = await member(make_user(3001))
    midway = make_user(3002)
    await joined(midway)
    round_id = await stored_round(database, clock.now())
    await opened(database, clock.now())
    took_part(database, finished.user_id, round_id)
    took_part(database, midway.user_id, round_id)
    coordinator = make_user(ADMIN_ID)

    await coordinator.send("/round R1")
    detail = coordinator.last_text()
    assert detail.startswith('R1 "Winter services": open\n\nConversation: Sample consultation')
    assert "Who is invited: everyone who agreed to be contacted" in detail
    assert "Opens: Tue 3 Mar 2026, 10:00\nCloses: Tue 17 Mar 2026, 10:00" in detail
    assert "Reminders: one, 3 days after the invitation" in detail
    assert "Eligible 1, invited 0, started 2, completed 1" in detail
    assert "You said, we did: not sent yet (send /feedback 1 when you're ready)" in detail
    assert coordinator.buttons() == ["Close now", "Cancel the round"]

    await coordinator.press("Close now")
    assert coordinator.last_text().startswith('Close R1 "Winter services" now?')
    assert "1 person part-way through will be told it has closed" in coordinator.last_text()
    assert coordinator.buttons() == ["Yes, close it", "Back"]
    await coordinator.press("Back")
    assert coordinator.texts_since(len(coordinator.messages()) - 2)[0] == "Nothing changed."
    assert coordinator.buttons() == ["Close now", "Cancel the round"]
    assert rows(database, "SELECT status FROM rounds") == [("open",)]

    await coordinator.press("Close now")
    sure = coordinator.messages()[-1].message_id
    await coordinator.press("Yes, close it")
    assert coordinator.last_text().startswith(
        'R1 "Winter services" is closed. 1 person part-way through will be told'
    )
    assert rows(database, "SELECT status FROM rounds") == [("closed",)]
    assert rows(database, "SELECT kind, participant_code FROM outbox WHERE kind = 'closed'") == [
        ("closed", code_of(database, midway.user_id))
    ]
    assert (f"staff:{ADMIN_ID}", "round closed") in rows(
        database, "SELECT actor, action FROM audit_log"
    )
    # A closed round has no buttons, and an old "Yes" changes nothing.
    await coordinator.send("/round 1")
    assert coordinator.last_text().startswith('R1 "Winter services": closed')
    assert coordinator.messages()[-1].inline_buttons() == []
    await coordinator.press_data(sure, "v1|r|1|closeok")
    assert coordinator.last_text() == "That can't be done: round R1 is already closed."


async def test_round_cancel_of_a_scheduled_round(make_user, database, clock):
    await stored_round(database, clock.now())
    coordinator = make_user(ADMIN_ID)
    await coordinator.send("/round 1")
    # Not open yet: there is nothing to close, only to cancel.
    assert coordinator.buttons() == ["Cancel the round"]
    await coordinator.press("Cancel the round")
    assert "0 people part-way through" in coordinator.last_text()
    await coordinator.press("Yes, cancel it")
    assert coordinator.last_text().startswith('R1 "Winter services" is cancelled.')
    assert rows(database, "SELECT status FROM rounds") == [("cancelled",)]


async def test_round_asks_for_a_number_and_names_a_missing_round(make_user, database, clock):
    coordinator = make_user(ADMIN_ID)
    for text in ("/round", "/round first", "/round 1 2", "/round 0"):
        await coordinator.send(text)
        assert coordinator.last_text().startswith("Send /round and a round's number"), text
    await coordinator.send("/round R9")
    assert coordinator.last_text() == "That can't be done: there is no round R9."


async def test_round_commands_and_buttons_are_refused_to_others(make_user, database, clock):
    participant = await member(make_user(3001))
    await stored_round(database, clock.now())
    for command in ("/rounds", "/round 1", "/feedback 1"):
        await participant.send(command)
        assert participant.last_text().startswith("I don't know that command"), command
    for data in ("v1|r|1|cancelok", "v1|r|1|send"):
        await participant.press_data(participant.messages()[-1].message_id, data)
        assert participant.last_text() == STALE
    assert rows(database, "SELECT status, feedback FROM rounds") == [("scheduled", None)]
    assert rows(database, "SELECT detail FROM audit_log WHERE action = 'refused'") == [
        ("/rounds in a private chat",),
        ("/round in a private chat",),
        ("/feedback in a private chat",),
        ("/round (button) in a private chat",),
        ("/feedback (button) in a private chat",),
    ]


async def test_feedback_previews_then_queues_to_those_who_took_part(make_user, database, clock):
    first = await member(make_user(3001))
    second = await member(make_user(3002))
    silent = await member(make_user(3003), contact=False)
    round_id = await stored_round(database, clock.now())
    await opened(database, clock.now())
    for user in (first, second, silent):
        took_part(database, user.user_id, round_id)
    coordinator = make_user(ADMIN_ID)

    await coordinator.send("/feedback R1")
    assert coordinator.last_text().startswith(
        'Write the "you said, we did" message for R1 "Winter services" as your next message'
    )
    assert "It would reach 2 people." in coordinator.last_text()
    seen = len(coordinator.messages())
    await coordinator.send(FEEDBACK)
    preview, reach = coordinator.texts_since(seen)[-2:]
    assert preview == catalog("en")("feedback_message", title="Winter services", text=FEEDBACK)
    assert reach.startswith("This will go to 2 people who took part and agreed to hear from us.")
    assert coordinator.buttons() == ["Confirm, send it", "Cancel"]
    assert rows(database, "SELECT COUNT(*) FROM outbox WHERE kind = 'feedback'") == [(0,)]

    await coordinator.press("Confirm, send it")
    assert coordinator.last_text().startswith("Done: the message is on its way to 2 people.")
    queued = rows(database, "SELECT participant_code FROM outbox WHERE kind = 'feedback'")
    assert sorted(queued) == sorted(
        [(code_of(database, first.user_id),), (code_of(database, second.user_id),)]
    )
    assert rows(database, "SELECT feedback FROM rounds") == [(FEEDBACK,)]
    assert ("feedback sent", "R1 to 2 participant(s)") in rows(
        database, "SELECT action, detail FROM audit_log"
    )

    await coordinator.send("/round 1")
    assert "You said, we did: sent on Mon 2 Mar 2026, 10:00" in coordinator.last_text()
    await coordinator.send("/feedback 1")
    assert coordinator.last_text() == (
        "That can't be done: feedback for round R1 was already sent on Mon 2 Mar 2026, 10:00."
    )


async def test_feedback_refusals_retries_and_cancel(make_user, database, clock):
    participant = await member(make_user(3001))
    round_id = await stored_round(database, clock.now())
    coordinator = make_user(ADMIN_ID)
    await coordinator.send("/feedback")
    assert coordinator.last_text().startswith("Send /feedback and a round's number")
    await coordinator.send("/feedback 1")
    assert coordinator.last_text() == (
        "That can't be done: round R1 is scheduled: nobody has taken part in it."
    )

    await opened(database, clock.now())
    took_part(database, participant.user_id, round_id)
    await coordinator.send("/feedback 1")
    seen = len(coordinator.messages())
    await coordinator.send("w" * 3501)
    said = coordinator.texts_since(seen)
    assert said[0] == (
        "Sorry, that can't be used: feedback can be up to 3500 characters (this is 3501)."
    )
    assert said[-1].startswith('Write the "you said, we did" message for R1')
    await coordinator.send(FEEDBACK)
    confirm = coordinator.messages()[-1].message_id
    # Writing again replaces the words, with a new preview.
    await coordinator.send("Shorter words.")
    assert "Shorter words." in coordinator.texts_since(len(coordinator.messages()) - 2)[0]
    await coordinator.press_data(confirm, "v1|r|1|send")
    assert coordinator.last_text() == STALE
    await coordinator.send("/cancel")
    assert coordinator.last_text() == "Nothing was sent."
    await coordinator.press_data(coordinator.messages()[-2].message_id, "v1|r|1|send")
    assert coordinator.last_text() == (
        "That message was interrupted, so nothing was sent; send /feedback 1 to write it again."
    )

    await coordinator.send("/feedback 1")
    await coordinator.send(FEEDBACK)
    await coordinator.press("Cancel")
    assert coordinator.last_text() == "Nothing was sent."
    assert rows(database, "SELECT COUNT(*) FROM outbox WHERE kind = 'feedback'") == [(0,)]
    assert rows(database, "SELECT feedback FROM rounds") == [(None,)]
