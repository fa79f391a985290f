"""The --tz, --since and --until options of the CLI: zones and times, or a usage error.

The CSV reading that lived here is the `generic` importer now
(`zorivest_infra.importers.generic`); times are placed in zones by
`zorivest_core.domain.zones`.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from zorivest_core.domain import zones
from zorivest_core.domain.errors import ValidationError
from zorivest_infra.cli.errors import CliError, ExitCode


def zone_from_name(name: str | None) -> ZoneInfo | None:
    """The IANA time zone ``name`` (e.g. ``Europe/London``), or None when not given.

    Abbreviations such as ``EST`` or ``CET`` are refused, naming the IANA zones they may
    mean: they are fixed offsets that would shift every summer trade by an hour.
    """
    if name is None:
        return None
    try:
        return zones.iana_zone(name)
    except ValidationError as error:
        raise CliError(str(error), ExitCode.USAGE) from None


def since_until(
    since: str | None, until: str | None, zone: ZoneInfo | None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The --since and --until values as the lower (inclusive) and upper (exclusive) times."""
    return _bound(since, zone, "--since", upper=False), _bound(until, zone, "--until", upper=True)


def _bound(
    value: str | None, zone: ZoneInfo | None, option: str, *, upper: bool
) -> dt.datetime | None:
    """A --since/--until value: a date-time with offset, or a date/naive time with --tz."""
    if value is None:
        return None
    text = value.strip()
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        day = None
    try:
        if day is None:
            return zones.parse_time(text, zone, field_name=option)
        if zone is None:
            raise CliError(
                f"{option} {text} has no time zone: write {text}T00:00Z or add --tz ZONE",
                ExitCode.USAGE,
            )
        if upper and day == dt.date.max:
            raise CliError(
                f"{option}: {text!r} is out of range (its day ends after the last "
                "representable time); give an earlier date or a date-time",
                ExitCode.USAGE,
            )
        # A date means the whole day: --until 2024-03-31 includes March 31st (the
        # repository's upper bound is exclusive, so it is the next midnight).
        start = dt.datetime.combine(day + dt.timedelta(days=1) if upper else day, dt.time())
        return zones.localize(start, zone, field_name=option)
    except ValidationError as error:
        raise CliError(str(error), ExitCode.USAGE) from None
