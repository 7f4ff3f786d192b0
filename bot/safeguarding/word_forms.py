"""Other forms of the phrase list's words ("die": dies, died, dying), from lemminflect.

Working the forms out means loading lemminflect's tables, which takes longer than the rest of
start-up together, so the forms of the shipped list's words are kept in `word_forms.json`
(written by `heard train-model`, never by hand). A word that is not in it, such as one a
safeguarding lead has just added, is worked out with lemminflect when the list is read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path

from bot.safeguarding.normalise import WordTables


def table_path() -> Path:
    """Return where the installed table of word forms is."""
    return Path(str(resources.files("bot.safeguarding") / "word_forms.json"))


@cache
def _table() -> Mapping[str, tuple[str, ...]]:
    try:
        data = json.loads(table_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(word): tuple(forms) for word, forms in data.items()}


@cache
def word_forms(word: str) -> tuple[str, ...]:
    """Return the other forms of an English verb or noun: "die": dies, died, dying."""
    if not _has_forms(word):
        return ()
    known = _table().get(word)
    return known if known is not None else worked_out(word)


def worked_out(word: str) -> tuple[str, ...]:
    """Return lemminflect's forms of a word as a verb and as a noun, other than the word."""
    if not _has_forms(word):
        return ()
    import lemminflect

    forms: list[str] = []
    for kind in ("VERB", "NOUN"):
        for spellings in lemminflect.getAllInflections(word, upos=kind).values():
            forms += spellings
    return tuple(dict.fromkeys(form for form in forms if form != word))


def write_table(words: Iterable[str], path: Path) -> int:
    """Write the forms of these words to a table file; return how many words have forms.

    Words with no other forms are kept too (with none), so reading the list needs no lemminflect.
    """
    table = {word: list(worked_out(word)) for word in sorted(set(words)) if _has_forms(word)}
    path.write_text(json.dumps(table, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    _table.cache_clear()
    word_forms.cache_clear()
    return sum(1 for forms in table.values() if forms)


def _has_forms(word: str) -> bool:
    return word.isalpha() and len(word) >= 3 and word not in WordTables.shipped().no_forms
