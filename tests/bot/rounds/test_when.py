"""Reading the times coordinators type, in HEARD_TIMEZONE, across the clock changes."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.rounds.when import EXPECTED, WhenError, describe, parse_when

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday, GMT


def utc(year, month, day, hour=0, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_when_now_is_the_present_instant():
    assert parse_when("now", NOW, LONDON) == NOW
    assert parse_when("  NOW ", NOW, LONDON) == NOW


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today 14:00", utc(2026, 3, 2, 14)),
        ("today 9", utc(2026, 3, 2, 9)),
        ("tomorrow", utc(2026, 3, 3, 10)),
        ("tomorrow 10:00", utc(2026, 3, 3, 10)),
        ("Tomorrow  at 9:30", utc(2026, 3, 3, 9, 30)),
        ("today 0:00", utc(2026, 3, 2, 0)),
        ("tomorrow 23:59", utc(2026, 3, 3, 23, 59)),
    ],
)
def test_when_today_and_tomorrow_are_local_times(text, expected):
    assert parse_when(text, NOW, LONDON) == expected


def test_when_tomorrow_defaults_to_ten_in_the_morning_local_time():
    summer = utc(2026, 7, 1, 12)  # BST
    assert parse_when("tomorrow", summer, LONDON) == utc(2026, 7, 2, 9)
    new_york = ZoneInfo("America/New_York")
    assert parse_when("tomorrow", NOW, new_york) == utc(2026, 3, 3, 15)


def test_when_today_is_the_local_date_not_the_utc_date():
    after_midnight_in_london = utc(2026, 7, 1, 23, 30)  # 00:30 BST on 2 July
    assert parse_when("today 14:00", after_midnight_in_london, LONDON) == utc(2026, 7, 2, 13)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01 10:00", utc(2026, 12, 1, 10)),  # GMT
        ("2026-07-01 10:00", utc(2026, 7, 1, 9)),  # BST
        ("2026-07-01", utc(2026, 7, 1, 9)),  # a day alone means 10:00
        ("2026-07-01T10:00:00", utc(2026, 7, 1, 9)),
        ("2026-07-01T10:00:00+02:00", utc(2026, 7, 1, 8)),  # an offset given is kept
        ("2026-07-01T10:00Z", utc(2026, 7, 1, 10)),
        ("2026-03-28 10:00", utc(2026, 3, 28, 10)),  # the day before the clocks go forward
        ("2026-03-30 10:00", utc(2026, 3, 30, 9)),  # the day after
        ("2026-10-24 10:00", utc(2026, 10, 24, 9)),  # the day before they go back
        ("2026-10-26 10:00", utc(2026, 10, 26, 10)),  # the day after
    ],
)
def test_when_dates_without_an_offset_are_local_time(text, expected):
    assert parse_when(text, NOW, LONDON) == expected


def test_when_an_offset_given_is_honoured():
    parsed = parse_when("2026-07-01T10:00:00+02:00", NOW, LONDON)
    assert parsed == utc(2026, 7, 1, 8)
    assert parsed.tzinfo == UTC  # every instant comes back in UTC


def test_when_a_time_the_clocks_skip_moves_forward_an_hour():
    # At 01:00 GMT on 29 March 2026 the clocks go forward to 02:00 BST: 01:30 never happens.
    parsed = parse_when("2026-03-29 01:30", NOW, LONDON)
    assert parsed == utc(2026, 3, 29, 1, 30)
    local = parsed.astimezone(LONDON)
    assert (local.hour, local.minute, local.utcoffset()) == (2, 30, timedelta(hours=1))
    assert parse_when("2026-03-29 02:30", NOW, LONDON) == parsed


def test_when_tomorrow_on_the_day_the_clocks_go_forward():
    saturday = utc(2026, 3, 28, 12)
    assert parse_when("tomorrow", saturday, LONDON) == utc(2026, 3, 29, 9)  # 10:00 BST
    assert parse_when("tomorrow 00:30", saturday, LONDON) == utc(2026, 3, 29, 0, 30)  # GMT


def test_when_a_time_that_happens_twice_means_the_first():
    # At 02:00 BST on 25 October 2026 the clocks go back to 01:00 GMT: 01:30 happens twice.
    parsed = parse_when("2026-10-25 01:30", NOW, LONDON)
    assert parsed == utc(2026, 10, 25, 0, 30)
    assert parsed.astimezone(LONDON).utcoffset() == timedelta(hours=1)
    assert parse_when("2026-10-25 02:30", NOW, LONDON) == utc(2026, 10, 25, 2, 30)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "next week",
        "tomorrow 25:00",
        "today 12:60",
        "today at",
        "2026-13-01 10:00",
        "2026-02-30 10:00",
        "31/12/2026 10:00",
        "10:00",
        "yesterday",
        "tomorrow 10am",
    ],
)
def test_when_bad_text_says_what_was_expected(text):
    with pytest.raises(WhenError) as raised:
        parse_when(text, NOW, LONDON)
    assert str(raised.value).endswith(f"expected {EXPECTED}")
    assert "\n" not in str(raised.value)


def test_when_bad_text_is_quoted_back():
    with pytest.raises(WhenError, match=r"^'next week' is not a date and time; expected"):
        parse_when("  next week ", NOW, LONDON)
    with pytest.raises(WhenError, match=r"^'tomorrow 25:00' is not a time of day; expected"):
        parse_when("tomorrow 25:00", NOW, LONDON)


def test_when_error_is_a_value_error():
    assert issubclass(WhenError, ValueError)


def test_when_describe_is_local_time():
    assert describe(utc(2026, 12, 1, 10), LONDON) == "Tue 1 Dec 2026, 10:00"
    assert describe(utc(2026, 7, 1, 9), LONDON) == "Wed 1 Jul 2026, 10:00"
    assert describe(utc(2026, 3, 29, 1, 30), LONDON) == "Sun 29 Mar 2026, 02:30"
    assert describe(utc(2026, 12, 1, 10), ZoneInfo("Asia/Tokyo")) == "Tue 1 Dec 2026, 19:00"
