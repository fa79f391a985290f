"""Column types that keep money exact and time in UTC on every backend.

SQLite has no exact decimal storage (`NUMERIC` becomes REAL), so on SQLite and SQLCipher
decimals are stored as scaled 64-bit integers: `SUM` over them is integer arithmetic and
exact. PostgreSQL uses `NUMERIC(18, scale)`, the same range. See
docs/decisions/0001-exact-decimals.md.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from decimal import Context, Decimal, DivisionByZero, Inexact, InvalidOperation
from itertools import repeat
from operator import add
from typing import Any, Final

from sqlalchemy import BigInteger, DateTime, Dialect, Numeric, Text
from sqlalchemy.types import TypeDecorator, TypeEngine

from zorivest_core.domain.validation import SIGNIFICANT_DIGITS, canonical, decimal_text

_EXACT: Final = Context(prec=28, traps=[Inexact, InvalidOperation, DivisionByZero])
"""Arithmetic context of the decoders, independent of the thread's current context: 28
digits hold any 64-bit scaled integer, and a rounded result would raise, never pass."""


ColumnDecoder = Callable[[Iterable[Any]], list[Any]]
"""Decodes a whole result column in one call (`ExactDecimal.column_decoder`)."""


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

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        # Same conversion as process_bind_param, without its per-value dialect test: this
        # runs once per decimal of every stored row. A finite Decimal that scales to an
        # integer within range is taken directly; anything else goes through `_checked`,
        # which raises the precise error.
        checked, scale = self._checked, self.scale
        bound = int(self._limit.scaleb(scale))

        def to_scaled_integer(value: Any) -> Any:
            if value is None:
                return None
            if type(value) is Decimal and value.is_finite():
                scaled = value.scaleb(scale)
                whole = int(scaled)
                if whole == scaled and -bound < whole < bound:
                    return whole
            return int(checked(value).scaleb(scale))

        return to_scaled_integer

    def trusted_bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """The bind conversion for values an entity has validated (scale and range).

        The same stored value as `bind_processor` gives (a test checks it over the whole
        range), without re-checking: for bulk paths that bind entities' fields only.
        """
        if dialect.name != "sqlite":
            return self.bind_processor(dialect)
        multiply, unit = _EXACT.multiply, Decimal(10) ** self.scale

        def to_scaled_integer(value: Any) -> Any:
            return None if value is None else int(multiply(value, unit))

        return to_scaled_integer

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        convert, divide, unit = self.process_result_value, _EXACT.divide, Decimal(10) ** self.scale

        def from_scaled_integer(value: Any) -> Any:
            if type(value) is not int:  # None, or REAL written behind our back (refused)
                return None if value is None else convert(value, dialect)
            # The canonical Decimal (`canonical`) in one C call: an exact quotient takes
            # the exponent closest to the ideal 0 (no trailing zeros, no positive
            # exponent, never -0). This runs for every decimal of every row read.
            return divide(value, unit)

        return from_scaled_integer

    def column_decoder(self, dialect: Dialect) -> ColumnDecoder | None:
        """`result_processor` for a whole result column at once, looped in C (SQLite).

        Raises TypeError if the column holds a NULL or a REAL: the caller then decodes it
        value by value with `result_processor`, which reads NULL and refuses REAL by name.
        """
        if dialect.name != "sqlite":
            return None
        divide, unit = _EXACT.divide, Decimal(10) ** self.scale

        def decode_column(values: Iterable[Any]) -> list[Any]:
            return list(map(divide, values, repeat(unit)))

        return decode_column

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

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        # SQLite stores the UTC wall time as "YYYY-MM-DD HH:MM:SS.ffffff", the text
        # SQLAlchemy's SQLite DATETIME writes, formatted here in one call.
        check, utc = self.process_bind_param, dt.UTC

        def to_text(value: Any) -> str | None:
            if type(value) is dt.datetime and value.tzinfo is utc:  # entities hold UTC
                return value.isoformat(" ", "microseconds")[:26]  # without "+00:00"
            in_utc = check(value, dialect)
            return None if in_utc is None else in_utc.isoformat(" ", "microseconds")

        return to_text

    def trusted_bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """The bind conversion for times an entity has validated (aware, in UTC)."""
        if dialect.name != "sqlite":
            return self.bind_processor(dialect)

        def to_text(value: Any) -> str | None:
            return None if value is None else value.isoformat(" ", "microseconds")[:26]

        return to_text

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        parse, utc = dt.datetime.fromisoformat, dt.UTC

        def from_text(value: Any) -> dt.datetime | None:
            if value is None:
                return None
            try:
                # Parsing the offset is several times cheaper than `replace(tzinfo=...)`
                # on the parsed time, and "+00:00" parses to the `dt.UTC` singleton.
                return parse(value + "+00:00")
            except ValueError:  # text written with an offset of its own
                return parse(value).replace(tzinfo=utc)

        return from_text

    def column_decoder(self, dialect: Dialect) -> ColumnDecoder | None:
        """`result_processor` for a whole result column at once, looped in C (SQLite).

        Raises TypeError on a NULL and ValueError on a text with an offset of its own: the
        caller then decodes that column value by value with `result_processor`.
        """
        if dialect.name != "sqlite":
            return None
        parse = dt.datetime.fromisoformat

        def decode_column(values: Iterable[Any]) -> list[Any]:
            return list(map(parse, map(add, values, repeat("+00:00"))))

        return decode_column

    @property
    def python_type(self) -> type[dt.datetime]:
        return dt.datetime


def _json_default(value: object) -> str:
    if isinstance(value, Decimal):
        return decimal_text(value)  # never the string "NaN"
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
