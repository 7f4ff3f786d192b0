"""The risk model: a small text classifier trained locally, scored one sentence at a time.

The model is logistic regression over word 1–3-grams and character 2–5-grams of normalised text
and the sentence's context cues (cues.py: "k:past", "k:negated", ...), weighted tf-idf (sublinear
tf, l2 norm), as scikit-learn's TfidfVectorizer builds them. Training scales each feature by its
naive Bayes log-count ratio first (NBSVM); the scaled weights are stored, so scoring is the same
dot product either way.
`bot/safeguarding/model_training.py` trains it from the labelled lines in
`bot/safeguarding/training/` and writes `risk_model.json`; scoring needs only this module, so the
running bot does not load scikit-learn. `features` is shared by training and scoring, so both
always see the same features.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from bot.safeguarding.cues import cues

FORMAT = 2
WORD_GRAMS = (1, 3)
PREFIXES = ("w:", "c:", "k:")  # word grams, character grams, context cues
CHAR_GRAMS = (2, 5)


def features(normal: str) -> dict[str, int]:
    """Count the word and character n-grams and the cues of normalised text ("w:", "c:", "k:")."""
    words, chars, context = _grams(normal)
    counts = {f"w:{gram}": count for gram, count in words.items()}
    counts.update((f"c:{gram}", count) for gram, count in chars.items())
    counts.update((f"k:{cue}", count) for cue, count in context.items())
    return counts


def _grams(normal: str) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """Count the word n-grams, the character n-grams and the context cues of normalised text."""
    words = normal.split()
    low, high = WORD_GRAMS
    word_grams = Counter(words)
    for size in range(max(low, 2), high + 1):
        word_grams.update(" ".join(words[at : at + size]) for at in range(len(words) - size + 1))
    padded = f" {normal} "
    low, high = CHAR_GRAMS
    char_grams: Counter[str] = Counter()
    for size in range(low, high + 1):
        char_grams.update([padded[at : at + size] for at in range(len(padded) - size + 1)])
    return word_grams, char_grams, Counter(cues(normal))


class RiskModelError(ValueError):
    """A model file that cannot be used."""


@dataclass(frozen=True)
class Contribution:
    """One feature's share of a score, for `heard screen --explain`."""

    feature: str
    weight: float


@dataclass(frozen=True)
class RiskModel:
    """Trained weights: for each feature its idf and its weight times idf; and the intercept."""

    idf: Mapping[str, float]
    weighted: Mapping[str, float]
    intercept: float
    trained_on: Mapping[str, str]  # training file name: its sha256

    @classmethod
    def shipped(cls) -> RiskModel:
        """Return the model installed with Heard (read once)."""
        return _shipped()

    @classmethod
    def load(cls, path: str | Path) -> RiskModel:
        """Read a model file written by `heard train-model`."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise RiskModelError(f"{path}: cannot read the risk model: {error}") from None
        return cls.from_dict(data, str(path))

    @classmethod
    def from_dict(cls, data: Any, source: str = "<model>") -> RiskModel:
        """Build a model from its JSON form."""
        found = data.get("format") if isinstance(data, dict) else None
        if found is not None and found != FORMAT:
            raise RiskModelError(f"{source}: model format {found}, not {FORMAT}")
        try:
            table = data["features"]
            idf = {feature: float(pair[0]) for feature, pair in table.items()}
            weighted = {feature: float(pair[1]) for feature, pair in table.items()}
            trained_on = {str(name): str(digest) for name, digest in data["trained_on"].items()}
            return cls(idf, weighted, float(data["intercept"]), trained_on)
        except (KeyError, TypeError, IndexError, ValueError, AttributeError) as error:
            raise RiskModelError(f"{source}: not a risk model file ({error!r})") from None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form, features sorted, so the same training writes the same file."""
        table = {f: [self.idf[f], self.weighted[f]] for f in sorted(self.idf)}
        return {
            "format": FORMAT,
            "trained_on": dict(sorted(self.trained_on.items())),
            "intercept": self.intercept,
            "features": table,
        }

    def score(self, normal: str) -> float:
        """Return the probability the model gives that normalised text shows risk (0 to 1)."""
        total, norm = self._sums(normal)
        logit = self.intercept + (total / math.sqrt(norm) if norm else 0.0)
        return _sigmoid(logit)

    def contributions(self, normal: str, top: int = 5) -> list[Contribution]:
        """Return the features that pushed the score up most, for explaining a verdict."""
        shares: dict[str, float] = {}
        _, norm = self._sums(normal, shares)
        if not norm:
            return []
        scale = 1 / math.sqrt(norm)
        found = [Contribution(feature, share * scale) for feature, share in shares.items()]
        found.sort(key=lambda share: -share.weight)
        return [share for share in found[:top] if share.weight > 0]

    def _sums(self, normal: str, shares: dict[str, float] | None = None) -> tuple[float, float]:
        """Return the dot product with the weights and the squared norm of the tf-idf vector.

        `shares`, if given, gets each known feature's part of the dot product.
        """
        total = norm = 0.0
        for prefix, counts, table in zip(PREFIXES, _grams(normal), self._split, strict=True):
            for gram, count in counts.items():
                known = table.get(gram)
                if known is None:
                    continue
                tf = 1.0 + math.log(count) if count > 1 else 1.0  # sublinear, as in training
                part = tf * known[1]
                total += part
                norm += (tf * known[0]) ** 2
                if shares is not None:
                    shares[prefix + gram] = part
        return total, norm

    @cached_property
    def _split(self) -> tuple[dict[str, tuple[float, float]], ...]:
        """The (idf, weight) of word grams, character grams and cues, keyed without prefixes."""
        tables: dict[str, dict[str, tuple[float, float]]] = {kind: {} for kind in PREFIXES}
        for feature, idf in self.idf.items():
            kind, gram = feature[:2], feature[2:]
            if kind in tables:
                tables[kind][gram] = (idf, self.weighted[feature])
        return tuple(tables[kind] for kind in PREFIXES)


def _sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1.0 + exp)


def shipped_path() -> Path:
    """Where the installed model file is."""
    return Path(str(resources.files("bot.safeguarding") / "risk_model.json"))


@cache
def _shipped() -> RiskModel:
    return RiskModel.load(shipped_path())
