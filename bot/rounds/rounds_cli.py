"""`heard rounds`: set up, list, close and follow up consultation rounds from the command line."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import astuple
from pathlib import Path

from bot.clock import SystemClock
from bot.flows import FlowLibrary
from bot.rounds import wording
from bot.rounds.planner import PlanError, RoundPlanner, RoundView, audience_label
from bot.rounds.when import describe
from bot.settings import Settings
from storage.rounds import Round
from storage.sqlite import SQLiteRepository

ACTOR = "heard rounds"
WHEN_HELP = 'ISO 8601, "now", "today 14:00", "tomorrow 10:00" or "2026-12-01 10:00"'
COLUMNS = (
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
)
NUMERIC = frozenset(COLUMNS[6:])


class RoundsError(Exception):
    """A `heard rounds` command cannot go on; the message says why in one line."""


def add_parser(new_command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add the `rounds` subcommand and its actions to the `heard` command's subparsers."""
    rounds = new_command(
        "rounds",
        help="set up, list, close and follow up consultation rounds",
        description="Set up, list, close and follow up consultation rounds in HEARD_DATABASE. "
        "Times are read and shown in HEARD_TIMEZONE. The running bot sends what a round "
        "queues, outside HEARD_QUIET_HOURS.",
    )
    actions = rounds.add_subparsers(dest="rounds_command", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create",
        help="set up a round",
        description="Set up a round that invites people to one conversation between two times.",
    )
    create.add_argument("--flow", required=True, metavar="FLOW_ID", help="the conversation id")
    create.add_argument("--opens", required=True, metavar="WHEN", help=f"when: {WHEN_HELP}")
    create.add_argument("--closes", required=True, metavar="WHEN", help=f"when: {WHEN_HELP}")
    create.add_argument("--title", default="", help="title (default: the conversation's)")
    create.add_argument("--reminders", default="1", metavar="N", help="0, 1 or 2 (default: 1)")
    create.add_argument(
        "--audience",
        default="all",
        metavar="all|round:ID",
        help="everyone who agreed to be contacted (default), or those who took part in round ID",
    )
    create.add_argument(
        "--retention-days",
        default=None,
        metavar="N",
        help="days to keep this round's conversations (default: HEARD_RETENTION_DAYS)",
    )
    create.add_argument(
        "--invitation-file",
        type=Path,
        default=None,
        metavar="F",
        help="a UTF-8 text file with the invitation (default: one written from the conversation)",
    )
    actions.add_parser(
        "list",
        help="list every round with its figures",
        description="List every round, newest first, with its status and live figures.",
    )
    for name, verb in (("close", "Close"), ("cancel", "Cancel")):
        end = actions.add_parser(
            name,
            help=f"{name} a round now",
            description=f"{verb} a round now: unsent invitations and reminders are dropped, and "
            "anyone part-way through is told it has closed.",
        )
        end.add_argument("round_id", metavar="ID", help="the round, like 3 or R3")
    feedback = actions.add_parser(
        "feedback",
        help='send a round\'s "you said, we did" message',
        description='Show a preview of a round\'s "you said, we did" message and how many people '
        "it would reach (those who took part and agreed to be contacted), then send it once "
        "confirmed.",
    )
    feedback.add_argument("round_id", metavar="ID", help="the round, like 3 or R3")
    feedback.add_argument(
        "--text-file", required=True, type=Path, metavar="F", help="a UTF-8 text file"
    )
    feedback.add_argument("--yes", action="store_true", help="send without asking")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run `heard rounds` with parsed arguments; errors are one line and exit status 2."""
    try:
        return asyncio.run(run_rounds(args, settings))
    except (PlanError, RoundsError) as error:
        print(f"heard: {error}", file=sys.stderr)
        return 2


async def run_rounds(args: argparse.Namespace, settings: Settings) -> int:
    """Open the database, do one `heard rounds` action, and close it again."""
    database = settings.heard_database
    # Checked first: opening a database that is not there would create an empty one.
    if not await asyncio.to_thread(database.exists):
        raise RoundsError(f"HEARD_DATABASE: there is no database at {database}")
    try:
        repository = await SQLiteRepository.open(database)
    except (OSError, sqlite3.DatabaseError) as error:
        raise RoundsError(f"HEARD_DATABASE: cannot open {database}: {error}") from None
    try:
        # Only creating needs the conversations, so a broken file never blocks a close.
        if args.rounds_command == "create":
            flows = FlowLibrary.load(settings.heard_conversations, repository)
        else:
            flows = FlowLibrary([], repository)
        planner = RoundPlanner(repository, flows, SystemClock(), settings.zone)
        if args.rounds_command == "create":
            return await create(planner, args)
        if args.rounds_command == "list":
            return await list_rounds(planner)
        if args.rounds_command == "feedback":
            return await feedback(planner, args)
        return await end(planner, round_number(args.round_id), args.rounds_command == "cancel")
    finally:
        await repository.close()


async def create(planner: RoundPlanner, args: argparse.Namespace) -> int:
    """Set up a round and say what it will do."""
    invitation = None
    if args.invitation_file is not None:
        invitation = await read_text(args.invitation_file)
    made = await planner.create(
        flow_id=args.flow,
        opens=args.opens,
        closes=args.closes,
        actor=ACTOR,
        title=args.title,
        audience=args.audience,
        reminders=args.reminders,
        invitation=invitation,
        retention_days=args.retention_days,
    )
    eligible = await planner.repository.audience_size(made.audience)
    print(f"created round R{made.id}")
    print(summary(made, eligible, planner))
    return 0


def summary(made: Round, eligible: int, planner: RoundPlanner) -> str:
    """Return one line saying when a round runs, who it invites and how it reminds them."""
    zone = planner.zone
    reminders = {0: "no reminders", 1: "1 reminder"}.get(made.reminders, "2 reminders")
    return (
        f"'{made.title}' ({made.flow_id}) opens {describe(made.opens_at, zone)} and closes "
        f"{describe(made.closes_at, zone)} ({zone.key}); it invites "
        f"{audience_label(made.audience)}: {people(eligible)} now; {reminders}"
        + (f"; kept {made.retention_days} days." if made.retention_days else ".")
    )


async def list_rounds(planner: RoundPlanner) -> int:
    """Print every round with its live figures as a plain table."""
    views = await planner.overview()
    if not views:
        print("no rounds yet")
        return 0
    print(table([row(view, planner) for view in views]))
    print(f"times are in {planner.zone.key}")
    return 0


def row(view: RoundView, planner: RoundPlanner) -> list[str]:
    """Return one round's cells, in the order of COLUMNS."""
    found, figures = view.round, view.figures
    return [
        f"R{found.id}",
        found.status,
        found.title,
        found.flow_id,
        describe(found.opens_at, planner.zone),
        describe(found.closes_at, planner.zone),
        # eligible, invited, started, completed, declined, stopped, failed (not waiting)
        *(str(number) for number in astuple(figures)[: len(COLUMNS) - 6]),
    ]


def table(rows: list[list[str]]) -> str:
    """Return rows under the column names, padded; numbers line up on the right."""
    cells = [list(COLUMNS), *rows]
    widths = [max(len(line[index]) for line in cells) for index in range(len(COLUMNS))]
    lines = []
    for line in cells:
        padded = [
            cell.rjust(width) if name in NUMERIC else cell.ljust(width)
            for name, cell, width in zip(COLUMNS, line, widths, strict=True)
        ]
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines)


async def end(planner: RoundPlanner, round_id: int, cancel: bool) -> int:
    """Close or cancel a round and say who will be told."""
    ended = await planner.end(round_id, ACTOR, cancel=cancel)
    told = (await planner.repository.send_tally(round_id, "closed")).total
    line = f"{ended.status} round R{ended.id} '{ended.title}'; no more invitations or reminders"
    if told:
        line += f"; a closing note is queued for {people(told)} part-way through"
    print(line)
    return 0


async def feedback(planner: RoundPlanner, args: argparse.Namespace) -> int:
    """Show the feedback and its reach, then send it if confirmed."""
    round_id = round_number(args.round_id)
    found, reach = await planner.feedback_reach(round_id)
    text = planner.feedback_text(await read_text(args.text_file))
    print(f"Feedback for round R{found.id} '{found.title}':")
    print("-" * 40)
    print(text)
    print("-" * 40)
    print(f"It would reach {people(reach)}: those who took part and agreed to be contacted.")
    if not args.yes and not confirmed(f"Send to {people(reach)}? [y/N] "):
        print("nothing was sent")
        return 1
    count = await planner.send_feedback(round_id, text, ACTOR)
    print(f"queued feedback for round R{round_id} to {people(count)}; the running bot sends it")
    return 0


def confirmed(question: str) -> bool:
    """Ask a yes/no question on the terminal; anything but yes (or no input at all) is no."""
    try:
        answer = input(question)
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def round_number(text: str) -> int:
    """Return a round id typed as 3 or R3."""
    number = wording.round_number([text.strip()])
    if number is None:
        raise RoundsError(f"'{text}' is not a round id; expected a number like 3 (or R3)")
    return number


async def read_text(path: Path) -> str:
    """Return a UTF-8 text file's contents, or say plainly why it cannot be read."""
    try:
        return await asyncio.to_thread(path.read_text, encoding="utf-8")
    except UnicodeDecodeError:
        raise RoundsError(f"cannot read {path}: it is not UTF-8 text") from None
    except OSError as error:
        raise RoundsError(f"cannot read {path}: {error.strerror or error}") from None


def people(count: int) -> str:
    """Return a count of people in plain English."""
    return "1 person" if count == 1 else f"{count:,} people"
