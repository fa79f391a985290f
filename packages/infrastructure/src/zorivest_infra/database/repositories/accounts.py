"""Accounts: the brokers, banks and credit lines that trades and balances belong to."""

from __future__ import annotations

from typing import Final

from sqlalchemy import delete, exists, select, update

from zorivest_core.domain.entities import Account
from zorivest_core.domain.errors import ConflictError
from zorivest_infra.database.models import (
    AccountModel,
    BalanceSnapshotModel,
    BankTransactionModel,
    RoundTripModel,
    TradeModel,
    TradePlanModel,
)
from zorivest_infra.database.repositories._base import not_found, table_of
from zorivest_infra.database.repositories._core import CoreRepository

__all__ = ["SqlAlchemyAccountRepository"]

_ACCOUNTS: Final = table_of(AccountModel)
_A = _ACCOUNTS.c
_PLANS: Final = table_of(TradePlanModel)

# Rows that keep an account alive (their foreign keys RESTRICT its deletion), by what a
# message calls them.
_DEPENDANTS: Final = (
    ("trades", table_of(TradeModel)),
    ("balance snapshots", table_of(BalanceSnapshotModel)),
    ("round trips", table_of(RoundTripModel)),
    ("bank transactions", table_of(BankTransactionModel)),
)


class SqlAlchemyAccountRepository(CoreRepository[Account, str]):
    """Accounts (implements `AccountRepository`).

    A NULL currency or tax flag (nullable columns, as in the seed) reads as its default.
    `save` raises DuplicateError for an existing id; `update` NotFoundError for a
    missing one.
    """

    __slots__ = ()
    table = _ACCOUNTS
    entity = Account
    key = "account_id"
    noun = "account"
    null_reads_default = ("currency", "is_tax_advantaged")

    def save(self, account: Account) -> None:
        self._save(account)

    def get(self, account_id: str) -> Account | None:
        return self._get(account_id)

    def exists(self, account_id: str) -> bool:
        return self._exists(account_id)

    def update(self, account: Account) -> None:
        self._update(account)

    def delete(self, account_id: str) -> None:
        """Delete an account that nothing depends on any more.

        Plans that name the account are kept, with their account cleared.

        Raises:
            NotFoundError: No account has this id.
            ConflictError: Trades, balance snapshots, round trips or bank transactions still
                belong to the account (nothing is changed).
        """
        with self._atomic(f"deleting account {account_id!r}") as connection:
            checks = [exists().where(_A.account_id == account_id)]
            checks += [exists().where(table.c.account_id == account_id) for _, table in _DEPENDANTS]
            found, *held = connection.execute(select(*checks)).one()
            if not found:
                raise not_found("account", account_id)
            holders = [name for (name, _), holds in zip(_DEPENDANTS, held, strict=True) if holds]
            if holders:
                raise ConflictError(
                    f"account {account_id!r} still has {', '.join(holders)}; "
                    "delete or move them first"
                )
            connection.execute(
                update(_PLANS).where(_PLANS.c.account_id == account_id).values(account_id=None)
            )
            connection.execute(delete(_ACCOUNTS).where(_A.account_id == account_id))

    def list_all(self) -> list[Account]:
        """Every account, by name (then id)."""
        return self._list(order_by=(_A.name, _A.account_id))

    def count(self) -> int:
        return self._count()
