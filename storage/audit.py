"""An audit log entry that travels with the privileged write it records.

A privileged write and its audit entry commit in one transaction: if either fails, neither
stands. Writes whose entry depends on what the write found (a new round's id, how many people
feedback was queued to) take a function from that result to the entry instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Audit:
    """Who did a privileged act, what it was, and when."""

    actor: str
    action: str
    detail: str
    at: datetime
