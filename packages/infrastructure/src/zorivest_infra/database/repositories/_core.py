"""A generic Core repository for the simple aggregates: one table, one key, one entity.

A simple repository states its table, its key column, the noun used in messages and its
row mapping (`_to_row`, `_from_row`); `CoreRepository` supplies the statements: insert
(returning a generated id where the key is one), get by key, update by key (optionally
stamping `updated_at`), delete by key, listing and counting. The public methods stay on
each repository, so their names and parameters are the port's, and each is one line.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import ColumnElement, RowMapping, Table, delete, func, insert, select, update

from zorivest_core.domain import validation as v
from zorivest_infra.database.repositories._base import SqlAlchemyRepository, not_found, utc_now

E = TypeVar("E")
K = TypeVar("K", str, int)


class CoreRepository(SqlAlchemyRepository, Generic[E, K]):
    """Get, save, update, delete, list and count of one table keyed by one column.

    Class attributes:
        table: The Core table.
        key: The name of its key column.
        noun: What a row is called in messages ("broker config").
        generated_key: The key is an integer id the database generates (`_save_new`); the
            entity carries it as `id`.
        stamps_updated_at: `_update` sets `updated_at` to the current time.
    """

    __slots__ = ()

    table: ClassVar[Table]
    key: ClassVar[str]
    noun: ClassVar[str]
    generated_key: ClassVar[bool] = False
    stamps_updated_at: ClassVar[bool] = False

    def _to_row(self, entity: E) -> dict[str, Any]:
        """The entity's column values (without a generated key)."""
        raise NotImplementedError

    def _from_row(self, row: RowMapping) -> E:
        """The entity stored in a row of `table`."""
        raise NotImplementedError

    def _key_of(self, entity: E) -> K | None:
        key: K | None = getattr(entity, self.key if not self.generated_key else "id")
        return key

    def _save(self, entity: E) -> None:
        """Insert a new row under the entity's own key.

        Raises:
            DuplicateError, ConflictError: As the database says (a savepoint keeps the
                caller's transaction usable).
        """
        with self._atomic(f"saving {self.noun} {self._key_of(entity)!r}") as connection:
            connection.execute(insert(self.table).values(self._to_row(entity)))

    def _save_new(self, entity: E) -> int:
        """Insert a new row whose integer key the database generates; return that key.

        Raises:
            ValidationError: The entity already has an id (use `update`).
            ConflictError: A referenced row does not exist.
        """
        if self._key_of(entity) is not None:
            raise v.fail("id", self._key_of(entity), f"{self.noun}: a new one has no id yet")
        with self._atomic(f"saving a new {self.noun}") as connection:
            new_key = connection.execute(
                insert(self.table).values(self._to_row(entity)).returning(self.table.c[self.key])
            ).scalar_one()
        return int(new_key)

    def _get(self, key: K) -> E | None:
        found = (
            self._connection()
            .execute(select(self.table).where(self.table.c[self.key] == key))
            .mappings()
            .one_or_none()
        )
        return None if found is None else self._from_row(found)

    def _update(self, entity: E) -> None:
        """Replace the stored row of the entity's key.

        Raises:
            ValidationError: The entity has no (generated) key.
            NotFoundError: No row has that key.
        """
        key = self._key_of(entity)
        if key is None:
            raise v.fail("id", None, f"{self.noun}: update needs the stored id")
        values = self._to_row(entity)
        if self.stamps_updated_at:
            values["updated_at"] = utc_now()
        with self._atomic(f"updating {self.noun} {key!r}") as connection:
            result = connection.execute(
                update(self.table).where(self.table.c[self.key] == key).values(values)
            )
        if result.rowcount == 0:
            raise not_found(self.noun, key)

    def _delete(self, key: K) -> None:
        """Delete the row of `key`.

        Raises:
            NotFoundError: No row has that key.
        """
        with self._atomic(f"deleting {self.noun} {key!r}") as connection:
            result = connection.execute(delete(self.table).where(self.table.c[self.key] == key))
        if result.rowcount == 0:
            raise not_found(self.noun, key)

    def _list(
        self, *where: ColumnElement[bool], order_by: Iterable[ColumnElement[Any]] = ()
    ) -> list[E]:
        ordering = list(order_by) or [self.table.c[self.key]]
        statement = select(self.table).where(*where).order_by(*ordering)
        return [self._from_row(row) for row in self._connection().execute(statement).mappings()]

    def _count(self, *where: ColumnElement[bool]) -> int:
        statement = select(func.count()).select_from(self.table).where(*where)
        return int(self._connection().execute(statement).scalar_one())
