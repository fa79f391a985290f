"""The unit of work: one session, one transaction, every repository.

    uow = SqlAlchemyUnitOfWork(session_factory)
    with uow:
        uow.accounts.save(account)
        uow.trades.save_many(trades)
        uow.commit()

Leaving the block without `commit()` rolls back; an exception rolls back and propagates.
After `commit()` the block may go on working in a new transaction, which needs its own
`commit()`. The session is closed when the block ends, and every repository of the block
then refuses use (`UnitOfWorkError`), also one kept in a variable.

A failed write costs only itself, unless the database rolled back the whole transaction
(SQLite does so on a full disk, for one): the write's error then says that all uncommitted
work of the block is lost, `commit()` refuses (`StorageFullError` or `TransactionLostError`)
rather than commit what came after as if nothing had happened, and `rollback()` lets the
block start again. A failed read does not cost the transaction on SQLite, but it aborts it
on PostgreSQL: `commit()` then refuses too (`TransactionLostError`) instead of letting the
database turn COMMIT into a silent ROLLBACK; call `rollback()` after catching such an error.

The database must be at the newest schema revision: repositories read rows as the newest
schema guarantees them (e.g. commission NOT NULL since 0003). `Journal.open`/`connect`
upgrade it; for an engine of your own, run `zorivest_infra.database.migrations.upgrade`
first.

One instance can be used for many blocks one after the other (each block gets a fresh
session), but never for two at once: entering an active unit of work raises, whether
nested or from another thread. Give each thread its own unit of work.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import Final, NoReturn, Self

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from zorivest_core.application.ports import UnitOfWork
from zorivest_infra.database.errors import translated_errors
from zorivest_infra.database.repositories import (
    SqlAlchemyAccountRepository,
    SqlAlchemyAppDefaultRepository,
    SqlAlchemyBalanceSnapshotRepository,
    SqlAlchemyBankImportConfigRepository,
    SqlAlchemyBankTransactionRepository,
    SqlAlchemyBrokerConfigRepository,
    SqlAlchemyExcursionRepository,
    SqlAlchemyIdentifierRepository,
    SqlAlchemyImageRepository,
    SqlAlchemyLedgerRepository,
    SqlAlchemyMarketProviderRepository,
    SqlAlchemyMcpGuardRepository,
    SqlAlchemyMistakeRepository,
    SqlAlchemyOptionsStrategyRepository,
    SqlAlchemyRoundTripRepository,
    SqlAlchemySettingsRepository,
    SqlAlchemyTradePlanRepository,
    SqlAlchemyTradeReportRepository,
    SqlAlchemyTradeRepository,
    SqlAlchemyWatchlistRepository,
)
from zorivest_infra.database.repositories._base import (
    TransactionLostError,
    UnitOfWorkError,
    clear_transaction_lost,
    find_transaction_lost,
    mark_session_closed,
)
from zorivest_infra.secrets import ApiKeyCipher

__all__ = [
    "REPOSITORY_ATTRIBUTES",
    "SqlAlchemyUnitOfWork",
    "TransactionLostError",
    "UnitOfWorkError",
    "make_session_factory",
]

REPOSITORY_ATTRIBUTES: Final[tuple[str, ...]] = tuple(UnitOfWork.__annotations__)
"""The repository attributes, in the order the `UnitOfWork` port declares them (the one list)."""


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """The session factory a unit of work wants: entities stay readable after commit.

    Repositories return entities, not ORM objects, so expiring on commit would only cost
    reloads; `expire_on_commit=False` avoids them.
    """
    return sessionmaker(bind=engine, expire_on_commit=False)


class _Unavailable:
    """Stands in for a repository outside a block: any use raises UnitOfWorkError."""

    __slots__ = ("_reason",)

    def __init__(self, reason: str) -> None:
        self._reason = reason

    def __getattr__(self, name: str) -> NoReturn:
        raise UnitOfWorkError(self._reason)

    def __repr__(self) -> str:
        return f"<unavailable repository: {self._reason}>"


class SqlAlchemyUnitOfWork(UnitOfWork):
    """One transaction over every repository (implements the `UnitOfWork` port).

    Args:
        session_factory: Makes a new `Session` for each block, e.g.
            `make_session_factory(engine)` (any `sessionmaker`; `expire_on_commit=False`
            is recommended and is the factory's business).
        api_key_cipher: Returns the cipher of market-provider API keys, asked at the start
            of each block (a journal's changes with its passphrase); None: API keys cannot
            be stored or read.

    The repository attributes are the port's (declared once, in `UnitOfWork`); each is
    bound in `__enter__` to a repository on the block's session, and mypy checks each
    binding against its Protocol. Outside a block they refuse use.
    """

    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        api_key_cipher: Callable[[], ApiKeyCipher | None] | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._api_key_cipher = api_key_cipher
        self._session: Session | None = None
        self._state_lock = threading.Lock()
        self._unbind_repositories("the unit of work has not been entered; use `with uow:`")

    @property
    def active(self) -> bool:
        """Whether a block is running."""
        return self._session is not None

    def __enter__(self) -> Self:
        with self._state_lock:
            if self._session is not None:
                raise UnitOfWorkError(
                    "this unit of work is already active; a unit of work cannot be entered "
                    "twice at once (use one per thread, and no nesting)"
                )
            session = self._session_factory()
            self._session = session
        self._bind_repositories(session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self._session
        if session is None:  # pragma: no cover - __exit__ without __enter__
            return
        try:
            # Anything not committed is discarded, whether the block ended normally or not.
            session.rollback()
        except Exception:
            # With the block failing already, its own error is the one to report: a failed
            # rollback (e.g. a lost connection) is a consequence, and closing the session
            # below discards the transaction anyway.
            if exc is None:
                raise
        finally:
            clear_transaction_lost(session)
            mark_session_closed(session)
            self._unbind_repositories("the unit of work has ended; use `with uow:` again")
            try:
                session.close()
            finally:
                self._session = None

    def commit(self) -> None:
        """Commit the block's work so far; the block may go on in a new transaction.

        Raises:
            UnitOfWorkError: Called outside the block.
            DuplicateError, ConflictError, StorageFullError: The database refused the
                commit (everything since the last commit is rolled back).
            StorageFullError, TransactionLostError: Nothing is committed because the
                database had already rolled back the whole transaction when a write of
                this block failed (a full disk gives `StorageFullError`; chained to that
                write's error), or had rolled back or aborted it after another statement
                failed, e.g. a read on PostgreSQL (`TransactionLostError`, unchained). It
                refuses until `rollback()` is called.
        """
        session = self._require_session("commit()")
        lost = find_transaction_lost(session)
        if lost is not None:
            # Committing now would commit only what came after the loss, as if the work
            # before it had been saved (or, on PostgreSQL, silently roll back everything).
            raise lost.commit_refused() from lost.error
        with translated_errors("committing"):
            session.commit()

    def rollback(self) -> None:
        """Discard the block's work since the last commit; the block may go on.

        Also ends the refusal of `commit()` after the database rolled back the block's
        transaction by itself.

        Raises:
            UnitOfWorkError: Called outside the block.
        """
        session = self._require_session("rollback()")
        session.rollback()
        clear_transaction_lost(session)

    def _require_session(self, action: str) -> Session:
        session = self._session
        if session is None:
            raise UnitOfWorkError(f"{action} called outside the unit of work's `with` block")
        return session

    def _bind_repositories(self, session: Session) -> None:
        """Give the block its repositories, all on its session."""
        self.trades = SqlAlchemyTradeRepository(session)
        self.images = SqlAlchemyImageRepository(session)
        self.accounts = SqlAlchemyAccountRepository(session)
        self.balance_snapshots = SqlAlchemyBalanceSnapshotRepository(session)
        self.trade_reports = SqlAlchemyTradeReportRepository(session)
        self.trade_plans = SqlAlchemyTradePlanRepository(session)
        self.watchlists = SqlAlchemyWatchlistRepository(session)
        self.settings = SqlAlchemySettingsRepository(session)
        self.app_defaults = SqlAlchemyAppDefaultRepository(session)
        cipher = self._api_key_cipher() if self._api_key_cipher is not None else None
        self.market_providers = SqlAlchemyMarketProviderRepository(session, cipher)
        self.mcp_guard = SqlAlchemyMcpGuardRepository(session)
        self.round_trips = SqlAlchemyRoundTripRepository(session)
        self.excursions = SqlAlchemyExcursionRepository(session)
        self.identifiers = SqlAlchemyIdentifierRepository(session)
        self.ledger = SqlAlchemyLedgerRepository(session)
        self.options_strategies = SqlAlchemyOptionsStrategyRepository(session)
        self.mistakes = SqlAlchemyMistakeRepository(session)
        self.broker_configs = SqlAlchemyBrokerConfigRepository(session)
        self.bank_transactions = SqlAlchemyBankTransactionRepository(session)
        self.bank_import_configs = SqlAlchemyBankImportConfigRepository(session)

    def _unbind_repositories(self, reason: str) -> None:
        unavailable = _Unavailable(reason)
        for attribute in REPOSITORY_ATTRIBUTES:
            setattr(self, attribute, unavailable)
