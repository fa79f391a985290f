"""The row codec: how a table's values are stored, defined once, by the column types.

The column types (`ExactDecimal`, `UTCDateTime`, ...) are the one codec of every table:
reads go through SQLAlchemy, which applies their result conversion per column (compiled
and cached per statement). `RowCodec` exposes their bind conversion for the bulk paths
that work in the driver's own values: `save_many` encodes a chunk once with it, compares
it with stored rows read without conversion, and inserts the new ones with one
`executemany` through `Connection.exec_driver_sql` (seen by engine events like any other
statement). Nothing here restates how a value is stored.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Column, Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

Converter = Callable[[Any], Any]
T = TypeVar("T")


def _identity(value: Any) -> Any:
    return value


def _bind_processor(column: Column[Any], dialect: Dialect, *, trusted: bool) -> Converter | None:
    impl = column.type.dialect_impl(dialect)
    trusted_processor = getattr(impl, "trusted_bind_processor", None) if trusted else None
    if trusted_processor is not None:
        found: Converter | None = trusted_processor(dialect)
        return found
    return impl.bind_processor(dialect)


class RowCodec:
    """Encodes rows of `columns` (in that order) into the values the driver binds.

    Args:
        columns: Table columns, in the order rows are given.
        dialect: The dialect whose storage the driver values follow.
        trusted: The values come from validated entities: use the column types'
            `trusted_bind_processor` where they have one (the same stored values, without
            re-checking scale, range or time zone).
        leave: Names of columns `encode` and `encode_columns` leave as given (the caller
            converts them later, with `encode_one`, where it needs the driver's value).
    """

    __slots__ = ("_binds", "_converting", "names")

    def __init__(
        self,
        columns: Sequence[Column[Any]],
        dialect: Dialect,
        *,
        trusted: bool = False,
        leave: Collection[str] = (),
    ) -> None:
        self.names = tuple(column.name for column in columns)
        binds = (_bind_processor(column, dialect, trusted=trusted) for column in columns)
        self._binds = tuple(_identity if bind is None else bind for bind in binds)
        # Only the columns whose type converts anything are touched per row.
        self._converting = tuple(
            (index, bind)
            for index, bind in enumerate(self._binds)
            if bind is not _identity and self.names[index] not in leave
        )

    def encode(self, values: Sequence[Any]) -> tuple[Any, ...]:
        """Column values -> the values the driver binds (what the column types would bind)."""
        encoded = list(values)
        for index, convert in self._converting:
            encoded[index] = convert(encoded[index])
        return tuple(encoded)

    def encode_columns(self, columns: Sequence[Iterable[Any]]) -> list[tuple[Any, ...]]:
        """`encode` for many rows given column by column; returns the encoded rows.

        Each conversion is mapped over its whole column (the loop runs in C), which is
        what makes a bulk import's encoding cheap; the columns must be equally long.
        """
        converted = list(columns)
        for index, convert in self._converting:
            converted[index] = map(convert, converted[index])
        return list(zip(*converted, strict=True))

    def encode_one(self, name: str, value: Any) -> Any:
        """One column's value as the driver binds it (e.g. a time bound in a WHERE)."""
        return self.converter(name)(value)

    def converter(self, name: str) -> Converter:
        """One column's conversion to the driver's value (also for a `leave` column)."""
        return self._binds[self.names.index(name)]


@dataclass(frozen=True, slots=True)
class CompiledStatement:
    """A statement compiled once for a dialect, run with `Connection.exec_driver_sql`.

    Attributes:
        sql: The SQL text in the driver's parameter style.
        order: For a positional driver, the bind names in placeholder order; else None.
        fixed: Values the statement binds itself (e.g. SQLite's ``OFFSET 0``).
        bind_converters: For each bind whose type converts values, its conversion to the
            driver's value (`parameters` leaves values as given: the caller applies these
            where it binds Python values rather than driver values).
    """

    sql: str
    order: tuple[str, ...] | None
    fixed: Mapping[str, Any]
    bind_converters: Mapping[str, Converter]

    @classmethod
    def of(cls, statement: ClauseElement, dialect: Dialect) -> CompiledStatement:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)  # noqa: S101 - a statement, not DDL
        order = tuple(compiled.positiontup or ()) if dialect.positional else None
        fixed = {name: value for name, value in compiled.params.items() if value is not None}
        converters = {
            name: convert
            for name, bind in compiled.binds.items()
            if (convert := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }
        return cls(compiled.string, order, fixed, converters)

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...] | Mapping[str, Any]:
        """The driver's parameters for named values."""
        merged = {**self.fixed, **values} if self.fixed else values
        if self.order is None:
            return merged
        return tuple([merged[name] for name in self.order])


class PerDialect(Generic[T]):
    """Builds a value once per dialect (weakly keyed: a disposed engine's dialect goes)."""

    def __init__(self, build: Callable[[Dialect], T]) -> None:
        self._build = build
        self._cache: weakref.WeakKeyDictionary[Dialect, T] = weakref.WeakKeyDictionary()

    def __call__(self, dialect: Dialect) -> T:
        found = self._cache.get(dialect)
        if found is None:
            found = self._cache[dialect] = self._build(dialect)
        return found
