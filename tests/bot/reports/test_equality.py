"""Completion by equality answer: every count under 5 held back, and one more where needed."""

from bot.exports.codebook import Entry
from bot.reports.equality import EqualityFigures

DISABILITY = Entry(
    "disability",
    "Do you consider yourself disabled?",
    "single_choice",
    (("yes", "Yes"), ("no", "No"), ("prefer-not", "Prefer not to say")),
    True,
)


def test_equality_rows_give_a_rate_only_beside_two_shown_counts():
    figures = EqualityFigures(DISABILITY, frozenset({"clinic"}))
    for _ in range(8):
        figures.add(True, "no")
    for _ in range(5):
        figures.add(False, "no")
    for _ in range(6):
        figures.add(True, "yes")
    figures.add(False, "yes")
    figures.add(True, "prefer-not")
    figures.add(False, None)
    figures.add(True, ["legacy"])  # an option from an older version, and a list answer
    figures.with_retired_options()
    rows = {row.label: row for row in figures.rows("No answer")}
    assert list(rows) == ["Yes", "No", "Prefer not to say", "legacy", "No answer"]
    assert (rows["No"].completed, rows["No"].not_completed, rows["No"].rate) == ("8", "5", "62%")
    # Completed: 6, 8, 1, 1, 0 -> three small, nothing more to hide.
    assert (rows["Yes"].completed, rows["Yes"].not_completed, rows["Yes"].rate) == (
        "6",
        "<5",
        None,
    )
    assert rows["Prefer not to say"].completed == "<5"
    assert rows["No answer"].not_completed == "<5"


def test_equality_rows_hide_a_second_count_that_would_give_one_away():
    figures = EqualityFigures(DISABILITY, frozenset({"clinic"}))
    for value, count in (("yes", 7), ("no", 9), ("prefer-not", 5), (None, 3)):
        for _ in range(count):
            figures.add(True, value)
    completed = [row.completed for row in figures.rows("No answer")]
    assert completed == ["7", "9", "hidden", "<5"]
    assert all(row.rate is None for row in figures.rows("No answer"))
