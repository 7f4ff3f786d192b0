"""`heard screen`: one verdict line per input line, --explain, and --evaluate on labelled lines."""

import argparse
import io
import json
from pathlib import Path

import pytest

from bot.safeguarding.risk_model import RiskModel
from bot.safeguarding.screen_cli import add_parser, run, screen_lines
from bot.safeguarding.screening import PhraseList, Screener

# A model that knows one word: "die" scores 0.73, anything else 0.08.
TINY = {
    "format": 2,
    "trained_on": {},
    "intercept": -2.5,
    "features": {"w:die": [1.0, 3.5], "w:marw": [1.0, 3.5]},
}
INPUT = (
    "I just want to die\nthe wait was killing me\n\nDw i eisiau marw\nthe car park is not safe\n"
)
EXPECTED = [
    "flag\tI just want to die",
    "ok\tthe wait was killing me",
    "ok\t",
    "flag\tDw i eisiau marw",
    "concern\tthe car park is not safe",  # a phrase the model scores low: a concern
]


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny-model.json"
    path.write_text(json.dumps(TINY), encoding="utf-8")
    return path


def parse(*argv):
    parser = argparse.ArgumentParser(prog="heard")
    add_parser(parser.add_subparsers(dest="command").add_parser)
    return parser.parse_args(["screen", *argv])


def screener():
    return Screener(PhraseList.shipped(), RiskModel.from_dict(TINY))


def test_screen_lines_format():
    assert list(screen_lines(INPUT.splitlines(keepends=True), screener())) == EXPECTED


def test_screen_lines_keep_one_line_of_two_fields_in_order():
    lines = ["kms\tnow\r\n", "fine\u2028really\x0bok\n", "no newline"]
    results = list(screen_lines(lines, screener()))
    assert [result.split("\t")[1] for result in results] == [
        "kms now",
        "fine really ok",
        "no newline",
    ]
    assert all(len(result.split("\t")) == 2 for result in results)


def test_screen_explain_says_phrase_score_and_cues():
    lines = ["I just want to die\n", "Years ago I wanted to die but I am fine now\n", "hello\n"]
    flag, past, ok = [line.split("\t") for line in screen_lines(lines, screener(), True)]
    assert flag[0] == "flag"
    assert "phrase 'want to die'" in flag[2]
    assert "model 0.73" in flag[2]
    assert "'die'" in flag[2]  # the model's word
    assert past[0] == "concern"
    assert "cues past" in past[2]
    assert ok[0] == "ok"
    assert "no phrase; model 0.08" in ok[2]


def test_screen_run_reads_stdin(capsys, monkeypatch, tiny):
    monkeypatch.setattr("sys.stdin", io.StringIO(INPUT))
    assert run(parse("--model", str(tiny))) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == EXPECTED
    assert err == ""


def test_screen_run_reads_file(capsys, tmp_path, tiny):
    source = tmp_path / "examples.txt"
    source.write_bytes(INPUT.replace("\n", "\r\n").encode() + b"bad byte \xff\n")
    assert run(parse("--file", str(source), "--model", str(tiny))) == 0
    out, _ = capsys.readouterr()
    assert out.splitlines() == [*EXPECTED, "ok\tbad byte \ufffd"]


def test_screen_run_uses_another_phrase_file(capsys, monkeypatch, tmp_path, tiny):
    mine = tmp_path / "mine.yaml"
    mine.write_text(
        "reviewed: 2026-01-01\nreviewed_by: me\nfiller_words: []\n"
        "verdicts: {phrase_flag_at: 0.0}\n"
        "themes:\n  - theme: Mine\n    language: en\n    phrases: [waiting list]\n"
    )
    monkeypatch.setattr("sys.stdin", io.StringIO("the waiting list\nI want to die\nhello\n"))
    assert run(parse("--phrases", str(mine), "--model", str(tiny))) == 0
    out, _ = capsys.readouterr()
    # The phrase flags at any score; the model alone flags "die".
    assert out.splitlines() == ["flag\tthe waiting list", "flag\tI want to die", "ok\thello"]


def test_screen_evaluate_prints_figures_per_category_and_overall(capsys, tmp_path, tiny):
    labelled = tmp_path / "labelled.tsv"
    labelled.write_text(
        "# made up for this test\n"
        "# category: explicit\n"
        "risk\tI want to die\n"
        "risk\tI am not coping at all\n"
        "# category: services\n"
        "ordinary\tStaff should be kinder to people who want to die\n"
        "ordinary\tThe car park is not safe\n"
        "ordinary\tThe bus was late\n"
        "other\tLovely staff\n",
        encoding="utf-8",
    )
    assert run(parse("--evaluate", str(labelled), "--model", str(tiny))) == 0
    out, _ = capsys.readouterr()
    rows = [line.split("\t") for line in out.splitlines()]
    assert rows[0] == [
        "category",
        "risk",
        "reach",
        "alert_recall",
        "ordinary",
        "false_alerts",
        "false_reach",
    ]
    # "I want to die" flagged, "not coping" ok: reach and alert recall 1/2.
    assert rows[1] == ["explicit", "2", "0.500", "0.500", "0", "-", "-"]
    # "people who want to die" is general: lowered to a concern; "not safe" is a concern.
    assert rows[2] == ["services", "0", "-", "-", "4", "0.000", "0.500"]
    assert rows[3] == ["overall", "2", "0.500", "0.500", "4", "0.000", "0.500"]


def test_screen_evaluate_explain_lists_what_went_wrong(capsys, tmp_path, tiny):
    labelled = tmp_path / "labelled.tsv"
    labelled.write_text("risk\tI am not coping at all\nordinary\tfine\n", encoding="utf-8")
    assert run(parse("--evaluate", str(labelled), "--model", str(tiny), "--explain")) == 0
    out, _ = capsys.readouterr()
    assert "wrong (1; risk given ok, or ordinary flagged):" in out
    assert f"{labelled}:1\trisk\tok\t" in out


def test_screen_evaluate_names_a_malformed_line(capsys, tmp_path, tiny):
    labelled = tmp_path / "labelled.tsv"
    labelled.write_text("risk\tfine\nno tab here\n", encoding="utf-8")
    assert run(parse("--evaluate", str(labelled), "--model", str(tiny))) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"{labelled}:2: expected 'label<TAB>text'")


def test_screen_run_names_a_broken_phrase_file(capsys, tmp_path):
    broken = tmp_path / "broken.yaml"
    source = Path(PhraseList.shipped().source).read_text(encoding="utf-8")
    broken.write_text(source.replace("- noose", "- n*se"), encoding="utf-8")
    assert run(parse("--phrases", str(broken), "--file", str(broken))) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"{broken}:")
    assert "'*' may only end a word" in err


def test_screen_run_names_a_broken_model_file(capsys, tmp_path):
    broken = tmp_path / "model.json"
    broken.write_text('{"format": 2}', encoding="utf-8")
    assert run(parse("--model", str(broken))) == 2
    _, err = capsys.readouterr()
    assert err.startswith(f"heard: {broken}: not a risk model file")


def test_screen_run_names_a_missing_input_file(capsys, tmp_path):
    assert run(parse("--file", str(tmp_path / "nope.txt"))) == 2
    _, err = capsys.readouterr()
    assert err.startswith("heard: cannot read ")
    assert "nope.txt" in err


def test_screen_has_help(capsys):
    with pytest.raises(SystemExit):
        parse("--help")
    out, _ = capsys.readouterr()
    assert "'flag<TAB>text', 'concern<TAB>text' or 'ok<TAB>text'" in out
    assert "--evaluate" in out
    assert "--explain" in out
