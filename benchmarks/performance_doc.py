"""Write a benchmark's figures into docs/performance.md, between its own markers only.

A benchmark owns the lines between `<!-- NAME:begin -->` and `<!-- NAME:end -->`. On a re-run
only those lines are replaced; the prose around them and every other section stay as they are.
If the markers are not there yet, a new section with them is added at the end of the file.
"""

from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "performance.md"


def write_block(name: str, heading: str, body: str, doc: Path = DOC) -> None:
    """Put `body` between the benchmark's markers, adding a section if it has none yet."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = f"{begin}\n{body.rstrip()}\n{end}"
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Performance\n"
    if begin in text and end in text and text.index(begin) < text.index(end):
        before, rest = text.split(begin, 1)
        after = rest.split(end, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip("\n") + f"\n\n{heading}\n\n{block}\n"
    doc.write_text(text, encoding="utf-8")
