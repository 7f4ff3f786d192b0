"""Labelled lines: `label<TAB>text`, `# category:` comments, mistakes named by file and line."""

import pytest

from bot.safeguarding.labelled import UNCATEGORISED, LabelledFileError, read_file, read_lines


def test_labels_categories_and_places():
    lines = read_lines(
        [
            "# a comment\n",
            "risk\tbefore any category\n",
            "# category: plans\n",
            "risk\tI have a date\r\n",
            "\n",
            "ordinary\tthe bus\n",
            "#category:  Spaced Name  \n",
            "not_risk\tfine\n",
        ],
        "f.tsv",
    )
    assert [(line.risk, line.text, line.category, line.line) for line in lines] == [
        (True, "before any category", UNCATEGORISED, 2),
        (True, "I have a date", "plans", 4),
        (False, "the bus", "plans", 6),
        (False, "fine", "Spaced Name", 8),
    ]
    assert lines[0].source == "f.tsv"


def test_every_malformed_line_is_named():
    with pytest.raises(LabelledFileError) as error:
        read_lines(["risk\tok\n", "no tab\n", "risk\t  \n"], "f.tsv")
    assert error.value.problems == [
        "f.tsv:2: expected 'label<TAB>text' (label 'risk' or another word)",
        "f.tsv:3: expected 'label<TAB>text' (label 'risk' or another word)",
    ]


def test_an_unreadable_file_is_named(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_bytes(b"risk\t\xff\xfe\n")
    with pytest.raises(LabelledFileError) as error:
        read_file(path)
    assert error.value.problems[0].startswith(f"{path}: cannot read it")
