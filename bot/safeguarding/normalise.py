"""Turn any text into plain lower-case words, so that phrases and the risk model see one form.

Case, accents, punctuation, stretched letters ("diiiie"), contractions with or without their
apostrophe, texting forms and common misspellings are all undone. The word tables live in
`words.yaml`, which a safeguarding lead can read and add to.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from conversations.plain_errors import plain
from conversations.yaml_lines import YamlProblem, line_of, load_with_lines

_QUOTES = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201b": "'", "\u02bc": "'", "\u2032": "'", "`": "'"}
    | {"\u00b4": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"'}
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BEFORE_PUNCTUATION = (
    (re.compile(r"(?<!\w)o\.?d'e?d(?!\w)"), " overdosed "),
    (re.compile(r"(?<!\w)o\.d\.?(?!\w)"), " overdose "),
    (re.compile(r"(?<!\w)w/o(?!\w)"), " without "),
    (re.compile(r"(?<!\w)w/"), " with "),
    # "sh*t" must not become "sh" ("self harm") and "t".
    (re.compile(r"(?<!\w)sh[^\w\s]{1,3}t(?!\w)"), " shit "),
)
# "'n" and "'r" are Welsh: "teimlo'n" is "teimlo yn", "mae'r" is "mae yr". "'s" is in `_is`.
_SUFFIXES = {"ll": "will", "re": "are", "ve": "have", "m": "am", "d": "would", "n": "yn"}
_SUFFIXES |= {"r": "yr"}
_SUFFIX = re.compile(r"(?<=[^\W\d_])'(ll|re|ve|m|d|n|r)(?!\w)")
_APOSTROPHE_S = re.compile(r"([^\W\d_]+)'s(?!\w)")
_INNER_APOSTROPHE = re.compile(r"(?<=\w)'(?=\w)")
_NOT_WORD = re.compile(r"[\W_]+")
_STRETCHED = re.compile(r"([^\W\d_])\1{2,}")
_SELF_WORDS = {"my": "myself", "me": "myself", "your": "yourself"}
_SELF_WORDS |= {"him": "himself", "her": "herself"}


@dataclass(frozen=True)
class WordTables:
    """The tables of `words.yaml`, ready to use."""

    spellings: Mapping[str, str]
    double_letter_words: frozenset[str]
    is_after: frozenset[str]
    self_pattern: re.Pattern[str]
    no_forms: frozenset[str]

    @classmethod
    def shipped(cls) -> WordTables:
        """Return the tables installed with Heard (read once)."""
        return _shipped()

    @classmethod
    def load(cls, path: str | Path) -> WordTables:
        """Read a words file; raise WordTablesError naming the file and line of any mistake."""
        text = Path(path).read_text(encoding="utf-8")
        try:
            data, lines = load_with_lines(text)
        except YamlProblem as problem:
            raise WordTablesError(f"{path}:{problem.line}: {problem.message}") from None
        try:
            spec = _File.model_validate(data)
        except ValidationError as error:
            problems = [
                f"{path}:{line_of(dict(lines), tuple(item['loc']))}: {plain(item)}"
                for item in error.errors(include_url=False)
            ]
            raise WordTablesError("\n".join(problems)) from None
        spellings: dict[str, str] = {}
        for usual, forms in spec.spellings.items():
            spellings.update(dict.fromkeys(forms, usual))
        stems = "|".join(re.escape(stem) for stem in spec.self_words)
        self_pattern = re.compile(rf"\b(my|me|your|him|her) self\b(?! (?:{stems}))")
        return cls(
            spellings,
            frozenset(spec.double_letter_words),
            frozenset(spec.is_after),
            self_pattern,
            frozenset(spec.no_forms),
        )


class WordTablesError(ValueError):
    """A words file that cannot be used."""


Word = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z0-9]+( [a-z0-9]+)*$")]


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    spellings: dict[Word, list[Word]]
    double_letter_words: list[Word]
    is_after: list[Word]
    self_words: list[Word]
    no_forms: list[Word]


@cache
def _shipped() -> WordTables:
    return WordTables.load(Path(str(resources.files("bot.safeguarding") / "words.yaml")))


def normalise(text: str, keep_doubles: Collection[str] | None = None) -> str:
    """Return the text as plain lower-case words with contractions and misspellings resolved.

    `keep_doubles` are words whose double letters survive stretching ("kill" in "killlll");
    by default, the words file's list.
    """
    tables = _shipped()
    keep = tables.double_letter_words if keep_doubles is None else keep_doubles
    text = _plain_letters(text)
    for pattern, replacement in _BEFORE_PUNCTUATION:
        text = pattern.sub(replacement, text)
    text = _SUFFIX.sub(lambda found: " " + _SUFFIXES[found.group(1)], text)
    text = _APOSTROPHE_S.sub(lambda found: _apostrophe_s(found.group(1), tables), text)
    text = _INNER_APOSTROPHE.sub("", text)
    words = (_canonical(word, keep, tables) for word in _NOT_WORD.split(text) if word)
    joined = " ".join(words)
    return tables.self_pattern.sub(lambda found: _SELF_WORDS[found.group(1)], joined)


def _apostrophe_s(word: str, tables: WordTables) -> str:
    """Read "'s" as "is" after the words that take it ("it's"), else as a possessive."""
    return f"{word} is" if _canonical(word, (), tables) in tables.is_after else word


def _plain_letters(text: str) -> str:
    """Unify quotes, drop invisible characters and accents, and fold case."""
    text = text.translate(_QUOTES)
    if text.isascii():
        return _CONTROL.sub(" ", text).casefold()
    # Fold case before taking accents off: casefold() can itself add one ("İ" → "i̇").
    text = unicodedata.normalize("NFKC", text).casefold()
    kept = []
    for char in unicodedata.normalize("NFD", text):
        kind = unicodedata.category(char)
        if kind == "Cc":
            kept.append(" ")
        elif kind not in ("Cf", "Mn"):  # zero-width and direction marks; accents
            kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept))


def _canonical(word: str, keep_doubles: Collection[str], tables: WordTables) -> str:
    """Return one word with stretched letters undone and its usual spelling put in."""
    if _STRETCHED.search(word):
        double = _STRETCHED.sub(r"\1\1", word)
        keep = double in keep_doubles or double in tables.spellings
        word = double if keep else _STRETCHED.sub(r"\1", word)
    return tables.spellings.get(word, word)
