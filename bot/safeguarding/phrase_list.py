"""The phrase list a safeguarding lead edits (phrases.yaml): its format, compiled to patterns.

Text and phrases are both normalised (bot/safeguarding/normalise.py) to single-spaced words;
then each entry of the list is tried in order. Entries are word patterns, and a negation never
suppresses them: "I don't want to die" is matched. Only idioms the lead lists as exclusions are
blanked out before matching.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from bot.safeguarding.normalise import WordTables, normalise
from bot.safeguarding.word_forms import word_forms
from conversations.plain_errors import plain
from conversations.yaml_lines import YamlProblem, line_of, load_with_lines


@dataclass(frozen=True)
class Match:
    """A phrase of the list found in a text: its name, theme and the words that matched."""

    phrase: str
    matched: str
    theme: str
    topic: bool = False  # a word about the topic: it counts only when the model reads risk too


@dataclass(frozen=True)
class Rule:
    """One entry of the list, compiled."""

    name: str
    theme: str
    language: str
    example: str
    pattern: re.Pattern[str]
    # The words a text must hold for the pattern to have a chance (any one of them); None if
    # it cannot be told (a regex entry, a prefix such as "overdos*"). Saves trying every entry.
    needs: frozenset[str] | None = None
    topic: bool = False


@dataclass(frozen=True)
class Exclusion:
    """An everyday idiom blanked out before matching, with why it is safe to ignore."""

    idiom: str
    why: str
    example: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Thresholds:
    """Where the risk model's score turns a text into a flag or a concern (phrases.yaml).

    - `flag_at`: the model alone flags a sentence at this score or above;
    - `concern_at`: the model alone raises a concern at this score or above;
    - `phrase_flag_at`: a phrase of the list flags only if the model gives the sentence at
      least this; below it, the phrase raises a concern;
    - `cue_flag_at`: with a context cue (past, negated, quoted, general), a sentence is flagged
      only at this score or above; below it, a concern.
    """

    flag_at: float = 0.65
    concern_at: float = 0.3
    phrase_flag_at: float = 0.4
    cue_flag_at: float = 0.9


class PhraseListError(ValueError):
    """A phrase file that cannot be used, with every problem, each naming file and entry."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class PhraseList:
    """The compiled phrase list: entries in the order they are tried, and exclusions."""

    source: str
    reviewed: date
    reviewed_by: str
    rules: tuple[Rule, ...]
    exclusions: tuple[Exclusion, ...]
    keep_doubles: frozenset[str]
    thresholds: Thresholds = dataclasses.field(default_factory=lambda: Thresholds())
    words: frozenset[str] = frozenset()  # every word of the phrases, as written (word_forms.py)

    def __repr__(self) -> str:
        return f"PhraseList({self.source!r}, {len(self.rules)} entries)"

    @classmethod
    def load(cls, path: str | Path) -> PhraseList:
        """Read and compile a phrase file."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise PhraseListError([f"{path}: cannot read the phrase file: {error}"]) from None
        return cls.parse(text, str(path))

    @classmethod
    def parse(cls, text: str, source: str = "<phrases>") -> PhraseList:
        """Compile the text of a phrase file; `source` names it in errors."""
        return _compile(text, source)

    @classmethod
    def shipped(cls) -> PhraseList:
        """Return the phrase list installed with Heard (read once)."""
        return _shipped()

    def without_exclusions(self) -> PhraseList:
        """Return the same list with no exclusions, to see what they hide."""
        return dataclasses.replace(self, exclusions=())

    def blank_exclusions(self, normal: str) -> str:
        """Replace every listed idiom in normalised text with a placeholder."""
        for exclusion in self.exclusions:
            normal = exclusion.pattern.sub("_", normal)
        return normal


def screen(text: str, phrases: PhraseList) -> Match | None:
    """Return the first entry of the list found in the text, or None."""
    return first_match(normalise(text, phrases.keep_doubles), phrases)


def first_match(normal: str, phrases: PhraseList) -> Match | None:
    """Return the first entry of the list found in normalised text, or None.

    An entry that is not a topic word comes before any topic word, wherever it is in the list:
    in "I'm suicidal and I'll hurt myself", the match is "hurt myself".
    """
    normal = phrases.blank_exclusions(normal)
    words = frozenset(normal.split())
    topic: Match | None = None
    for rule in phrases.rules:
        if (rule.topic and topic is not None) or (
            rule.needs is not None and rule.needs.isdisjoint(words)
        ):
            continue
        found = rule.pattern.search(normal)
        if found:
            match = Match(rule.name, found.group(0), rule.theme, rule.topic)
            if not rule.topic:
                return match
            topic = match
    return topic


@cache
def _shipped() -> PhraseList:
    return PhraseList.load(Path(str(resources.files("bot.safeguarding") / "phrases.yaml")))


# The file format. Every model forbids unknown keys, so a misspelt key is reported.
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Entry(_Strict):
    phrase: str | None = None
    regex: str | None = None
    name: str | None = None
    example: str | None = None
    note: str | None = None
    topic: bool = False

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"phrase": value}
        if not isinstance(value, dict):
            raise ValueError("should be a phrase, or a 'phrase:' or 'regex:' entry")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> _Entry:
        if (self.phrase is None) == (self.regex is None):
            raise ValueError("give either 'phrase' or 'regex' (exactly one)")
        if self.regex is not None and not (self.name and self.example):
            raise ValueError("a 'regex' entry needs a 'name' and an 'example' it flags")
        return self


class _Theme(_Strict):
    theme: str
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]
    # Also match the same words about someone else: "kill himself", "end her life".
    about_others: bool = False
    phrases: list[_Entry]


class _ExclusionEntry(_Strict):
    idiom: str
    why: str
    example: str


GroupName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]*$")]


def _number_as_word(value: Any) -> Any:
    """Let a word group hold numbers ("30"), which YAML reads as numbers, not words."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


GroupWord = Annotated[str, BeforeValidator(_number_as_word)]


Score = Annotated[float, Field(ge=0.0, le=1.0)]


class _Verdicts(_Strict):
    flag_at: Score = Thresholds.flag_at
    concern_at: Score = Thresholds.concern_at
    phrase_flag_at: Score = Thresholds.phrase_flag_at
    cue_flag_at: Score = Thresholds.cue_flag_at

    @model_validator(mode="after")
    def _in_order(self) -> _Verdicts:
        if self.concern_at > self.flag_at:
            raise ValueError("concern_at must not be above flag_at")
        return self


class _File(_Strict):
    reviewed: date
    reviewed_by: str
    verdicts: _Verdicts = _Verdicts()
    filler_words: list[str]
    word_groups: dict[GroupName, list[GroupWord]] = {}
    themes: list[_Theme]
    exclusions: list[_ExclusionEntry] = []


# Between two words of a phrase, "..." allows up to this many words of any kind.
GAP_WORDS = 3
# Between any two words of a phrase, up to this many filler words ("just", "really").
FILLER_WORDS = 2
_GROUP = re.compile(r"^\{([a-z][a-z_]*)\}$")


@dataclass(frozen=True)
class _Compiler:
    """Turns the phrase syntax into regexes over normalised words."""

    fill: str
    keep: frozenset[str]
    groups: Mapping[str, tuple[str, ...]]
    about_others: bool = False

    @classmethod
    def of(cls, spec: _File) -> _Compiler:
        keep = WordTables.shipped().double_letter_words | _doubles_in(spec)
        groups = {name: tuple(words) for name, words in spec.word_groups.items()}
        normal = sorted({normalise(word, keep) for word in spec.filler_words} - {""})
        choices = "|".join(re.escape(word) for word in normal)
        fill = f"(?: (?:{choices})){{0,{FILLER_WORDS}}} " if normal else " "
        return cls(fill, keep, groups)

    def needs(self, phrase: str) -> frozenset[str] | None:
        """Return the first words a text must hold for the phrase to match, if they can be told."""
        first = self._options(phrase.split()[0]) if phrase.split() else []
        if any(option.endswith("*") for option in first):
            return None
        words = {normalise(option, self.keep).split()[0] for option in self._forms(first)}
        return frozenset(words - {""})

    def pattern(self, phrase: str) -> str:
        """Turn 'want/wish to ... die' into a regex over normalised words."""
        pieces: list[str] = []
        gap = False
        for word in phrase.split():
            if word == "...":
                if not pieces or gap:
                    raise ValueError("'...' must stand between two words")
                gap = True
                continue
            if pieces:
                pieces.append(rf"(?: \S+){{0,{GAP_WORDS}}} " if gap else self.fill)
            pieces.append(self._choices(word))
            gap = False
        if gap or not pieces:
            raise ValueError("a phrase needs words, and '...' only between two of them")
        return r"(?<!\S)" + "".join(pieces) + r"(?!\S)"

    def example(self, phrase: str) -> str:
        """Return the plainest text a phrase matches: first choices, no gaps."""
        return " ".join(
            self._options(word)[0].removesuffix("*") for word in phrase.split() if word != "..."
        )

    def _options(self, word: str) -> list[str]:
        """Return the choices for one word position, with {groups} expanded."""
        options: list[str] = []
        for option in word.split("/"):
            group = _GROUP.match(option)
            if group and group.group(1) not in self.groups:
                raise ValueError(f"there is no word group called {option!r}")
            options += self.groups[group.group(1)] if group else [option]
        return options

    def words(self, phrase: str) -> list[str]:
        """Return the words of a phrase's options, as the table of word forms lists them."""
        return [
            option
            for word in phrase.split()
            if word != "..."
            for option in self._options(word)
            if not option.endswith("*")
        ]

    def _forms(self, options: list[str]) -> list[str]:
        """Add each option's word forms ("kill": kills, killed, killing).

        For a theme about others too, add the same words about someone else ("myself":
        himself, herself).
        """
        forms: list[str] = []
        for option in options:
            forms.append(option)
            if option.endswith("*"):
                continue
            forms += word_forms(option)
            if self.about_others:
                forms += _OTHERS.get(option, ())
        return list(dict.fromkeys(forms))

    def _choices(self, word: str) -> str:
        """Turn 'end/ending/ended', 'overdos*' or '{medicines}' into a regex for one position."""
        found: list[str] = []
        for option in self._forms(self._options(word)):
            stem = option.removesuffix("*")
            if "*" in stem:
                raise ValueError(f"'*' may only end a word, as in 'overdos*' (found {option!r})")
            normal = normalise(stem, self.keep)
            if not normal:
                raise ValueError(f"{option!r} has no letters or digits")
            escaped = " ".join(re.escape(part) for part in normal.split())
            found.append(escaped + (r"\S*" if option.endswith("*") else ""))
        return "(?:" + "|".join(dict.fromkeys(found)) + ")"


# For a theme `about_others`, a first-person word also stands for the same word about someone
# else, as carers and families write: "he wants to kill himself", "she took her life".
_OTHERS: Mapping[str, tuple[str, ...]] = {
    "myself": ("himself", "herself", "themselves", "themself"),
    "my": ("his", "her", "their"),
    "me": ("him", "her", "them"),
    "i": ("he", "she", "they"),
    "am": ("is", "are"),
}


def _compile(text: str, source: str) -> PhraseList:
    """Parse, validate and compile a phrase file, collecting every problem."""
    try:
        data, lines = load_with_lines(text)
    except YamlProblem as problem:
        raise PhraseListError([f"{source}:{problem.line}: {problem.message}"]) from None
    try:
        spec = _File.model_validate(data)
    except ValidationError as error:
        raise PhraseListError(_validation_problems(error, data, lines, source)) from None
    plain_compiler = _Compiler.of(spec)
    rules: list[Rule] = []
    problems: list[str] = []
    for t, theme in enumerate(spec.themes):
        compiler = dataclasses.replace(plain_compiler, about_others=theme.about_others)
        for e, entry in enumerate(theme.phrases):
            try:
                rules.append(_rule(entry, theme, compiler))
            except ValueError as error:
                where = _where(data, ("themes", t, "phrases", e), lines, source)
                problems.append(f"{where}: {error}")
    exclusions: list[Exclusion] = []
    for x, item in enumerate(spec.exclusions):
        try:
            pattern = re.compile(plain_compiler.pattern(item.idiom))
        except ValueError as error:
            problems.append(f"{_where(data, ('exclusions', x), lines, source)}: {error}")
            continue
        exclusions.append(Exclusion(item.idiom, item.why, item.example, pattern))
    if problems:
        raise PhraseListError(problems)
    thresholds = Thresholds(**spec.verdicts.model_dump())
    words = {
        word
        for theme in spec.themes
        for entry in theme.phrases
        if entry.phrase is not None
        for word in plain_compiler.words(entry.phrase)
    }
    words.update(word for item in spec.exclusions for word in plain_compiler.words(item.idiom))
    return PhraseList(
        source,
        spec.reviewed,
        spec.reviewed_by,
        tuple(rules),
        tuple(exclusions),
        plain_compiler.keep,
        thresholds,
        frozenset(words),
    )


def _rule(entry: _Entry, theme: _Theme, compiler: _Compiler) -> Rule:
    """Compile one entry; raise ValueError saying what is wrong with it."""
    if entry.phrase is not None:
        pattern = compiler.pattern(entry.phrase)
        example = entry.example or compiler.example(entry.phrase)
        name = entry.name or compiler.example(entry.phrase)
    else:
        pattern, example, name = entry.regex or "", entry.example or "", entry.name or ""
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise ValueError(f"the regex does not compile: {error}") from None
    if not compiled.search(normalise(example, compiler.keep)):
        raise ValueError(f"it does not match its own example {example!r}")
    needs = compiler.needs(entry.phrase) if entry.phrase is not None else None
    return Rule(name, theme.theme, theme.language, example, compiled, needs, entry.topic)


def _doubles_in(spec: _File) -> frozenset[str]:
    """Return the list's own words that are spelt with a double letter."""
    texts = [entry.phrase or "" for theme in spec.themes for entry in theme.phrases]
    texts += [item.idiom for item in spec.exclusions]
    texts += [word for words in spec.word_groups.values() for word in words]
    words = {word for text in texts for word in re.split(r"[\W_]+", text.casefold())}
    return frozenset(word for word in words if re.search(r"([^\W\d_])\1", word))


def _validation_problems(
    error: ValidationError, data: Any, lines: Mapping[Any, int], source: str
) -> list[str]:
    """Say each pydantic error with the file, line and entry it is about."""
    problems: list[str] = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        field = f"'{loc[-1]}' " if loc and isinstance(loc[-1], str) else ""
        problems.append(f"{_where(data, loc, lines, source)}: {field}{plain(item)}")
    return problems


def _where(data: Any, loc: tuple[str | int, ...], lines: Mapping[Any, int], source: str) -> str:
    """Name the place in the file: path, line, and the theme and entry when there is one."""
    place = f"{source}:{line_of(dict(lines), loc)}"
    if len(loc) >= 2 and loc[0] == "themes" and isinstance(loc[1], int):
        theme = _get(data, ("themes", loc[1], "theme"))
        place += f": theme {theme!r}" if isinstance(theme, str) else f": theme {loc[1] + 1}"
        if len(loc) >= 4 and loc[2] == "phrases" and isinstance(loc[3], int):
            place += f", entry {loc[3] + 1} {_describe(_get(data, loc[:4]))}"
    elif len(loc) >= 2 and loc[0] == "exclusions" and isinstance(loc[1], int):
        place += f": exclusion {loc[1] + 1} {_describe(_get(data, loc[:2]))}"
    return place


def _describe(entry: Any) -> str:
    """Say which entry this is, in the words its editor wrote."""
    if isinstance(entry, dict):
        for key in ("name", "phrase", "regex", "idiom"):
            if isinstance(entry.get(key), str):
                return repr(entry[key])
    return repr(entry)


def _get(data: Any, loc: tuple[str | int, ...]) -> Any:
    """Return the value at a location in the parsed file, or None."""
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data
