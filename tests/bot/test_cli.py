"""The `heard` command: every subcommand, its help, and its errors in one line."""

import argparse
import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main, parser
from bot.simulate import simulate
from bot.support import shipped_support_path
from conversations.loader import load_flow_file
from storage.repository import ConsentGiven
from storage.sqlite import SQLiteRepository
from tests.support.bot_harness import ROOT, SAMPLE_FLOWS

SAMPLE = str(SAMPLE_FLOWS / "sample.yaml")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith(("HEARD_", "TELEGRAM_")):
            monkeypatch.delenv(name)


def run(capsys, *argv):
    code = main(["--env-file", os.devnull, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_every_command_has_help():
    subparsers = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(subparsers.choices) == {
        "run",
        "check",
        "graph",
        "simulate",
        "audit",
        "purge",
        "screen",
        "backup",
        "restore",
        "train-model",
        "export",
        "report",
        "rounds",
    }
    for name, sub in subparsers.choices.items():
        assert sub.description, name
        assert sub.format_help().strip(), name
    helps = {action.dest: action.help for action in subparsers._choices_actions}
    assert all(helps.values())


def test_cli_check_passes_shipped_conversations(capsys):
    code, out, _ = run(capsys, "check")
    assert code == 0
    assert "0 error(s)" in out


def test_cli_check_names_file_line_and_step(capsys, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        (SAMPLE_FLOWS / "sample.yaml").read_text().replace("next: change", "next: nowhere")
    )
    code, out, _ = run(capsys, "check", str(broken), SAMPLE)
    assert code == 1
    [line] = [row for row in out.splitlines() if "nowhere" in row]
    assert line.startswith(f"{broken}:")
    assert "step 'contact' error: goes to 'nowhere'" in line
    assert "1 conversation(s) passed; 1 error(s)" in out


def test_cli_check_a_folder(capsys):
    code, out, _ = run(capsys, "check", str(SAMPLE_FLOWS))
    assert code == 0
    assert "2 conversation(s) passed" in out


def test_cli_graph_prints_mermaid(capsys):
    code, out, _ = run(capsys, "graph", SAMPLE)
    assert code == 0
    assert out.startswith("flowchart TD")


def test_cli_graph_by_id_of_shipped_flow(capsys):
    code, out, _ = run(capsys, "graph", "community-mental-health")
    assert code == 0
    assert "used-services" in out


def test_cli_graph_unknown_flow_is_one_line(capsys):
    code, _, err = run(capsys, "graph", "no-such-flow")
    assert code == 2
    assert err.count("\n") == 1
    assert "no conversation with id 'no-such-flow'" in err


def test_cli_run_without_token_is_one_line(capsys):
    code, _, err = run(capsys, "run")
    assert code == 2
    assert err == (
        "heard: TELEGRAM_BOT_TOKEN is not set: expected a bot token from @BotFather, "
        "like 123456789:AAE...\n"
    )


def test_cli_run_with_bad_setting_names_it(capsys, monkeypatch):
    monkeypatch.setenv("HEARD_TIMEZONE", "Europe/Atlantis")
    code, _, err = run(capsys, "run")
    assert code == 2
    assert err.startswith("heard: HEARD_TIMEZONE is not valid (got 'Europe/Atlantis')")
    assert err.count("\n") == 1


def test_cli_run_unreachable_api_is_one_line_without_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEARD_", "TELEGRAM_"))}
    env.update(
        TELEGRAM_BOT_TOKEN="123456:TEST-token-0123456789abcdefghij",
        # Port 9 on loopback: nothing listens there, so the connection is refused at once.
        TELEGRAM_API_URL="http://127.0.0.1:9/bot",
        HEARD_DATABASE=str(tmp_path / "h.db"),
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--env-file", os.devnull, "run"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("heard: cannot reach the Bot API at TELEGRAM_API_URL (http://127.0.0.1:9/bot)")
    )


def test_cli_simulate_chats_through_a_flow():
    flow = load_flow_file(SAMPLE).flow
    typed = iter(
        ["y", "y", "yes", "9", "4", "1, 3", "/back", "done", "phone", "/skip", "Later", "40"]
    )
    shown: list[str] = []
    code = simulate(flow, "en", read=lambda prompt: next(typed), write=shown.append)
    text = "\n".join(shown)
    assert code == 0
    assert "Are you happy to take part?" in text
    assert "Please choose a number from 1 to 5." in text
    assert "Last time you said: The staff, The place" in text
    assert "can't be skipped" in text
    assert "Thank you for taking part." in text


def test_cli_simulate_decline_and_quit():
    flow = load_flow_file(SAMPLE).flow
    shown: list[str] = []
    assert simulate(flow, "en", read=lambda prompt: "n", write=shown.append) == 0
    assert "Childline" in shown[-1]
    answers = iter(["y", "n"])
    assert simulate(flow, "en", read=lambda prompt: next(answers), write=shown.append) == 0
    assert "Nothing about you has been kept" in shown[-1]
    typed = iter(["y", "y", "/quit"])
    assert simulate(flow, "en", read=lambda prompt: next(typed), write=shown.append) == 0


def test_cli_run_with_an_unusable_database_names_it(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:TEST-token-0123456789abcdefghij")
    monkeypatch.setenv("HEARD_DATABASE", str(tmp_path / "missing-folder" / "heard.db"))
    code, _, err = run(capsys, "run")
    assert code == 2
    assert err.startswith("heard: HEARD_DATABASE: cannot open ")
    assert err.count("\n") == 1


def test_cli_check_warns_when_support_lines_are_due_a_review(capsys, monkeypatch, tmp_path):
    old = tmp_path / "support.yaml"
    shipped = shipped_support_path().read_text(encoding="utf-8")
    old.write_text(shipped.replace("reviewed: 2026-11-28", "reviewed: 2020-01-01"))
    monkeypatch.setenv("HEARD_SUPPORT_FILE", str(old))
    code, out, _ = run(capsys, "check")
    assert code == 0
    [line] = [row for row in out.splitlines() if "support lines were last reviewed" in row]
    assert line.startswith(f"{old}:1: warning: support lines were last reviewed on 2020-01-01")
    assert out.rstrip().endswith("0 error(s), 1 warning(s)")


def test_cli_check_reports_a_broken_support_file(capsys, monkeypatch, tmp_path):
    broken = tmp_path / "support.yaml"
    broken.write_text("reviewed: 2026-11-28\nnations: {}\n")
    monkeypatch.setenv("HEARD_SUPPORT_FILE", str(broken))
    code, out, _ = run(capsys, "check")
    assert code == 1
    assert f"{broken}:" in out


def test_cli_purge_deletes_what_is_past_retention_and_audits_it(tmp_path, capsys, monkeypatch):
    database = tmp_path / "heard.db"
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)

    async def old_conversation():
        repository = await SQLiteRepository.open(database)
        await repository.register_flow("f", 1, "h", "{}", long_ago)
        who = await repository.enrol(
            user_id=5, chat_id=5, language="en", consent=ConsentGiven("f", 1, 1), now=long_ago
        )
        run = await repository.start_run(who.code, "f", 1, "{}", long_ago)
        await repository.save(run.id, "{}", "completed", [("q", '"x"')], long_ago)
        await repository.close()

    asyncio.run(old_conversation())
    monkeypatch.setenv("HEARD_DATABASE", str(database))
    monkeypatch.setenv("HEARD_RETENTION_DAYS", "365")

    for dry in (["purge"], ["purge", "--yes", "--dry-run"]):
        assert main(["--env-file", os.devnull, *dry]) == 0
        out = capsys.readouterr().out.splitlines()
        assert out[0] == (
            "would delete 1 conversation(s), 1 answer(s) and 1 participant(s) older than 365 days"
        )
        assert out[-1] == (
            "nothing was deleted: check the clock, then run `heard purge --yes` to delete them"
        )
    assert main(["--env-file", os.devnull, "purge", "--yes"]) == 0
    assert capsys.readouterr().out.startswith("deleted 1 conversation(s), 1 answer(s)")
    assert main(["--env-file", os.devnull, "audit"]) == 0
    audit = capsys.readouterr().out
    assert "heard purge: purge older than 365 days: runs 1, answers 1, participants 1" in audit


def test_cli_check_reports_a_broken_risk_phrase_file(capsys, monkeypatch, tmp_path):
    broken = tmp_path / "phrases.yaml"
    broken.write_text("reviewed: 2026-11-28\n")
    monkeypatch.setenv("HEARD_RISK_PHRASES", str(broken))
    code, out, _ = run(capsys, "check")
    assert code == 1
    assert f"{broken}:1: error: 'themes' is missing" in out


def test_cli_check_and_start_up_report_a_broken_risk_model(capsys, monkeypatch, tmp_path):
    from bot.app import StartupError, _screener
    from bot.safeguarding.risk_model import RiskModel
    from bot.safeguarding.screening import PhraseList

    broken = tmp_path / "risk_model.json"
    broken.write_text('{"format": 2}', encoding="utf-8")
    monkeypatch.setattr(RiskModel, "shipped", classmethod(lambda cls: cls.load(broken)))
    code, out, _ = run(capsys, "check")
    assert code == 1
    assert f"{broken}: not a risk model file" in out
    with pytest.raises(StartupError) as error:
        _screener(PhraseList.shipped())
    assert str(error.value).startswith(f"the risk model: {broken}: not a risk model file")


def test_cli_check_warns_when_risk_phrases_are_due_a_review(capsys, monkeypatch, tmp_path):
    from bot.safeguarding.screening import PhraseList

    shipped = Path(str(PhraseList.shipped().source)).read_text(encoding="utf-8")
    old = tmp_path / "phrases.yaml"
    old.write_text(shipped.replace("reviewed: 2026-11-28", "reviewed: 2020-01-01"))
    monkeypatch.setenv("HEARD_RISK_PHRASES", str(old))
    code, out, _ = run(capsys, "check")
    assert code == 0
    assert "the risk phrases were last reviewed on 2020-01-01" in out


def test_cli_simulate_command_reads_the_terminal(capsys, monkeypatch):
    typed = iter(["y", "y", "no", "Too far", "/quit"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(typed))
    code, out, _ = run(capsys, "simulate", SAMPLE)
    assert code == 0
    assert "Why not?" in out
    assert "What one thing would you change?" in out


@pytest.fixture
def round_database(tmp_path, monkeypatch):
    from tests.bot.exports.test_export import make_round_database

    database = tmp_path / "heard.db"
    round_id, codes = asyncio.run(make_round_database(database))
    monkeypatch.setenv("HEARD_DATABASE", str(database))
    return database, round_id, codes


@pytest.mark.parametrize("typed", ["R1", "1", "r1"])
def test_cli_export_of_one_round(capsys, tmp_path, round_database, typed):
    _, round_id, codes = round_database
    assert round_id == 1
    out = tmp_path / "heard-r1.json"
    code, printed, _ = run(
        capsys, "export", "--round", typed, "--format", "json", "--output", str(out)
    )
    assert code == 0
    assert printed == f"wrote 2 conversation run(s), 4 answer(s) to {out}\n"
    runs = json.loads(out.read_text(encoding="utf-8"))
    assert [(r["participant"], r["round"]) for r in runs] == [(codes[0], 1), (codes[1], 1)]
    code, printed, _ = run(capsys, "audit")
    assert "heard export: export json of R1 Winter check-in: 2 runs" in printed


@pytest.mark.parametrize("command", ["export", "report"])
@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--round", "R9"], "heard: there is no round R9\n"),
        (
            ["--round", "R1", "--flow", "sample"],
            "heard: --round and --flow cannot be used together: choose one\n",
        ),
        (
            ["--round", "last"],
            "heard: --round: 'last' is not a round; expected a number like 3 (or R3)\n",
        ),
    ],
)
def test_cli_round_mistakes_are_one_line(capsys, tmp_path, round_database, command, args, error):
    out = tmp_path / "out"
    more = ["--format", "csv"] if command == "export" else []
    code, printed, err = run(capsys, command, *args, *more, "--output", str(out))
    assert (code, printed, err) == (2, "", error)
    assert not out.exists()


def test_cli_report_of_one_round(capsys, tmp_path, round_database):
    out = tmp_path / "report"
    code, printed, _ = run(capsys, "report", "--round", "R1", "--output", str(out))
    assert code == 0
    assert printed == f"wrote summary.md and 3 chart(s) to {out}\n"
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("# Heard report: R1 Winter check-in (drop-in-clinic)\n\n")
    assert "- Eligible: 5\n- Invited: 4\n" in summary
    assert "- Declined: 1\n- Stopped: 1\n" in summary


@pytest.mark.parametrize(("zone", "day"), [("Europe/London", "2026-07-11"), ("UTC", "2026-07-10")])
def test_cli_report_counts_days_in_heard_timezone(capsys, tmp_path, monkeypatch, zone, day):
    from tests.bot.reports.test_figures import clinic_runs

    database = tmp_path / "heard.db"
    late = datetime(2026, 7, 10, 23, 30, tzinfo=UTC)  # 00:30 the next day in London (BST)
    asyncio.run(clinic_runs(database, [(late, "completed", None)]))
    monkeypatch.setenv("HEARD_DATABASE", str(database))
    monkeypatch.setenv("HEARD_TIMEZONE", zone)
    out = tmp_path / "report"
    assert run(capsys, "report", "--output", str(out))[0] == 0
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert f"- First started: {day}; latest: {day}\n" in summary


def test_cli_check_warns_when_the_safeguarding_chat_is_unset(capsys):
    code, out, _ = run(capsys, "check")
    assert code == 0
    [line] = [row for row in out.splitlines() if "HEARD_SAFEGUARDING_CHAT" in row]
    assert line.startswith(
        "warning: HEARD_SAFEGUARDING_CHAT is not set: safeguarding alerts will go privately to "
        "people with the safeguarding role, or to the admins"
    )
    assert out.splitlines()[-2] == line  # said after the files, before their count


def test_cli_check_without_a_token_says_the_safeguarding_chat_was_not_checked(capsys, monkeypatch):
    monkeypatch.setenv("HEARD_SAFEGUARDING_CHAT", "-1001234567890")
    code, out, _ = run(capsys, "check")
    assert code == 0
    [line] = [row for row in out.splitlines() if "HEARD_SAFEGUARDING_CHAT" in row]
    assert line == (
        "note: HEARD_SAFEGUARDING_CHAT (-1001234567890) not checked: TELEGRAM_BOT_TOKEN is not set"
    )


@pytest.fixture
def checked_against(fake, monkeypatch):
    """Point `heard check` at the fake Bot API with HEARD_SAFEGUARDING_CHAT set."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", fake.token)
    monkeypatch.setenv("TELEGRAM_API_URL", fake.base_url)
    monkeypatch.setenv("HEARD_SAFEGUARDING_CHAT", "-1001234567890")
    return fake


async def test_cli_check_of_a_reachable_safeguarding_group_says_nothing(capsys, checked_against):
    checked_against.add_bot_to_group(-1001234567890, title="Safeguarding team")
    # `heard check` runs its own event loop: give it a thread, while the fake serves in this one.
    code, out, _ = await asyncio.to_thread(run, capsys, "check")
    assert code == 0
    assert "HEARD_SAFEGUARDING_CHAT" not in out
    assert [c.method for c in checked_against.calls] == ["getMe", "getChat", "getChatMember"]


async def test_cli_check_warns_of_a_group_the_bot_was_never_added_to(capsys, checked_against):
    code, out, _ = await asyncio.to_thread(run, capsys, "check")
    assert code == 0
    [line] = [row for row in out.splitlines() if "HEARD_SAFEGUARDING_CHAT" in row]
    assert line == (
        "warning: HEARD_SAFEGUARDING_CHAT (-1001234567890): Telegram knows no such chat for the "
        "bot: add the bot to the staff group and write a message there, or fix the id"
    )
    assert out.rstrip().endswith("0 error(s), 0 warning(s)")
