"""Add an account: the defaults a trader expects, and no second account under one id."""

from __future__ import annotations

from typing import Final

from zorivest_core.application.ports import UnitOfWork
from zorivest_core.domain.entities import Account
from zorivest_core.domain.enums import AccountType
from zorivest_core.domain.errors import DuplicateError

TAX_ADVANTAGED_TYPES: Final = frozenset({AccountType.IRA, AccountType.K401})
"""Account types that are tax-advantaged unless said otherwise."""


def new_account(
    *,
    account_id: str,
    name: str,
    account_type: AccountType = AccountType.BROKER,
    institution: str | None = None,
    currency: str = "USD",
    tax_advantaged: bool | None = None,
    notes: str | None = None,
) -> Account:
    """A new account with the defaults a trader expects, validated (nothing stored yet, so
    a caller can refuse bad input before asking for a passphrase).

    Args:
        currency: An ISO 4217 code in either case (stored upper case).
        tax_advantaged: None: tax-advantaged exactly for IRA and 401(k) accounts.

    Raises:
        ValidationError: A field is not valid.
    """
    return Account(
        account_id=account_id,
        name=name,
        account_type=account_type,
        institution=institution,
        currency=currency.upper(),
        is_tax_advantaged=(
            account_type in TAX_ADVANTAGED_TYPES if tax_advantaged is None else tax_advantaged
        ),
        notes=notes,
    )


def add_account(uow: UnitOfWork, account: Account) -> Account:
    """Store a new account and commit.

    Args:
        uow: A unit of work that is not active yet; this use case runs one block.
        account: The account, e.g. from `new_account`.

    Returns:
        The stored account.

    Raises:
        DuplicateError: An account with that id exists (nothing written).
    """
    with uow:
        if uow.accounts.exists(account.account_id):
            raise DuplicateError(f"account {account.account_id!r} already exists")
        uow.accounts.save(account)
        uow.commit()
    return account
