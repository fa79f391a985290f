"""Time zones given by users: IANA names only, never abbreviations.

`ZoneInfo("EST")` exists and is a fixed UTC-5 offset: a trader who types `--tz EST` for New
York would see every summer trade shifted by an hour. Abbreviations and other names without
a region (`CET`, `EST5EDT`, `GMT`) are therefore refused, naming the IANA zones they may
mean. `UTC` and the explicit fixed-offset `Etc/...` zones stay accepted: whoever writes
`Etc/GMT+5` asked for a fixed offset.
"""

from __future__ import annotations

import datetime as dt
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from zorivest_core.domain.errors import ValidationError

_MEANINGS: Final[dict[str, tuple[str, ...]]] = {
    "EST": ("America/New_York", "America/Toronto", "America/Panama"),
    "EDT": ("America/New_York", "America/Toronto"),
    "ET": ("America/New_York",),
    "EST5EDT": ("America/New_York",),
    "CST": ("America/Chicago", "Asia/Shanghai", "America/Mexico_City"),
    "CDT": ("America/Chicago",),
    "CT": ("America/Chicago",),
    "CST6CDT": ("America/Chicago",),
    "MST": ("America/Denver", "America/Phoenix"),
    "MDT": ("America/Denver",),
    "MST7MDT": ("America/Denver",),
    "PST": ("America/Los_Angeles",),
    "PDT": ("America/Los_Angeles",),
    "PST8PDT": ("America/Los_Angeles",),
    "GMT": ("Europe/London", "UTC"),
    "BST": ("Europe/London",),
    "WET": ("Europe/Lisbon",),
    "CET": ("Europe/Paris", "Europe/Berlin", "Europe/Amsterdam", "Europe/Zurich"),
    "CEST": ("Europe/Paris", "Europe/Berlin", "Europe/Amsterdam", "Europe/Zurich"),
    "MET": ("Europe/Paris", "Europe/Berlin"),
    "EET": ("Europe/Athens", "Europe/Helsinki"),
    "EEST": ("Europe/Athens", "Europe/Helsinki"),
    "IST": ("Asia/Kolkata", "Europe/Dublin"),
    "JST": ("Asia/Tokyo",),
    "HKT": ("Asia/Hong_Kong",),
    "SGT": ("Asia/Singapore",),
    "AEST": ("Australia/Sydney", "Australia/Brisbane"),
    "AEDT": ("Australia/Sydney",),
}
_ACCEPTED_WITHOUT_REGION: Final = frozenset({"UTC"})


def iana_zone(name: str) -> ZoneInfo:
    """The IANA time zone `name` (`America/New_York`, `Europe/Berlin`, `UTC`).

    Raises:
        ValidationError: An abbreviation (`EST`, `CET`) or an unknown name; the message
            names the IANA zones an abbreviation may mean.
    """
    text = name.strip()
    key = text.upper()
    if key in _MEANINGS or ("/" not in text and text not in _ACCEPTED_WITHOUT_REGION):
        meanings = _MEANINGS.get(key, ())
        hint = (
            f"; it may mean {', '.join(meanings)}"
            if meanings
            else "; use a region name such as America/New_York or Europe/London"
        )
        raise ValidationError(
            f"time zone {text!r} is an abbreviation or fixed offset, not an IANA zone name "
            f"(it would ignore daylight saving time){hint}",
            field="zone",
        )
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"unknown time zone {text!r}; use an IANA name such as America/New_York or "
            "Europe/London",
            field="zone",
        ) from None


def parse_time(value: str, zone: ZoneInfo | None, *, field_name: str = "time") -> dt.datetime:
    """An ISO 8601 date-time; a naive one is placed in ``zone`` and must exist there once.

    Raises:
        ValidationError: Not ISO 8601, no time of day, naive without a zone, or a local time
            that does not exist (spring-forward gap) or is ambiguous (fall-back hour).
    """
    text = value.strip()
    if not text:
        raise ValidationError(f"{field_name}: must not be empty", field=field_name)
    if not any(separator in text for separator in ("T", "t", " ")):
        raise ValidationError(
            f"{field_name}: must be a date and a time of day (got {text!r})", field=field_name
        )
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"{field_name}: is not an ISO 8601 date-time (got {text!r})", field=field_name
        ) from None
    if parsed.tzinfo is not None and parsed.utcoffset() is not None:
        return _to_utc(parsed, text, field_name)
    if zone is None:
        raise ValidationError(
            f"{field_name}: {text!r} has no UTC offset; add one (such as -05:00 or Z) or give "
            "the file's time zone with --tz (it is never assumed to be UTC)",
            field=field_name,
        )
    return localize(parsed, zone, field_name=field_name)


def localize(naive: dt.datetime, zone: ZoneInfo, *, field_name: str = "time") -> dt.datetime:
    """Place a naive wall-clock time in ``zone`` and return it in UTC, refusing guesses."""
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    first_utc = _to_utc(first, naive.isoformat(), field_name)
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


def _to_utc(moment: dt.datetime, shown: str, field_name: str) -> dt.datetime:
    """``moment`` in UTC; a ValidationError (not OverflowError) near year 1 or 9999."""
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        raise ValidationError(
            f"{field_name}: {shown!r} is out of range once converted to UTC (before year 1 "
            "or after year 9999)",
            field=field_name,
        ) from None
