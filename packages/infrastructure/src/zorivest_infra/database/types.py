"""Column types that keep money exact and time in UTC on every backend.

SQLite has no exact decimal storage (`NUMERIC` becomes REAL), so on SQLite and SQLCipher
decimals are stored as scaled 64-bit integers: `SUM` over them is integer arithmetic and
exact. PostgreSQL uses `NUMERIC(18, scale)`, the same range. See
docs/decisions/0001-exact-decimals.md.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Numeric, Text
from sqlalchemy.types import TypeDecorator, TypeEngine

from zorivest_core.domain.validation import SIGNIFICANT_DIGITS, canonical


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal with a fixed number of decimal places, stored without any rounding.

    Binding a value with more decimal places than `scale`, or one outside the 18-digit
    range, raises instead of silently rounding.
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, scale: int) -> None:
        super().__init__(precision=SIGNIFICANT_DIGITS, scale=scale, asdecimal=True)
        self.scale = scale
        self._unit = Decimal(1).scaleb(-scale)
        self._limit = Decimal(10) ** (SIGNIFICANT_DIGITS - scale)

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(SIGNIFICANT_DIGITS, self.scale, asdecimal=True))

    def _checked(self, value: Decimal | int | str) -> Decimal:
        number = value if isinstance(value, Decimal) else Decimal(value)
        if not number.is_finite() or abs(number) >= self._limit:
            raise ValueError(f"{number} is outside the exact range of NUMERIC(18, {self.scale})")
        if number != number.quantize(self._unit):
            raise ValueError(f"{number} has more than {self.scale} decimal places")
        return number

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        number = self._checked(value)
        if dialect.name == "sqlite":
            return int(number.scaleb(self.scale))
        return number

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            if isinstance(value, float):
                # Only reachable if something wrote REAL behind our back: refuse to guess.
                raise TypeError(f"inexact REAL value {value!r} found in an exact column")
            return canonical(Decimal(int(value)).scaleb(-self.scale))
        return canonical(Decimal(value))

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal


class Price(ExactDecimal):
    """Prices and quantities: 10 decimal places."""

    cache_ok = True

    def __init__(self) -> None:
        super().__init__(10)


class Money(ExactDecimal):
    """Money amounts and percentages: 6 decimal places."""

    cache_ok = True

    def __init__(self) -> None:
        super().__init__(6)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out; naive datetimes are refused.

    PostgreSQL stores `timestamptz`; SQLite stores the UTC wall time as ISO text, whose
    lexical order is chronological order (what the time indexes rely on).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: times must be aware")
        in_utc = value.astimezone(dt.UTC)
        return in_utc.replace(tzinfo=None) if dialect.name == "sqlite" else in_utc

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)  # noqa: S101 - the driver contract
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)

    @property
    def python_type(self) -> type[dt.datetime]:
        return dt.datetime


def _json_default(value: object) -> str:
    if isinstance(value, Decimal):
        if not value.is_finite():  # would otherwise be written as the string "NaN"
            raise ValueError(f"{value} is not a finite number")
        return format(value, "f")
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


class JSONText(TypeDecorator[Any]):
    """A JSON document in a TEXT column (the seed's choice), portable to every backend.

    Decimals are written as strings so nothing passes through a binary float (so they read
    back as `str`; entity JSON fields refuse Decimals for that reason). NaN and infinities,
    float or Decimal, at any depth, and lone surrogates are refused with `ValueError`.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        text = json.dumps(value, default=_json_default, allow_nan=False, ensure_ascii=False)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            # Refused here, like NaN, rather than as a raw driver error.
            raise ValueError("JSON text contains a lone surrogate (not valid Unicode)") from None
        return text

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return json.loads(value)
