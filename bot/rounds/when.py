"""Read the times coordinators type: "now", "tomorrow 10:00", "2026-12-01 10:00", ISO 8601.

Pure: the present instant and the zone are arguments. A time written without an offset is
local time in the zone given (HEARD_TIMEZONE), correct across clock changes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

EXPECTED = 'a date and time like 2026-12-01 10:00, or "now", "today 14:00" or "tomorrow 10:00"'
_RELATIVE = re.compile(r"(today|tomorrow)(?:\s+(?:at\s+)?([0-9]{1,2})(?::([0-9]{2}))?)?")
_DAY_ONLY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DEFAULT_HOUR = 10


class WhenError(ValueError):
    """A time a person typed could not be read; the message says what was expected."""


def parse_when(text: str, now: datetime, zone: ZoneInfo) -> datetime:
    """Return the instant a person meant, as an aware datetime."""
    words = " ".join(text.strip().lower().split())
    if not words:
        raise WhenError(f"expected {EXPECTED}")
    if words == "now":
        return now
    relative = _RELATIVE.fullmatch(words)
    if relative is not None:
        day = now.astimezone(zone).date()
        if relative.group(1) == "tomorrow":
            day += timedelta(days=1)
        hour = int(relative.group(2)) if relative.group(2) else DEFAULT_HOUR
        minute = int(relative.group(3)) if relative.group(3) else 0
        if hour > 23 or minute > 59:
            raise WhenError(f"{text.strip()!r} is not a time of day; expected {EXPECTED}")
        return _local(datetime.combine(day, time(hour, minute)), zone)
    if _DAY_ONLY.fullmatch(words):
        words += f" {DEFAULT_HOUR:02d}:00"
    try:
        parsed = datetime.fromisoformat(words.upper().replace(" ", "T", 1))
    except ValueError:
        raise WhenError(f"{text.strip()!r} is not a date and time; expected {EXPECTED}") from None
    if parsed.utcoffset() is None:
        return _local(parsed, zone)
    return parsed.astimezone(UTC)


def _local(wall: datetime, zone: ZoneInfo) -> datetime:
    """Return the instant (UTC) a wall-clock time in the zone names.

    A time the clocks skip (spring forward) counts with the offset before the change, so it
    lands just after it; a time shown twice (autumn) is its first showing.
    """
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def describe(when: datetime, zone: ZoneInfo) -> str:
    """Return an instant as local time a person reads easily, such as "Tue 1 Dec 2026, 10:00"."""
    local = when.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M}"
