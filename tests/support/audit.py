"""Audit entries for tests that call the repository's privileged writes directly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from storage.audit import Audit


def entry(at: datetime, action: str = "test") -> Audit:
    """Return an audit entry for a privileged write made by a test."""
    return Audit("test", action, "", at)


def entry_from(at: datetime, action: str = "test") -> Callable[[object], Audit]:
    """Return the function a write that audits its own result calls for its entry."""
    return lambda result: Audit("test", action, str(result), at)
