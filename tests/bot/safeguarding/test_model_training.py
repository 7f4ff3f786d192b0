"""Training: the shipped model is what the shipped lines give, so anyone can rebuild it."""

import hashlib

import pytest

from bot.safeguarding.labelled import read_file
from bot.safeguarding.model_training import read_training, train, training_folder
from bot.safeguarding.risk_model import RiskModel
from bot.safeguarding.screening import PhraseList, Screener


@pytest.fixture(scope="module")
def retrained():
    lines, digests = read_training(training_folder())
    return lines, digests, train(lines, digests)


def test_the_shipped_model_was_trained_on_the_shipped_lines_as_they_are(retrained):
    _, digests, _ = retrained
    assert RiskModel.shipped().trained_on == digests, (
        "the training lines changed since the model was trained: run `heard train-model`"
    )


def test_retraining_from_the_shipped_lines_gives_the_same_verdicts(retrained):
    lines, _, model = retrained
    shipped = Screener(PhraseList.shipped(), RiskModel.shipped())
    again = Screener(PhraseList.shipped(), model)
    differ = [
        line.text
        for line in lines
        if shipped.screen(line.text).verdict is not again.screen(line.text).verdict
    ]
    assert differ == []


def test_training_is_deterministic(retrained):
    lines, _, model = retrained
    assert train(lines[::2]) == train(lines[::2])
    assert model.intercept == RiskModel.shipped().intercept


def test_every_training_file_is_labelled_synthetic_and_tidy():
    for path in sorted(training_folder().glob("*.tsv")):
        head = path.read_text(encoding="utf-8").splitlines()[0]
        assert head.startswith("# "), f"{path.name} should begin by saying what its lines are"
        lines = read_file(path)
        assert lines, path.name
        texts = [line.text for line in lines]
        assert len(texts) == len(set(texts)), f"{path.name} repeats a line"


def test_no_training_line_is_in_a_held_out_evaluation():
    from pathlib import Path

    benchmarks = Path(__file__).parents[3] / "benchmarks"
    files = [*benchmarks.glob("data/*.tsv"), *benchmarks.glob("fresh*/*.tsv")]
    unseen = {line.text.casefold() for path in files for line in read_file(path)}
    lines, _ = read_training(training_folder())
    assert unseen, "the held-out evaluation files are missing"
    assert not [line.text for line in lines if line.text.casefold() in unseen]


def test_the_training_digest_is_of_the_file_bytes(retrained):
    _, digests, _ = retrained
    path = training_folder() / "risk.tsv"
    assert digests["risk.tsv"] == hashlib.sha256(path.read_bytes()).hexdigest()
