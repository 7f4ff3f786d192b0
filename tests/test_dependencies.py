"""Every dependency has an upper bound, and constraints.txt pins all that an install brings."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
CONSTRAINTS = ROOT / "constraints.txt"
# The operators that stop a newer major (or minor, for 0.x) version coming in unasked.
UPPER = {"<", "<=", "==", "~=", "==="}


def declared() -> list[Requirement]:
    """Return the runtime requirements and those of every extra, as pyproject.toml has them."""
    lines = list(PROJECT["dependencies"])
    for extra in PROJECT["optional-dependencies"].values():
        lines += extra
    return [Requirement(line) for line in lines]


def pins(text: str) -> dict[NormalizedName, Version]:
    """Return the name==version lines of a constraints file (comments and blanks left out)."""
    found = {}
    for line in text.splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep, f"not name==version: {line!r}"
        assert name.strip(), f"no name: {line!r}"
        assert version.strip(), f"no version: {line!r}"
        found[canonicalize_name(name.strip())] = Version(version.strip())
    return found


def applies(marker: Marker | None, extras: set[str]) -> bool:
    if marker is None:
        return True
    return any(marker.evaluate({"extra": extra}) for extra in extras | {""})


def pulled_in(root: str, extras: set[str]) -> set[NormalizedName]:
    """Return every installed distribution an install of `root[extras]` needs, `root` not."""
    wanted: dict[NormalizedName, set[str]] = {}
    todo = [(canonicalize_name(root), extras)]
    while todo:  # ends: each name is walked again only with an extra it was not walked with
        name, with_extras = todo.pop()
        if name in wanted and with_extras <= wanted[name]:
            continue
        known = wanted.setdefault(name, set())
        known |= with_extras
        for line in metadata.requires(name) or []:
            requirement = Requirement(line)
            if applies(requirement.marker, known):
                todo.append((canonicalize_name(requirement.name), set(requirement.extras)))
    return set(wanted) - {canonicalize_name(root)}


def unbounded(requirements: list[Requirement]) -> list[str]:
    return [str(r) for r in requirements if not any(s.operator in UPPER for s in r.specifier)]


def test_dependencies_every_one_has_an_upper_bound() -> None:
    assert declared()
    assert unbounded(declared()) == []


def test_dependencies_the_bound_check_sees_an_unbounded_one() -> None:
    requirements = [Requirement(r) for r in ("a>=1,<2", "b>=1", "c", "d~=1.4", "e[x]>=0.2")]

    assert unbounded(requirements) == ["b>=1", "c", "e[x]>=0.2"]


def test_dependencies_constraints_pin_every_one_within_its_bounds() -> None:
    pinned = pins(CONSTRAINTS.read_text(encoding="utf-8"))
    wrong = []
    for requirement in declared():
        version = pinned.get(canonicalize_name(requirement.name))
        if version is None:
            wrong.append(f"{requirement.name} is not pinned")
        elif not requirement.specifier.contains(version, prereleases=True):
            wrong.append(f"{requirement.name}=={version} is outside {requirement.specifier}")

    assert wrong == []


def test_dependencies_constraints_pin_every_package_an_install_brings_and_no_other() -> None:
    pinned = set(pins(CONSTRAINTS.read_text(encoding="utf-8")))
    needed = pulled_in("heard", set(PROJECT["optional-dependencies"]))

    assert sorted(needed - pinned) == []  # refresh constraints.txt (README.md says how)
    assert sorted(pinned - needed) == []  # pinned, but nothing needs it any more


def test_dependencies_constraints_lines_are_read_as_pins() -> None:
    text = "# made by scripts/refresh-constraints\n\nPyYAML==6.0.4\npydantic_core==2.5 # note\n"

    assert pins(text) == {"pyyaml": Version("6.0.4"), "pydantic-core": Version("2.5")}
