"""Benchmark: risk screening on the held-out evaluation sets; its speed; start-up cost.

1. Accuracy on each held-out set, per category and overall, against the issue's targets. Each
   was written by people who never saw the phrase list, the training lines or the other sets,
   and none is ever used for training or tuning. Set 1 (benchmarks/data/screening_heldout_*)
   was written before any tuning; set 2 (benchmarks/fresh/screening_fresh_*) after set 1's
   figures had been seen once, before the tuning that followed; set 3
   (benchmarks/fresh3/screening_third_*) after both had been seen, before the last round;
   set 4 (benchmarks/fresh4/screening_fourth_*) after all three had been seen, by a writer
   shown none of the project's files, and committed before the tuning round that followed.
   The baseline, in the same run, is the phrase list alone as it screened before the three
   verdicts (a match flags, nothing else is a concern).
2. Time per answer: the held-out lines as typical answers, and 1,000-character answers (held-out
   lines joined), for the screener and for the phrase list alone.
3. Start-up: `heard check` run as a process, and reading the screening files, here and at the
   baseline commit (the last one before the risk model), each the median of --repeat runs.

Run: python -m benchmarks.screening_benchmark [--repeat N] [--no-doc]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

from benchmarks.performance_doc import write_block
from bot.safeguarding.evaluation import Evaluation, Tally, evaluate
from bot.safeguarding.labelled import Labelled, read_file
from bot.safeguarding.phrase_list import PhraseList, screen
from bot.safeguarding.screening import Screener
from bot.safeguarding.verdicts import OK, Screening, Verdict

ROOT = Path(__file__).resolve().parents[1]
# Each set: its name and its files; each was written before the tuning round after it.
SETS = (
    ("held-out 1", sorted((ROOT / "benchmarks" / "data").glob("screening_heldout_*.tsv"))),
    ("held-out 2", sorted((ROOT / "benchmarks" / "fresh").glob("screening_fresh_*.tsv"))),
    ("held-out 3", sorted((ROOT / "benchmarks" / "fresh3").glob("screening_third_*.tsv"))),
    ("held-out 4", sorted((ROOT / "benchmarks" / "fresh4").glob("screening_fourth_*.tsv"))),
)
BASELINE = "251dcd6"  # the last commit before the risk model and the three verdicts
TARGETS = {"reach": 0.95, "alert_recall": 0.85, "false_alerts": 0.05, "false_reach": 0.15}
TYPICAL_MS, LONG_MS, STARTUP_SLOWER_S = 2.0, 5.0, 0.3
LOAD_NOW = "from bot.safeguarding.screening import Screener; Screener.shipped().screen('hello')"
LOAD_BEFORE = "from bot.safeguarding.screening import PhraseList; PhraseList.shipped()"
CHECK = "import sys; from bot.cli import main; sys.exit(main(['check']))"


def held_out(paths: list[Path]) -> list[Labelled]:
    """Return every line of a held-out set."""
    return [line for path in paths for line in read_file(path)]


def phrase_only(phrases: PhraseList) -> Callable[[str], Screening]:
    """Screen as Heard did before: a phrase match flags; nothing else is a concern."""

    def screening(text: str) -> Screening:
        found = screen(text, phrases)
        return OK if found is None else Screening(Verdict.FLAG, found.phrase)

    return screening


def accuracy(lines: list[Labelled], screener: Screener) -> tuple[Evaluation, Evaluation]:
    """Return the screener's figures and the phrase list's alone."""
    return evaluate(lines, screener.screen), evaluate(lines, phrase_only(screener.phrases))


def per_answer_ms(texts: list[str], screening: Callable[[str], object], rounds: int) -> float:
    """Return the mean milliseconds to screen one of the texts (the best of `rounds`)."""
    for text in texts[:50]:
        screening(text)
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for text in texts:
            screening(text)
        best = min(best, (time.perf_counter() - started) / len(texts))
    return best * 1000


def long_answers(texts: list[str], length: int = 1000) -> list[str]:
    """Join texts into answers of `length` characters."""
    answers: list[str] = []
    current = ""
    for text in texts:
        current = f"{current} {text}".strip()
        if len(current) >= length:
            answers.append(current[:length])
            current = ""
    return answers


def median_seconds(command: list[str], cwd: Path, repeat: int) -> float:
    """Run a command `repeat` times; return the median wall-clock seconds."""
    times = []
    for _ in range(repeat):
        started = time.monotonic()
        subprocess.run(command, cwd=cwd, capture_output=True, timeout=120, check=True)
        times.append(time.monotonic() - started)
    return statistics.median(times)


def baseline_tree(folder: Path) -> Path:
    """Unpack the baseline commit's files into a folder."""
    archive = subprocess.run(
        ["git", "archive", BASELINE], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def startup(repeat: int) -> list[tuple[str, float, float]]:
    """Return (what, seconds before, seconds now) for `heard check` and loading screening."""
    check = [
        sys.executable,
        "-c",
        "import sys; from bot.cli import main; sys.exit(main(['check']))",
    ]
    with tempfile.TemporaryDirectory() as temp:
        before = baseline_tree(Path(temp))
        rows = [
            (
                "heard check",
                median_seconds(check, before, repeat),
                median_seconds(check, ROOT, repeat),
            ),
            (
                "load screening",
                median_seconds([sys.executable, "-c", LOAD_BEFORE], before, repeat),
                median_seconds([sys.executable, "-c", LOAD_NOW], ROOT, repeat),
            ),
        ]
    return rows


def _row(name: str, tally: Tally, base: Tally) -> str:
    cells = [name, str(tally.risk), str(tally.ordinary)]
    for key in TARGETS:
        now, then = getattr(tally, key), getattr(base, key)
        cells.append("-" if now is None else f"{now:.3f} ({then:.3f})")
    return "| " + " | ".join(cells) + " |"


def accuracy_tables(
    name: str, paths: list[Path], lines: list[Labelled], screener: Screener
) -> list[str]:
    """Return one held-out set's figures per category and overall, and the targets."""
    now, base = accuracy(lines, screener)
    out = [
        f"**{name}**: {len(lines)} lines ({sum(line.risk for line in lines)} risk) from "
        + ", ".join(path.name for path in paths)
        + ". Each cell: the screener (the phrase list alone, a match flagging).",
        "",
        "| category | risk | ordinary | reach | alert recall | false alerts | false reach |",
        "|---|---|---|---|---|---|---|",
    ]
    out += [_row(name, tally, base.categories[name]) for name, tally in now.categories.items()]
    out.append(_row("**overall**", now.overall, base.overall))
    out += ["", f"| {name}: target | wanted | now | met |", "|---|---|---|---|"]
    for key, wanted in TARGETS.items():
        value = getattr(now.overall, key)
        met = value >= wanted if key in ("reach", "alert_recall") else value <= wanted
        sign = "≥" if key in ("reach", "alert_recall") else "≤"
        out.append(f"| {key} | {sign} {wanted} | {value:.3f} | {'yes' if met else 'NO'} |")
    return [*out, ""]


def report(repeat: int) -> str:
    """Run every part and return the Markdown tables."""
    screener = Screener.shipped()
    out: list[str] = []
    lines: list[Labelled] = []
    for name, paths in SETS:
        if paths:
            found = held_out(paths)
            out += accuracy_tables(name, paths, found, screener)
            lines += found
    texts = [line.text for line in lines]
    longs = long_answers(texts)
    typical = per_answer_ms(texts, screener.screen, 3)
    typical_base = per_answer_ms(texts, phrase_only(screener.phrases), 3)
    long = per_answer_ms(longs, screener.screen, 3)
    long_base = per_answer_ms(longs, phrase_only(screener.phrases), 3)
    mean_length = statistics.mean(len(text) for text in texts)
    out += [
        "| time per answer | phrase list alone | screener | × | target | met |",
        "|---|---|---|---|---|---|",
        f"| typical ({mean_length:.0f} characters on average, {len(texts)} answers) | "
        f"{typical_base:.3f} ms | {typical:.3f} ms | {typical / typical_base:.2f} | "
        f"< {TYPICAL_MS} ms | {'yes' if typical < TYPICAL_MS else 'NO'} |",
        f"| 1,000 characters ({len(longs)} answers) | {long_base:.3f} ms | {long:.3f} ms | "
        f"{long / long_base:.2f} | < {LONG_MS} ms | {'yes' if long < LONG_MS else 'NO'} |",
        "",
        f"| start-up (median of {repeat}) | at {BASELINE} | now | slower by | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for name, before, after in startup(repeat):
        slower = after - before
        out.append(
            f"| {name} | {before:.3f} s | {after:.3f} s | {slower:+.3f} s | "
            f"≤ +{STARTUP_SLOWER_S} s | {'yes' if slower <= STARTUP_SLOWER_S else 'NO'} |"
        )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each start-up timing")
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/performance.md")
    args = parser.parse_args()
    table = report(args.repeat)
    print(table)
    if not args.no_doc:
        write_block("screening", "## Risk screening (issue 15)", table)


if __name__ == "__main__":
    main()
