"""SQLAlchemy repositories: one `SqlAlchemy<Name>Repository(session)` per aggregate.

Each implements its port in `zorivest_core.application.ports`, takes and returns domain
entities only, and never commits. Shared conventions and helpers: `_base`; the mapping
and statements of the one-table aggregates: `_core.CoreRepository`.
"""

from __future__ import annotations

from zorivest_infra.database.repositories._base import (
    SqlAlchemyRepository,
    UnitOfWorkError,
)
from zorivest_infra.database.repositories.accounts import SqlAlchemyAccountRepository
from zorivest_infra.database.repositories.balances import SqlAlchemyBalanceSnapshotRepository
from zorivest_infra.database.repositories.bank import (
    SqlAlchemyBankImportConfigRepository,
    SqlAlchemyBankTransactionRepository,
)
from zorivest_infra.database.repositories.broker_configs import SqlAlchemyBrokerConfigRepository
from zorivest_infra.database.repositories.excursions import SqlAlchemyExcursionRepository
from zorivest_infra.database.repositories.identifiers import SqlAlchemyIdentifierRepository
from zorivest_infra.database.repositories.images import SqlAlchemyImageRepository
from zorivest_infra.database.repositories.ledger import SqlAlchemyLedgerRepository
from zorivest_infra.database.repositories.market_providers import SqlAlchemyMarketProviderRepository
from zorivest_infra.database.repositories.mcp_guard import SqlAlchemyMcpGuardRepository
from zorivest_infra.database.repositories.mistakes import SqlAlchemyMistakeRepository
from zorivest_infra.database.repositories.options import SqlAlchemyOptionsStrategyRepository
from zorivest_infra.database.repositories.plans import SqlAlchemyTradePlanRepository
from zorivest_infra.database.repositories.reports import SqlAlchemyTradeReportRepository
from zorivest_infra.database.repositories.round_trips import SqlAlchemyRoundTripRepository
from zorivest_infra.database.repositories.settings import (
    SqlAlchemyAppDefaultRepository,
    SqlAlchemySettingsRepository,
)
from zorivest_infra.database.repositories.trades import SqlAlchemyTradeRepository
from zorivest_infra.database.repositories.watchlists import SqlAlchemyWatchlistRepository

__all__ = [
    "SqlAlchemyAccountRepository",
    "SqlAlchemyAppDefaultRepository",
    "SqlAlchemyBalanceSnapshotRepository",
    "SqlAlchemyBankImportConfigRepository",
    "SqlAlchemyBankTransactionRepository",
    "SqlAlchemyBrokerConfigRepository",
    "SqlAlchemyExcursionRepository",
    "SqlAlchemyIdentifierRepository",
    "SqlAlchemyImageRepository",
    "SqlAlchemyLedgerRepository",
    "SqlAlchemyMarketProviderRepository",
    "SqlAlchemyMcpGuardRepository",
    "SqlAlchemyMistakeRepository",
    "SqlAlchemyOptionsStrategyRepository",
    "SqlAlchemyRepository",
    "SqlAlchemyRoundTripRepository",
    "SqlAlchemySettingsRepository",
    "SqlAlchemyTradePlanRepository",
    "SqlAlchemyTradeReportRepository",
    "SqlAlchemyTradeRepository",
    "SqlAlchemyWatchlistRepository",
    "UnitOfWorkError",
]
