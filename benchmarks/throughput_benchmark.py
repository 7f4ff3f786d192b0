"""Heard under load: throughput, many people at once, broadcast pace, start-up (issue 6, 1-4).

Run: python -m benchmarks.throughput_benchmark [--participants N] [--answers K]
[--production-participants N] [--telegram-participants N] [--rounds N] [--many N]
[--flows N] [--repeat N] [--only PART] [--no-doc]

Everything runs on 127.0.0.1, each bot in its own process against a fresh fake Bot API server
process (benchmarks.fake_server_process --control), driven by a load driver in this process
(benchmarks.load_driver) that acts as the participants through the server. The baselines run
in the same run, on the same server, with the same AIORateLimiter settings as Heard:
(a) benchmarks.throughput_bare, a bare python-telegram-bot application making Heard's calls
per answer with no database; (b) benchmarks.throughput_conventional, a ConversationHandler
with PicklePersistence asking the same questions. Beside them, at the first scenario, (a')
the bare bot through Heard's update processor, and (a+db) the bare bot keeping every answer
in SQLite with Heard's three database trips an answer (benchmarks.bare_store): what durable
storage alone costs the framework.

1. Conversation throughput, three times: with HEARD_SEND_RATE=1000, which raises the limiter
   so the framework is measured rather than the limiter; with the limiter as in production
   (HEARD_SEND_RATE 25, so AIORateLimiter's 30 calls a second overall); and with that limiter
   and every call taking 100 ms at the server, as calls to Telegram do.
2. Many people at once: 10,000 people mid-conversation in the bot's own store; memory, and the
   time until every one of them, answering once after a restart, has their next question.
3. Broadcast pace: a round's invitations to 10,000 people at 200 a second and to 1,000 at
   Telegram's 25, against a fake server that answers 429 above the set rate, beside a bare
   python-telegram-bot sender (benchmarks.broadcast_benchmark, which also runs alone).
4. Start-up: `heard check` on 100 conversation files, and `heard run` until it first polls,
   each against `python -c "import telegram"`.

Prints the tables and writes them into docs/performance.md (between this benchmark's markers).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence

from benchmarks import broadcast_benchmark, many_people, startup_benchmark
from benchmarks.bot_processes import (
    BARE,
    BARE_256,
    BARE_STORE,
    CONVENTIONAL,
    HEARD,
    BotKind,
    log,
)
from benchmarks.conversation_load import Measured, measure
from benchmarks.performance_doc import write_block

FAST_RATE = 1000.0
PRODUCTION_RATE = 25.0
TELEGRAM_MS = 100.0  # a Bot API call's round trip to Telegram, about
DOC_NAME = "throughput-benchmark"
DOC_HEADING = "## Heard under load (issue 6, benchmarks 1 to 4)"
METHODS = ("answerCallbackQuery", "editMessageText", "editMessageReplyMarkup", "sendMessage")


def percentile(values: Sequence[float], share: float) -> float:
    """Return the nearest-rank percentile of values (0 if there are none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def verdict(ok: bool) -> str:
    """Say met or MISSED."""
    return "met" if ok else "MISSED"


def conversation_table(title: str, rows: list[Measured], expected: int) -> list[str]:
    """Lay out one throughput scenario, with ratios to the baselines and the targets."""
    found = {m.name: m for m in rows}
    bare, conventional, heard = found[BARE.name], found[CONVENTIONAL.name], found[HEARD.name]
    p95 = {m.name: percentile(m.answers.latencies, 0.95) for m in rows}
    lines = [
        title,
        f"{'what':<24}{'answers':>8}{'ans/s':>8}{'x (a)':>7}{'x (b)':>7}{'p50 ms':>8}"
        f"{'p95 ms':>8}{'p99 ms':>8}{'p95 x(a)':>9}{'CPU ms/ans':>11}{'peak MB':>8}"
        f"{'calls/ans':>10}{'stored':>7}",
    ]
    for m in rows:
        stored = "-" if m.stored is None else f"{m.stored:,}"
        lines.append(
            f"{m.name:<24}{len(m.answers.latencies):>8,}{m.rate:>8.1f}{m.rate / bare.rate:>7.2f}"
            f"{m.rate / conventional.rate:>7.2f}"
            f"{percentile(m.answers.latencies, 0.5) * 1000:>8.0f}{p95[m.name] * 1000:>8.0f}"
            f"{percentile(m.answers.latencies, 0.99) * 1000:>8.0f}"
            f"{p95[m.name] / p95[BARE.name]:>9.2f}"
            f"{m.cpu_seconds * 1000 / max(1, len(m.answers.latencies)):>11.2f}"
            f"{m.peak_kb / 1024:>8.1f}{m.per_answer():>10.2f}{stored:>7}"
        )
    shown = ", ".join(f"{method} {heard.per_answer(method):.2f}" for method in METHODS)
    lines.append(f"heard's Bot API calls per answer at the server: {shown}")
    busiest = max(max(m.server_cpu, m.driver_cpu) / m.answers.seconds for m in rows)
    lines.append(f"the fake server and the driver used at most {busiest:.2f} of a core each")
    lost = sum(m.answers.lost + m.answers.unexpected for m in rows)
    lines.append(
        f"targets: ans/s >= 0.8 x (a) {verdict(heard.rate >= 0.8 * bare.rate)}; "
        f"p95 <= 1.5 x (a) {verdict(p95[HEARD.name] <= 1.5 * p95[BARE.name])}; "
        f">= 1.0 x (b) {verdict(heard.rate >= conventional.rate)}; "
        f"every answer stored {verdict(heard.stored == expected)}; "
        f"replies missing or unexpected: {lost}"
    )
    storing = found.get(BARE_STORE.name)
    if storing is not None:
        lines.append(
            f"the framework with every answer durably committed, and nothing else of Heard's: "
            f"(a+db) {storing.rate / bare.rate:.2f} x (a); heard {heard.rate / storing.rate:.2f} "
            f"x (a+db), p95 {p95[HEARD.name] / p95[BARE_STORE.name]:.2f} x (a+db)"
        )
    return lines


def conversations(
    participants: int,
    answers: int,
    rate: float,
    label: str,
    kinds: list[BotKind],
    latency_ms: float = 0.0,
    rounds: int = 1,
) -> list[str]:
    """Measure the baselines and Heard in one scenario; return its table.

    With several rounds the bots take turns, round after round, so that a slower spell of the
    machine falls on all of them; each bot's row is its median round by answers a second.
    """
    runs: dict[str, list[Measured]] = {kind.name: [] for kind in kinds}
    for _ in range(rounds):
        for kind in kinds:
            runs[kind.name].append(measure(kind, participants, answers, rate, latency_ms))
    rows = [sorted(found, key=lambda m: m.rate)[len(found) // 2] for found in runs.values()]
    title = (
        f"1. Conversation throughput: {participants:,} people x {answers} answers "
        f"(buttons and typed), {label}"
    )
    lines = conversation_table(title, rows, participants * answers)
    if rounds > 1:
        spread = "; ".join(
            f"{name} {', '.join(f'{m.rate:.1f}' for m in found)}" for name, found in runs.items()
        )
        lines.insert(-1, f"ans/s in each of {rounds} rounds (the median shown): {spread}")
    return lines


def main() -> None:
    """Run the chosen parts, print their tables and record them in docs/performance.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=500)
    parser.add_argument("--answers", type=int, default=10, choices=range(1, 11))
    parser.add_argument("--production-participants", type=int, default=20)
    parser.add_argument("--telegram-participants", type=int, default=30)
    parser.add_argument(
        "--rounds", type=int, default=3, help="turns each bot takes at the first scenario"
    )
    parser.add_argument("--many", type=int, default=10_000, help="people mid-conversation")
    parser.add_argument("--flows", type=int, default=100, help="files for heard check")
    parser.add_argument("--repeat", type=int, default=3, help="start-up timings per command")
    parser.add_argument(
        "--without-256", action="store_true", help="leave out the (a') row (saves ~1.5 min)"
    )
    parser.add_argument(
        "--many-conventional",
        action="store_true",
        help="restart the conventional bot with everyone too (its stop takes minutes)",
    )
    parser.add_argument(
        "--only", choices=("throughput", "many", "broadcast", "startup"), default=None
    )
    parser.add_argument(
        "--no-doc", action="store_true", help="print only (--only always prints only)"
    )
    args = parser.parse_args()
    started = time.monotonic()
    lines: list[str] = []
    if args.only in (None, "throughput"):
        fast = f"HEARD_SEND_RATE={FAST_RATE:g} (so the limiter allows {FAST_RATE:g} calls/s)"
        kinds = [BARE] + ([] if args.without_256 else [BARE_256]) + [BARE_STORE]
        kinds += [CONVENTIONAL, HEARD]
        lines += [
            *conversations(
                args.participants, args.answers, FAST_RATE, fast, kinds, rounds=args.rounds
            ),
            "",
        ]
        production = "limiter as in production (HEARD_SEND_RATE=25: 30 calls/s overall)"
        people, kinds = args.production_participants, [BARE, CONVENTIONAL, HEARD]
        lines += [*conversations(people, args.answers, PRODUCTION_RATE, production, kinds), ""]
        on_telegram = f"limiter as in production and {TELEGRAM_MS:g} ms a call, as on Telegram"
        people = args.telegram_participants
        lines += [
            *conversations(people, args.answers, PRODUCTION_RATE, on_telegram, kinds, TELEGRAM_MS),
            "",
        ]
    if args.only in (None, "many"):
        lines += [*many_people.run(args.many, FAST_RATE, args.many_conventional), ""]
    if args.only in (None, "broadcast"):
        for people, rate in broadcast_benchmark.DEFAULT_SCENARIOS:
            first, *rest = broadcast_benchmark.scenario(people, rate)
            lines += [f"3. {first}", *rest, ""]
    if args.only in (None, "startup"):
        lines += [*startup_benchmark.run(args.flows, args.repeat), ""]
    took = time.monotonic() - started
    log(f"done in {took / 60:.1f} minutes")
    table = "\n".join(lines).rstrip()
    print(table)
    if args.only is None and not args.no_doc:
        command = " ".join(["python -m benchmarks.throughput_benchmark", *sys.argv[1:]])
        body = (
            f"Measured {time.strftime('%Y-%m-%d')} (2 cores), `{command}` "
            f"({took / 60:.1f} minutes):\n\n```\n{table}\n```"
        )
        write_block(DOC_NAME, DOC_HEADING, body)


if __name__ == "__main__":
    main()
