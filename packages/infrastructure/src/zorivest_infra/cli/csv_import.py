"""The --tz option of the CLI: an IANA zone name, or a one-line usage error.

The CSV reading that lived here is the `generic` importer now
(`zorivest_infra.importers.generic`); times are placed in zones by
`zorivest_core.domain.zones`.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from zorivest_core.domain.errors import ValidationError
from zorivest_core.domain.zones import iana_zone
from zorivest_infra.cli.errors import CliError, ExitCode


def zone_from_name(name: str | None) -> ZoneInfo | None:
    """The IANA time zone ``name`` (e.g. ``Europe/London``), or None when not given.

    Abbreviations such as ``EST`` or ``CET`` are refused, naming the IANA zones they may
    mean: they are fixed offsets that would shift every summer trade by an hour.
    """
    if name is None:
        return None
    try:
        return iana_zone(name)
    except ValidationError as error:
        raise CliError(str(error), ExitCode.USAGE) from None
