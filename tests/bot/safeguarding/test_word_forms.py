"""Word forms: the phrase list's words also match their other forms, without a slow start."""

import subprocess
import sys

from bot.safeguarding.phrase_list import PhraseList, screen
from bot.safeguarding.word_forms import _table, word_forms, worked_out


def small(phrases, about_others=False):
    return PhraseList.parse(
        f"""
reviewed: 2026-01-01
reviewed_by: test
filler_words: []
themes:
  - theme: Test
    language: en
    about_others: {str(about_others).lower()}
    phrases: [{phrases}]
""",
        "test.yaml",
    )


def test_a_verb_matches_its_other_forms():
    words = small("kill myself, gather tablets")
    for text in ["he kills myself", "I killed myself", "killing myself", "gathered tablets"]:
        assert screen(text, words) is not None, text


def test_small_words_keep_their_one_form():
    assert worked_out("the") == ()
    assert worked_out("my") == ()
    assert word_forms("hang") == ("hung", "hanged", "hanging", "hangs")


def test_a_theme_about_others_matches_the_same_words_about_someone_else():
    mine = small("kill myself, end my life", about_others=True)
    only = small("kill myself, end my life")
    for text in [
        "he wants to kill himself",
        "she tried to end her life",
        "they killed themselves",
    ]:
        assert screen(text, mine) is not None, text
        assert screen(text, only) is None, text


def test_the_table_holds_every_word_of_the_shipped_list_as_lemminflect_gives_it():
    table = _table()
    words = {word for word in PhraseList.shipped().words if worked_out(word) or word in table}
    missing = sorted(word for word in words if word not in table)
    assert missing == [], "run `heard train-model` to rewrite word_forms.json"
    wrong = sorted(word for word in words if table[word] != worked_out(word))
    assert wrong == [], "run `heard train-model` to rewrite word_forms.json"


def test_reading_the_shipped_list_does_not_load_lemminflect():
    code = (
        "import sys; from bot.safeguarding.phrase_list import PhraseList; "
        "PhraseList.shipped(); print('lemminflect' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "False"
