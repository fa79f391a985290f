"""Local wall-clock times from statement files, placed in their zone by that date's rules.

`localize` itself is `zorivest_core.domain.zones.localize` (one implementation); this
module adds the per-hour cache that imports of many fills use.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

from zorivest_core.domain.errors import ValidationError
from zorivest_core.domain.zones import localize

__all__ = ["localize", "localize_cached"]


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
