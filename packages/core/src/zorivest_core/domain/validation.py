"""Field validators shared by the entities.

Each returns the normalised value or raises `ValidationError` naming the field and the bad
value. Numbers become exact `Decimal`s within the range their column can hold exactly.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Final, TypeVar

from zorivest_core.domain.errors import ValidationError

# Scales of the exact column types: prices and quantities keep 10 decimal places, money
# amounts 6. Both fit 18 significant digits, which a signed 64-bit scaled integer holds.
PRICE_SCALE: Final = 10
MONEY_SCALE: Final = 6
SIGNIFICANT_DIGITS: Final = 18

# Every integer column is `Integer`: 32 bits on PostgreSQL (SQLite would store more).
INT32_MIN: Final = -(2**31)
INT32_MAX: Final = 2**31 - 1

# Deepest nesting of lists and mappings a JSON document may have (entities and settings).
MAX_JSON_DEPTH: Final = 64

# C0 controls, DEL and C1 controls: printed, they drive the terminal (escape sequences can
# rewrite the screen or set the clipboard). Ids and names refuse all of them; free text
# (notes, captions) keeps tab and line breaks.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_NOT_LAYOUT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

_CURRENCY = re.compile(r"[A-Z]{3}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_MAX_REPR = 60

E = TypeVar("E", bound=StrEnum)


def show(value: object) -> str:
    """A short, safe rendering of a bad value for an error message."""
    if isinstance(value, Decimal) and value.is_finite():
        # As a user writes it (-100), never Python's repr (Decimal('-100')).
        text = str(value)
        return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 3] + "..."
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # a huge int, a too deeply nested document
        text = f"<{type(value).__name__} too large to print>"
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 3] + "..."


def fail(field: str, value: object, reason: str) -> ValidationError:
    return ValidationError(f"{field}: {reason} (got {show(value)})", field=field, value=value)


def _storable(field: str, value: str, max_length: int | None, *, single_line: bool = False) -> str:
    """Text every backend can store and every terminal can show.

    UTF-8 encodable, no NUL, no control characters (`single_line`: not even tab or line
    breaks), within the column length.
    """
    if "\x00" in value:
        raise fail(field, value, "must not contain NUL characters")
    if not value.isprintable():  # printable text holds no control character: skip the search
        if single_line and _CONTROL.search(value):
            raise fail(
                field, value, "must not contain control characters (tabs, line breaks, escapes)"
            )
        if not single_line and _CONTROL_NOT_LAYOUT.search(value):
            raise fail(
                field, value, "must not contain control characters other than tab and newline"
            )
    if not value.isascii():  # ASCII always encodes; only the rest can hold a surrogate
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise fail(field, value, "must be valid Unicode (no lone surrogates)") from None
    if max_length is not None and len(value) > max_length:
        raise fail(field, value, f"must be at most {max_length} characters")
    return value


def text(field: str, value: object, *, max_length: int | None = None) -> str:
    """A required, non-blank, single-line string (an id, a name), at most `max_length`."""
    if not isinstance(value, str):
        raise fail(field, value, "must be a string")
    if not value.strip():
        raise fail(field, value, "must not be empty")
    return _storable(field, value, max_length, single_line=True)


def raw_text(field: str, value: object, *, max_length: int | None = None) -> str:
    """A required string that may be empty or blank (e.g. a setting's stored text)."""
    if not isinstance(value, str):
        raise fail(field, value, "must be a string")
    return _storable(field, value, max_length)


def optional_text(field: str, value: object, *, max_length: int | None = None) -> str | None:
    """An optional string; empty strings are kept (a cleared note is still a note)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise fail(field, value, "must be a string or None")
    return _storable(field, value, max_length)


def to_decimal(field: str, value: object) -> Decimal:
    """Convert Decimal, int, str or float (via its shortest repr) to a finite Decimal."""
    if isinstance(value, bool):
        raise fail(field, value, "must be a number, not a boolean")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise fail(field, value, "must be finite")
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise fail(field, value, "is not a number") from None
    else:
        raise fail(field, value, "must be a number")
    if not result.is_finite():
        raise fail(field, value, "must be finite")
    return result


def exact(
    field: str,
    value: object,
    *,
    scale: int,
    minimum: Decimal | None = None,
    exclusive_minimum: bool = False,
    maximum: Decimal | None = None,
) -> Decimal:
    """A Decimal with at most `scale` decimal places and 18 significant digits in all.

    Raises instead of rounding: a journal must store what the broker reported.
    """
    number = to_decimal(field, value)
    # The magnitude check comes first and uses adjusted(), which needs no arithmetic
    # context: abs() or quantize() of a huge or many-digit Decimal would raise
    # decimal.Overflow / InvalidOperation instead of a ValidationError.
    limit = Decimal(10) ** (SIGNIFICANT_DIGITS - scale)
    if not number.is_zero() and number.adjusted() >= SIGNIFICANT_DIGITS - scale:
        raise fail(field, value, f"must be smaller than {limit:,} in magnitude")
    # quantize() cannot fail here (at most 18 significant digits remain), and comparing
    # with it costs a fifth of reading the exponent through as_tuple().
    if number != number.quantize(_UNITS[scale]):
        raise fail(field, value, f"has more than {scale} decimal places")
    if minimum is not None:
        if exclusive_minimum and number <= minimum:
            raise fail(field, value, f"must be greater than {minimum}")
        if not exclusive_minimum and number < minimum:
            raise fail(field, value, f"must be at least {minimum}")
    if maximum is not None and number > maximum:
        raise fail(field, value, f"must be at most {maximum}")
    return canonical(number)


_ONE: Final = Decimal(1)
_ZERO: Final = Decimal(0)
_UNITS: Final = {scale: Decimal(1).scaleb(-scale) for scale in range(SIGNIFICANT_DIGITS + 1)}


def canonical(number: Decimal) -> Decimal:
    """One representation per value: no trailing zeros, no exponent, no negative zero.

    Every backend then hands back the Decimal it was given (1.50 -> 1.5, 1E+2 -> 100).
    """
    reduced = number.normalize()
    # An integer normalises to a positive exponent (100 -> 1E+2): write it out. Testing
    # integrality avoids as_tuple(), the slowest step of every import's validation.
    if reduced == reduced.to_integral_value():
        reduced = reduced.quantize(_ONE)
    return reduced + _ZERO


def optional_exact(
    field: str,
    value: object,
    *,
    scale: int,
    minimum: Decimal | None = None,
    exclusive_minimum: bool = False,
    maximum: Decimal | None = None,
) -> Decimal | None:
    if value is None:
        return None
    return exact(
        field,
        value,
        scale=scale,
        minimum=minimum,
        exclusive_minimum=exclusive_minimum,
        maximum=maximum,
    )


def integer(
    field: str, value: object, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(field, value, "must be an integer")
    if minimum is not None and value < minimum:
        raise fail(field, value, f"must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise fail(field, value, f"must be at most {maximum}")
    # The columns are `Integer`: SQLite would store more, PostgreSQL's int4 would not.
    if not INT32_MIN <= value <= INT32_MAX:
        raise fail(field, value, "does not fit a 32-bit integer column")
    return value


def optional_integer(
    field: str, value: object, *, minimum: int | None = None, maximum: int | None = None
) -> int | None:
    return None if value is None else integer(field, value, minimum=minimum, maximum=maximum)


def boolean(field: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise fail(field, value, "must be True or False")
    return value


def optional_boolean(field: str, value: object) -> bool | None:
    return None if value is None else boolean(field, value)


def choice(field: str, value: object, enum: type[E]) -> E:
    """An enum member, given as the member or its string value."""
    if isinstance(value, enum):
        return value
    if isinstance(value, str):
        try:
            return enum(value)
        except ValueError:
            pass
    allowed = ", ".join(member.value for member in enum)
    raise fail(field, value, f"must be one of {allowed}")


def optional_choice(field: str, value: object, enum: type[E]) -> E | None:
    return None if value is None else choice(field, value, enum)


def utc(field: str, value: object) -> dt.datetime:
    """An aware datetime converted to UTC; naive datetimes are refused, never assumed UTC."""
    if not isinstance(value, dt.datetime):
        raise fail(field, value, "must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise fail(field, value, "must be timezone-aware (naive times are never assumed UTC)")
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise fail(field, value, "is out of range once converted to UTC") from None


def optional_utc(field: str, value: object) -> dt.datetime | None:
    return None if value is None else utc(field, value)


def optional_date(field: str, value: object) -> dt.date | None:
    """A calendar date (a datetime is refused: it would carry a time and maybe a zone)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise fail(field, value, "must be a date")
    return value


def optional_currency(field: str, value: object) -> str | None:
    return None if value is None else currency(field, value)


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def currency(field: str, value: object) -> str:
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value):
        raise fail(field, value, "must be a 3-letter upper-case ISO 4217 code")
    return value


def country(field: str, value: object) -> str:
    if not isinstance(value, str) or not _COUNTRY.fullmatch(value):
        raise fail(field, value, "must be a 2-letter upper-case ISO 3166 code")
    return value


def text_list(field: str, value: object, *, non_empty: bool = False) -> list[str]:
    """A list of non-blank strings, given as a list or tuple.

    Other iterables are refused: a set has no stable order to store and a mapping would
    silently become its keys.
    """
    if not isinstance(value, list | tuple):
        raise fail(field, value, "must be a list of strings")
    items = list(value)
    for index, item in enumerate(items):
        text(f"{field}[{index}]", item)
    if non_empty and not items:
        raise fail(field, value, "must not be empty")
    return items


def optional_text_list(field: str, value: object) -> list[str] | None:
    return None if value is None else text_list(field, value)


_Path = tuple[object, ...]
# A path as a linked list, (parent, key): extending it costs O(1) at any depth.
_Link = tuple["_Link", object] | None


def _path(link: _Link) -> _Path:
    keys: list[object] = []
    while link is not None:
        link, key = link
        keys.append(key)
    return tuple(reversed(keys))


def _json_items(document: object) -> Iterator[tuple[_Link, object, bool]]:
    """`(path, item, is_key)` for every key and leaf inside a JSON-like document.

    Iterative (no RecursionError however deep) and visits each container once, so a
    cyclic document ends (json.dumps refuses it afterwards). Paths lead to the item.
    """
    seen: set[int] = set()
    stack: list[tuple[_Link, object]] = [(None, document)]
    while stack:
        link, item = stack.pop()
        if isinstance(item, Mapping | list | tuple):
            if id(item) in seen:
                continue
            seen.add(id(item))
        if isinstance(item, Mapping):
            children = list(item.items())
            for key, _ in children:
                yield (link, key), key, True
            stack.extend(((link, key), child) for key, child in reversed(children))
        elif isinstance(item, list | tuple):
            indexed = list(enumerate(item))
            stack.extend(((link, index), child) for index, child in reversed(indexed))
        else:
            yield link, item, False


def non_str_key_path(document: object) -> _Path | None:
    """The path to the first non-string mapping key at any depth, or None.

    json.dumps would silently write 1 as "1": the document would not read back equal.
    """
    for path, item, is_key in _json_items(document):
        if is_key and not isinstance(item, str):
            return _path(path)
    return None


def has_non_str_keys(document: object) -> bool:
    """Whether any mapping inside `document`, at any depth, has a non-string key."""
    return non_str_key_path(document) is not None


def json_too_deep(document: object, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether lists and mappings inside `document` nest deeper than `limit` levels.

    Iterative, so any depth is measured without a RecursionError; each container is
    visited once (a cyclic document ends).
    """
    seen: set[int] = set()
    stack: list[tuple[object, int]] = [(document, 0)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, Mapping | list | tuple) or id(item) in seen:
            continue
        seen.add(id(item))
        if depth + 1 > limit:
            return True
        children = item.values() if isinstance(item, Mapping) else item
        stack.extend((child, depth + 1) for child in children)
    return False


def refuse_deep_json(field: str, document: object) -> None:
    """Raise `ValidationError` when `document` nests deeper than `MAX_JSON_DEPTH` levels."""
    if json_too_deep(document):
        raise ValidationError(
            f"{field}: must not nest lists and objects deeper than {MAX_JSON_DEPTH} levels",
            field=field,
            value=f"<nested more than {MAX_JSON_DEPTH} levels>",
        )


def _inside(path: _Path) -> str:
    return f" (at {list(path)})" if path else ""


def json_object(field: str, value: object) -> dict[str, Any]:
    """A JSON document (a mapping with string keys at every depth) that reads back equal.

    Decimals are refused: the column would store them as strings, which read back as
    `str`. Text must be storable UTF-8 (no lone surrogates).
    """
    if not isinstance(value, Mapping):
        raise fail(field, value, "must be a mapping")
    refuse_deep_json(field, value)
    result = dict(value)
    for path, item, is_key in _json_items(result):
        if is_key and not isinstance(item, str):
            raise fail(field, item, f"keys must be strings{_inside(_path(path)[:-1])}")
        if isinstance(item, Decimal):
            raise fail(
                field,
                item,
                "must hold strings or numbers, not Decimal (it would read back as a string)"
                + _inside(_path(path)),
            )
    try:
        json.dumps(result, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except UnicodeEncodeError:
        raise fail(field, value, "must be valid Unicode (no lone surrogates)") from None
    except (TypeError, ValueError, RecursionError):
        raise fail(field, value, "must be JSON-serialisable (no NaN, no custom objects)") from None
    return result


def optional_json_object(field: str, value: object) -> dict[str, Any] | None:
    return None if value is None else json_object(field, value)


def optional_bytes(field: str, value: object) -> bytes | None:
    if value is None:
        return None
    if not isinstance(value, bytes | bytearray | memoryview):
        raise fail(field, type(value).__name__, "must be bytes")
    return bytes(value)
