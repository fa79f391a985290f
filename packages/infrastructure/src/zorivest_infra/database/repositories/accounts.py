"""Accounts: the brokers, banks and credit lines that trades and balances belong to."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy import bindparam, delete, exists, func, insert, select, update

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
from zorivest_infra.database.repositories._base import SqlAlchemyRepository, not_found, table_of

__all__ = [
    "ACCOUNT_COLUMNS",
    "SqlAlchemyAccountRepository",
    "account_from_row",
    "account_to_row",
]

ACCOUNT_COLUMNS: Final = (
    "account_id",
    "name",
    "account_type",
    "institution",
    "currency",
    "is_tax_advantaged",
    "notes",
    "created_at",
)
"""The stored columns of an account, in the order `account_from_row` reads them."""

_ACCOUNTS: Final = table_of(AccountModel)
_A = _ACCOUNTS.c
_PLANS: Final = table_of(TradePlanModel)
_SELECT_ACCOUNT: Final = select(*(_A[name] for name in ACCOUNT_COLUMNS))
_GET: Final = _SELECT_ACCOUNT.where(_A.account_id == bindparam("account_id"))

# Rows that keep an account alive (their foreign keys RESTRICT its deletion), by what a
# message calls them.
_DEPENDANTS: Final = (
    ("trades", table_of(TradeModel)),
    ("balance snapshots", table_of(BalanceSnapshotModel)),
    ("round trips", table_of(RoundTripModel)),
    ("bank transactions", table_of(BankTransactionModel)),
)


def account_to_row(account: Account) -> dict[str, Any]:
    """The column values of an account."""
    return {
        "account_id": account.account_id,
        "name": account.name,
        "account_type": account.account_type.value,
        "institution": account.institution,
        "currency": account.currency,
        "is_tax_advantaged": account.is_tax_advantaged,
        "notes": account.notes,
        "created_at": account.created_at,
    }


def account_from_row(row: Sequence[Any]) -> Account:
    """An account from a row of `ACCOUNT_COLUMNS` values.

    NULL currency and tax flag (nullable columns, as in the seed) read as their defaults.
    """
    account_id, name, account_type, institution, currency, tax_advantaged, notes, created = row
    return Account(
        account_id=account_id,
        name=name,
        account_type=account_type,
        institution=institution,
        currency="USD" if currency is None else currency,
        is_tax_advantaged=bool(tax_advantaged),
        notes=notes,
        created_at=created,
    )


class SqlAlchemyAccountRepository(SqlAlchemyRepository):
    """Accounts (implements `AccountRepository`)."""

    __slots__ = ()

    def save(self, account: Account) -> None:
        """Store a new account.

        Raises:
            DuplicateError: An account with this id already exists.
        """
        with self._atomic(f"saving account {account.account_id!r}") as connection:
            connection.execute(insert(_ACCOUNTS).values(account_to_row(account)))

    def get(self, account_id: str) -> Account | None:
        """The account with this id, or None."""
        row = self._connection().execute(_GET, {"account_id": account_id}).first()
        return None if row is None else account_from_row(row)

    def exists(self, account_id: str) -> bool:
        """Whether an account with this id exists."""
        statement = select(exists().where(_A.account_id == account_id))
        return bool(self._connection().scalar(statement))

    def update(self, account: Account) -> None:
        """Replace the stored fields of the account with the same id.

        Raises:
            NotFoundError: No account has this id.
        """
        values = account_to_row(account)
        del values["account_id"]
        with self._atomic(f"updating account {account.account_id!r}") as connection:
            result = connection.execute(
                update(_ACCOUNTS).where(_A.account_id == account.account_id).values(values)
            )
            if result.rowcount == 0:
                raise not_found("account", account.account_id)

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
        statement = _SELECT_ACCOUNT.order_by(_A.name, _A.account_id)
        return [account_from_row(row) for row in self._connection().execute(statement)]

    def count(self) -> int:
        """How many accounts exist."""
        statement = select(func.count()).select_from(_ACCOUNTS)
        return int(self._connection().scalar(statement) or 0)
