"""Read YAML while remembering the line of every value, and refuse duplicate keys."""

from __future__ import annotations

import re
from typing import Any

import yaml

Path = tuple[str | int, ...]


# libyaml's parser (PyYAML's C extension) reads a conversation file about 9 times faster than
# the pure-Python one, with the same nodes and line marks; the wheels on PyPI include it.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[valid-type,misc]
    """SafeLoader with YAML 1.2 booleans: only true/false, so `yes`, `no`, `on` stay text."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "tTfF":
    _Loader.yaml_implicit_resolvers.setdefault(_first, []).append(
        ("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"))
    )


class YamlProblem(Exception):
    """A YAML syntax error or duplicate key, with its line (and the path of its mapping)."""

    def __init__(self, line: int, message: str, path: Path = ()) -> None:
        self.line = line
        self.message = message
        self.path = path
        super().__init__(f"line {line}: {message}")


def load_with_lines(text: str) -> tuple[Any, dict[Path, int]]:
    """Parse YAML text; return the data and the 1-based line of every path in it."""
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as error:
        raise _unreadable(text, error) from None
    try:
        node = loader.get_single_node()
        lines: dict[Path, int] = {}
        data = _build(loader, node, (), lines) if node is not None else None
    except yaml.reader.ReaderError as error:
        raise _unreadable(text, error) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlProblem(line, f"not valid YAML: {error.problem or error}") from None
    finally:
        loader.dispose()
    return data, lines


def _unreadable(text: str, error: yaml.reader.ReaderError) -> YamlProblem:
    """Place a reader error (control characters such as NUL), which has an offset, no mark.

    The Python reader counts the offset in characters, libyaml in bytes of UTF-8.
    """
    if _SafeLoader is yaml.SafeLoader:
        line = text.count("\n", 0, error.position) + 1
    else:
        line = text.encode()[: error.position].count(b"\n") + 1
    return YamlProblem(line, f"not valid YAML: {error.reason}")


def _build(loader: _Loader, node: yaml.Node, path: Path, lines: dict[Path, int]) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _construct(loader, key_node)
            line = key_node.start_mark.line + 1
            try:
                duplicate = key in result
            except TypeError:  # unhashable: a list or a mapping used as a key
                raise YamlProblem(line, "a key must be a plain word", path) from None
            if duplicate:
                raise YamlProblem(line, f"the key '{key}' appears twice", path)
            result[key] = _build(loader, value_node, (*path, key), lines)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, (*path, i), lines) for i, item in enumerate(node.value)]
    return _construct(loader, node)


def _construct(loader: _Loader, node: yaml.Node) -> Any:
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, TypeError, OverflowError) as error:
        # PyYAML lets these escape for values like `2024-13-45` or `!!int abc`.
        line = node.start_mark.line + 1
        raise YamlProblem(line, f"cannot read this value: {error}") from None


def load_plain(text: str) -> Any:
    """Parse YAML text as PyYAML does, a later duplicate key winning; None if it cannot."""
    try:
        return yaml.load(text, Loader=_Loader)  # safe: _Loader is a SafeLoader
    except (yaml.YAMLError, ValueError, TypeError, OverflowError):
        return None


def line_of(lines: dict[Path, int], loc: Path) -> int:
    """Return the line of the deepest known path that the location starts with."""
    best = lines.get((), 1)
    path: Path = ()
    for part in loc:
        candidate = (*path, part)
        if candidate in lines:
            path = candidate
            best = lines[path]
        # Parts pydantic adds (a union's tag, say) are not in the file: step over them.
    return best
