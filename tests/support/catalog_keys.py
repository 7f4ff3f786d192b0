"""Find the catalogue keys a module asks for, by reading its source (for the catalogue tests)."""

from __future__ import annotations

import ast


def keys_asked_for(source: str, *, dict_values: bool = False) -> set[str]:
    """Return the keys passed to words(...) or catalog(...)(...), as literals or `a if b else c`.

    With `dict_values`, string values of dict literals count too ({Paused: "paused", ...}).
    """
    keys: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "words" or (
                isinstance(func, ast.Call) and getattr(func.func, "id", "") == "catalog"
            ):
                keys.update(_strings(node.args[0]))
        elif dict_values and isinstance(node, ast.Dict):
            keys.update(s for value in node.values if value is not None for s in _strings(value))
    return keys


def _strings(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    return []
