"""Balance snapshots: an account's balance at one moment."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import RowMapping, delete, func, insert, select, update

from zorivest_core.domain import validation as v
from zorivest_core.domain.entities import BalanceSnapshot
from zorivest_infra.database.models import BalanceSnapshotModel
from zorivest_infra.database.repositories._base import SqlAlchemyRepository, not_found, table_of

_SNAPSHOTS = table_of(BalanceSnapshotModel)


def snapshot_to_row(snapshot: BalanceSnapshot) -> dict[str, Any]:
    """Column values of a snapshot (without its id)."""
    return {
        "account_id": snapshot.account_id,
        "datetime": snapshot.datetime,
        "balance": snapshot.balance,
    }


def row_to_snapshot(row: RowMapping) -> BalanceSnapshot:
    """The snapshot stored in a `balance_snapshots` row."""
    return BalanceSnapshot(
        id=row["id"], account_id=row["account_id"], datetime=row["datetime"], balance=row["balance"]
    )


class SqlAlchemyBalanceSnapshotRepository(SqlAlchemyRepository):
    """Balance snapshots per account, listed in time order.

    Time windows are half-open: `since` is inclusive, `until` exclusive.
    """

    __slots__ = ()

    def save(self, snapshot: BalanceSnapshot) -> int:
        """Store a new snapshot and return its generated id.

        Raises:
            ValidationError: The snapshot already carries an id (use `update`).
            ConflictError: The account does not exist.
        """
        if snapshot.id is not None:
            raise v.fail("id", snapshot.id, "a new balance snapshot is saved without an id")
        with self._atomic(f"saving a balance snapshot of account {snapshot.account_id!r}") as conn:
            new_id = conn.execute(
                insert(_SNAPSHOTS).values(snapshot_to_row(snapshot)).returning(_SNAPSHOTS.c.id)
            ).scalar_one()
        return int(new_id)

    def get(self, snapshot_id: int) -> BalanceSnapshot | None:
        row = (
            self._connection()
            .execute(select(_SNAPSHOTS).where(_SNAPSHOTS.c.id == snapshot_id))
            .mappings()
            .one_or_none()
        )
        return None if row is None else row_to_snapshot(row)

    def update(self, snapshot: BalanceSnapshot) -> None:
        """Replace a stored snapshot's values.

        Raises:
            ValidationError: The snapshot has no id.
            NotFoundError: No snapshot has that id.
            ConflictError: The new account does not exist.
        """
        if snapshot.id is None:
            raise v.fail("id", None, "updating a balance snapshot needs its id")
        with self._atomic(f"updating balance snapshot {snapshot.id}") as conn:
            result = conn.execute(
                update(_SNAPSHOTS)
                .where(_SNAPSHOTS.c.id == snapshot.id)
                .values(snapshot_to_row(snapshot))
            )
        if result.rowcount == 0:
            raise not_found("balance snapshot", snapshot.id)

    def delete(self, snapshot_id: int) -> None:
        """Delete one snapshot.

        Raises:
            NotFoundError: No snapshot has that id.
        """
        with self._atomic(f"deleting balance snapshot {snapshot_id}") as conn:
            result = conn.execute(delete(_SNAPSHOTS).where(_SNAPSHOTS.c.id == snapshot_id))
        if result.rowcount == 0:
            raise not_found("balance snapshot", snapshot_id)

    def list_for_account(
        self,
        account_id: str,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> list[BalanceSnapshot]:
        """An account's snapshots in `[since, until)`, oldest first (ties by id).

        Raises:
            ValidationError: `since` or `until` is naive.
        """
        query = select(_SNAPSHOTS).where(_SNAPSHOTS.c.account_id == account_id)
        if since is not None:
            query = query.where(_SNAPSHOTS.c.datetime >= v.utc("since", since))
        if until is not None:
            query = query.where(_SNAPSHOTS.c.datetime < v.utc("until", until))
        query = query.order_by(_SNAPSHOTS.c.datetime, _SNAPSHOTS.c.id)
        rows = self._connection().execute(query).mappings()
        return [row_to_snapshot(row) for row in rows]

    def latest(self, account_id: str) -> BalanceSnapshot | None:
        """The account's most recent snapshot (the last saved one on a tie), or None."""
        query = (
            select(_SNAPSHOTS)
            .where(_SNAPSHOTS.c.account_id == account_id)
            .order_by(_SNAPSHOTS.c.datetime.desc(), _SNAPSHOTS.c.id.desc())
            .limit(1)
        )
        row = self._connection().execute(query).mappings().one_or_none()
        return None if row is None else row_to_snapshot(row)

    def count(self, account_id: str | None = None) -> int:
        query = select(func.count()).select_from(_SNAPSHOTS)
        if account_id is not None:
            query = query.where(_SNAPSHOTS.c.account_id == account_id)
        return int(self._connection().execute(query).scalar_one())
