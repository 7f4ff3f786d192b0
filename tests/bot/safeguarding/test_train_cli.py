"""`heard train-model`: trains from a folder of labelled lines and says how the model does."""

import argparse
import json

from bot.safeguarding.risk_model import RiskModel
from bot.safeguarding.train_cli import add_parser, run

RISK = ["I want to die", "I will end it tonight", "no point living any more", "kill myself"]
ORDINARY = ["the bus was late", "kind staff", "more groups please", "the ward was clean"]


def parse(*argv):
    parser = argparse.ArgumentParser(prog="heard")
    add_parser(parser.add_subparsers(dest="command").add_parser)
    return parser.parse_args(["train-model", *argv])


def write_lines(folder, risk=RISK, ordinary=ORDINARY):
    folder.mkdir()
    text = "# Synthetic\n# category: mixed\n"
    text += "".join(f"risk\t{line}\n" for line in risk)
    text += "".join(f"ordinary\t{line}\n" for line in ordinary)
    (folder / "lines.tsv").write_text(text, encoding="utf-8")
    return folder


def test_train_writes_a_model_and_cross_validates(capsys, tmp_path):
    data = write_lines(tmp_path / "data")
    output = tmp_path / "model.json"
    assert run(parse("--data", str(data), "--output", str(output), "--folds", "2")) == 0
    out, _ = capsys.readouterr()
    assert out.startswith(f"trained on 8 lines (4 risk) from 1 files: {output}")
    assert "2-fold cross-validation on the training lines:" in out
    assert "\noverall\t4\t" in out
    model = RiskModel.load(output)
    assert list(model.trained_on) == ["lines.tsv"]
    assert json.loads(output.read_text(encoding="utf-8"))["format"] == 2


def test_train_twice_writes_the_same_file(capsys, tmp_path):
    data = write_lines(tmp_path / "data")
    first, second = tmp_path / "one.json", tmp_path / "two.json"
    assert run(parse("--data", str(data), "--output", str(first), "--folds", "0")) == 0
    assert run(parse("--data", str(data), "--output", str(second), "--folds", "0")) == 0
    assert first.read_bytes() == second.read_bytes()
    assert "cross-validation" not in capsys.readouterr().out


def test_train_needs_both_kinds_of_line(capsys, tmp_path):
    data = write_lines(tmp_path / "data", ordinary=[])
    assert run(parse("--data", str(data), "--output", str(tmp_path / "m.json"))) == 2
    assert "need both risk and ordinary lines" in capsys.readouterr().err


def test_train_names_a_malformed_line(capsys, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "bad.tsv").write_text("risk\tfine\nno tab\n", encoding="utf-8")
    assert run(parse("--data", str(data), "--output", str(tmp_path / "m.json"))) == 2
    assert f"{data / 'bad.tsv'}:2: expected 'label<TAB>text'" in capsys.readouterr().err
