"""Balance snapshots: an account's balance at one moment."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import RowMapping, select

from zorivest_core.domain import validation as v
from zorivest_core.domain.entities import BalanceSnapshot
from zorivest_infra.database.models import BalanceSnapshotModel
from zorivest_infra.database.repositories._base import table_of
from zorivest_infra.database.repositories._core import CoreRepository

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


class SqlAlchemyBalanceSnapshotRepository(CoreRepository[BalanceSnapshot, int]):
    """Balance snapshots per account, listed in time order.

    Time windows are half-open: `since` is inclusive, `until` exclusive. `save` returns
    the generated id (ConflictError for an unknown account); `update` and `delete` raise
    NotFoundError for a missing id.
    """

    __slots__ = ()
    table = _SNAPSHOTS
    key = "id"
    noun = "balance snapshot"
    generated_key = True

    def _to_row(self, entity: BalanceSnapshot) -> dict[str, Any]:
        return snapshot_to_row(entity)

    def _from_row(self, row: RowMapping) -> BalanceSnapshot:
        return row_to_snapshot(row)

    def save(self, snapshot: BalanceSnapshot) -> int:
        return self._save_new(snapshot)

    def get(self, snapshot_id: int) -> BalanceSnapshot | None:
        return self._get(snapshot_id)

    def update(self, snapshot: BalanceSnapshot) -> None:
        self._update(snapshot)

    def delete(self, snapshot_id: int) -> None:
        self._delete(snapshot_id)

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
        if account_id is None:
            return self._count()
        return self._count(_SNAPSHOTS.c.account_id == account_id)
