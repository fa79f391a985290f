"""Balance snapshots: an account's balance at one moment."""

from __future__ import annotations

import datetime as dt

from zorivest_core.domain.entities import BalanceSnapshot
from zorivest_infra.database.models import BalanceSnapshotModel
from zorivest_infra.database.repositories._base import table_of
from zorivest_infra.database.repositories._core import CoreRepository, half_open

_SNAPSHOTS = table_of(BalanceSnapshotModel)
_S = _SNAPSHOTS.c


class SqlAlchemyBalanceSnapshotRepository(CoreRepository[BalanceSnapshot, int]):
    """Balance snapshots per account, listed in time order.

    Time windows are half-open: `since` is inclusive, `until` exclusive. `save` returns
    the generated id (ConflictError for an unknown account); `update` and `delete` raise
    NotFoundError for a missing id.
    """

    __slots__ = ()
    table = _SNAPSHOTS
    entity = BalanceSnapshot
    key = "id"
    noun = "balance snapshot"
    generated_key = True

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
        window = half_open(_S.datetime, since, until)
        return self._list(_S.account_id == account_id, *window, order_by=(_S.datetime, _S.id))

    def latest(self, account_id: str) -> BalanceSnapshot | None:
        """The account's most recent snapshot (the last saved one on a tie), or None."""
        return self._find(_S.account_id == account_id, order_by=(_S.datetime.desc(), _S.id.desc()))

    def count(self, account_id: str | None = None) -> int:
        return self._count(*self._equal(account_id=account_id))
