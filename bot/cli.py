"""The `heard` command: run the bot, check, draw and try conversations."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import signal
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from bot import purge_cli
from bot.app import StartupError, serve
from bot.backup import BackupError, take_backup
from bot.clock import SystemClock
from bot.exports.export import FORMATS, Format, export
from bot.exports.scope import ScopeError, chosen_scope
from bot.exposure import exposure_warnings
from bot.logs import configure_logging
from bot.reports import report_cli
from bot.restore import RestoreError, restore
from bot.rounds import rounds_cli
from bot.safeguarding import screen_cli, train_cli
from bot.safeguarding.destination import UNSET, probe_alert_chat
from bot.safeguarding.risk_model import RiskModel, RiskModelError
from bot.safeguarding.screening import PhraseList, PhraseListError
from bot.settings import Settings, SettingsError, load_settings
from bot.startup_checks import database_damage
from bot.support import SupportError, load_support, review_warning
from conversations.loader import LoadedFlow, load_flow_dir, load_flow_file, shipped_flows_dir
from conversations.problems import FlowError, Problem
from storage.private_files import OverDatabase
from storage.repository import FlowVersionConflict
from storage.sqlite import SQLiteRepository

REVIEW_DAYS = 183  # about six months


def parser() -> argparse.ArgumentParser:
    """Return the argument parser for every subcommand."""
    main = argparse.ArgumentParser(
        prog="heard",
        description="Heard: a Telegram bot that hears from people with lived experience.",
    )
    main.add_argument(
        "--env-file", default=".env", help="file of settings to read (default: .env)"
    )
    sub = main.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser(
        "run",
        help="run the bot with long polling until stopped",
        description="Run the bot with long polling; stop with Ctrl-C or SIGTERM.",
    )
    check = sub.add_parser(
        "check",
        help="check conversation files and report every problem",
        description="Check conversation files (default: HEARD_CONVERSATIONS or the shipped "
        "ones); print each problem with file, line and step; exit 1 if any is an error.",
    )
    check.add_argument("paths", nargs="*", metavar="PATH", help="files or folders to check")
    graph = sub.add_parser(
        "graph",
        help="print a Mermaid diagram of a conversation",
        description="Print a Mermaid flowchart of a conversation, by id or file path.",
    )
    graph.add_argument("flow", metavar="FLOW", help="a conversation id or file")
    simulate = sub.add_parser(
        "simulate",
        help="chat through a conversation in the terminal",
        description="Chat through a conversation in the terminal with the same engine as the "
        "bot. Type answers or numbers; /skip, /back, /pause and /quit work as in Telegram.",
    )
    simulate.add_argument("flow", metavar="FLOW", help="a conversation id or file")
    simulate.add_argument("--language", default=None, help="language code (default: the flow's)")
    audit = sub.add_parser(
        "audit",
        help="print the audit log of privileged actions",
        description="Print the newest entries of the audit log (grants, revokes, refused "
        "attempts, exports), newest first, from HEARD_DATABASE.",
    )
    audit.add_argument("--limit", type=int, default=50, help="how many entries (default: 50)")
    purge_cli.add_parser(sub.add_parser)
    screen_cli.add_parser(sub.add_parser)
    train_cli.add_parser(sub.add_parser)
    report_cli.add_parser(sub.add_parser)
    rounds_cli.add_parser(sub.add_parser)
    backup = sub.add_parser(
        "backup",
        help="copy the database consistently, even while the bot runs",
        description="Copy HEARD_DATABASE to PATH with SQLite's online backup API (safe while "
        "the bot runs; copying the file by hand is not), check the copy (integrity and every "
        "table's row count, printed), and make it readable by its owner only. Audited.",
    )
    backup.add_argument("path", type=Path, metavar="PATH", help="the backup file to write")
    backup.add_argument(
        "--replace", action="store_true", help="write over PATH if it exists already"
    )
    restore = sub.add_parser(
        "restore",
        help="put a backup in the database's place (with the bot stopped)",
        description="Replace HEARD_DATABASE with the backup at PATH, with the bot stopped: the "
        "backup is checked first (integrity, and that it is a Heard database this version "
        "knows), the old database is kept beside it as HEARD_DATABASE.before-restore-"
        "<time>, stale -wal and -shm files are removed, and the new file is readable by its "
        "owner only. Audited.",
    )
    restore.add_argument("path", type=Path, metavar="PATH", help="the backup to restore")
    export = sub.add_parser(
        "export",
        help="export results as CSV, Excel or JSON",
        description="Export every conversation run, one round's (--round) or one conversation's "
        "(--flow) from HEARD_DATABASE. People appear only by their code. Equality answers go "
        "only into a grouped sheet with small numbers hidden, unless --linked-equality is given "
        "(audited).",
    )
    export.add_argument("--round", default=None, metavar="ID", help="only this round (3 or R3)")
    export.add_argument("--flow", default=None, metavar="ID", help="only this conversation")
    export.add_argument("--format", required=True, choices=FORMATS, help="csv, xlsx or json")
    export.add_argument("--output", required=True, type=Path, metavar="PATH", help="file to write")
    export.add_argument(
        "--linked-equality",
        action="store_true",
        help="include equality answers beside each response (audited)",
    )
    return main


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `heard` command and return its exit status."""
    # Opt in to python-telegram-bot 22's timedelta durations (its next major version's default).
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    args = parser().parse_args(argv)
    try:
        if args.command == "check":
            return check(args.paths, args.env_file)
        if args.command == "graph":
            return graph(args.flow, args.env_file)
        if args.command == "export":
            return asyncio.run(
                run_export(
                    load_settings(args.env_file),
                    args.format,
                    args.output,
                    args.flow,
                    args.linked_equality,
                    round=args.round,
                )
            )
        if args.command == "report":
            return report_cli.run(args, load_settings(args.env_file))
        if args.command == "rounds":
            return rounds_cli.run(args, load_settings(args.env_file))
        if args.command == "screen":
            return screen_cli.run(args)
        if args.command == "train-model":
            return train_cli.run(args)
        if args.command == "backup":
            return asyncio.run(run_backup(load_settings(args.env_file), args.path, args.replace))
        if args.command == "restore":
            return asyncio.run(run_restore(load_settings(args.env_file), args.path))
        if args.command == "purge":
            return purge_cli.run(args, load_settings(args.env_file))
        if args.command == "audit":
            return asyncio.run(print_audit(load_settings(args.env_file), args.limit))
        if args.command == "simulate":
            from bot.simulate import simulate

            flow = find_flow(args.flow, args.env_file).flow
            return simulate(flow, args.language or flow.default_language)
        return run(load_settings(args.env_file), args.env_file)
    except (SettingsError, StartupError, FlowVersionConflict, ScopeError, OverDatabase) as error:
        print(f"heard: {error}", file=sys.stderr)
        return 2
    except FlowError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return 2


def run(settings: Settings, env_file: str | None = None) -> int:
    """Run the bot until SIGINT or SIGTERM; first log what leaves the token exposed, if any."""
    configure_logging(
        settings.heard_log_level,
        settings.require_token(),
        unsafe=settings.heard_unsafe_debug_logs,
    )
    for line in exposure_warnings(settings, env_file):
        logging.getLogger("heard").warning("%s", line)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await serve(settings, stop=stop)

    asyncio.run(main())
    return 0


async def print_audit(settings: Settings, limit: int) -> int:
    """Print the newest audit entries."""
    from bot.staff import audit_text

    repository = await existing_database(settings)
    try:
        print(audit_text(await repository.audit_entries(max(1, limit))))
    finally:
        await repository.close()
    return 0


async def run_export(
    settings: Settings,
    fmt: Format,
    output: Path,
    flow_id: str | None,
    linked: bool,
    *,
    round: str | None = None,
) -> int:
    """Export a round's, a conversation's or all results to a file; audit it; say what it wrote."""
    repository = await existing_database(settings)
    try:
        scope = await chosen_scope(settings.heard_database, round, flow_id)
        summary = await export(
            settings.heard_database,
            output,
            fmt,
            scope.flow_id,
            linked,
            round_id=scope.round_id,
        )
        detail = f"{fmt} of {scope.label}: {summary.runs} runs"
        action = "export with linked equality answers" if linked else "export"
        await repository.audit("heard export", action, detail, SystemClock().now())
    finally:
        await repository.close()
    print(f"wrote {summary.runs} conversation run(s), {summary.answers} answer(s) to {output}")
    return 0


async def run_backup(settings: Settings, path: Path, replace: bool) -> int:
    """Take a verified backup of the database, print what it holds, and audit it."""
    try:
        made = await asyncio.to_thread(take_backup, settings.heard_database, path, replace=replace)
    except BackupError as error:
        print(f"heard: {error}", file=sys.stderr)
        return 2
    rows = sum(made.tables.values())
    print(
        f"backed up {settings.heard_database} to {made.path}: {made.size:,} bytes, "
        f"{len(made.tables)} tables, {rows:,} rows; integrity check ok"
    )
    for table, count in made.tables.items():
        print(f"{table}\t{count}")
    repository = await existing_database(settings)
    try:
        detail = f"to {made.path}: {len(made.tables)} tables, {rows} rows"
        await repository.audit("heard backup", "backup", detail, SystemClock().now())
    finally:
        await repository.close()
    return 0


async def run_restore(settings: Settings, path: Path) -> int:
    """Restore the database from a backup, with the bot stopped, and say what was done."""
    try:
        done = await restore(settings.heard_database, path, SystemClock())
    except RestoreError as error:
        print(f"heard: {error}", file=sys.stderr)
        return 2
    rows = sum(done.tables.values())
    print(
        f"restored {done.database} from {done.source}: {len(done.tables)} tables, {rows:,} "
        "rows; integrity check ok; readable by its owner only"
    )
    if done.kept:
        also = "".join(f" (with {path})" for path in done.kept[1:])
        print(f"kept the old database as {done.kept[0]}{also}: delete it when you are sure")
    for removed in done.removed:
        print(f"removed the stale {removed}")
    return 0


async def existing_database(settings: Settings) -> SQLiteRepository:
    """Open the database, refusing to create one that is not there."""
    if not settings.heard_database.exists():
        raise SettingsError(f"HEARD_DATABASE: there is no database at {settings.heard_database}")
    return await SQLiteRepository.open(settings.heard_database)


def conversations_folder(env_file: str) -> Path:
    """Return the folder of conversations in use (HEARD_CONVERSATIONS or the shipped ones)."""
    return load_settings(env_file).heard_conversations or shipped_flows_dir()


def check(paths: Sequence[str], env_file: str) -> int:
    """Print every problem in the conversation and support files; return 1 if any is an error.

    A settings file others can read, plain http:// to another machine (bot.exposure), and
    whether safeguarding alerts can reach HEARD_SAFEGUARDING_CHAT are said after the files'
    problems, outside their count: they are about the setup, not the files, and never fail.
    A damaged HEARD_DATABASE (`PRAGMA quick_check`) is said last, with exit status 2.
    """
    settings = load_settings(env_file)
    targets = [Path(p) for p in paths] or [settings.heard_conversations or shipped_flows_dir()]
    problems: list[Problem] = support_problems(settings) + phrase_problems(settings)
    count = 0
    for target in targets:
        if target.is_dir():
            loaded, found = load_flow_dir(target)
            count += len(loaded)
            problems += found
            continue
        try:
            item = load_flow_file(target)
        except FlowError as error:
            problems += error.problems
            continue
        count += 1
        problems += item.warnings
    for problem in problems:
        print(problem)
    for exposed in exposure_warnings(settings, env_file):
        print(f"warning: {exposed}")
    if (line := alert_chat_line(settings)) is not None:
        print(line)
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    print(f"{count} conversation(s) passed; {errors} error(s), {warnings} warning(s)")
    # A damaged database stops `heard run` too: said last, where it is seen, and exit 2 as there.
    if (damage := database_damage(settings.heard_database)) is not None:
        print(f"heard: {damage}", file=sys.stderr)
        return 2
    return 1 if errors else 0


def support_problems(settings: Settings) -> list[Problem]:
    """Return problems in the support lines file, with a warning when it is due a review."""
    try:
        support = load_support(settings.heard_support_file)
    except SupportError as error:
        return list(error.problems)
    warning = review_warning(support, datetime.now(settings.zone).date())
    if warning is None:
        return []
    return [Problem(support.source, 1, None, warning.split(": warning: ", 1)[-1], "warning")]


def alert_chat_line(settings: Settings) -> str | None:
    """Return a line saying why safeguarding alerts may not reach their chat, if they may not."""
    chat = settings.heard_safeguarding_chat
    token = settings.telegram_bot_token
    if token is None and chat is None:
        return f"warning: {UNSET}"
    if token is None:
        return f"note: HEARD_SAFEGUARDING_CHAT ({chat}) not checked: TELEGRAM_BOT_TOKEN is not set"
    found = asyncio.run(probe_alert_chat(token, settings.telegram_api_url, chat))
    return None if found.problem is None else f"warning: {found.problem}"


def phrase_problems(settings: Settings) -> list[Problem]:
    """Return problems in the risk phrase list and model, with a warning when due a review."""
    try:
        if settings.heard_risk_phrases is None:
            phrases = PhraseList.shipped()
        else:
            phrases = PhraseList.load(settings.heard_risk_phrases)
    except PhraseListError as error:
        return [_located_line(line) for line in error.problems]
    try:
        RiskModel.shipped()
    except RiskModelError as error:
        return [_located_line(str(error))]
    age = (datetime.now(settings.zone).date() - phrases.reviewed).days
    if age <= REVIEW_DAYS:
        return []
    message = (
        f"the risk phrases were last reviewed on {phrases.reviewed.isoformat()} by "
        f"{phrases.reviewed_by}, {age} days ago: ask the safeguarding lead to review them"
    )
    return [Problem(str(phrases.source), 1, None, message, "warning")]


def _located_line(line: str) -> Problem:
    """Turn 'file:line: message' into a Problem (line 1 when there is no line)."""
    found = re.match(r"^(.*?):(\d+): (.*)$", line)
    if found is None:
        return Problem("risk phrases", 1, None, line)
    return Problem(found[1], int(found[2]), None, found[3])


def find_flow(name: str, env_file: str) -> LoadedFlow:
    """Find a conversation by file path or by id among those in use."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        return load_flow_file(path)
    loaded, _ = load_flow_dir(conversations_folder(env_file))
    for item in loaded:
        if item.flow.id == name:
            return item
    known = ", ".join(sorted(item.flow.id for item in loaded)) or "none"
    raise SettingsError(f"no conversation with id '{name}' (found: {known})")


def graph(name: str, env_file: str) -> int:
    """Print a Mermaid diagram of a conversation."""
    from conversations.mermaid import mermaid

    print(mermaid(find_flow(name, env_file).flow))
    return 0


if __name__ == "__main__":
    sys.exit(main())
