"""Load conversation files: YAML, then the pydantic model, then graph checks."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from conversations.checks import check_flow
from conversations.model import END, STEP_KINDS, Flow
from conversations.plain_errors import Loc, grouped
from conversations.problems import FlowError, Problem
from conversations.yaml_lines import Path as YamlPath
from conversations.yaml_lines import YamlProblem, line_of, load_plain, load_with_lines


@dataclass(frozen=True)
class LoadedFlow:
    """A valid flow with where it came from and a hash of what it means."""

    flow: Flow
    path: str
    content_hash: str
    warnings: tuple[Problem, ...] = ()
    # The line of each follow-up in the file, for problems found across files.
    follow_up_lines: tuple[int, ...] = ()


def shipped_flows_dir() -> Path:
    """Return the folder of conversation files installed with Heard."""
    return Path(str(resources.files("conversations") / "flows"))


def content_hash(flow: Flow) -> str:
    """Hash the flow's meaning: comments and layout in the file do not change it."""
    meaning = flow.model_dump(mode="json")
    if not meaning["follow_ups"]:
        # Added after files were first hashed: without follow-ups, a flow keeps its old hash.
        del meaning["follow_ups"]
    canonical = json.dumps(meaning, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def flow_from_json(definition: str) -> Flow:
    """Rebuild a flow from the JSON definition kept in the database."""
    return Flow.model_validate_json(definition)


def flow_to_json(flow: Flow) -> str:
    """Serialise a flow for the database."""
    return flow.model_dump_json()


def load_flow_file(path: Path | str) -> LoadedFlow:
    """Load and check one file; raise FlowError naming file, line and step for each problem."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise FlowError([Problem(name, 1, None, f"cannot read the file: {error}")]) from None
    return load_flow_text(text, name)


def load_flow_text(text: str, name: str) -> LoadedFlow:
    """Load and check a flow from YAML text; `name` is used in problems."""
    try:
        data, lines = load_with_lines(text)
    except YamlProblem as problem:
        # A duplicate key inside a step still names the step: read the file once more leniently.
        plain = load_plain(text) if problem.path else None
        step = _step_at(plain, problem.path) if isinstance(plain, dict) else None
        raise FlowError([Problem(name, problem.line, step, problem.message)]) from None
    if not isinstance(data, dict):
        raise FlowError([Problem(name, 1, None, "a conversation file must be a YAML mapping")])
    try:
        flow = Flow.model_validate(data)
    except ValidationError as error:
        raise FlowError(_located(error, data, lines, name)) from None
    step_lines = {
        step.id: line_of(lines, ("steps", i)) for i, step in reversed(list(enumerate(flow.steps)))
    }
    problems = check_flow(flow, name, step_lines, lines)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise FlowError(problems)
    follow_up_lines = tuple(line_of(lines, ("follow_ups", i)) for i in range(len(flow.follow_ups)))
    return LoadedFlow(flow, name, content_hash(flow), tuple(problems), follow_up_lines)


def load_flow_dir(folder: Path | str) -> tuple[list[LoadedFlow], list[Problem]]:
    """Load every `*.yaml`/`*.yml` file in a folder; return the good flows and all problems."""
    flows: list[LoadedFlow] = []
    problems: list[Problem] = []
    paths = sorted([*Path(folder).glob("*.yaml"), *Path(folder).glob("*.yml")])
    for path in paths:
        try:
            loaded = load_flow_file(path)
        except FlowError as error:
            problems.extend(error.problems)
            continue
        problems.extend(loaded.warnings)
        flows.append(loaded)
    seen: dict[str, str] = {}
    for loaded in flows:
        other = seen.setdefault(loaded.flow.id, loaded.path)
        if other != loaded.path:
            problems.append(
                Problem(
                    loaded.path, 1, None, f"the flow id '{loaded.flow.id}' is also used by {other}"
                )
            )
    problems.extend(follow_up_problems(flows))
    return flows, problems


def follow_up_problems(flows: list[LoadedFlow]) -> list[Problem]:
    """Check that follow-ups name other conversations in the folder, and never go in a circle."""
    by_id = {loaded.flow.id: loaded for loaded in flows}
    problems = []
    for loaded in flows:
        for position, follow_up in enumerate(loaded.flow.follow_ups):
            line = loaded.follow_up_lines[position] if loaded.follow_up_lines else 1
            if follow_up.flow == loaded.flow.id:
                message = "follow_ups: a conversation cannot follow itself up"
            elif follow_up.flow not in by_id:
                known = ", ".join(sorted(by_id)) or "none"
                message = (
                    f"follow_ups: there is no conversation '{follow_up.flow}' in this folder "
                    f"(there are: {known})"
                )
            else:
                circle = _circle(loaded.flow.id, follow_up.flow, by_id)
                if circle is None:
                    continue
                message = f"follow_ups go round in a circle: {' → '.join(circle)}"
            problems.append(Problem(loaded.path, line, None, message))
    return problems


def _circle(start: str, first: str, by_id: dict[str, LoadedFlow]) -> list[str] | None:
    """Return a chain of follow-ups from `start` through `first` back to `start`, if any."""
    paths = [[start, first]]
    seen = {first}
    while paths:
        path = paths.pop()
        here = by_id.get(path[-1])
        for follow_up in here.flow.follow_ups if here else []:
            if follow_up.flow == start:
                return [*path, start]
            if follow_up.flow not in seen:
                seen.add(follow_up.flow)
                paths.append([*path, follow_up.flow])
    return None


def _located(
    error: ValidationError, data: dict[str, object], lines: dict[YamlPath, int], name: str
) -> list[Problem]:
    problems = []
    for loc, field, messages in grouped(error, _internal, _conversation_terms):
        step = _step_at(data, loc)
        shown = field[2:] if step is not None else field
        where = ".".join(str(part) for part in shown) or "the step"
        problems.append(
            Problem(name, line_of(lines, loc), step, f"{where}: {' or '.join(messages)}")
        )
    return problems


def _conversation_terms(
    item: Mapping[str, Any], loc: Loc, field: Loc, message: str
) -> tuple[Loc, Loc, str]:
    """Name a wrong step kind on its `kind:` line, and say what `next` may be."""
    if item["type"] == "union_tag_invalid":
        kind = item["input"].get("kind")
        message = f"'{kind}' is not a step kind; use one of {', '.join(STEP_KINDS)}"
        return (*loc, "kind"), (*field, "kind"), message
    if field and field[-1] == "next" and item["type"] in ("string_type", "list_type"):
        return loc, field, f"should be a step id, '{END}', or a list of when/goto rules"
    return loc, field, message


def _internal(part: str | int) -> bool:
    """Say whether a location part is pydantic's (a union member or tag), not the file's."""
    if not isinstance(part, str):
        return False
    return part in STEP_KINDS or part in ("str", "int", "float", "bool") or "[" in part


def _step_at(data: dict[str, object], loc: tuple[str | int, ...]) -> str | None:
    if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
        steps = data.get("steps")
        if isinstance(steps, list) and loc[1] < len(steps) and isinstance(steps[loc[1]], dict):
            step_id = steps[loc[1]].get("id")
            return str(step_id) if step_id is not None else f"#{loc[1] + 1}"
    return None
