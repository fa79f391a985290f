"""Cell values as brokers write them: amounts, dates, times. Exact, and strict.

Every number is parsed from the file's text into a Decimal (never through a float). A
thousands separator is accepted only between groups of three digits, so `1,5` in a file
with decimal points is an error, never fifteen. Messages quote the cell as written.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal, InvalidOperation
from typing import Final
from zoneinfo import ZoneInfo

from zorivest_core.domain.errors import ValidationError
from zorivest_core.domain.zones import localize

_CURRENCY_SIGNS: Final = "$€£¥"
_GROUPED: Final = {
    ".": re.compile(r"\d{1,3}(?:[, '\u00a0]\d{3})+(?:\.\d+)?|\d+(?:\.\d*)?|\.\d+"),
    ",": re.compile(r"\d{1,3}(?:[. '\u00a0]\d{3})+(?:,\d+)?|\d+(?:,\d*)?|,\d+"),
}


def number(text: str, field: str, *, decimal: str = ".") -> Decimal:
    """`text` as an exact Decimal: `1234.5`, `$1,234.50`, `-$1,234.50`, `($12.00)`, `1.234,5`.

    Args:
        text: The cell as written.
        field: The column's name, for the message.
        decimal: The decimal separator, `.` or `,`.

    Raises:
        ValidationError: Empty, or not a number with that decimal separator.
    """
    written = text.strip()
    if not written:
        raise ValidationError(f"{field}: must not be empty", field=field)
    body = written
    negative = False
    if body.startswith("(") and body.endswith(")"):
        negative, body = True, body[1:-1].strip()
    if body[:1] in "+-":
        negative, body = negative or body[0] == "-", body[1:].strip()
    body = body.strip(_CURRENCY_SIGNS).strip()
    if body[:1] in "+-" and not negative:  # `$-12.00`
        negative, body = body[0] == "-", body[1:].strip()
    if body.endswith("-"):  # `12.00-`, some ledgers
        negative, body = True, body[:-1].strip()
    pattern = _GROUPED[decimal]
    if not pattern.fullmatch(body):
        hint = ""
        other = "," if decimal == "." else "."
        if _GROUPED[other].fullmatch(body):
            hint = f" (written with {other!r} as decimal separator?)"
        raise ValidationError(
            f"{field}: {written!r} is not a number with {decimal!r} as decimal separator{hint}",
            field=field,
        )
    digits = re.sub(r"[ '\u00a0" + ("," if decimal == "." else ".") + "]", "", body)
    if decimal == ",":
        digits = digits.replace(",", ".")
    try:
        value = Decimal(digits)
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        raise ValidationError(f"{field}: {written!r} is not a number", field=field) from None
    return -value if negative else value


def optional_number(text: str, field: str, *, decimal: str = ".") -> Decimal | None:
    """A number, or None for an empty cell."""
    return None if not text.strip() else number(text, field, decimal=decimal)


def positive(value: Decimal, written: str, field: str) -> Decimal:
    """`value` itself when it is above zero; the message quotes the cell as written."""
    if value <= 0:
        raise ValidationError(f"{field}: must be greater than 0 (got {written.strip()})")
    return value


def non_negative(value: Decimal, written: str, field: str) -> Decimal:
    """`value` itself when it is not below zero; the message quotes the cell as written."""
    if value < 0:
        raise ValidationError(f"{field}: must not be negative (got {written.strip()})")
    return value


def unsigned_quantity(text: str, field: str) -> Decimal:
    """A quantity whose sign some brokers use for the side: its absolute value, above 0."""
    return positive(abs(number(text, field)), text, field)


def price(text: str, field: str, *, decimal: str = ".") -> Decimal:
    """A price: a number, never negative."""
    return non_negative(number(text, field, decimal=decimal), text, field)


def date(text: str, field: str, *, form: str, shown: str) -> dt.date:
    """A date in the strptime `form` (e.g. `%m/%d/%Y`, shown to users as MM/DD/YYYY)."""
    written = text.strip()
    parsed = _date(written, form)
    if parsed is None:
        raise ValidationError(
            f"{field}: {written!r} is not a date in the form {shown}", field=field
        )
    return parsed


@functools.lru_cache(maxsize=4096)
def _date(written: str, form: str) -> dt.date | None:
    # Statements repeat the same few dates on many rows; strptime is slow.
    try:
        # A calendar date: no zone applies.
        return dt.datetime.strptime(written, form).date()  # noqa: DTZ007
    except ValueError:
        return None


@functools.lru_cache(maxsize=4096)
def _midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return localize(dt.datetime.combine(day, dt.time()), zone, field_name="date")


def start_of_day(day: dt.date, zone: ZoneInfo, field: str) -> dt.datetime:
    """00:00 of `day` in `zone`, in UTC (formats that give a date and no time)."""
    try:
        return _midnight(day, zone)
    except ValidationError as error:  # midnight skipped by a DST change (a few zones)
        raise ValidationError(str(error).replace("date:", f"{field}:", 1), field=field) from None


def wall_time(text: str, field: str, *, form: str, shown: str) -> dt.datetime:
    """A naive date-time in the strptime `form`."""
    written = text.strip()
    try:
        # Naive on purpose: the caller places it in the file's zone (in_zone).
        return dt.datetime.strptime(written, form)  # noqa: DTZ007
    except ValueError:
        raise ValidationError(
            f"{field}: {written!r} is not a date and time in the form {shown}", field=field
        ) from None


def in_zone(naive: dt.datetime, zone: ZoneInfo, field: str) -> dt.datetime:
    """A wall-clock time placed in `zone` with that date's rules, in UTC (no guesses)."""
    return localize(naive, zone, field_name=field)
