"""`heard rounds`: create, list, close, cancel and feedback, and their errors in one line."""

import argparse
import asyncio
import io
import os
from datetime import UTC, datetime, timedelta

import pytest

from bot.cli import main, parser
from storage.repository import ConsentGiven
from storage.sqlite import SQLiteRepository

ACTIONS = {"create", "list", "close", "cancel", "feedback"}
FAR_OPEN = "2099-12-01 10:00"  # a Tuesday, GMT
FAR_CLOSE = "2099-12-08 17:00"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, database, flows_dir):
    for name in list(os.environ):
        if name.startswith(("HEARD_", "TELEGRAM_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HEARD_DATABASE", str(database))
    monkeypatch.setenv("HEARD_CONVERSATIONS", str(flows_dir))


@pytest.fixture
def existing(database):
    """Create the database, as `heard run` would have."""
    asyncio.run(with_repository(database, lambda repo: repo.audit("test", "setup", "", now())))
    return database


def now():
    return datetime.now(UTC)


async def with_repository(database, action):
    repository = await SQLiteRepository.open(database)
    try:
        return await action(repository)
    finally:
        await repository.close()


def using(database, action):
    return asyncio.run(with_repository(database, action))


async def enrol(repository, user_id, contact=True):
    who = await repository.enrol(
        user_id=user_id,
        chat_id=user_id,
        language="en",
        consent=ConsentGiven("sample", 1, 1),
        now=now(),
    )
    await repository.set_contact(who.code, contact, now())
    return who.code


def run(capsys, *argv, stdin=None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(["--env-file", os.devnull, "rounds", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err):
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    return err.rstrip("\n")


def open_round_with(database, took_part=1, invited_only=0):
    """Open round 1 (made with opens "now"); start runs in it; return the codes that did."""

    async def action(repository):
        codes = [await enrol(repository, 100 + n) for n in range(took_part + invited_only)]
        await repository.open_due_rounds(now())
        for code in codes[:took_part]:
            await repository.start_run(code, "sample", 1, "{}", now(), round_id=1)
        return codes[:took_part]

    return using(database, action)


@pytest.fixture
def open_round(existing, capsys):
    async def register(repository):
        await repository.register_flow("sample", 1, "h", "{}", now())

    using(existing, register)
    code, _, _ = run(capsys, "create", "--flow", "sample", "--opens", "now", "--closes", FAR_CLOSE)
    assert code == 0
    return existing


def test_rounds_every_action_has_help():
    subparsers = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    rounds = subparsers.choices["rounds"]
    actions = next(a for a in rounds._actions if isinstance(a, argparse._SubParsersAction))
    assert set(actions.choices) == ACTIONS
    for name, sub in actions.choices.items():
        assert sub.description, name
        assert sub.format_help().strip(), name
    assert all(action.help for action in actions._choices_actions)


def test_rounds_create_prints_the_id_and_a_summary(existing, capsys):
    using(existing, lambda repo: enrol(repo, 1))
    using(existing, lambda repo: enrol(repo, 2))
    using(existing, lambda repo: enrol(repo, 3, contact=False))

    code, out, err = run(
        capsys,
        "create",
        "--flow",
        "sample",
        "--opens",
        FAR_OPEN,
        "--closes",
        FAR_CLOSE,
        "--title",
        "Winter check-in",
        "--reminders",
        "2",
    )

    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "created round R1",
        "'Winter check-in' (sample) opens Tue 1 Dec 2099, 10:00 and closes Tue 8 Dec 2099, "
        "17:00 (Europe/London); it invites everyone who agreed to be contacted: 2 people now; "
        "2 reminders.",
    ]
    made = using(existing, lambda repo: repo.round(1))
    assert (made.title, made.flow_id, made.status, made.reminders) == (
        "Winter check-in",
        "sample",
        "scheduled",
        2,
    )
    assert made.opens_at == datetime(2099, 12, 1, 10, 0, tzinfo=UTC)
    [entry] = using(existing, lambda repo: repo.audit_entries(limit=1))
    assert (entry.actor, entry.action) == ("heard rounds", "round created")
    assert entry.detail.startswith("R1 'Winter check-in' (sample) opens 2099-12-01T10:00:00+00:00")


def test_rounds_create_with_its_own_retention(existing, capsys):
    common = ("create", "--flow", "sample", "--opens", FAR_OPEN, "--closes", FAR_CLOSE)
    code, out, err = run(capsys, *common, "--retention-days", "90")
    assert (code, err) == (0, "")
    assert out.rstrip().endswith("1 reminder; kept 90 days.")
    assert using(existing, lambda repo: repo.round(1)).retention_days == 90
    code, out, err = run(capsys, *common, "--retention-days", "0")
    assert (code, out) == (2, "")
    assert "retention is a whole number of days from 1 to 36500 (got 0)" in err


def test_rounds_create_reads_times_in_heard_timezone(existing, capsys, monkeypatch):
    monkeypatch.setenv("HEARD_TIMEZONE", "America/New_York")
    code, out, _ = run(
        capsys, "create", "--flow", "sample", "--opens", "2099-07-01", "--closes", FAR_CLOSE
    )
    assert code == 0
    assert "opens Wed 1 Jul 2099, 10:00 and closes Tue 8 Dec 2099, 17:00 (America/New_York)" in out
    assert "'Sample consultation' (sample)" in out
    assert "0 people now; 1 reminder." in out
    made = using(existing, lambda repo: repo.round(1))
    assert made.opens_at == datetime(2099, 7, 1, 14, 0, tzinfo=UTC)  # EDT is UTC-4


def test_rounds_create_for_those_who_took_part_in_an_earlier_round(open_round, capsys):
    open_round_with(open_round, took_part=2, invited_only=1)
    code, out, _ = run(
        capsys,
        "create",
        "--flow",
        "sample",
        "--opens",
        FAR_OPEN,
        "--closes",
        FAR_CLOSE,
        "--audience",
        "round:1",
        "--reminders",
        "0",
    )
    assert code == 0
    assert out.splitlines()[0] == "created round R2"
    assert (
        "it invites those who took part in round R1 (and agreed to be contacted): 2 people now; "
        "no reminders." in out
    )
    assert using(open_round, lambda repo: repo.round(2)).audience == "round:1"


def test_rounds_create_with_an_invitation_file(existing, capsys, tmp_path):
    invitation = tmp_path / "invitation.txt"
    invitation.write_text("Tell us about the new clinic. ✓\n", encoding="utf-8")
    code, _, _ = run(
        capsys,
        "create",
        "--flow",
        "sample",
        "--opens",
        "tomorrow 10:00",
        "--closes",
        FAR_CLOSE,
        "--invitation-file",
        str(invitation),
    )
    assert code == 0
    assert (
        using(existing, lambda repo: repo.round(1)).invitation == "Tell us about the new clinic. ✓"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--opens", "next week", "--closes", FAR_CLOSE],
            "heard: 'next week' is not a date and time; expected a date and time like "
            '2026-12-01 10:00, or "now", "today 14:00" or "tomorrow 10:00"',
        ),
        (
            ["--opens", FAR_CLOSE, "--closes", FAR_OPEN],
            "heard: the round must close after it opens (Tue 8 Dec 2099, 17:00); "
            "Tue 1 Dec 2099, 10:00 is not after that",
        ),
        (
            ["--opens", "2020-01-01 10:00", "--closes", FAR_CLOSE],
            'heard: Wed 1 Jan 2020, 10:00 has already passed; use "now" or a later time',
        ),
        (
            ["--opens", FAR_OPEN, "--closes", FAR_CLOSE, "--reminders", "3"],
            "heard: reminders can be 0, 1 or 2 (got 3)",
        ),
        (
            ["--opens", FAR_OPEN, "--closes", FAR_CLOSE, "--audience", "round:7"],
            "heard: there is no round 'round:7' to take the audience from",
        ),
        (
            ["--opens", FAR_OPEN, "--closes", FAR_CLOSE, "--title", "x" * 101],
            "heard: a title can be up to 100 characters (this is 101)",
        ),
    ],
)
def test_rounds_create_bad_input_is_one_line(existing, capsys, argv, message):
    code, out, err = run(capsys, "create", "--flow", "sample", *argv)
    assert code == 2
    assert out == ""
    assert one_line(err) == message
    assert using(existing, lambda repo: repo.rounds()) == []


def test_rounds_create_unknown_flow_names_the_known_ones(existing, capsys):
    code, _, err = run(
        capsys, "create", "--flow", "nope", "--opens", FAR_OPEN, "--closes", FAR_CLOSE
    )
    assert code == 2
    assert one_line(err) == "heard: there is no conversation 'nope' (there are: sample)"


def test_rounds_create_unreadable_invitation_file_is_one_line(existing, capsys, tmp_path):
    missing = tmp_path / "missing.txt"
    code, _, err = run(
        capsys,
        "create",
        "--flow",
        "sample",
        "--opens",
        FAR_OPEN,
        "--closes",
        FAR_CLOSE,
        "--invitation-file",
        str(missing),
    )
    assert code == 2
    assert one_line(err) == f"heard: cannot read {missing}: No such file or directory"
    assert using(existing, lambda repo: repo.rounds()) == []


@pytest.mark.parametrize(
    "argv",
    [
        ["list"],
        ["close", "1"],
        ["cancel", "1"],
        ["create", "--flow", "sample", "--opens", FAR_OPEN, "--closes", FAR_CLOSE],
        ["feedback", "1", "--text-file", os.devnull, "--yes"],
    ],
)
def test_rounds_missing_database_is_one_line_and_not_created(database, capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert one_line(err) == f"heard: HEARD_DATABASE: there is no database at {database}"
    assert not database.exists()


def test_rounds_a_file_that_is_not_a_database_is_one_line(database, capsys):
    database.write_bytes(b"this is not SQLite" * 100)
    code, _, err = run(capsys, "list")
    assert code == 2
    assert one_line(err).startswith(f"heard: HEARD_DATABASE: cannot open {database}: ")


def test_rounds_bad_setting_is_one_line(existing, capsys, monkeypatch):
    monkeypatch.setenv("HEARD_TIMEZONE", "Europe/Atlantis")
    code, _, err = run(capsys, "list")
    assert code == 2
    assert one_line(err).startswith("heard: HEARD_TIMEZONE is not valid (got 'Europe/Atlantis')")


def test_rounds_list_when_there_are_none(existing, capsys):
    assert run(capsys, "list") == (0, "no rounds yet\n", "")


def test_rounds_list_is_a_table_with_live_figures(open_round, capsys):
    codes = open_round_with(open_round, took_part=1, invited_only=2)

    async def progress(repository):
        items = await repository.claim_due(now(), now() + timedelta(minutes=1), 10)
        by_code = {item.participant_code: item for item in items}
        for item in items:
            await repository.mark_sent(item.id, now())
        declining = next(code for code in by_code if code not in codes)
        await repository.decline(by_code[declining].id, declining, now())

    using(open_round, progress)
    run(capsys, "create", "--flow", "sample", "--opens", FAR_OPEN, "--closes", FAR_CLOSE)

    code, out, err = run(capsys, "list")

    assert (code, err) == (0, "")
    header, newest, oldest, footer = out.splitlines()
    assert header.split() == [
        "id",
        "status",
        "title",
        "flow",
        "opens",
        "closes",
        "eligible",
        "invited",
        "started",
        "completed",
        "declined",
        "stopped",
        "failed",
    ]
    assert newest.startswith("R2  scheduled  Sample consultation  sample  Tue 1 Dec 2099, 10:00")
    assert newest.split()[-7:] == ["3", "0", "0", "0", "0", "0", "0"]  # eligible counted now
    assert oldest.startswith("R1  open       Sample consultation  sample  ")
    assert oldest.split()[-7:] == ["3", "3", "1", "0", "1", "0", "0"]
    # Numbers are right-aligned under their column names.
    assert newest[header.index("eligible") + len("eligible") - 1] == "3"
    assert oldest[header.index("declined") + len("declined") - 1] == "1"
    assert footer == "times are in Europe/London"


def test_rounds_close_tells_those_part_way_and_audits(open_round, capsys):
    open_round_with(open_round, took_part=1, invited_only=1)

    code, out, err = run(capsys, "close", "1")

    assert (code, err) == (0, "")
    assert out == (
        "closed round R1 'Sample consultation'; no more invitations or reminders; "
        "a closing note is queued for 1 person part-way through\n"
    )
    assert using(open_round, lambda repo: repo.round(1)).status == "closed"
    [entry] = using(open_round, lambda repo: repo.audit_entries(limit=1))
    assert (entry.actor, entry.action, entry.detail) == (
        "heard rounds",
        "round closed",
        "R1 'Sample consultation'",
    )
    code, _, err = run(capsys, "close", "R1")
    assert code == 2
    assert one_line(err) == "heard: round R1 is already closed"


def test_rounds_cancel_a_scheduled_round(existing, capsys):
    run(capsys, "create", "--flow", "sample", "--opens", FAR_OPEN, "--closes", FAR_CLOSE)
    code, out, _ = run(capsys, "cancel", "R1")
    assert code == 0
    assert out == "cancelled round R1 'Sample consultation'; no more invitations or reminders\n"
    assert using(existing, lambda repo: repo.round(1)).status == "cancelled"
    [entry] = using(existing, lambda repo: repo.audit_entries(limit=1))
    assert (entry.actor, entry.action) == ("heard rounds", "round cancelled")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["close", "99"], "heard: there is no round R99"),
        (["cancel", "r99"], "heard: there is no round R99"),
        (["close", "x"], "heard: 'x' is not a round id; expected a number like 3 (or R3)"),
        (["close", "-1"], "heard: '-1' is not a round id; expected a number like 3 (or R3)"),
        (
            ["feedback", "abc", "--text-file", os.devnull],
            "heard: 'abc' is not a round id; expected a number like 3 (or R3)",
        ),
        (["feedback", "7", "--text-file", os.devnull], "heard: there is no round R7"),
    ],
)
def test_rounds_unknown_or_bad_round_id_is_one_line(existing, capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert one_line(err) == message


@pytest.fixture
def feedback_file(tmp_path):
    path = tmp_path / "feedback.txt"
    path.write_text("You said the waiting room was cold.\nWe fixed the heating.\n")
    return path


def test_rounds_feedback_previews_and_asks_before_sending(
    open_round, capsys, monkeypatch, feedback_file
):
    open_round_with(open_round, took_part=2, invited_only=1)

    code, out, err = run(
        capsys,
        "feedback",
        "1",
        "--text-file",
        str(feedback_file),
        stdin="n\n",
        monkeypatch=monkeypatch,
    )

    assert (code, err) == (1, "")
    assert out == (
        "Feedback for round R1 'Sample consultation':\n"
        + "-" * 40
        + "\nYou said the waiting room was cold.\nWe fixed the heating.\n"
        + "-" * 40
        + "\nIt would reach 2 people: those who took part and agreed to be contacted.\n"
        "Send to 2 people? [y/N] nothing was sent\n"
    )
    assert using(open_round, lambda repo: repo.round(1)).feedback_at is None

    code, out, _ = run(
        capsys,
        "feedback",
        "1",
        "--text-file",
        str(feedback_file),
        stdin="yes\n",
        monkeypatch=monkeypatch,
    )

    assert code == 0
    assert out.endswith(
        "Send to 2 people? [y/N] "
        "queued feedback for round R1 to 2 people; the running bot sends it\n"
    )
    stored = using(open_round, lambda repo: repo.round(1))
    assert stored.feedback == "You said the waiting room was cold.\nWe fixed the heating."
    [entry] = using(open_round, lambda repo: repo.audit_entries(limit=1))
    assert (entry.actor, entry.action, entry.detail) == (
        "heard rounds",
        "feedback sent",
        "R1 to 2 participant(s)",
    )


def test_rounds_feedback_with_no_answer_on_stdin_sends_nothing(
    open_round, capsys, monkeypatch, feedback_file
):
    open_round_with(open_round)
    code, out, _ = run(
        capsys,
        "feedback",
        "1",
        "--text-file",
        str(feedback_file),
        stdin="",
        monkeypatch=monkeypatch,
    )
    assert code == 1
    assert out.endswith("Send to 1 person? [y/N] nothing was sent\n")
    assert using(open_round, lambda repo: repo.round(1)).feedback_at is None


def test_rounds_feedback_yes_sends_without_asking_and_only_once(
    open_round, capsys, monkeypatch, feedback_file
):
    open_round_with(open_round)

    def no_questions(prompt=""):
        raise AssertionError(f"asked {prompt!r}")

    monkeypatch.setattr("builtins.input", no_questions)

    code, out, _ = run(capsys, "feedback", "R1", "--text-file", str(feedback_file), "--yes")

    assert code == 0
    assert out.endswith("queued feedback for round R1 to 1 person; the running bot sends it\n")
    code, out, err = run(capsys, "feedback", "1", "--text-file", str(feedback_file), "--yes")
    assert (code, out) == (2, "")
    assert one_line(err).startswith("heard: feedback for round R1 was already sent on ")


def test_rounds_feedback_refused_for_a_round_not_yet_open(existing, capsys, feedback_file):
    run(capsys, "create", "--flow", "sample", "--opens", FAR_OPEN, "--closes", FAR_CLOSE)
    code, _, err = run(capsys, "feedback", "1", "--text-file", str(feedback_file), "--yes")
    assert code == 2
    assert one_line(err) == "heard: round R1 is scheduled: nobody has taken part in it"


def test_rounds_feedback_text_file_problems_are_one_line(open_round, capsys, tmp_path):
    open_round_with(open_round)
    missing = tmp_path / "missing.txt"
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00caf\xe9")
    cases = [
        (missing, f"heard: cannot read {missing}: No such file or directory"),
        (tmp_path, f"heard: cannot read {tmp_path}: Is a directory"),
        (empty, "heard: the feedback message is empty"),
        (binary, f"heard: cannot read {binary}: it is not UTF-8 text"),
    ]
    for path, message in cases:
        code, out, err = run(capsys, "feedback", "1", "--text-file", str(path), "--yes")
        assert code == 2, path
        assert out == ""
        assert one_line(err) == message
    assert using(open_round, lambda repo: repo.round(1)).feedback_at is None
