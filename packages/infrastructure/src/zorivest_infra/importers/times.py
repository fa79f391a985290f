"""Local wall-clock times from statement files, placed in their zone by that date's rules."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

from zorivest_core.domain.errors import ValidationError


def localize(naive: dt.datetime, zone: ZoneInfo, *, field_name: str = "time") -> dt.datetime:
    """Place a naive wall-clock time in `zone` and return it in UTC, refusing guesses.

    Raises:
        ValidationError: The time does not exist in the zone (spring-forward gap), happened
            twice (fall-back hour), or is out of range once converted to UTC.
    """
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    try:
        first_utc = first.astimezone(dt.UTC)
    except OverflowError:
        raise ValidationError(
            f"{field_name}: {naive.isoformat()!r} is out of range once converted to UTC "
            "(before year 1 or after year 9999)",
            field=field_name,
        ) from None
    if first_utc.astimezone(zone).replace(tzinfo=None) != naive:
        raise ValidationError(
            f"{field_name}: {naive.isoformat()} does not exist in {zone.key} (the clocks "
            "went forward); give the time with its UTC offset",
            field=field_name,
        )
    if first.utcoffset() != second.utcoffset():
        raise ValidationError(
            f"{field_name}: {naive.isoformat()} happened twice in {zone.key} (the clocks "
            "went back); give the time with its UTC offset",
            field=field_name,
        )
    return first_utc


_HOUR: Final = dt.timedelta(hours=1)


def localize_cached(naive: dt.datetime, zone: ZoneInfo, *, field_name: str = "time") -> dt.datetime:
    """`localize`, with the zone's offset looked up once per wall-clock hour.

    Statements hold many fills per hour; placing each in its zone was a tenth of an
    import. The shortcut is taken only when the whole hour has one offset: its first and
    last microsecond both exist, once, with the same offset (no transition can then fall
    inside it). Hours with a gap or a fold, including half-hour shifts such as Lord
    Howe's, are placed time by time, with `localize`'s refusals.
    """
    offset = _hour_offset(naive.replace(minute=0, second=0, microsecond=0), zone)
    if offset is None:
        return localize(naive, zone, field_name=field_name)
    return (naive - offset).replace(tzinfo=dt.UTC)


@lru_cache(maxsize=4096)
def _hour_offset(hour: dt.datetime, zone: ZoneInfo) -> dt.timedelta | None:
    try:
        end = hour + _HOUR - dt.timedelta(microseconds=1)
        first = localize(hour, zone)
        last = localize(end, zone)
    except (ValidationError, OverflowError):
        return None
    start_offset = hour - first.replace(tzinfo=None)
    end_offset = end - last.replace(tzinfo=None)
    return start_offset if start_offset == end_offset else None
