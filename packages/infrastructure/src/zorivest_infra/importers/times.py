"""Local wall-clock times from statement files, placed in their zone by that date's rules."""

from __future__ import annotations

import datetime as dt
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
