"""The layers keep to their imports: `conversations` stays pure, `storage` knows no Telegram."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
# The engine takes `now` and ids as arguments: no I/O, no clock, no randomness in here.
IMPURE = {"telegram", "aiosqlite", "asyncio", "random", "uuid", "secrets", "time"}
CLOCK_CALLS = {"now", "utcnow", "today"}
# Besides the standard library, conversations may use only these.
CONVERSATIONS_MAY_USE = {"conversations", "pydantic", "yaml"}


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imported(tree: ast.AST) -> list[tuple[str, int]]:
    """Return (top-level module, line) for every import in a module, relative ones as '.'."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name.split(".")[0], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            name = "." if node.level else (node.module or "").split(".")[0]
            found.append((name, node.lineno))
    return found


def clock_calls(tree: ast.AST) -> list[tuple[str, int]]:
    """Return calls such as datetime.now(), date.today() or datetime.datetime.utcnow()."""
    return [
        (node.func.attr, node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in CLOCK_CALLS
    ]


def parse(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def where(path: Path, line: int) -> str:
    return f"{path.relative_to(ROOT)}:{line}"


def test_architecture_scan_finds_the_packages() -> None:
    assert len(modules("conversations")) >= 10
    assert modules("storage")


@pytest.mark.parametrize("path", modules("conversations"), ids=lambda p: p.stem)
def test_architecture_conversations_is_pure(path: Path) -> None:
    tree = parse(path)

    impure = [
        f"{where(path, line)} imports {name}" for name, line in imported(tree) if name in IMPURE
    ]
    clock = [f"{where(path, line)} calls .{name}()" for name, line in clock_calls(tree)]

    assert impure + clock == []


@pytest.mark.parametrize("path", modules("conversations"), ids=lambda p: p.stem)
def test_architecture_conversations_uses_only_stdlib_pydantic_and_yaml(path: Path) -> None:
    foreign = [
        f"{where(path, line)} imports {name}"
        for name, line in imported(parse(path))
        if name not in sys.stdlib_module_names
        and name not in CONVERSATIONS_MAY_USE
        and name not in {".", "__future__"}
    ]

    assert foreign == []


@pytest.mark.parametrize("path", modules("storage"), ids=lambda p: p.stem)
def test_architecture_storage_knows_no_telegram_or_bot(path: Path) -> None:
    wrong = [
        f"{where(path, line)} imports {name}"
        for name, line in imported(parse(path))
        if name in {"telegram", "bot"}
    ]

    assert wrong == []


def test_architecture_scan_sees_a_forbidden_import_and_a_clock_call() -> None:
    tree = ast.parse(
        "import time\nfrom telegram.ext import Application\nimport os.path\n"
        "from . import engine\nfrom datetime import datetime\n"
        "stamp = datetime.now()\nday = datetime.date.today()\n"
    )

    assert imported(tree) == [
        ("time", 1),
        ("telegram", 2),
        ("os", 3),
        (".", 4),
        ("datetime", 5),
    ]
    assert clock_calls(tree) == [("now", 6), ("today", 7)]
