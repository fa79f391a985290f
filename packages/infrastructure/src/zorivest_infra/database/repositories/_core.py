"""A generic Core repository for the simple aggregates: one table, one key, one entity.

A simple repository states its table, entity, key column, the noun used in messages and
what its row mapping does differently; `CoreRepository` supplies the mapping and the
statements. The public methods stay on each repository, so their names and parameters
are the port's, and each is one line.

* **Mapping** (`RowMapper`): an entity field and a column of the same name hold the same
  value. A write stores every such column (an enum member as its value, never a
  generated key); a read builds the entity from the selected columns, so the entity's
  validation runs as for any new one. `null_reads_default` names the columns in which a
  NULL (or empty text), as older journals and other tools leave them, reads as the
  field's default. A repository overrides `_to_row` / `_from_row` only for what differs.
* **Statements**: insert under the entity's key (`_save`) or a generated id
  (`_save_new`, `_save_new_many`), an atomic upsert (`_upsert`), get by key (`_get`) or
  by a condition (`_find`), `_exists`, update of the whole row (`_update`, optionally
  stamping `updated_at`) or of some columns (`_set`), delete by key (`_delete`), listing
  (`_list`, by key unless ordered) and counting (`_count`). Writes run under `_atomic`;
  a write's dependants (a watchlist's items, an owner's images) run in the same
  savepoint through `then`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    Table,
    bindparam,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.sql.elements import KeyedColumnElement

from zorivest_core.domain import validation as v
from zorivest_infra.database.repositories._base import (
    SqlAlchemyRepository,
    chunked,
    dialect_insert,
    not_found,
    utc_now,
)

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["CoreRepository", "RowMapper", "half_open"]

E = TypeVar("E", bound="DataclassInstance")
K = TypeVar("K", str, int)

_INSERT_CHUNK: Final = 1000
"""Rows per multi-row INSERT of `_save_new_many` (far below every parameter limit)."""


def _stored(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _default_of(field: dataclasses.Field[Any]) -> Callable[[], Any]:
    if field.default is not dataclasses.MISSING:
        default = field.default
        return lambda: default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory
    raise TypeError(f"field {field.name!r} has no default for a NULL to read as")


class RowMapper(Generic[E]):
    """Maps an entity dataclass to and from rows of a table by same-named fields/columns.

    Args:
        entity: The entity dataclass (its constructor validates what is read).
        table: The table written to.
        selected: The columns reads select, in this order (labels allowed); by default
            every column of `table`.
        generated: A key column the database generates, never written.
        null_reads_default: Columns whose NULL (or empty text) reads as the field's default.

    Attributes:
        written: The columns a write stores, in table order.
        selected: The columns a row given to `from_row` holds, in that order.
    """

    __slots__ = ("_null_defaults", "_read", "entity", "selected", "written")

    def __init__(
        self,
        entity: type[E],
        table: Table,
        *,
        selected: Sequence[KeyedColumnElement[Any]] | None = None,
        generated: str | None = None,
        null_reads_default: Iterable[str] = (),
    ) -> None:
        fields = {field.name: field for field in dataclasses.fields(entity)}
        self.entity = entity
        self.selected: tuple[KeyedColumnElement[Any], ...] = tuple(
            table.columns if selected is None else selected
        )
        self.written = tuple(
            column.key
            for column in table.columns
            if column.key in fields and column.key != generated
        )
        self._read = tuple(
            (column.key, index)
            for index, column in enumerate(self.selected)
            if column.key in fields
        )
        read = {name for name, _ in self._read}
        defaulted = tuple(null_reads_default)
        if not read.issuperset(defaulted):
            raise TypeError(f"null_reads_default names a field that is not read: {defaulted}")
        self._null_defaults = tuple((name, _default_of(fields[name])) for name in defaulted)

    def to_row(self, entity: E) -> dict[str, Any]:
        """The values of the `written` columns."""
        return {name: _stored(getattr(entity, name)) for name in self.written}

    def from_row(self, row: Sequence[Any], /, **given: Any) -> E:
        """The entity in a row of `selected` values; `given` fields are set as given."""
        values = {name: row[index] for name, index in self._read}
        for name, default in self._null_defaults:
            if values[name] is None or values[name] == "":
                values[name] = default()
        values.update(given)
        return self.entity(**values)


def half_open(
    column: ColumnElement[dt.datetime], since: dt.datetime | None, until: dt.datetime | None
) -> list[ColumnElement[bool]]:
    """Conditions for `column` in `[since, until)`; None leaves that end open.

    Raises:
        ValidationError: `since` or `until` is naive.
    """
    conditions: list[ColumnElement[bool]] = []
    if since is not None:
        conditions.append(column >= v.utc("since", since))
    if until is not None:
        conditions.append(column < v.utc("until", until))
    return conditions


class CoreRepository(SqlAlchemyRepository, Generic[E, K]):
    """Mapping and statements of one table keyed by one column.

    Class attributes (stated by each repository):
        table: The Core table.
        entity: The entity dataclass a row holds.
        key: The name of the key column (for a generated key, "id": the entity's `id`).
        noun: What a row is called in messages ("broker config").
        generated_key: The key is an integer id the database generates (`_save_new`).
        stamps_updated_at: `_update` sets `updated_at` to the current time.
        null_reads_default: Columns whose NULL reads as the entity field's default.
        selected: The columns reads select (default: every column of `table`).

    Built for each repository class: `rows`, its `RowMapper`.
    """

    __slots__ = ()

    table: ClassVar[Table]
    entity: type[E]
    key: ClassVar[str]
    noun: ClassVar[str]
    generated_key: ClassVar[bool] = False
    stamps_updated_at: ClassVar[bool] = False
    null_reads_default: ClassVar[tuple[str, ...]] = ()
    selected: ClassVar[tuple[KeyedColumnElement[Any], ...] | None] = None
    # Any, not E: a ClassVar cannot be generic; `_to_row` and `_from_row` are typed.
    rows: ClassVar[RowMapper[Any]]
    _select: ClassVar[Select[Any]]
    _by_key: ClassVar[Select[Any]]
    _key_exists: ClassVar[Select[Any]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.rows = RowMapper(
            cls.entity,
            cls.table,
            selected=cls.selected,
            generated=cls.key if cls.generated_key else None,
            null_reads_default=cls.null_reads_default,
        )
        cls._select = select(*cls.rows.selected)
        # Built once, compiled once (SQLAlchemy caches it): a lookup by key is the hot read.
        is_key = cls.table.c[cls.key] == bindparam("key")
        cls._by_key = cls._select.where(is_key)
        cls._key_exists = select(exists().where(is_key))

    def _to_row(self, entity: E) -> dict[str, Any]:
        """The entity's column values (without a generated key)."""
        return self.rows.to_row(entity)

    def _from_row(self, row: Row[Any], /, **given: Any) -> E:
        """The entity in a row of the `selected` columns (`given` fields as given)."""
        entity: E = self.rows.from_row(row, **given)
        return entity

    def _key_of(self, entity: E) -> K | None:
        key: K | None = getattr(entity, self.key)
        return key

    def _equal(self, **values: object) -> list[ColumnElement[bool]]:
        """`column == value` for each value that is not None (None: any value)."""
        return [self.table.c[name] == value for name, value in values.items() if value is not None]

    def _save(self, entity: E, /, **columns: Any) -> None:
        """Insert a new row under the entity's own key, with `columns` not in the entity.

        Raises:
            DuplicateError, ConflictError: As the database says (a savepoint keeps the
                caller's transaction usable).
        """
        with self._atomic(f"saving {self.noun} {self._key_of(entity)!r}") as connection:
            connection.execute(insert(self.table).values({**self._to_row(entity), **columns}))

    def _save_new(
        self, entity: E, *, then: Callable[[Connection, int], object] | None = None
    ) -> int:
        """Insert a new row whose integer key the database generates; return that key.

        Args:
            entity: The new entity (without an id).
            then: Writes its dependants, given the new key, in the same savepoint.

        Raises:
            ValidationError: The entity already has an id (use `update`).
            ConflictError: A referenced row does not exist.
        """
        self._refuse_key(entity)
        with self._atomic(f"saving a new {self.noun}") as connection:
            new_key = int(
                connection.execute(
                    insert(self.table)
                    .values(self._to_row(entity))
                    .returning(self.table.c[self.key])
                ).scalar_one()
            )
            if then is not None:
                then(connection, new_key)
        return new_key

    def _save_new_many(self, entities: Iterable[E]) -> int:
        """Insert new rows (generated keys) in batched statements, all or nothing; how many.

        Raises:
            ValidationError: An entity already has an id.
            ConflictError: A referenced row does not exist (nothing is stored).
        """
        rows = []
        for entity in entities:
            self._refuse_key(entity)
            rows.append(self._to_row(entity))
        if not rows:
            return 0
        with self._atomic(f"saving {len(rows)} new rows of {self.noun}") as connection:
            for chunk in chunked(rows, _INSERT_CHUNK):
                connection.execute(insert(self.table), chunk)
        return len(rows)

    def _refuse_key(self, entity: E) -> None:
        key = self._key_of(entity)
        if key is not None:
            raise v.fail("id", key, f"{self.noun}: a new one has no id yet")

    def _upsert(self, entity: E, *, on: tuple[str, ...]) -> Any:
        """Insert the entity, or replace the row with the same `on` columns; return its key.

        One atomic statement: a check-then-insert would let two callers storing the same
        new row race on PostgreSQL (READ COMMITTED), the loser getting DuplicateError. A
        replaced row keeps its key.
        """
        row = self._to_row(entity)
        unique = ", ".join(repr(row[name]) for name in on)
        with self._atomic(f"saving {self.noun} {unique}") as connection:
            upsert = dialect_insert(connection, self.table).values(row)
            statement = upsert.on_conflict_do_update(
                index_elements=[self.table.c[name] for name in on],
                set_={name: upsert.excluded[name] for name in row if name not in on},
            ).returning(self.table.c[self.key])
            return connection.execute(statement).scalar_one()

    def _get(self, key: K) -> E | None:
        found = self._connection().execute(self._by_key, {"key": key}).first()
        return None if found is None else self._from_row(found)

    def _find(
        self, *where: ColumnElement[bool], order_by: Iterable[ColumnElement[Any]] = ()
    ) -> E | None:
        """The first row meeting `where` in `order_by` order, or None."""
        statement = self._select.where(*where).order_by(*order_by).limit(1)
        found = self._connection().execute(statement).first()
        return None if found is None else self._from_row(found)

    def _exists(self, key: K) -> bool:
        return bool(self._connection().scalar(self._key_exists, {"key": key}))

    def _update(self, entity: E, *, then: Callable[[Connection, K], object] | None = None) -> None:
        """Replace the stored row of the entity's key.

        Args:
            entity: The entity, carrying its key.
            then: Writes its dependants, given the key, in the same savepoint after the row.

        Raises:
            ValidationError: The entity has no (generated) key.
            NotFoundError: No row has that key.
        """
        key = self._key_of(entity)
        if key is None:
            raise v.fail("id", None, f"{self.noun}: update needs the stored id")
        values = self._to_row(entity)
        values.pop(self.key, None)  # the key stays: it is what the row is found by
        if self.stamps_updated_at:
            values["updated_at"] = utc_now()
        self._set(key, values, f"updating {self.noun} {key!r}", then=then)

    def _set(
        self,
        key: K,
        values: dict[str, Any],
        context: str,
        *,
        then: Callable[[Connection, K], object] | None = None,
    ) -> None:
        """Set some columns of the row of `key` (`context` says what for errors).

        Raises:
            NotFoundError: No row has that key (nothing is changed).
        """
        with self._atomic(context) as connection:
            result = connection.execute(
                update(self.table).where(self.table.c[self.key] == key).values(values)
            )
            if result.rowcount == 0:
                raise not_found(self.noun, key)
            if then is not None:
                then(connection, key)

    def _delete(self, key: K, *, then: Callable[[Connection, K], object] | None = None) -> None:
        """Delete the row of `key`, then (`then`) its dependants, all or nothing.

        Dependants go after the row: on PostgreSQL the deleted row stays locked until
        commit, so a dependant another transaction commits meanwhile is seen and deleted.

        Raises:
            NotFoundError: No row has that key (nothing is changed).
        """
        with self._atomic(f"deleting {self.noun} {key!r}") as connection:
            result = connection.execute(delete(self.table).where(self.table.c[self.key] == key))
            if result.rowcount == 0:
                raise not_found(self.noun, key)
            if then is not None:
                then(connection, key)

    def _list(
        self, *where: ColumnElement[bool], order_by: Iterable[ColumnElement[Any]] = ()
    ) -> list[E]:
        """The rows meeting `where`, in `order_by` order (by key when none is given)."""
        ordering = list(order_by) or [self.table.c[self.key]]
        statement = self._select.where(*where).order_by(*ordering)
        return [self._from_row(row) for row in self._connection().execute(statement)]

    def _count(self, *where: ColumnElement[bool]) -> int:
        statement = select(func.count()).select_from(self.table).where(*where)
        return int(self._connection().execute(statement).scalar_one())
