"""The layers keep to their imports: `conversations` stays pure, `storage` knows no Telegram.

And Heard uses only the public API of every library, the standard one included.
"""

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
# Heard's own top-level packages: any other import is a library's.
OWN = {"bot", "conversations", "storage", "benchmarks", "tests"}
# The code that may touch no library's private attributes (tests may look inside Heard's own).
PUBLIC_API_ONLY = ("bot", "conversations", "storage", "benchmarks")


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


def library_names(tree: ast.AST) -> set[str]:
    """Return the names a module binds by importing a library (`import x as y`: y)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] not in OWN:
                    names.add(alias.asname or alias.name.split(".")[0])
        elif (
            isinstance(node, ast.ImportFrom)
            and not node.level
            and (node.module or "").split(".")[0] not in OWN | {"__future__"}
        ):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def root_name(node: ast.expr) -> str | None:
    """Return the name an attribute chain starts from (`a` in `a.b().c[0]`)."""
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def library_privates(tree: ast.AST) -> list[tuple[str, int]]:
    """Return reads of a library's private attributes, as far as the text alone shows them.

    That is `._name` on anything reached from an imported library (`argparse._Action`,
    `aiosqlite.connect(p)._conn`), and on what an object keeps in a private attribute of its
    own (`self._db._conn`): Heard's objects keep libraries' objects there, and reach them
    through their public methods only. What a local variable holds the text cannot tell.
    """
    libraries = library_names(tree)
    return [
        (ast.unparse(node), node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and private(node.attr)
        and (
            root_name(node.value) in libraries
            or (isinstance(node.value, ast.Attribute) and private(node.value.attr))
        )
    ]


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


@pytest.mark.parametrize(
    "path",
    [path for package in PUBLIC_API_ONLY for path in modules(package)],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_architecture_no_private_attribute_of_a_library(path: Path) -> None:
    wrong = [
        f"{where(path, line)} reads {expression}"
        for expression, line in library_privates(parse(path))
    ]

    assert wrong == []


def test_architecture_scan_sees_a_librarys_private_attributes() -> None:
    tree = ast.parse(
        "import argparse\nimport aiosqlite as sql\nfrom queue import Queue\n"
        "from storage import sqlite_base\n"
        "def f(s: argparse._SubParsersAction) -> None: ...\n"
        "sql.connect(':memory:')._conn\n"
        "Queue()._put\n"
        "self._db._execute(work, self._db._conn)\n"
        "self._lock, self.book._zip, sqlite_base._fetch, os.__name__, local._private\n"
    )

    assert sorted(library_privates(tree), key=lambda found: found[1]) == [
        ("argparse._SubParsersAction", 5),
        ("sql.connect(':memory:')._conn", 6),
        ("Queue()._put", 7),
        ("self._db._execute", 8),
        ("self._db._conn", 8),
    ]


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
