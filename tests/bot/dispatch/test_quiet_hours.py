"""Quiet hours: parsing the setting, quiet or not, and when sending may resume."""

from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.dispatch.quiet_hours import DEFAULT_QUIET_HOURS, QuietHours

LONDON = ZoneInfo("Europe/London")
HAVANA = ZoneInfo("America/Havana")
NIGHTS = QuietHours(time(21), time(9))
LUNCH = QuietHours(time(13), time(14))


def utc(year, month, day, hour=0, minute=0, second=0):
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def london(year, month, day, hour=0, minute=0, second=0, microsecond=0, fold=0):
    return datetime(year, month, day, hour, minute, second, microsecond, LONDON, fold=fold)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("21:00-09:00", NIGHTS),
        (DEFAULT_QUIET_HOURS, NIGHTS),
        ("13:00-14:00", LUNCH),
        (" 9:30 - 17:45 ", QuietHours(time(9, 30), time(17, 45))),
        ("21:00–09:00", NIGHTS),
        ("00:00-23:59", QuietHours(time(0), time(23, 59))),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_quiet_hours_parse_reads_spans(text, expected):
    assert QuietHours.parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "21-09",
        "21:00",
        "21:00-",
        "9pm-9am",
        "21:00-09:00-10:00",
        "24:00-09:00",
        "21:60-09:00",
        "21:00/09:00",
        "21:0-09:00",
        "٢١:٠٠-٠٩:٠٠",
    ],
)
def test_quiet_hours_parse_refuses_malformed_text(text):
    with pytest.raises(ValueError, match=r"expected a time span like 21:00-09:00, or empty"):
        QuietHours.parse(text)


def test_quiet_hours_parse_refuses_a_zero_length_span():
    with pytest.raises(ValueError, match="same time"):
        QuietHours.parse("09:00-09:00")


def test_quiet_hours_str_round_trips():
    assert str(NIGHTS) == "21:00-09:00"
    assert QuietHours.parse(str(LUNCH)) == LUNCH


@pytest.mark.parametrize(
    ("span", "when", "quiet"),
    [
        (NIGHTS, london(2026, 1, 15, 20, 59, 59), False),
        (NIGHTS, london(2026, 1, 15, 21, 0), True),
        (NIGHTS, london(2026, 1, 15, 23, 30), True),
        (NIGHTS, london(2026, 1, 16, 0, 0), True),
        (NIGHTS, london(2026, 1, 16, 8, 59, 59, 999999), True),
        (NIGHTS, london(2026, 1, 16, 9, 0), False),
        (NIGHTS, london(2026, 1, 16, 12, 0), False),
        # 20:30 UTC is 21:30 BST in July: quiet in London, though not by the UTC clock.
        (NIGHTS, utc(2026, 7, 1, 20, 30), True),
        (NIGHTS, utc(2026, 7, 1, 8, 30), False),
        (LUNCH, london(2026, 1, 15, 12, 59), False),
        (LUNCH, london(2026, 1, 15, 13, 0), True),
        (LUNCH, london(2026, 1, 15, 13, 59), True),
        (LUNCH, london(2026, 1, 15, 14, 0), False),
        (LUNCH, london(2026, 1, 15, 23, 0), False),
    ],
)
def test_quiet_hours_is_quiet_uses_local_wall_clock(span, when, quiet):
    assert span.is_quiet(when, LONDON) is quiet


@pytest.mark.parametrize(
    ("span", "when", "expected"),
    [
        # Outside quiet hours: the instant itself, in UTC.
        (NIGHTS, london(2026, 1, 15, 12, 0), utc(2026, 1, 15, 12, 0)),
        (NIGHTS, london(2026, 1, 16, 9, 0), utc(2026, 1, 16, 9, 0)),
        # Inside: 09:00 local on the right day.
        (NIGHTS, london(2026, 1, 15, 21, 0), utc(2026, 1, 16, 9, 0)),
        (NIGHTS, london(2026, 1, 15, 23, 59), utc(2026, 1, 16, 9, 0)),
        (NIGHTS, london(2026, 1, 16, 3, 0), utc(2026, 1, 16, 9, 0)),
        (NIGHTS, london(2026, 7, 1, 22, 0), utc(2026, 7, 2, 8, 0)),
        (NIGHTS, london(2026, 12, 31, 22, 0), utc(2027, 1, 1, 9, 0)),
        # A span within one day.
        (LUNCH, london(2026, 7, 1, 13, 15), utc(2026, 7, 1, 13, 0)),
        (LUNCH, london(2026, 7, 1, 14, 0), utc(2026, 7, 1, 13, 0)),
        (LUNCH, london(2026, 7, 1, 9, 0), utc(2026, 7, 1, 8, 0)),
        # Spring forward, 2026-03-29 01:00 UTC: 09:00 is BST, 08:00 UTC.
        (NIGHTS, utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 8, 0)),
        (NIGHTS, utc(2026, 3, 28, 21, 30), utc(2026, 3, 29, 8, 0)),
        (NIGHTS, utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 8, 0)),
        (NIGHTS, utc(2026, 3, 29, 7, 59), utc(2026, 3, 29, 8, 0)),
        (NIGHTS, utc(2026, 3, 29, 8, 0), utc(2026, 3, 29, 8, 0)),
        # Fall back, 2026-10-25 01:00 UTC: 09:00 is GMT, 09:00 UTC.
        (NIGHTS, utc(2026, 10, 25, 8, 30), utc(2026, 10, 25, 9, 0)),
        (NIGHTS, utc(2026, 10, 24, 20, 30), utc(2026, 10, 25, 9, 0)),
        (NIGHTS, utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 9, 0)),
        (NIGHTS, utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 9, 0)),
        (NIGHTS, utc(2026, 10, 24, 19, 59), utc(2026, 10, 24, 19, 59)),
        # Whatever zone `when` carries, the answer is the same instant.
        (
            NIGHTS,
            datetime(2026, 3, 29, 2, 0, tzinfo=timezone(timedelta(hours=2))),
            utc(2026, 3, 29, 8, 0),
        ),
    ],
)
def test_quiet_hours_next_allowed_in_london(span, when, expected):
    result = span.next_allowed(when, LONDON)
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("when", "expected_local"),
    [
        (utc(2026, 3, 29, 0, 30), datetime(2026, 3, 29, 9, 0)),
        (utc(2026, 10, 25, 8, 30), datetime(2026, 10, 25, 9, 0)),
        (utc(2026, 3, 28, 23, 0), datetime(2026, 3, 29, 9, 0)),
        (utc(2026, 10, 24, 23, 0), datetime(2026, 10, 25, 9, 0)),
        (utc(2027, 3, 28, 0, 59), datetime(2027, 3, 28, 9, 0)),
        (utc(2027, 10, 31, 1, 0), datetime(2027, 10, 31, 9, 0)),
    ],
)
def test_quiet_hours_next_allowed_is_nine_local_on_clock_change_days(when, expected_local):
    result = NIGHTS.next_allowed(when, LONDON)
    assert result.astimezone(LONDON).replace(tzinfo=None) == expected_local


@pytest.mark.parametrize(
    ("span", "zone", "when", "expected"),
    [
        # London skips 01:00-02:00 on 2026-03-29; quiet until 01:30 ends at the change.
        (
            QuietHours(time(21), time(1, 30)),
            LONDON,
            utc(2026, 3, 28, 23, 0),
            utc(2026, 3, 29, 1, 0),
        ),
        (
            QuietHours(time(0, 30), time(1, 0)),
            LONDON,
            utc(2026, 3, 29, 0, 45),
            utc(2026, 3, 29, 1, 0),
        ),
        # Havana skips 00:00-01:00 on 2026-03-08 (05:00 UTC); 00:30 never happens that night.
        (QuietHours(time(21), time(0, 30)), HAVANA, utc(2026, 3, 8, 3, 0), utc(2026, 3, 8, 5, 0)),
        (QuietHours(time(23), time(0, 0)), HAVANA, utc(2026, 3, 8, 4, 30), utc(2026, 3, 8, 5, 0)),
    ],
)
def test_quiet_hours_next_allowed_ends_at_a_clock_change_that_skips_the_end(
    span, zone, when, expected
):
    assert span.next_allowed(when, zone) == expected
    assert not span.is_quiet(expected, zone)
    assert span.is_quiet(expected - timedelta(microseconds=1), zone)


@pytest.mark.parametrize(
    ("span", "zone", "when", "expected"),
    [
        # London shows 01:00-02:00 twice on 2026-10-25: the first 01:30 (BST) is used...
        (
            QuietHours(time(21), time(1, 30)),
            LONDON,
            utc(2026, 10, 24, 22, 0),
            utc(2026, 10, 25, 0, 30),
        ),
        # ...unless it has passed: at 01:10 GMT, the second 01:30 is the next one.
        (
            QuietHours(time(21), time(1, 30)),
            LONDON,
            london(2026, 10, 25, 1, 10, fold=1),
            utc(2026, 10, 25, 1, 30),
        ),
        # Havana shows 00:00-01:00 twice on 2026-11-01 (from 05:00 UTC).
        (
            QuietHours(time(21), time(0, 30)),
            HAVANA,
            utc(2026, 11, 1, 2, 0),
            utc(2026, 11, 1, 4, 30),
        ),
        # A span starting inside the repeated hour: the clock falls back out of it at 01:00 UTC.
        (
            QuietHours(time(1, 30), time(3)),
            LONDON,
            utc(2026, 10, 25, 0, 40),
            utc(2026, 10, 25, 1, 0),
        ),
    ],
)
def test_quiet_hours_next_allowed_in_a_repeated_hour_is_the_first_occurrence_not_past(
    span, zone, when, expected
):
    assert span.next_allowed(when, zone) == expected
    assert not span.is_quiet(expected, zone)


def test_quiet_hours_refuse_naive_datetimes():
    with pytest.raises(ValueError, match="timezone-aware"):
        NIGHTS.next_allowed(datetime(2026, 1, 1, 22, 0), LONDON)
    with pytest.raises(ValueError, match="timezone-aware"):
        NIGHTS.is_quiet(datetime(2026, 1, 1, 22, 0), LONDON)


ZONES = [
    "Europe/London",
    "Europe/Dublin",
    "America/Havana",
    "America/New_York",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Asia/Kolkata",
    "UTC",
]
minutes_of_day = st.integers(0, 24 * 60 - 1).map(lambda minute: time(*divmod(minute, 60)))
spans = (
    st.tuples(minutes_of_day, minutes_of_day)
    .filter(lambda pair: pair[0] != pair[1])
    .map(lambda pair: QuietHours(*pair))
)


def clock_changes(zone, years=range(2026, 2031)):
    """Return the hours (UTC) in which the zone's offset changes, found by stepping an hour."""
    tz = ZoneInfo(zone)
    hour = utc(years.start, 1, 1)
    changes = []
    while hour.year < years.stop:
        following = hour + timedelta(hours=1)
        if hour.astimezone(tz).utcoffset() != following.astimezone(tz).utcoffset():
            changes.append(following)
        hour = following
    return changes


CLOCK_CHANGES = {zone: clock_changes(zone) or [utc(2026, 6, 1)] for zone in ZONES}
anywhere = st.datetimes(datetime(2026, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC))


def near_clock_changes(zone):
    """Return a strategy for instants within 30 hours of one of the zone's clock changes."""
    return st.builds(
        lambda change, seconds: change + timedelta(seconds=seconds),
        st.sampled_from(CLOCK_CHANGES[zone]),
        st.floats(-30 * 3600, 30 * 3600).map(lambda seconds: round(seconds, 6)),
    )


def allowed_hours(span):
    """Return how long the local clock spends outside the span each day."""
    start, end = (moment.hour * 60 + moment.minute for moment in (span.start, span.end))
    return timedelta(minutes=(start - end) % (24 * 60))


def test_clock_changes_are_found_where_tzdata_puts_them():
    assert CLOCK_CHANGES["Europe/London"][:2] == [utc(2026, 3, 29, 1), utc(2026, 10, 25, 1)]
    assert CLOCK_CHANGES["America/Havana"][:2] == [utc(2026, 3, 8, 5), utc(2026, 11, 1, 5)]


@settings(max_examples=1000, deadline=None)
@given(span=spans, zone=st.sampled_from(ZONES), shown_in=st.sampled_from(ZONES), data=st.data())
def test_quiet_hours_next_allowed_is_the_first_allowed_instant(span, zone, shown_in, data):
    tz = ZoneInfo(zone)
    moment = data.draw(st.one_of(anywhere, near_clock_changes(zone)), label="moment")
    when = moment.astimezone(ZoneInfo(shown_in))
    result = span.next_allowed(when, tz)
    assert result.tzinfo is UTC
    # A clock change can swallow an allowed window shorter than itself, and so add a day.
    longest = timedelta(hours=25 if allowed_hours(span) >= timedelta(hours=1) else 49)
    assert moment <= result <= moment + longest
    assert not span.is_quiet(result, tz)
    assert span.next_allowed(result, tz) == result
    if result > moment:
        assert span.is_quiet(when, tz)
        assert span.is_quiet(result - timedelta(microseconds=1), tz)
        assert span.is_quiet(moment + (result - moment) / 2, tz)
    else:
        assert not span.is_quiet(when, tz)
