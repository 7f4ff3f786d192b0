"""Network errors, 429s and blocked chats: nothing lost, nothing shown as a traceback."""

import json
import sqlite3


def rows(database, sql):
    db = sqlite3.connect(database)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


async def consent(user):
    await user.send("/start")
    await user.press("Yes, I'm 18 or older")
    await user.press("Yes, I agree")


async def test_faults_429_waits_and_delivers(user, fake):
    await consent(user)
    fake.fail_next(
        "sendMessage",
        error_code=429,
        description="Too Many Requests: retry after 1",
        retry_after=1,
    )
    await user.press("Yes")
    assert "How was it?" in user.last_text()
    retried = [c for c in fake.calls_of("sendMessage") if not c.ok]
    assert len(retried) == 1


async def test_faults_server_error_is_redelivered_when_it_recovers(user, fake, database, heard):
    await consent(user)
    fake.fail_next("sendMessage", error_code=502, description="Bad Gateway", times=1)
    await user.press("Yes")
    # The answer was committed before the failed send; the question follows once it works.
    assert rows(database, "SELECT step_id, value FROM answers") == [("used", "true")]
    await fake.wait_for(lambda: "How was it?" in user.last_text(), timeout=10)
    await heard.stop()
    assert rows(database, "SELECT needs_delivery FROM runs") == [(0,)]
    assert all("Traceback" not in (m.text or "") for m in user.messages())


async def test_faults_blocked_participant_is_marked_unreachable(user, fake, database):
    await consent(user)
    fake.block(user.chat_id)
    await user.press("Yes")
    assert rows(database, "SELECT status FROM participants") == [("unreachable",)]
    assert rows(database, "SELECT value FROM answers") == [(json.dumps(True),)]
