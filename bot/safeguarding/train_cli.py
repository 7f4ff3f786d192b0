"""The `heard train-model` command: train the risk model from the shipped labelled lines.

It also writes the table of the phrase list's word forms (word_forms.py), and prints how the
new model does on lines it was not trained on (k-fold cross-validation of the training lines),
with the verdict thresholds of the phrase list, to guide a change of thresholds.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.safeguarding.evaluation import Evaluation, evaluate_each
from bot.safeguarding.labelled import Labelled, LabelledFileError
from bot.safeguarding.model_training import read_training, train, training_folder
from bot.safeguarding.phrase_list import PhraseList, PhraseListError
from bot.safeguarding.risk_model import RiskModel, shipped_path
from bot.safeguarding.screening import Screener
from bot.safeguarding.verdicts import Screening
from bot.safeguarding.word_forms import table_path, write_table


def add_parser(new_command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add the `train-model` subcommand to the `heard` command."""
    command = new_command(
        "train-model",
        help="train the risk model from the labelled lines (needs the 'train' extra)",
        description="Train the risk model from every *.tsv file of labelled lines "
        "('risk<TAB>text' or 'ordinary<TAB>text'), write it, write the table of the phrase "
        "list's word forms, and print cross-validated figures on the training lines. The same "
        "lines always give the same model. Install the training tools first: "
        'pip install -e ".[train]".',
    )
    command.add_argument(
        "--data", type=Path, default=None, help="folder of labelled lines (default: shipped)"
    )
    command.add_argument(
        "--output", type=Path, default=None, help="model file to write (default: shipped)"
    )
    command.add_argument(
        "--phrases", type=Path, default=None, help="phrase file (default: the shipped one)"
    )
    command.add_argument(
        "--folds", type=int, default=5, help="cross-validation folds; 0 skips (default: 5)"
    )


def run(args: argparse.Namespace) -> int:
    """Train, write and report; return the exit status."""
    try:
        import sklearn  # noqa: F401
    except ImportError:
        print('heard: training needs scikit-learn: pip install -e ".[train]"', file=sys.stderr)
        return 2
    try:
        phrases = PhraseList.load(args.phrases) if args.phrases else PhraseList.shipped()
        lines, digests = read_training(args.data or training_folder())
    except (PhraseListError, LabelledFileError) as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return 2
    if not any(line.risk for line in lines) or all(line.risk for line in lines):
        print("heard: the training lines need both risk and ordinary lines", file=sys.stderr)
        return 2
    output: Path = args.output or shipped_path()
    if args.output is None and args.phrases is None:
        # The shipped model and the shipped list's word forms are rebuilt together.
        write_table(phrases.words, table_path())
    model = train(lines, digests)
    text = json.dumps(model.to_dict(), separators=(",", ":"))
    output.write_text(text + "\n", encoding="utf-8")
    risk = sum(line.risk for line in lines)
    print(f"trained on {len(lines)} lines ({risk} risk) from {len(digests)} files: {output}")
    if args.folds >= 2:
        print(f"\n{args.folds}-fold cross-validation on the training lines:")
        for row in cross_validate(lines, phrases, args.folds).table():
            print(row)
    return 0


def cross_validate(lines: Sequence[Labelled], phrases: PhraseList, folds: int) -> Evaluation:
    """Screen each line with a model trained on the other folds (assigned in turn, by label)."""
    fold_of: list[int] = []
    seen = {True: 0, False: 0}
    for line in lines:
        fold_of.append(seen[line.risk] % folds)
        seen[line.risk] += 1
    screenings: list[Screening | None] = [None] * len(lines)
    for fold in range(folds):
        model: RiskModel = train([ln for ln, f in zip(lines, fold_of, strict=True) if f != fold])
        screener = Screener(phrases, model)
        for index, line in enumerate(lines):
            if fold_of[index] == fold:
                screenings[index] = screener.screen(line.text)
    return evaluate_each(lines, [found for found in screenings if found is not None])
