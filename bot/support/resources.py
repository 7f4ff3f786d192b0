"""Where to get help: the support lines file, its checks, and the plain list people read."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from conversations.model import Language, StepId, text_in
from conversations.plain_errors import Loc, grouped
from conversations.problems import Problem
from conversations.yaml_lines import Path as YamlPath
from conversations.yaml_lines import YamlProblem, line_of, load_with_lines

Nation = Literal["uk", "england", "wales", "scotland", "northern-ireland"]
NATIONS: tuple[Nation, ...] = get_args(Nation)
UK: Nation = "uk"
BASE_LANGUAGE = "en"
BULLET = "• "
# The list is sent after the help text and a lead sentence; Telegram allows 4096 characters.
MAX_LENGTH = 3000
MAX_LINES = 10

Words = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# One text, or one per language (`{en: ..., cy: ...}`), as in the conversation files.
Text = Words | Annotated[dict[Language, Words], Field(min_length=1)]


class SupportError(Exception):
    """A support file that cannot be used, with every problem found in it."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class Model(BaseModel):
    """Base for the support file's models: unknown keys are errors, values never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Resource(Model):
    """One place to get help, such as a phone line."""

    id: StepId
    name: Text
    how: Text
    when: Text
    urgent: bool
    languages: list[Language] = Field(default_factory=list)
    notes: Text | None = None
    replaces: list[StepId] = Field(default_factory=list)


class SupportFile(Model):
    """The support lines shown to everyone ("uk") and to people in each nation."""

    reviewed: date
    reviewed_by: Words
    nations: dict[Nation, Annotated[list[Resource], Field(max_length=MAX_LINES)]]

    _source: str = PrivateAttr(default="support file")

    @property
    def source(self) -> str:
        """Return the file this came from, for messages."""
        return self._source

    def model_post_init(self, context: Any, /) -> None:
        """Remember the file name the loader passed in."""
        if isinstance(context, Mapping) and "source" in context:
            self._source = str(context["source"])

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> SupportFile:
        # The loader runs these checks itself so that it can name the line of each problem.
        located = isinstance(info.context, Mapping) and info.context.get("located", False)
        problems = [] if located else _cross_problems(self)
        if problems:
            raise ValueError("; ".join(message for _, message in problems))
        return self


def shipped_support_path() -> Path:
    """Return the support file installed with Heard."""
    return Path(str(resources.files("bot.support") / "support.yaml"))


def load_support(path: Path | None = None) -> SupportFile:
    """Load a support file (the shipped one by default); raise SupportError naming each line."""
    source = path if path is not None else shipped_support_path()
    name = str(source)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SupportError([Problem(name, 1, None, f"cannot read the file: {error}")]) from None
    return load_support_text(text, name)


def load_support_text(text: str, name: str) -> SupportFile:
    """Load support lines from YAML text; `name` is used in problems."""
    try:
        data, lines = load_with_lines(text)
    except YamlProblem as problem:
        raise SupportError([Problem(name, problem.line, None, problem.message)]) from None
    if not isinstance(data, dict):
        raise SupportError([Problem(name, 1, None, "a support file must be a YAML mapping")])
    try:
        support = SupportFile.model_validate(data, context={"source": name, "located": True})
    except ValidationError as error:
        raise SupportError(_located(error, lines, name)) from None
    problems = [
        Problem(name, line_of(lines, loc), None, message)
        for loc, message in _cross_problems(support)
    ]
    if problems:
        raise SupportError(problems)
    return support


def _cross_problems(support: SupportFile) -> list[tuple[YamlPath, str]]:
    """Return what is wrong across lines (ids, replaces, order, length), with where it is."""
    problems: list[tuple[YamlPath, str]] = []
    everyone = support.nations.get(UK)
    if not everyone:
        problems.append((("nations",), "needs a 'uk' list: the lines shown to everyone"))
    elif not everyone[0].urgent:
        problems.append(
            (
                ("nations", UK, 0, "urgent"),
                "the first 'uk' line is shown first to everyone: make it the emergency one "
                "(999) with urgent: true",
            )
        )
    uk_ids = {resource.id for resource in everyone or []}
    for nation, items in support.nations.items():
        seen: set[str] = set()
        for i, resource in enumerate(items):
            if resource.id in seen:
                problems.append(
                    (("nations", nation, i, "id"), f"the id '{resource.id}' appears twice")
                )
            seen.add(resource.id)
            if resource.replaces and nation == UK:
                problems.append(
                    (
                        ("nations", nation, i, "replaces"),
                        "only a nation's line can replace a 'uk' line",
                    )
                )
            elif unknown := [r for r in resource.replaces if r not in uk_ids]:
                problems.append(
                    (
                        ("nations", nation, i, "replaces"),
                        f"'{', '.join(unknown)}' is not the id of a 'uk' line",
                    )
                )
    if not problems:
        problems += _length_problems(support)
    return problems


def review_warning(support: SupportFile, today: date, max_age_days: int = 183) -> str | None:
    """Return a one-line warning if the file is due a review (or dated ahead), else None."""
    age = (today - support.reviewed).days
    who = f"by {support.reviewed_by}"
    if age < 0:
        return (
            f"{support.source}: warning: support lines are marked reviewed on "
            f"{support.reviewed.isoformat()} {who}, which is after today: check the date"
        )
    if age <= max_age_days:
        return None
    return (
        f"{support.source}: warning: support lines were last reviewed on "
        f"{support.reviewed.isoformat()} {who}, {age} days ago (more than {max_age_days}): "
        "check every number and opening time, then update reviewed and reviewed_by"
    )


def render_support(
    support: SupportFile, nation: str | None, language: str = "en", urgent_only: bool = False
) -> str:
    """Return the support lines for a person as a short plain-text list, urgent ones first."""
    lines: list[str] = []
    for resource in chosen_resources(support, nation, language):
        if urgent_only and not resource.urgent:
            continue
        line = _line(resource, language)
        if line not in lines:
            lines.append(line)
    # A safety net only: the loader refuses a file whose list would be this long.
    while len("\n".join(lines)) > MAX_LENGTH and len(lines) > 1:
        lines.pop()
    return "\n".join(lines)


def chosen_resources(support: SupportFile, nation: str | None, language: str) -> list[Resource]:
    """Return the lines for a person: UK-wide, then their nation's, urgent ones first."""
    key = _nation(nation)
    chosen = list(support.nations.get(UK, []))
    if key is not None:
        for resource in support.nations.get(key, []):
            _place(chosen, resource)
    # A line in the person's own language (Welsh, say) is shown whatever their nation.
    for other, items in support.nations.items():
        if other not in (UK, key):
            chosen += [
                resource
                for resource in items
                if language in resource.languages and resource.id not in {r.id for r in chosen}
            ]
    return [r for r in chosen if r.urgent] + [r for r in chosen if not r.urgent]


def _nation(nation: str | None) -> Nation | None:
    """Return a known nation key (not "uk"), or None for everyone else."""
    if nation is None:
        return None
    key = nation.strip().lower().replace(" ", "-").replace("_", "-")
    return next((known for known in NATIONS if known == key and known != UK), None)


def _place(chosen: list[Resource], resource: Resource) -> None:
    """Add a nation's line: in place of a UK-wide line with its id or that it replaces."""
    ids = [r.id for r in chosen]
    if resource.id in ids:
        chosen[ids.index(resource.id)] = resource
        return
    spots = [i for i, r in enumerate(chosen) if r.id in resource.replaces]
    if not spots:
        chosen.append(resource)
        return
    chosen[spots[0]] = resource
    for i in reversed(spots[1:]):
        del chosen[i]


def _line(resource: Resource, language: str) -> str:
    """Say one line, like "• Samaritans: call 116 123 (free, any time)."."""

    def say(text: str | dict[str, str]) -> str:
        return text_in(text, language, BASE_LANGUAGE)

    line = f"{BULLET}{say(resource.name)}: {say(resource.how)} ({say(resource.when)})."
    return f"{line} {say(resource.notes)}" if resource.notes is not None else line


def _length_problems(support: SupportFile) -> list[tuple[YamlPath, str]]:
    """Say if any person's list would be too long to read on a phone (or to send at all)."""
    languages = {BASE_LANGUAGE}
    for items in support.nations.values():
        for resource in items:
            languages.update(resource.languages)
            for text in (resource.name, resource.how, resource.when, resource.notes):
                languages.update(text if isinstance(text, dict) else ())
    for nation in (None, *NATIONS):
        for language in sorted(languages):
            lines = [_line(r, language) for r in chosen_resources(support, nation, language)]
            size = len("\n".join(lines))
            if size > MAX_LENGTH:
                who = nation or "everyone"
                message = (
                    f"the list for {who} in '{language}' is {size} characters long; "
                    f"keep it under {MAX_LENGTH} so it can be read on a phone"
                )
                return [(("nations",), message)]
    return []


def _located(error: ValidationError, lines: dict[YamlPath, int], name: str) -> list[Problem]:
    """Turn pydantic's errors into one problem per place, in words a file editor knows."""
    return [
        Problem(name, line_of(lines, loc), None, f"{_where(field)}: {' or '.join(messages)}")
        for loc, field, messages in grouped(error, _internal, _support_terms)
    ]


def _support_terms(
    item: Mapping[str, Any], loc: Loc, field: Loc, message: str
) -> tuple[Loc, Loc, str]:
    """Say nation, text and per-language errors in a support file's terms."""
    kind = item["type"]
    if kind == "literal_error" and item["loc"][-1] == "[key]":
        message = f"'{item['input']}' is not a nation: use one of {', '.join(NATIONS)}"
    elif kind == "string_type":
        message = "should be a text"
    elif kind == "dict_type":
        message = "texts by language (like en: ... and cy: ...)"
    return loc, field, message


def _internal(part: str | int) -> bool:
    """Say whether a location part is pydantic's (a union member), not the file's."""
    return isinstance(part, str) and (part.startswith("constrained-") or "[" in part)


def _where(field: tuple[str | int, ...]) -> str:
    """Name a place in the file, such as "nations.wales[1].how"."""
    where = ""
    for part in field:
        where += f"[{part}]" if isinstance(part, int) else f".{part}" if where else str(part)
    return where or "the file"
