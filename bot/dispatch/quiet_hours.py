"""Quiet hours: the local times at which no proactive message is sent.

Pure: no clock reads and no I/O; callers pass the instant and the zone.

Quiet hours are a span of local wall-clock time, start included and end excluded, that may
cross midnight ("21:00-09:00"). An instant is quiet when the local clock shows a time in the
span. `QuietHours.next_allowed` returns the first instant, at or after the one given, at which
the local clock shows a time outside it. Around clock changes that means:

- If the clock skips the end time (it springs forward past it), quiet hours end at the clock
  change: the first valid instant after the skipped time.
- If the clock shows the end time twice (it falls back over it), quiet hours end at the first
  occurrence that is not before the given instant; usually the first of the two.
- If the clock falls back out of the span before reaching its end (only possible for a span
  that starts within an hour of a clock change), quiet hours end at the clock change, because
  the clock then shows a time outside the span.

Every zone is assumed to change its clocks at most a few times a day, which tzdata confirms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_QUIET_HOURS = "21:00-09:00"
EXPECTED = "expected a time span like 21:00-09:00, or empty to send at any hour"

_SPAN = re.compile(r"([0-9]{1,2}):([0-9]{2})\s*[-–]\s*([0-9]{1,2}):([0-9]{2})")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
# Clock changes crossed while looking for the end of one quiet span; tzdata has at most two.
_MOST_CLOCK_CHANGES = 4


@dataclass(frozen=True)
class QuietHours:
    """A span of local time, start included and end excluded, in which nothing is sent."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError(f"quiet hours must not start and end at the same time; {EXPECTED}")

    @classmethod
    def parse(cls, text: str | None) -> QuietHours | None:
        """Read a setting such as "21:00-09:00"; return None for empty (send at any hour)."""
        if text is None or not text.strip():
            return None
        found = _SPAN.fullmatch(text.strip())
        if found is None:
            raise ValueError(f"{EXPECTED}; got {text!r}")
        start_hour, start_minute, end_hour, end_minute = (int(part) for part in found.groups())
        if max(start_hour, end_hour) > 23 or max(start_minute, end_minute) > 59:
            raise ValueError(f"{EXPECTED} (hours 00-23, minutes 00-59); got {text!r}")
        return cls(time(start_hour, start_minute), time(end_hour, end_minute))

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def is_quiet(self, when: datetime, zone: ZoneInfo) -> bool:
        """Tell whether the local clock in the zone shows a quiet time at this instant."""
        return self._covers(_aware(when).astimezone(zone).time())

    def next_allowed(self, when: datetime, zone: ZoneInfo) -> datetime:
        """Return the first instant (UTC) at or after `when` that is outside quiet hours."""
        moment = _aware(when).astimezone(UTC)
        for _ in range(_MOST_CLOCK_CHANGES + 1):
            local = moment.astimezone(zone)
            if not self._covers(local.time()):
                return moment
            offset = _offset(moment, zone)
            # Where the span ends if the clock keeps its present offset until then.
            end = (datetime.combine(self._end_date(local), self.end) - offset).replace(tzinfo=UTC)
            if _offset(end, zone) == offset:
                return end
            # The clock changes first: carry on from the change, which may already be allowed.
            moment = _clock_change(moment, end, zone)
        raise AssertionError(f"no end to quiet hours {self} after {when} in {zone}")

    def _covers(self, wall: time) -> bool:
        """Tell whether a local wall-clock time lies in the span."""
        if self.start < self.end:
            return self.start <= wall < self.end
        return wall >= self.start or wall < self.end

    def _end_date(self, local: datetime) -> date:
        """Return the local date on which the quiet span around `local` ends."""
        if self.start > self.end and local.time() >= self.start:
            return local.date() + timedelta(days=1)
        return local.date()


def _aware(when: datetime) -> datetime:
    """Refuse a naive datetime, whose zone would be guessed from the machine."""
    if when.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime; got {when!r}")
    return when


def _offset(moment: datetime, zone: ZoneInfo) -> timedelta:
    """Return the zone's offset from UTC at an instant."""
    offset = moment.astimezone(zone).utcoffset()
    assert offset is not None  # a ZoneInfo always has one
    return offset


def _clock_change(after: datetime, until: datetime, zone: ZoneInfo) -> datetime:
    """Return the clock change in (after, until], given the offsets at the two differ."""
    # tzdata changes clocks on whole seconds, so search whole seconds since the epoch.
    before = _offset(after, zone)
    low = (after - _EPOCH) // _SECOND
    high = -((_EPOCH - until) // _SECOND)
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(_EPOCH + middle * _SECOND, zone) == before:
            low = middle
        else:
            high = middle
    return _EPOCH + high * _SECOND
