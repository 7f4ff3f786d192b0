"""Follow-ups declared in a conversation file: offered some days after a participant finishes."""

import shutil

import pytest

from tests.bot.rounds.test_dispatch import quiet_for, rows, until
from tests.bot.test_data_rights import finish
from tests.support.bot_harness import SAMPLE_FLOWS

CHECK_IN = """\
id: check-in
version: 1
title: "A short check-in"
intro:
  who: "This is run by a test charity."
  duration: "It takes about a minute."
  data_use: "We keep your answers safe."
  support: "This is not a crisis service. In an emergency call 999."
consent:
  version: 1
  text: "Are you happy to answer a few more questions?"
steps:
  - id: since
    kind: yes_no
    text: "Has anything changed since we last spoke?"
end: "Thank you for checking in."
"""


@pytest.fixture
def flows_dir(tmp_path):
    folder = tmp_path / "flows"
    folder.mkdir()
    shutil.copy(SAMPLE_FLOWS / "sample.yaml", folder / "sample.yaml")
    with (folder / "sample.yaml").open("a", encoding="utf-8") as sample:
        sample.write("follow_ups:\n  - {flow: check-in, after_days: 14}\n")
    (folder / "check-in.yaml").write_text(CHECK_IN, encoding="utf-8")
    return folder


def offers(user):
    return [m for m in user.messages() if "We'd like to check in" in (m.text or "")]


async def test_follow_up_is_offered_after_completion_to_those_who_want_messages(
    make_user, fake, database, clock
):
    keen = make_user(3001)
    await finish(keen)
    await keen.press("Yes, message me")
    private = make_user(3002)
    await finish(private)
    await private.press("No, thank you")
    unfinished = make_user(3003)
    await unfinished.send("/start")
    await unfinished.press("Yes, I'm 18 or older")
    await unfinished.press("Yes, I agree")
    assert [r[0] for r in rows(database, "SELECT kind FROM outbox")] == ["follow_up"] * 2
    # /mydata shows what is waiting to be sent.
    await keen.send("/mydata")
    readable = next(m for m in keen.messages() if m.document is not None)
    assert "An invitation to a follow-up, due 2026-03-16 10:00" in (
        readable.document["content"].decode()
    )
    clock.advance(days=13, hours=23)
    await quiet_for()
    assert not offers(keen)
    clock.advance(hours=1)
    await until(lambda: offers(keen))
    offer = offers(keen)[0]
    assert '"Sample consultation"' in offer.text
    assert '"A short check-in"' in offer.text
    await keen.press("Take part")
    # A different conversation: what it is and its own consent come first.
    assert keen.last_text() == "Are you happy to answer a few more questions?"
    await keen.press("Yes, I agree")
    assert "Has anything changed since we last spoke?" in keen.last_text()
    await keen.press("No")
    assert "Thank you for checking in." in "\n".join(keen.texts_since(0))
    await quiet_for()
    assert not offers(private)
    assert not offers(unfinished)
    assert rows(database, "SELECT status, last_error FROM outbox ORDER BY id") == [
        ("sent", None),
        ("skipped", "no messages wanted"),
    ]
    # Finishing the check-in offers nothing more: it declares no follow-ups of its own.
    assert len(rows(database, "SELECT 1 FROM outbox")) == 2
