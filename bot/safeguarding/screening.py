"""Screen free text for signs of risk against a phrase list a safeguarding lead can edit.

Text and phrases are both normalised (case, accents, punctuation, stretched letters,
contractions, common misspellings) to single-spaced words; then each entry of the list is tried
in order. Entries are word patterns, and a negation never suppresses them: "I don't want to
die" is flagged. Only idioms the lead lists as exclusions are blanked out before matching.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError, model_validator

from bot.safeguarding.verdicts import OK, Screening, Verdict
from conversations.plain_errors import plain
from conversations.yaml_lines import YamlProblem, line_of, load_with_lines


def _word_set(text: str) -> frozenset[str]:
    """Return the whitespace-separated words of a text block."""
    return frozenset(text.split())


# Words people stretch ("killlll") whose right spelling keeps a double letter; any other
# stretched letter is taken as single ("diiiie" is "die"). The phrase list adds its own words.
DOUBLE_LETTER_WORDS = _word_set(
    """
    all call fall small wall still will well tell hell fell ill fill kill killed killing till
    pill pills full feel feeling feels feet need needs needed see seen seem sleep keep free
    three agree week weeks meet deep sorry worry worried hurry happy happen good goodbye
    goodbyes too soon food mood look book cool school door floor poor room bloody really
    actually totally literally finally usually off stuff staff suffer suffering different
    difficult offer less mess miss missed loss stress stressed guess pass useless pointless
    hopeless worthless helpless endless depressed depression assessment session sessions
    better letter letters little bottle getting sitting cutting hitting putting letting
    attempt attempted attempts matter pretty written battle support stopped appointment
    trapped summer community immediately commit committed committing planned planning
    running beginning cannot terrible terrified horrible tomorrow current sudden middle odd
    struggle struggling struggled trigger triggered dizzy accept access occupational
    """
)

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
# "'s" is read as "is" ("life's not worth it"): for a possessive the extra word does no harm.
# "'n" and "'r" are Welsh: "teimlo'n" is "teimlo yn", "mae'r" is "mae yr".
_SUFFIXES = {
    "ll": "will",
    "re": "are",
    "ve": "have",
    "m": "am",
    "d": "would",
    "s": "is",
    "n": "yn",
    "r": "yr",
}
_SUFFIX = re.compile(r"(?<=[^\W\d_])'(ll|re|ve|m|d|s|n|r)(?!\w)")
_INNER_APOSTROPHE = re.compile(r"(?<=\w)'(?=\w)")
_NOT_WORD = re.compile(r"[\W_]+")
_STRETCHED = re.compile(r"([^\W\d_])\1{2,}")
_SELF = re.compile(r"\b(my|me|your|him|her) self\b")
_SELF_WORDS = {
    "my": "myself",
    "me": "myself",
    "your": "yourself",
    "him": "himself",
    "her": "herself",
}


def _table(spec: str) -> dict[str, str]:
    """Read 'form form ... = replacement; ...' rules into a lookup from each form."""
    found: dict[str, str] = {}
    for rule in spec.replace("\n", ";").split(";"):
        if not rule.strip():
            continue
        forms, replacement = rule.split("=")
        found.update(dict.fromkeys(forms.split(), replacement.strip()))
    return found


# Contractions without their apostrophe, texting forms and common misspellings. "ill", "were",
# "well", "shed" and "wed" are real words and stay as they are.
_WORDS = _table(
    """
    dont dnt = do not; doesnt = does not; didnt = did not; cant cnt cannot = can not
    couldnt cudnt = could not; wont = will not; wouldnt wudnt = would not
    shouldnt = should not; isnt aint = is not; arent = are not; wasnt = was not
    werent = were not; havent = have not; hasnt = has not; hadnt = had not; im = i am
    ive = i have; id = i would; youre = you are; youve = you have; youd = you would
    youll = you will; theyre = they are; theyve = they have; theyd = they would
    theyll = they will; weve = we have; itll = it will; its = it is; thats = that is
    whats wats = what is; theres = there is; hes = he is; shes = she is; couldve = could have
    wouldve = would have; shouldve = should have; wanna wana = want to
    gonna gona gunna gna = going to; gotta = got to; hafta = have to; tryna = trying to
    kinda = kind of; sorta = sort of; outta = out of; dunno = do not know; idk = i do not know
    idc = i do not care; imma ima = i am going to; lemme = let me; gimme = give me
    u ya yu = you; ur = your; r = are; b = be; n nd = and; 2 = to
    coz cos cuz bc bcos bcoz = because; tho = though; thru = through; abt bout = about
    wiv = with; wot wat = what; nothin nuffin nuthin = nothing; ppl = people; pls plz = please
    tmrw tmr tomoz 2moro 2morrow = tomorrow; 2nite tonite 2night = tonight; nite = night
    2day = today; rn = right now; b4 = before; no1 noone = no one; every1 = everyone
    some1 = someone; any1 = anyone; alot = a lot; anymore = any more; wud wld = would
    cud cld = could; shud shld = should; hav av = have; goin = going; doin = doing
    feelin = feeling; thinkin = thinking; livin = living; tryin = trying; wantin = wanting
    endin = ending; hurtin = hurting; cuttin = cutting; killin = killing; takin = taking
    savin = saving; dyin dieing = dying; kms = kill myself; kys = kill yourself
    unalive kil = kill; unalived = killed; unaliving kiling = killing
    sewerslide sucide suicde suiside suicid sucicide suecide suiscide suacide sueside = suicide
    sucidal suicdal suisidal suicidle suicidel sucicidal suecidal suacidal = suicidal
    od overdoze = overdose; ods = overdoses; oded = overdosed; oding = overdosing
    tabs tablits = tablets; pils = pills
    paracetemol paracetomol paracitamol paracetmol paracetamal = paracetamol
    myslef myslf mysef meself mysefl mysself = myself
    dissappear dissapear disapear = disappear; lifes = life is; wnt wnat = want; ded = dead
    selfharm sh = self harm; selfharming = self harming; selfharmed = self harmed
    isio isie eisie eisio ishe isho moyn = eisiau; dwi = dw i; dwisio = dw i eisiau
    """
)


def normalise(text: str, keep_doubles: Collection[str] = DOUBLE_LETTER_WORDS) -> str:
    """Return the text as plain lower-case words with contractions and misspellings resolved."""
    text = _plain_letters(text)
    for pattern, replacement in _BEFORE_PUNCTUATION:
        text = pattern.sub(replacement, text)
    text = _SUFFIX.sub(lambda found: " " + _SUFFIXES[found.group(1)], text)
    text = _INNER_APOSTROPHE.sub("", text)
    words = (_canonical(word, keep_doubles) for word in _NOT_WORD.split(text) if word)
    return _SELF.sub(lambda found: _SELF_WORDS[found.group(1)], " ".join(words))


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


def _canonical(word: str, keep_doubles: Collection[str]) -> str:
    """Return one word with stretched letters undone and its usual spelling put in."""
    if _STRETCHED.search(word):
        double = _STRETCHED.sub(r"\1\1", word)
        keep = double in keep_doubles or double in _WORDS
        word = double if keep else _STRETCHED.sub(r"\1", word)
    return _WORDS.get(word, word)


@dataclass(frozen=True)
class Match:
    """A phrase of the list found in a text: its name, theme and the words that matched."""

    phrase: str
    matched: str
    theme: str


@dataclass(frozen=True)
class Rule:
    """One entry of the list, compiled."""

    name: str
    theme: str
    language: str
    example: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Exclusion:
    """An everyday idiom blanked out before matching, with why it is safe to ignore."""

    idiom: str
    why: str
    example: str
    pattern: re.Pattern[str]


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
    normal = phrases.blank_exclusions(normalise(text, phrases.keep_doubles))
    for rule in phrases.rules:
        found = rule.pattern.search(normal)
        if found:
            return Match(rule.name, found.group(0), rule.theme)
    return None


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
    phrases: list[_Entry]


class _ExclusionEntry(_Strict):
    idiom: str
    why: str
    example: str


GroupName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]*$")]


class _File(_Strict):
    reviewed: date
    reviewed_by: str
    filler_words: list[str]
    word_groups: dict[GroupName, list[str]] = {}
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

    @classmethod
    def of(cls, spec: _File) -> _Compiler:
        keep = DOUBLE_LETTER_WORDS | _doubles_in(spec)
        groups = {name: tuple(words) for name, words in spec.word_groups.items()}
        normal = sorted({normalise(word, keep) for word in spec.filler_words} - {""})
        choices = "|".join(re.escape(word) for word in normal)
        fill = f"(?: (?:{choices})){{0,{FILLER_WORDS}}} " if normal else " "
        return cls(fill, keep, groups)

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

    def _choices(self, word: str) -> str:
        """Turn 'end/ending/ended', 'overdos*' or '{medicines}' into a regex for one position."""
        found: list[str] = []
        for option in self._options(word):
            stem = option.removesuffix("*")
            if "*" in stem:
                raise ValueError(f"'*' may only end a word, as in 'overdos*' (found {option!r})")
            normal = normalise(stem, self.keep)
            if not normal:
                raise ValueError(f"{option!r} has no letters or digits")
            escaped = " ".join(re.escape(part) for part in normal.split())
            found.append(escaped + (r"\S*" if option.endswith("*") else ""))
        return "(?:" + "|".join(dict.fromkeys(found)) + ")"


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
    compiler = _Compiler.of(spec)
    rules: list[Rule] = []
    problems: list[str] = []
    for t, theme in enumerate(spec.themes):
        for e, entry in enumerate(theme.phrases):
            try:
                rules.append(_rule(entry, theme, compiler))
            except ValueError as error:
                where = _where(data, ("themes", t, "phrases", e), lines, source)
                problems.append(f"{where}: {error}")
    exclusions: list[Exclusion] = []
    for x, item in enumerate(spec.exclusions):
        try:
            pattern = re.compile(compiler.pattern(item.idiom))
        except ValueError as error:
            problems.append(f"{_where(data, ('exclusions', x), lines, source)}: {error}")
            continue
        exclusions.append(Exclusion(item.idiom, item.why, item.example, pattern))
    if problems:
        raise PhraseListError(problems)
    return PhraseList(
        source, spec.reviewed, spec.reviewed_by, tuple(rules), tuple(exclusions), compiler.keep
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
    return Rule(name, theme.theme, theme.language, example, compiled)


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


class Screener:
    """Gives the verdict on a text: the phrase list, the risk model and context cues together."""

    def __init__(self, phrases: PhraseList) -> None:
        self.phrases = phrases

    def screen(self, text: str) -> Screening:
        """Return the verdict on a text: flag, concern or ok, and why."""
        found = screen(text, self.phrases)
        if found is None:
            return OK
        return Screening(Verdict.FLAG, found.phrase, found.theme, sentence=text)
