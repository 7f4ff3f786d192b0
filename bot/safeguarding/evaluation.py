"""How well screening does on labelled lines: per category and overall.

- reach: risk lines given a flag or a concern, over all risk lines;
- alert recall: risk lines flagged, over all risk lines;
- false alerts: ordinary lines flagged, over all ordinary lines;
- false reach: ordinary lines given a flag or a concern, over all ordinary lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from bot.safeguarding.labelled import Labelled
from bot.safeguarding.verdicts import Screening, Verdict

OVERALL = "overall"


@dataclass
class Tally:
    """Counts of verdicts on risk and ordinary lines, for one category or all of them."""

    risk: int = 0
    risk_flagged: int = 0
    risk_concern: int = 0
    ordinary: int = 0
    ordinary_flagged: int = 0
    ordinary_concern: int = 0

    def add(self, risk: bool, verdict: Verdict) -> None:
        """Count one line's verdict."""
        if risk:
            self.risk += 1
            self.risk_flagged += verdict is Verdict.FLAG
            self.risk_concern += verdict is Verdict.CONCERN
        else:
            self.ordinary += 1
            self.ordinary_flagged += verdict is Verdict.FLAG
            self.ordinary_concern += verdict is Verdict.CONCERN

    @property
    def reach(self) -> float | None:
        """Risk lines given a flag or a concern, over all risk lines."""
        return _share(self.risk_flagged + self.risk_concern, self.risk)

    @property
    def alert_recall(self) -> float | None:
        """Risk lines flagged, over all risk lines."""
        return _share(self.risk_flagged, self.risk)

    @property
    def false_alerts(self) -> float | None:
        """Ordinary lines flagged, over all ordinary lines."""
        return _share(self.ordinary_flagged, self.ordinary)

    @property
    def false_reach(self) -> float | None:
        """Ordinary lines given a flag or a concern, over all ordinary lines."""
        return _share(self.ordinary_flagged + self.ordinary_concern, self.ordinary)


@dataclass
class Evaluation:
    """Tallies per category, in the order categories were met, and overall."""

    categories: dict[str, Tally] = field(default_factory=dict)
    overall: Tally = field(default_factory=Tally)
    missed: list[tuple[Labelled, Screening]] = field(default_factory=list)

    def add(self, line: Labelled, screening: Screening) -> None:
        """Count one labelled line's verdict."""
        self.categories.setdefault(line.category, Tally()).add(line.risk, screening.verdict)
        self.overall.add(line.risk, screening.verdict)
        wrong = screening.verdict is Verdict.OK if line.risk else screening.verdict is Verdict.FLAG
        if wrong:
            self.missed.append((line, screening))

    def table(self) -> list[str]:
        """Return the figures as tab-separated lines with a header, overall last."""
        rows = ["category\trisk\treach\talert_recall\tordinary\tfalse_alerts\tfalse_reach"]
        for name, tally in [*self.categories.items(), (OVERALL, self.overall)]:
            rows.append(
                "\t".join(
                    [
                        name,
                        str(tally.risk),
                        _figure(tally.reach),
                        _figure(tally.alert_recall),
                        str(tally.ordinary),
                        _figure(tally.false_alerts),
                        _figure(tally.false_reach),
                    ]
                )
            )
        return rows


def evaluate(lines: Iterable[Labelled], screen: Callable[[str], Screening]) -> Evaluation:
    """Screen every labelled line and tally the verdicts."""
    lines = list(lines)
    return evaluate_each(lines, [screen(line.text) for line in lines])


def evaluate_each(lines: Sequence[Labelled], screenings: Sequence[Screening]) -> Evaluation:
    """Tally verdicts already given, one for each labelled line."""
    result = Evaluation()
    for line, screening in zip(lines, screenings, strict=True):
        result.add(line, screening)
    return result


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
