"""Train the risk model from the labelled lines shipped in `bot/safeguarding/training/`.

Needs scikit-learn (`pip install -e ".[train]"`); the running bot does not. The same files give
the same model: lines are read in file-name order and the solver is deterministic.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from bot.safeguarding.labelled import Labelled, read_folder
from bot.safeguarding.normalise import normalise
from bot.safeguarding.risk_model import RiskModel, features

# Regularisation of the logistic regression (smaller is smoother), and the fewest training lines
# a feature must appear in to be kept.
STRENGTH = 16.0
MIN_LINES = 3
# Smoothing of the naive Bayes log-count ratios each feature is scaled by before the regression.
SMOOTHING = 1.0
DIGITS = 6  # weights are written rounded, which keeps the file small and readable in a diff


def training_folder() -> Path:
    """Return the folder of labelled lines installed with Heard."""
    return Path(str(resources.files("bot.safeguarding") / "training"))


def read_training(folder: Path) -> tuple[list[Labelled], dict[str, str]]:
    """Return every labelled line of the folder, and each file's sha256."""
    lines: list[Labelled] = []
    digests: dict[str, str] = {}
    for path, found in read_folder(folder):
        lines += found
        digests[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return lines, digests


def train(lines: Sequence[Labelled], trained_on: dict[str, str] | None = None) -> RiskModel:
    """Fit the model to labelled lines."""
    import numpy as np
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    counted = [features(normalise(line.text)) for line in lines]
    seen: dict[str, int] = {}
    for counts in counted:
        for feature in counts:
            seen[feature] = seen.get(feature, 0) + 1
    kept = {feature for feature, lines_with in seen.items() if lines_with >= MIN_LINES}
    counted = [{f: c for f, c in counts.items() if f in kept} for counts in counted]
    vectoriser = DictVectorizer(sort=True)
    counts_matrix = vectoriser.fit_transform(counted)
    names = list(vectoriser.get_feature_names_out())
    total = len(lines)
    idf = [math.log((1 + total) / (1 + seen[name])) + 1 for name in names]
    # tf-idf as the model scores it: sublinear tf, smoothed idf, each line scaled to length 1.
    matrix = counts_matrix.tocsr(copy=True).astype(np.float64)
    matrix.data = 1.0 + np.log(matrix.data)
    matrix = matrix.multiply(np.asarray([idf])).tocsr()
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    matrix = matrix.multiply(1 / norms[:, None]).tocsr()
    labels = np.asarray([int(line.risk) for line in lines])
    # NBSVM (Wang and Manning, 2012): each feature scaled by how much more often it is in risk
    # lines than in ordinary ones, which gave fewer false concerns on the cross-validation.
    present = (counts_matrix > 0).astype(np.float64).tocsr()
    in_risk = SMOOTHING + np.asarray(present[labels == 1].sum(axis=0)).ravel()
    in_ordinary = SMOOTHING + np.asarray(present[labels == 0].sum(axis=0)).ravel()
    ratio = np.log((in_risk / in_risk.sum()) / (in_ordinary / in_ordinary.sum()))
    matrix = matrix.multiply(np.asarray([ratio])).tocsr()
    fitted = LogisticRegression(
        C=STRENGTH, class_weight="balanced", solver="liblinear", max_iter=1000
    ).fit(matrix, labels)
    coefficients = fitted.coef_[0]
    return RiskModel(
        idf={name: round(value, DIGITS) for name, value in zip(names, idf, strict=True)},
        weighted={
            name: round(float(coefficient * scale) * value, DIGITS)
            for name, coefficient, scale, value in zip(
                names, coefficients, ratio, idf, strict=True
            )
        },
        intercept=round(float(fitted.intercept_[0]), DIGITS),
        trained_on=trained_on or {},
    )
