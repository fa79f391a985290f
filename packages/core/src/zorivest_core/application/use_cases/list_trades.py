"""List trades newest first, for one account or merged across every account."""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
from collections.abc import Iterator
from typing import Final

from zorivest_core.application.ports import UnitOfWork
from zorivest_core.domain.entities import Trade
from zorivest_core.domain.errors import NotFoundError, ValidationError

PAGE_SIZE: Final = 500
"""Trades read per query and per account; memory is bounded by this times the accounts."""


def _newest_first(trade: Trade) -> tuple[dt.datetime, str]:
    return (trade.time, trade.exec_id)


def list_trades(
    uow: UnitOfWork,
    *,
    account_id: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int | None = None,
) -> Iterator[Trade]:
    """Trades newest first (ties by exec_id, descending), within ``[since, until)``.

    Each account is read with the repository's keyset paging (`iter_for_account`), and
    accounts are merged lazily, so listing a million trades needs no more memory than a
    page per account. Consume the iterator inside the active block of `uow`.

    Args:
        uow: An active unit of work.
        account_id: Only this account; every account when None.
        since: Inclusive lower bound (aware).
        until: Exclusive upper bound (aware).
        limit: At most this many; all when None.

    Raises:
        NotFoundError: `account_id` names no account.
        ValidationError: A negative limit, or a naive time.
    """
    if limit is not None and limit < 0:
        raise ValidationError("limit: must be 0 or more", field="limit", value=limit)
    if account_id is not None:
        if not uow.accounts.exists(account_id):
            raise NotFoundError(f"no account {account_id!r}")
        accounts = [account_id]
    else:
        accounts = sorted(account.account_id for account in uow.accounts.list_all())
    page = PAGE_SIZE if limit is None else max(1, min(limit, PAGE_SIZE))
    streams = [
        uow.trades.iter_for_account(account, since=since, until=until, batch_size=page)
        for account in accounts
    ]
    merged: Iterator[Trade] = (
        streams[0] if len(streams) == 1 else heapq.merge(*streams, key=_newest_first, reverse=True)
    )
    return merged if limit is None else itertools.islice(merged, limit)
