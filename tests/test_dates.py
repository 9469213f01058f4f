"""Dates and times as people read them: US English, whatever the server's locale."""

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.partnership import clock, readable_clock, readable_day, readable_time, short_day

CHICAGO = ZoneInfo("America/Chicago")


@pytest.mark.parametrize(
    ("at", "zone", "expected"),
    [
        ("2026-04-14T15:00:00+00:00", CHICAGO, "Tuesday, April 14, 2026, 10:00 AM CDT"),
        ("2026-05-01T20:05:00+00:00", CHICAGO, "Friday, May 1, 2026, 3:05 PM CDT"),
        ("2026-12-02T18:00:00+00:00", CHICAGO, "Wednesday, December 2, 2026, 12:00 PM CST"),
        ("2026-12-02T06:00:00+00:00", CHICAGO, "Wednesday, December 2, 2026, 12:00 AM CST"),
        ("2026-12-02T00:59:00+00:00", UTC, "Wednesday, December 2, 2026, 12:59 AM UTC"),
        ("2026-04-14T23:30:00+00:00", UTC, "Tuesday, April 14, 2026, 11:30 PM UTC"),
        # the day is the zone's: 03:30 UTC is still the evening before in Chicago
        ("2026-04-15T03:30:00+00:00", CHICAGO, "Tuesday, April 14, 2026, 10:30 PM CDT"),
        (datetime(2026, 1, 5, 9, 7, tzinfo=UTC), UTC, "Monday, January 5, 2026, 9:07 AM UTC"),
    ],
)
def test_readable_time_is_written_the_us_way(at, zone, expected):
    assert readable_time(at, zone) == expected


def test_readable_time_can_leave_the_zone_to_the_text_around_it():
    at = "2026-05-01T14:00:00+00:00"
    assert readable_time(at, CHICAGO, abbreviation=False) == "Friday, May 1, 2026, 9:00 AM"
    assert readable_clock(at, CHICAGO) == "9:00 AM CDT"


@pytest.mark.parametrize(
    ("at", "day", "short"),
    [
        ("2026-05-01T15:00:00+00:00", "Friday, May 1, 2026", "May 1, 2026"),
        ("2026-04-14T15:00:00+00:00", "Tuesday, April 14, 2026", "Apr 14, 2026"),
        ("2026-12-02T06:00:00+00:00", "Wednesday, December 2, 2026", "Dec 2, 2026"),
        ("2026-09-09T12:00:00+00:00", "Wednesday, September 9, 2026", "Sep 9, 2026"),
        ("2027-01-01T05:59:00+00:00", "Thursday, December 31, 2026", "Dec 31, 2026"),
    ],
)
def test_days_in_prose_and_in_tables(at, day, short):
    assert readable_day(at, CHICAGO) == day
    assert short_day(at, CHICAGO) == short


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (time(0, 0), "12:00 AM"),
        (time(0, 30), "12:30 AM"),
        (time(9, 0), "9:00 AM"),
        (time(11, 59), "11:59 AM"),
        (time(12, 0), "12:00 PM"),
        (time(13, 0), "1:00 PM"),
        (time(15, 5), "3:05 PM"),
        (time(23, 59), "11:59 PM"),
    ],
)
def test_clock_is_12_hour_without_a_leading_zero(at, expected):
    assert clock(at) == expected
