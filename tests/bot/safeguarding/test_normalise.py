"""Normalisation: every way of typing a word is read as one, from the tables in words.yaml."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.safeguarding.normalise import WordTables, WordTablesError, normalise

# characters ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ＷＡＮＴ to die", "want to die"),  # NFKC: full-width letters
        ("I WANT TO DIE", "i want to die"),  # case
        ("I’m done, I don’t care", "i am done i do not care"),  # curly quotes
        ("ki\u200bll my\u200dself\ufeff", "kill myself"),  # zero-width characters
        ("want\tto\x00die\r\nnow", "want to die now"),  # control characters
        ("caffi’n wych, ŵyr", "caffi yn wych wyr"),  # accents; Welsh 'n
        ("end... it—all!!! (really)", "end it all really"),  # punctuation
        ("  lots   of\n\nspace  ", "lots of space"),
    ],
)
def test_normalise_characters(text, expected):
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("diiiie", "die"),
        ("killlll myseeeelf", "kill myself"),
        ("soooo tiiired", "so tired"),
        ("feeeeel", "feel"),
        ("need", "need"),  # a real double stays
        ("wannnna", "want to"),  # stretched, then a texting form
    ],
)
def test_normalise_stretched_letters(text, expected):
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("don't dont", "do not do not"),
        ("can't cant cannot", "can not can not can not"),
        ("won't wont", "will not will not"),
        ("I'm im", "i am i am"),
        ("I've ive", "i have i have"),
        ("I'd id", "i would i would"),
        ("I'll", "i will"),
        ("you're youre", "you are you are"),
        ("isn't wasn't didn't", "is not was not did not"),
        ("life's lifes", "life is life is"),
    ],
)
def test_normalise_contractions(text, expected):
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("wanna", "want to"),
        ("gonna", "going to"),
        ("kms", "kill myself"),
        ("ur", "your"),
        ("u", "you"),
        ("sucide suicde suiside", "suicide suicide suicide"),
        ("sucidal", "suicidal"),
        ("od o.d. O.D", "overdose overdose overdose"),
        ("od'd", "overdosed"),
        ("tabs", "tablets"),
        ("my self", "myself"),
        ("w/o me", "without me"),
        ("unalive", "kill"),
        ("self-harm selfharm", "self harm self harm"),
        ("ive been sh again", "i have been self harm again"),
        ("the service is sh*t, sh!t", "the service is shit shit"),
    ],
)
def test_normalise_texting_and_misspellings(text, expected):
    assert normalise(text) == expected


def test_normalise_leaves_real_words_alone():
    assert normalise("I was ill, well, and we were") == "i was ill well and we were"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_normalise_gives_single_spaced_words_and_is_stable(text):
    normal = normalise(text)
    assert re.fullmatch(r"(?:[^\W_]+(?: [^\W_]+)*)?", normal)
    assert normalise(normal) == normal


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # "my self-harm" is the most natural way to say it: it must not become "myself harm".
        ("my self-harm got worse", "my self harm got worse"),
        ("my self harming", "my self harming"),
        ("my self-esteem", "my self esteem"),
        ("I hurt my self", "i hurt myself"),
        ("her self", "herself"),
    ],
)
def test_normalise_self_only_joins_when_no_self_word_follows(text, expected):
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A possessive is dropped, so it does not use up the gap of a gapped phrase.
        ("my dad's tablets", "my dad tablets"),
        ("my mum's pills", "my mum pills"),
        ("Sarah's flat", "sarah flat"),
        ("it's", "it is"),
        ("he's gone", "he is gone"),
        ("what's the point", "what is the point"),
        ("nobody's listening", "nobody is listening"),
        ("no one's", "no one is"),
        ("everything’s pointless", "everything is pointless"),
    ],
)
def test_normalise_apostrophe_s_is_is_only_where_it_can_be(text, expected):
    assert normalise(text) == expected


def test_shipped_word_tables_load():
    tables = WordTables.shipped()
    assert tables.spellings["wanna"] == "want to"
    assert "kill" in tables.double_letter_words
    assert "it" in tables.is_after


def test_word_tables_error_names_file_and_line(tmp_path):
    path = tmp_path / "words.yaml"
    path.write_text(
        "spellings:\n  do not: [dont]\ndouble_letter_words: [kill, off]\n"
        "is_after: [it]\nself_words: [Harm]\n",
        encoding="utf-8",
    )
    with pytest.raises(WordTablesError) as error:
        WordTables.load(path)
    assert f"{path}:5" in str(error.value)
