"""Wall-clock times placed in their zone: the per-hour shortcut equals the full rules."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from zorivest_core.domain.errors import ValidationError
from zorivest_infra.importers.times import localize, localize_cached


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        ("America/New_York", dt.date(2024, 3, 10)),
        ("America/New_York", dt.date(2024, 11, 3)),
        ("Europe/London", dt.date(2024, 3, 31)),
        ("Europe/London", dt.date(2024, 10, 27)),
        ("Australia/Lord_Howe", dt.date(2024, 4, 7)),  # a 30-minute fold at 02:00
        ("Australia/Lord_Howe", dt.date(2024, 10, 6)),  # a 30-minute gap at 02:00
        ("Asia/Kolkata", dt.date(2024, 3, 10)),
    ],
)
def test_the_cached_offset_equals_the_zone_rules_all_day(zone: str, day: dt.date) -> None:
    tz = ZoneInfo(zone)
    start = dt.datetime.combine(day, dt.time())
    for minutes in range(0, 24 * 60, 7):
        naive = start + dt.timedelta(minutes=minutes, seconds=minutes % 60)
        try:
            expected: dt.datetime | str = localize(naive, tz)
        except ValidationError as error:
            expected = str(error)
        try:
            got: dt.datetime | str = localize_cached(naive, tz)
        except ValidationError as error:
            got = str(error)
        assert got == expected, naive
