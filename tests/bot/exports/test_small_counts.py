"""Small counts held back, the one rule for reports and exports alike."""

from bot.exports.codebook import Entry
from bot.exports.small_counts import NO_ANSWER, counted_as, held_back, listed_options

AGE = Entry("age", "How old are you?", "single_choice", (("young", "Under 25"),), True)


def test_held_back_shows_5_and_over_and_hides_the_rest():
    assert held_back([5, 12, 4, 0]) == ["5", "12", "<5", "<5"]
    assert held_back([]) == []
    assert held_back([3]) == ["<5"]


def test_held_back_hides_one_more_when_only_one_is_small():
    # The column total (19) is in the headline: 19 - 6 - 9 would give the 4 away.
    assert held_back([6, 9, 4]) == ["hidden", "9", "<5"]
    assert held_back([9, 6, 1, 7]) == ["9", "hidden", "<5", "7"]
    assert held_back([5, 5]) == ["5", "5"]


def test_counted_as_gives_each_option_chosen_or_no_answer():
    assert counted_as("young") == ["young"]
    assert counted_as(["a", "b"]) == ["a", "b"]
    assert counted_as([]) == [NO_ANSWER]
    assert counted_as(None) == [NO_ANSWER]
    assert counted_as(True) == ["true"]
    assert counted_as(3) == ["3"]


def test_listed_options_add_retired_ones_by_id_after_the_offered_ones():
    assert listed_options(AGE, {"young", NO_ANSWER, "old", "ancient"}) == (
        ("young", "Under 25"),
        ("ancient", "ancient"),
        ("old", "old"),
    )
    assert listed_options(AGE, set()) == AGE.options
