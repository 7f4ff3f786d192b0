"""The phrase list: its syntax, word forms, the shipped list and the lines it was tuned on."""

import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.safeguarding.labelled import read_file
from bot.safeguarding.model_training import read_training, training_folder
from bot.safeguarding.normalise import normalise
from bot.safeguarding.screening import PhraseList, PhraseListError, screen

TUNING = training_folder() / "phrase-list-tuning.tsv"
RECALL_AT_LEAST = 0.95
FALSE_FLAGS_AT_MOST = 0.10


@pytest.fixture(scope="module")
def phrases():
    return PhraseList.shipped()


def labelled(risk):
    """Return the texts of the lines the phrase list was tuned on, risk or ordinary."""
    return [line.text for line in read_file(TUNING) if line.risk == risk]


def phrase_of(text, words):
    """Return the name of the entry that flags the text, or None."""
    found = screen(text, words)
    return found.phrase if found else None


def small_list(phrases, exclusions="", groups=""):
    """Return a phrase list of one theme made from the given YAML list items."""
    text = f"""
reviewed: 2026-01-01
reviewed_by: test
filler_words: [just, really]
word_groups: {{pills: [tablets, sleeping pills]{groups}}}
themes:
  - theme: Test
    language: en
    phrases:
{phrases}
exclusions:
{exclusions or "  []"}
"""
    return PhraseList.parse(text, "test.yaml")


# screen: behaviour ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "I don't want to die",
        "I'm not going to kill myself",
        "I would never hurt myself",
        "I'm not suicidal",
        "I won't overdose again",
        "i dont wanna be here anymore",
    ],
)
def test_screen_negation_still_flags(phrases, text):
    assert screen(text, phrases) is not None


@pytest.mark.parametrize(
    "text",
    [
        "I want to just die",
        "i want to really really die",
        "everyone would be better off without me around",
        "they'd be better off if I was gone",
        "i wanna diiiie",
        "WANT TO DIE!!!",
        "I'm gonna od tonight",
    ],
)
def test_screen_catches_variants(phrases, text):
    assert screen(text, phrases) is not None


@pytest.mark.parametrize(
    "text",
    [
        "The crisis team took ages to call back",
        "I'd kill for an evening appointment",
        "The wait was killing me",
        "I'm dying to tell you about the group",
        "The cake at the drop-in is to die for",
        "My tablets make me tired",
        "Staff need training in suicide prevention",
        "",
    ],
)
def test_screen_leaves_ordinary_answers_alone(phrases, text):
    assert screen(text, phrases) is None


def test_screen_match_names_entry_theme_and_normalised_words(phrases):
    found = screen("Honestly?? I just WANT to DIIIE.", phrases)
    assert found is not None
    assert found.phrase == "want to die"
    assert found.matched == "want to die"
    assert found.theme == "Suicidal thoughts"


def test_screen_welsh(phrases):
    found = screen("Dw i'n teimlo fel lladd fy hun", phrases)
    assert found is not None
    assert found.phrase == "lladd fy hun"


def test_screen_regex_entry(phrases):
    found = screen("I'm going to jump", phrases)
    assert found is not None
    assert found.phrase == "going to jump"
    assert screen("I'm going to jump at the chance of a new group", phrases) is None


def test_screen_exclusion_blanks_only_the_idiom(phrases):
    assert screen("I was killing myself laughing at the quiz", phrases) is None
    found = screen("I was killing myself laughing, but honestly I want to die", phrases)
    assert found is not None
    assert found.phrase == "want to die"


def test_screen_every_exclusion_is_needed_and_works(phrases):
    bare = phrases.without_exclusions()
    for exclusion in phrases.exclusions:
        assert screen(exclusion.example, phrases) is None, exclusion.idiom
        assert screen(exclusion.example, bare) is not None, f"{exclusion.idiom} is not needed"
        assert exclusion.why.strip(), exclusion.idiom


# The phrase syntax ----------------------------------------------------------------------------


def test_phrase_choices_gaps_prefixes_and_fillers():
    words = small_list(
        "      - want/wish to die\n      - better off ... without me\n      - overdos*\n"
    )
    assert phrase_of("I wish to die", words) == "want to die"
    assert screen("I want to just die", words) is not None  # a filler word
    assert screen("I want to go and die", words) is None  # not fillers in this list
    assert screen("better off all round without me", words) is not None  # a gap
    assert screen("better off one two three four without me", words) is None  # gap too long
    assert phrase_of("I overdosed", words) == "overdos"
    assert screen("I've been wanting to diet", words) is None  # whole words only


def test_phrase_word_groups_may_hold_several_words():
    words = small_list('      - "took all my {pills}"\n')
    found = screen("I took all my sleeping pills", words)
    assert found is not None
    assert found.matched == "took all my sleeping pills"
    assert screen("I took all my tablets", words) is not None
    assert screen("I took all my sleeping bags", words) is None


def test_phrase_is_normalised_like_the_text():
    words = small_list("      - can't go on\n      - wanna die\n")
    assert screen("I cannot go on", words) is not None
    assert screen("i want to die", words) is not None


def test_phrase_exclusion_in_a_small_list():
    words = small_list(
        "      - kill myself\n",
        "  - idiom: killing myself laughing\n    why: idiom\n    example: killing myself laughing",
    )
    assert screen("I was killing myself laughing", words) is None
    assert screen("I want to kill myself", words) is not None


# The shipped list -----------------------------------------------------------------------------


def test_shipped_list_loads_with_review_details(phrases):
    assert phrases.reviewed.year >= 2026
    assert phrases.reviewed_by.strip()
    assert {rule.language for rule in phrases.rules} == {"en", "cy"}
    themes = {rule.theme for rule in phrases.rules}
    assert {"Suicidal thoughts", "Self-harm", "Harm from others"} <= themes


def test_shipped_list_every_entry_compiles_and_flags_its_example(phrases):
    for rule in phrases.rules:
        assert isinstance(rule.pattern, re.Pattern)
        assert rule.pattern.search(normalise(rule.example, phrases.keep_doubles)), rule.name
        assert screen(rule.example, phrases) is not None, rule.name


def test_shipped_list_every_entry_flags_when_negated(phrases):
    for rule in phrases.rules:
        for negated in (f"I don't {rule.example}", f"not {rule.example}", f"never {rule.example}"):
            assert screen(negated, phrases) is not None, negated


def test_shipped_list_shipped_is_read_once():
    assert PhraseList.shipped() is PhraseList.shipped()


# Malformed phrase files -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("      - regex: 'want (to'\n        name: broken\n        example: want to", "compile"),
        ("      - phraze: want to die", "'phraze' is not a known setting"),
        ("      - want to d*e", "'*' may only end a word"),
        ("      - ... want to die", "'...' must stand between two words"),
        ("      - want to ...", "only between two of them"),
        ('      - "{meds} ... ready"', "no word group called '{meds}'"),
        ("      - regex: 'want'", "needs a 'name' and an 'example'"),
        ("      - phrase: want to die\n        example: hello", "does not match its own example"),
        ("      - phrase: want to die\n        regex: want", "exactly one"),
        ("      - 42", "should be a phrase"),
        ("      - want to !!!", "has no letters or digits"),
    ],
)
def test_malformed_entry_is_named_with_file_line_and_theme(entry, message):
    with pytest.raises(PhraseListError) as caught:
        small_list(f"      - fine phrase\n{entry}\n")
    [problem] = caught.value.problems
    assert problem.startswith("test.yaml:11: theme 'Test', entry 2 ")
    assert message in problem


def test_malformed_file_reports_every_problem_at_once():
    with pytest.raises(PhraseListError) as caught:
        small_list("      - want to (die\n      - ok phrase\n      - d*e\n      - ...\n")
    lines = [problem.split(":")[1] for problem in caught.value.problems]
    assert len(caught.value.problems) == 2
    assert lines == ["12", "13"]


def test_malformed_file_missing_fields_and_bad_yaml():
    with pytest.raises(PhraseListError, match=r"^x\.yaml:1: 'reviewed' is missing"):
        PhraseList.parse("reviewed_by: a\nfiller_words: []\nthemes: []\n", "x.yaml")
    with pytest.raises(PhraseListError, match=r"^x\.yaml:\d: not valid YAML"):
        PhraseList.parse("themes:\n  - [unclosed\n", "x.yaml")
    with pytest.raises(PhraseListError, match=r"^x\.yaml:2: the key 'themes' appears twice"):
        PhraseList.parse("themes: []\nthemes: []\n", "x.yaml")
    with pytest.raises(PhraseListError, match=r"x\.yaml:\d+: exclusion 1 'kill \*x'"):
        PhraseList.parse(
            "reviewed: 2026-01-01\nreviewed_by: a\nfiller_words: []\nthemes: []\n"
            "exclusions:\n  - idiom: kill *x\n    why: w\n    example: e\n",
            "x.yaml",
        )


def test_load_names_the_file(tmp_path):
    broken = tmp_path / "mine.yaml"
    broken.write_text((Path(PhraseList.shipped().source)).read_text().replace("- noose", "- n*se"))
    with pytest.raises(PhraseListError) as caught:
        PhraseList.load(broken)
    [problem] = caught.value.problems
    assert problem.startswith(f"{broken}:")
    assert "theme 'Self-harm'" in problem
    assert "'n*se'" in problem
    with pytest.raises(PhraseListError, match="cannot read the phrase file"):
        PhraseList.load(tmp_path / "missing.yaml")


# The labelled test sets -----------------------------------------------------------------------


def test_phrase_list_tuning_lines_are_big_enough_and_tidy():
    lines = read_file(TUNING)
    assert TUNING.read_text(encoding="utf-8").startswith("# Synthetic data")
    assert len(labelled(True)) >= 250
    assert len(labelled(False)) >= 400
    assert all(line.text.strip() for line in lines)
    assert not set(labelled(True)) & set(labelled(False))


def test_phrase_recall_on_the_lines_it_was_tuned_on(phrases):
    risk = labelled(True)
    missed = [line for line in risk if screen(line, phrases) is None]
    recall = 1 - len(missed) / len(risk)
    assert recall >= RECALL_AT_LEAST, (
        f"recall {recall:.3f} ({len(risk) - len(missed)}/{len(risk)}) is below "
        f"{RECALL_AT_LEAST}; missed: {missed}"
    )


def test_phrase_false_matches_on_the_lines_it_was_tuned_on(phrases):
    ordinary = labelled(False)
    flagged = [(line, m.phrase) for line in ordinary if (m := screen(line, phrases))]
    rate = len(flagged) / len(ordinary)
    assert rate <= FALSE_FLAGS_AT_MOST, (
        f"false-match rate {rate:.3f} ({len(flagged)}/{len(ordinary)}) is above "
        f"{FALSE_FLAGS_AT_MOST}; matched: {flagged}"
    )


def test_exclusions_hide_no_risk_line_of_the_training_data(phrases):
    bare = phrases.without_exclusions()
    lines, _ = read_training(training_folder())
    for line in lines:
        if line.risk:
            assert (screen(line.text, phrases) is None) == (screen(line.text, bare) is None), line


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=4096))
def test_screen_never_raises_and_stays_quick(text):
    phrases = PhraseList.shipped()
    started = time.perf_counter()
    found = screen(text, phrases)
    assert time.perf_counter() - started < 0.5
    assert found is None or (found.phrase and found.matched)


def test_verdict_thresholds_are_read_and_checked():
    base = "reviewed: 2026-01-01\nreviewed_by: me\nfiller_words: []\nthemes: []\n"
    shipped = PhraseList.shipped().thresholds
    assert 0 < shipped.concern_at <= shipped.flag_at <= 1
    mine = PhraseList.parse(base + "verdicts: {flag_at: 0.9, concern_at: 0.1}\n", "x.yaml")
    assert (mine.thresholds.flag_at, mine.thresholds.concern_at) == (0.9, 0.1)
    for bad, message in [
        ("verdicts: {flag_at: 0.3, concern_at: 0.5}", "concern_at must not be above flag_at"),
        ("verdicts: {flag_at: 1.5}", "flag_at"),
        ("verdicts: {flag_at_typo: 0.5}", "flag_at_typo"),
    ]:
        with pytest.raises(PhraseListError) as error:
            PhraseList.parse(base + bad + "\n", "x.yaml")
        assert "x.yaml:5" in str(error.value), bad
        assert message in str(error.value), bad


def test_a_topic_entry_is_marked_on_its_match():
    words = small_list("      - phrase: self harm*\n        topic: true\n      - want to die\n")
    topic, statement = screen("my self-harm", words), screen("I want to die", words)
    assert topic is not None
    assert topic.topic
    assert statement is not None
    assert not statement.topic


def test_a_statement_comes_before_a_topic_word_found_earlier_in_the_list():
    words = small_list("      - phrase: suicidal\n        topic: true\n      - hurt myself\n")
    found = screen("I'm suicidal and I'm going to hurt myself", words)
    assert found is not None
    assert (found.phrase, found.topic) == ("hurt myself", False)
    only = screen("I was suicidal once", words)
    assert only is not None
    assert (only.phrase, only.topic) == ("suicidal", True)
