"""The spool: flags the database refused wait in memory and in a file only its owner reads."""

import stat
from datetime import UTC, datetime

from bot.safeguarding.unstored import FlagSpool, Unstored, new_ref, unstored_alert

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def item(ref="U-ABC123", text="I want to die", source="answer"):
    return Unstored(
        ref,
        1001,
        "P-7KQ2MX",
        3,
        None,
        "sample (version 1)",
        "want to die",
        text,
        source,
        NOW,
        "the database refused the write (database is locked)",
    )


def test_unstored_spool_is_written_for_its_owner_only_and_read_again(tmp_path):
    path = tmp_path / "heard.db.spool"
    spool = FlagSpool(path)
    spool.add(item())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert spool.durable

    again = FlagSpool(path)  # a restart
    assert again.items() == [item()]


def test_unstored_spool_keeps_the_posts_and_goes_when_empty(tmp_path):
    path = tmp_path / "heard.db.spool"
    spool = FlagSpool(path)
    spool.add(item())
    done = spool.alerted(item(), NOW, -100777, 42)
    assert done.alerted_at == NOW
    assert FlagSpool(path).items() == [done]
    spool.remove(done.ref)
    assert not path.exists()
    assert len(spool) == 0


def test_unstored_spool_falls_back_to_memory_when_the_file_cannot_be_written(tmp_path):
    spool = FlagSpool(tmp_path / "no such folder" / "heard.db.spool")
    spool.add(item())
    assert not spool.durable
    assert spool.items() == [item()]
    assert "kept only in the bot's memory" in unstored_alert(item(), spool.durable)


def test_unstored_spool_a_damaged_file_is_reported_not_fatal(tmp_path, caplog):
    path = tmp_path / "heard.db.spool"
    path.write_text("{not json\n")
    assert FlagSpool(path).items() == []
    assert "could not read the safeguarding spool" in caplog.text


def test_unstored_alert_says_what_is_known_and_what_was_not_stored():
    text = unstored_alert(item(), durable=True)
    assert text.startswith("URGENT: safeguarding alert U-ABC123, NOT STORED YET")
    assert "Participant: P-7KQ2MX" in text
    assert "They wrote: I want to die" in text
    assert "database is locked" in text
    assert "1001" not in text  # never the Telegram id
    pressed = unstored_alert(item(text="", source="help_button"), durable=True)
    assert "They pressed “I need help now”." in pressed


def test_unstored_refs_are_short_and_distinct():
    refs = {new_ref() for _ in range(50)}
    assert len(refs) == 50
    assert all(r.startswith("U-") and len(r) == 8 for r in refs)
