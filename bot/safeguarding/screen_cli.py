"""The `heard screen` command: screen lines of text, explain verdicts, evaluate labelled files."""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from bot.safeguarding.evaluation import evaluate
from bot.safeguarding.labelled import LabelledFileError, read_file
from bot.safeguarding.normalise import normalise
from bot.safeguarding.risk_model import RiskModel, RiskModelError
from bot.safeguarding.screening import PhraseList, PhraseListError, Screener, Screening

# Tabs and every kind of line break become spaces, so each result stays one line.
_TO_SPACE = str.maketrans(dict.fromkeys("\t\n\v\f\r\x1c\x1d\x1e\x85\u2028\u2029", " "))
MISSED_SHOWN = 20


def screen_lines(lines: Iterable[str], screener: Screener, explain: bool = False) -> Iterator[str]:
    """Yield 'verdict<TAB>text' for each line, or with --explain '...<TAB>why'."""
    for line in lines:
        text = line.rstrip("\r\n").translate(_TO_SPACE)
        found = screener.screen(text)
        if explain:
            yield f"{found.verdict}\t{text}\t{why(found, screener)}"
        else:
            yield f"{found.verdict}\t{text}"


def why(found: Screening, screener: Screener) -> str:
    """Say why a verdict was given: phrase, model score and its strongest features, cues."""
    parts = [found.explain()]
    if found.sentence:
        normal = normalise(found.sentence, screener.phrases.keep_doubles)
        top = screener.model.contributions(normal, top=3)
        if top:
            parts.append("model words " + ", ".join(repr(c.feature[2:]) for c in top))
        parts.append(f"sentence {found.sentence[:120]!r}")
    return "; ".join(parts)


def add_parser(new_command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add the `screen` subcommand to the `heard` command."""
    command = new_command(
        "screen",
        help="screen lines of text for risk, or evaluate screening on labelled lines",
        description="Read lines of text (standard input, or --file) and print one line for "
        "each, in order: 'flag<TAB>text', 'concern<TAB>text' or 'ok<TAB>text'. With "
        "--explain, a third field says why. With --evaluate FILE, read labelled lines "
        "('risk<TAB>text' or 'ordinary<TAB>text', '# category: NAME' comments) and print, per "
        "category and overall: reach (flag or concern, over risk), alert recall (flag, over "
        "risk), false alerts (flag, over ordinary) and false reach (flag or concern, over "
        "ordinary).",
    )
    command.add_argument("--file", type=Path, default=None, help="read lines from this file")
    command.add_argument(
        "--phrases",
        type=Path,
        default=None,
        help="the phrase file to use (default: the one installed with Heard)",
    )
    command.add_argument(
        "--model", type=Path, default=None, help="the risk model file (default: the shipped one)"
    )
    command.add_argument(
        "--explain", action="store_true", help="add why: phrase matched, model score, cues"
    )
    command.add_argument(
        "--evaluate",
        type=Path,
        default=None,
        metavar="FILE",
        help="print figures for a file of labelled lines instead of screening lines",
    )


def run(args: argparse.Namespace) -> int:
    """Screen every input line and print one result line for each; return the exit status."""
    try:
        phrases = PhraseList.load(args.phrases) if args.phrases else PhraseList.shipped()
        model = RiskModel.load(args.model) if args.model else RiskModel.shipped()
    except PhraseListError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return 2
    except RiskModelError as error:
        print(f"heard: {error}", file=sys.stderr)
        return 2
    screener = Screener(phrases, model)
    if args.evaluate is not None:
        return _evaluate(args.evaluate, screener, args.explain)
    if args.file is None:
        if isinstance(sys.stdin, io.TextIOWrapper):
            sys.stdin.reconfigure(errors="replace")  # one bad byte must not stop the run
        _print_results(sys.stdin, screener, args.explain)
        return 0
    try:
        with args.file.open(encoding="utf-8", errors="replace") as lines:
            _print_results(lines, screener, args.explain)
    except OSError as error:
        print(f"heard: cannot read {args.file}: {error.strerror or error}", file=sys.stderr)
        return 2
    return 0


def _evaluate(path: Path, screener: Screener, explain: bool) -> int:
    try:
        lines = read_file(path)
    except LabelledFileError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return 2
    result = evaluate(lines, screener.screen)
    for row in result.table():
        print(row)
    if explain and result.missed:
        print(f"\nwrong ({len(result.missed)}; risk given ok, or ordinary flagged):")
        for line, found in result.missed[:MISSED_SHOWN]:
            label = "risk" if line.risk else "ordinary"
            print(f"{line.source}:{line.line}\t{label}\t{found.verdict}\t{why(found, screener)}")
    return 0


def _print_results(lines: Iterable[str], screener: Screener, explain: bool) -> None:
    for result in screen_lines(lines, screener, explain):
        print(result)
