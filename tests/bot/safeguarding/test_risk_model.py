"""The risk model: its features, scoring as scikit-learn would, and its file."""

import json

import numpy as np
import pytest

from bot.safeguarding.labelled import Labelled
from bot.safeguarding.model_training import STRENGTH, train
from bot.safeguarding.normalise import normalise
from bot.safeguarding.risk_model import RiskModel, RiskModelError, features


def test_features_are_word_and_character_grams():
    counts = features("want to die")
    assert counts["w:want"] == 1
    assert counts["w:want to die"] == 1
    assert "w:want to die now" not in counts
    assert counts["c: w"] == 1  # a word's start
    assert counts["c:die "] == 1  # and end
    assert counts["c:to"] == 1
    assert not any(key.startswith("c:") and len(key) > 7 for key in counts)  # 5 characters
    assert features("") == {"c:  ": 1}


def test_features_count_repeats():
    assert features("die die")["w:die"] == 2


LINES = [
    Labelled(True, text, "risk", "t", n)
    for n, text in enumerate(
        ["I want to die", "I want to end it all", "no point living", "I will kill myself"]
    )
] + [
    Labelled(False, text, "ordinary", "t", n)
    for n, text in enumerate(
        ["The ward was fine", "I want more groups", "the bus was late", "kind staff"]
    )
]


def test_scores_are_what_scikit_learn_gives_for_the_same_fit():
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.linear_model import LogisticRegression

    model = train(LINES)
    counts = [features(normalise(line.text)) for line in LINES]
    kept = [{f: c for f, c in each.items() if f in model.idf} for each in counts]
    vectoriser = DictVectorizer()
    counted = vectoriser.fit_transform(kept)
    tfidf = TfidfTransformer(sublinear_tf=True)
    labels = np.asarray([int(line.risk) for line in LINES])
    # Each feature scaled by its naive Bayes log-count ratio (NBSVM), smoothed by one.
    present = (counted > 0).astype(float)
    in_risk = 1 + np.asarray(present[labels == 1].sum(axis=0)).ravel()
    in_ordinary = 1 + np.asarray(present[labels == 0].sum(axis=0)).ravel()
    ratio = np.log((in_risk / in_risk.sum()) / (in_ordinary / in_ordinary.sum()))
    matrix = tfidf.fit_transform(counted).multiply(ratio).tocsr()
    fitted = LogisticRegression(C=STRENGTH, class_weight="balanced", solver="liblinear").fit(
        matrix, labels
    )
    for text in ["I want to die", "kind staff on the ward", "no point", "nothing known here"]:
        normal = normalise(text)
        row = {f: c for f, c in features(normal).items() if f in model.idf}
        scaled = tfidf.transform(vectoriser.transform([row])).multiply(ratio).tocsr()
        expected = fitted.predict_proba(scaled)[0, 1]
        assert model.score(normal) == pytest.approx(expected, abs=1e-4), text


def test_a_trained_model_tells_the_lines_it_learnt_apart():
    model = train(LINES)
    assert model.score(normalise("I want to die")) > 0.5
    assert model.score(normalise("the bus was late")) < 0.5


def test_contributions_name_the_features_that_raised_the_score():
    model = train(LINES)
    top = model.contributions(normalise("I want to die"), top=3)
    assert len(top) == 3
    assert all(share.weight > 0 for share in top)
    assert top == sorted(top, key=lambda share: -share.weight)
    assert model.contributions("") == []


def test_the_model_file_round_trips(tmp_path):
    model = train(LINES, {"lines.tsv": "abc"})
    path = tmp_path / "model.json"
    path.write_text(json.dumps(model.to_dict()), encoding="utf-8")
    again = RiskModel.load(path)
    assert again == model
    assert again.trained_on == {"lines.tsv": "abc"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "cannot read the risk model"),
        ('{"format": 2}', "not a risk model file"),
        ('{"format": 9, "features": {}}', "model format 9, not 2"),
        ('{"format": 2, "trained_on": {}, "intercept": 0, "features": {"w:a": 3}}', "not a"),
    ],
)
def test_a_broken_model_file_is_named(tmp_path, content, message):
    path = tmp_path / "model.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RiskModelError) as error:
        RiskModel.load(path)
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)


def test_the_shipped_model_loads():
    model = RiskModel.shipped()
    assert len(model.idf) > 10_000
    assert set(model.trained_on) >= {"risk.tsv", "ordinary.tsv", "phrase-list-tuning.tsv"}
