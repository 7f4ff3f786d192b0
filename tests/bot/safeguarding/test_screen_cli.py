"""`heard screen`: one tab-separated result line per input line, from stdin or a file."""

import argparse
import io
from pathlib import Path

import pytest

from bot.safeguarding.screen_cli import add_parser, run, screen_lines
from bot.safeguarding.screening import PhraseList

INPUT = "I just want to die\nthe wait was killing me\n\nDw i eisiau marw\n"
EXPECTED = [
    "flag\twant to die\tI just want to die",
    "ok\t\tthe wait was killing me",
    "ok\t\t",
    "flag\teisiau marw\tDw i eisiau marw",
]


def parse(*argv):
    parser = argparse.ArgumentParser(prog="heard")
    add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["screen", *argv])


def test_screen_lines_format():
    assert list(screen_lines(INPUT.splitlines(keepends=True), PhraseList.shipped())) == EXPECTED


def test_screen_lines_keep_one_line_of_three_fields():
    lines = ["kms\tnow\r\n", "fine\u2028really\x0bok\n", "no newline"]
    results = list(screen_lines(lines, PhraseList.shipped()))
    assert results == [
        "flag\tkill myself\tkms now",
        "ok\t\tfine really ok",
        "ok\t\tno newline",
    ]
    assert all(len(result.split("\t")) == 3 for result in results)


def test_screen_run_reads_stdin(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(INPUT))
    assert run(parse()) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == EXPECTED
    assert err == ""


def test_screen_run_reads_file(capsys, tmp_path):
    source = tmp_path / "examples.txt"
    source.write_bytes(INPUT.replace("\n", "\r\n").encode() + b"bad byte \xff\n")
    assert run(parse("--file", str(source))) == 0
    out, _ = capsys.readouterr()
    assert out.splitlines() == [*EXPECTED, "ok\t\tbad byte \ufffd"]


def test_screen_run_uses_another_phrase_file(capsys, monkeypatch, tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text(
        "reviewed: 2026-01-01\nreviewed_by: me\nfiller_words: []\n"
        "themes:\n  - theme: Mine\n    language: en\n    phrases: [waiting list]\n"
    )
    monkeypatch.setattr("sys.stdin", io.StringIO("the waiting list\nI want to die\n"))
    assert run(parse("--phrases", str(mine))) == 0
    out, _ = capsys.readouterr()
    assert out.splitlines() == ["flag\twaiting list\tthe waiting list", "ok\t\tI want to die"]


def test_screen_run_names_a_broken_phrase_file(capsys, tmp_path):
    broken = tmp_path / "broken.yaml"
    source = Path(PhraseList.shipped().source).read_text(encoding="utf-8")
    broken.write_text(source.replace("- noose", "- n*se"), encoding="utf-8")
    assert run(parse("--phrases", str(broken), "--file", str(broken))) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"{broken}:")
    assert "'*' may only end a word" in err


def test_screen_run_names_a_missing_input_file(capsys, tmp_path):
    assert run(parse("--file", str(tmp_path / "nope.txt"))) == 2
    _, err = capsys.readouterr()
    assert err.startswith("heard: cannot read ")
    assert "nope.txt" in err


def test_screen_has_help(capsys):
    with pytest.raises(SystemExit):
        parse("--help")
    out, _ = capsys.readouterr()
    assert "flag<TAB>matched phrase<TAB>text" in out
    assert "--phrases" in out
