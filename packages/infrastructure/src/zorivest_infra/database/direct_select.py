"""Hot SELECTs that SQLite runs on the driver's own connection when nobody observes them.

SQLAlchemy's work per executed statement (cache key, execution context, result set-up)
costs ~23 us on this machine, three times the primary-key lookup it wraps (7 us in
sqlcipher3; docs/performance.md has the profile). For the few reads a trader's listing or
a lookup repeats thousands of times, `DirectSelect` skips that work, and only it:

* The statement is an ordinary typed Core `Select`, compiled once per dialect. Bound values
  are converted by the bind parameters' types and result rows by the selected columns'
  types: the column types stay the one codec, whichever path runs.
* The direct path is taken only on SQLite and only while no execute or cursor event
  listener is registered for the connection (engine, class or connection level) and
  SQLAlchemy does not log the connection's statements (``echo``). A listener registered
  at any time sees every statement, because the statement then runs through
  `Connection.execute` like any other; so does the log.
* A driver error on the direct path is never raised from there: the read runs again
  through SQLAlchemy, which raises it as it raises every error (translated by the
  engine's `handle_error`, and seen by those listeners). A read is safe to repeat.
* It runs in the connection's current transaction, which the caller has begun (the
  repositories' `_connection()` does), so it sees exactly what `Connection.execute` would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, Select

from zorivest_infra.database.row_codec import CompiledStatement, Converter, PerDialect
from zorivest_infra.database.types import ColumnDecoder

__all__ = ["Columns", "DirectSelect", "driver_rows", "observed"]


def observed(connection: Connection) -> bool:
    """Whether statements on `connection` are watched: logged by SQLAlchemy (``echo`` or
    the ``sqlalchemy.engine`` logger at INFO, as SQLAlchemy itself decides it per
    connection) or seen by an execute or cursor event listener."""
    if connection._echo:  # the flag SQLAlchemy's own statement logging reads
        return True
    dispatch = connection.dispatch
    return bool(
        dispatch.before_execute
        or dispatch.after_execute
        or dispatch.before_cursor_execute
        or dispatch.after_cursor_execute
    )


Columns = tuple[int, list[Iterable[Any]]]
"""A result column by column: the number of rows, and one iterable of values per column."""


@dataclass(frozen=True, slots=True)
class _Result:
    """How one result column is decoded: value by value, and, where its type offers it, a
    whole column in one call (looped in C)."""

    index: int
    per_value: Converter
    whole_column: ColumnDecoder | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    statement: CompiledStatement
    binds: Mapping[str, Converter]
    results: tuple[_Result, ...]

    def decode_row(self, row: Sequence[Any]) -> Sequence[Any]:
        if not self.results:
            return row
        values = list(row)
        for result in self.results:
            values[result.index] = result.per_value(values[result.index])
        return values

    def decode_columns(self, rows: list[Any]) -> Columns:
        if not rows:
            return 0, []
        count = len(rows)
        columns: list[Any] = list(zip(*rows, strict=True))
        for result in self.results:
            column = columns[result.index]
            if column.count(None) == count:
                continue  # all NULL (a stock's option details): NULL decodes to None
            if result.whole_column is not None:
                try:
                    columns[result.index] = result.whole_column(column)
                    continue
                except (TypeError, ValueError):
                    pass  # some NULL (or an odd stored value): decode value by value
            columns[result.index] = map(result.per_value, column)
        return count, columns


def _compile(statement: Select[Any], dialect: Dialect) -> _Compiled:
    compiled = CompiledStatement.of(statement, dialect)
    results: list[_Result] = []
    for index, column in enumerate(statement.selected_columns):
        # SQLite reports no column types (description type codes are None), as here.
        convert = column.type.dialect_impl(dialect).result_processor(dialect, None)
        if convert is not None:
            offered = getattr(column.type, "column_decoder", None)
            whole: ColumnDecoder | None = None if offered is None else offered(dialect)
            results.append(_Result(index, convert, whole))
    return _Compiled(compiled, compiled.bind_converters, tuple(results))


class DirectSelect:
    """A typed SELECT, run directly on SQLite's driver when nothing observes statements.

    Args:
        statement: The SELECT. Its values come back as the column types decode them, on
            every path and backend.
    """

    __slots__ = ("_compiled", "statement")

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        build: Callable[[Dialect], _Compiled] = lambda dialect: _compile(statement, dialect)  # noqa: E731
        self._compiled = PerDialect(build)

    def first(self, connection: Connection, values: Mapping[str, Any]) -> Sequence[Any] | None:
        """The first row (for a lookup by key), or None."""
        found = self._direct(connection, values)
        if found is not None:
            rows, compiled = found
            return compiled.decode_row(rows[0]) if rows else None
        return connection.execute(self.statement, values).first()

    def columns(self, connection: Connection, values: Mapping[str, Any]) -> Columns:
        """Every row, column by column (for listings: the cheapest form to build from)."""
        found = self._direct(connection, values)
        if found is not None:
            rows, compiled = found
            return compiled.decode_columns(rows)
        typed = connection.execute(self.statement, values).all()
        return len(typed), list(zip(*typed, strict=True))

    def _direct(
        self, connection: Connection, values: Mapping[str, Any]
    ) -> tuple[list[Any], _Compiled] | None:
        """The driver's rows from the direct path, or None where it does not apply."""
        dialect = connection.dialect
        if dialect.name != "sqlite" or observed(connection):
            return None
        compiled = self._compiled(dialect)
        parameters = compiled.statement.parameters(_encoded(values, compiled.binds))
        rows = _driver_fetch(connection, compiled.statement.sql, parameters)
        return None if rows is None else (rows, compiled)


def driver_rows(connection: Connection, sql: str, parameters: Any) -> list[Sequence[Any]]:
    """The rows of a SELECT already in the driver's SQL and parameter style, as the driver
    returns them (no conversion): directly on SQLite while nothing observes statements,
    else through `exec_driver_sql` (seen by listeners, errors raised as SQLAlchemy does)."""
    if connection.dialect.name == "sqlite" and not observed(connection):
        rows = _driver_fetch(connection, sql, parameters)
        if rows is not None:
            return rows
    return list(connection.exec_driver_sql(sql, parameters).fetchall())


def _driver_fetch(connection: Connection, sql: str, parameters: Any) -> list[Any] | None:
    """Every row from the driver's own connection; None if the driver raised (the caller
    runs the read again through SQLAlchemy, which raises it like every error)."""
    driver: Any = connection.connection.driver_connection
    try:
        rows: list[Any] = driver.execute(sql, parameters).fetchall()
    except connection.dialect.loaded_dbapi.Error:
        return None
    return rows


def _encoded(values: Mapping[str, Any], binds: Mapping[str, Converter]) -> Mapping[str, Any]:
    if not binds:
        return values
    return {
        name: (binds[name](value) if name in binds else value) for name, value in values.items()
    }
