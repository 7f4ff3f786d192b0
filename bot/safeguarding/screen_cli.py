"""The `heard screen` command: try the phrase list against lines of text."""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from bot.safeguarding.screening import PhraseList, PhraseListError, screen

# Tabs and every kind of line break become spaces, so each result stays one line of three fields.
_TO_SPACE = str.maketrans(dict.fromkeys("\t\n\v\f\r\x1c\x1d\x1e\x85\u2028\u2029", " "))


def screen_lines(lines: Iterable[str], phrases: PhraseList) -> Iterator[str]:
    """Yield 'flag<TAB>phrase<TAB>text' or 'ok<TAB><TAB>text' for each line."""
    for line in lines:
        text = line.rstrip("\r\n").translate(_TO_SPACE)
        found = screen(text, phrases)
        yield f"flag\t{found.phrase}\t{text}" if found else f"ok\t\t{text}"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `screen` subcommand to the `heard` command."""
    command = subparsers.add_parser(
        "screen",
        help="screen lines of text against the safeguarding phrase list",
        description="Read lines of text (standard input, or --file) and print one line for "
        "each: 'flag<TAB>matched phrase<TAB>text' or 'ok<TAB><TAB>text'. Use it to try the "
        "phrase list, or your own edited copy of it, against your own examples.",
    )
    command.add_argument("--file", type=Path, default=None, help="read lines from this file")
    command.add_argument(
        "--phrases",
        type=Path,
        default=None,
        help="the phrase file to use (default: the one installed with Heard)",
    )


def run(args: argparse.Namespace) -> int:
    """Screen every input line and print one result line for each; return the exit status."""
    try:
        phrases = PhraseList.load(args.phrases) if args.phrases else PhraseList.shipped()
    except PhraseListError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return 2
    if args.file is None:
        if isinstance(sys.stdin, io.TextIOWrapper):
            sys.stdin.reconfigure(errors="replace")  # one bad byte must not stop the run
        _print_results(sys.stdin, phrases)
        return 0
    try:
        with args.file.open(encoding="utf-8", errors="replace") as lines:
            _print_results(lines, phrases)
    except OSError as error:
        print(f"heard: cannot read {args.file}: {error.strerror or error}", file=sys.stderr)
        return 2
    return 0


def _print_results(lines: Iterable[str], phrases: PhraseList) -> None:
    for result in screen_lines(lines, phrases):
        print(result)
