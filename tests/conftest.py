"""Command-line options for the whole test suite."""

from __future__ import annotations

import os

import pytest

# Opt in to python-telegram-bot's timedelta values now, as `heard` does, so no warning fires.
os.environ.setdefault("PTB_TIMEDELTA", "1")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite golden transcript files from the current output instead of comparing",
    )
