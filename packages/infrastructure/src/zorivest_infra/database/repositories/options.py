"""Options strategies: several option legs (executions) grouped as one strategy."""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping

from zorivest_core.domain import validation as v
from zorivest_core.domain.entities import OptionsStrategy
from zorivest_infra.database.models import OptionsStrategyModel
from zorivest_infra.database.repositories._base import table_of
from zorivest_infra.database.repositories._core import CoreRepository

_STRATEGIES = table_of(OptionsStrategyModel)


def strategy_to_row(strategy: OptionsStrategy) -> dict[str, Any]:
    """Column values of a strategy (without its id).

    Breakeven prices are stored as a JSON array of decimal strings, so they never pass
    through a binary float.
    """
    prices = strategy.breakeven_prices
    return {
        "name": strategy.name,
        "strategy_type": strategy.strategy_type.value,
        "underlying": strategy.underlying,
        "leg_exec_ids": list(strategy.leg_exec_ids),
        "net_debit_credit": strategy.net_debit_credit,
        "max_profit": strategy.max_profit,
        "max_loss": strategy.max_loss,
        "breakeven_prices": None if prices is None else [v.decimal_text(p) for p in prices],
        "created_at": strategy.created_at,
    }


def row_to_strategy(row: RowMapping) -> OptionsStrategy:
    """The strategy stored in an `options_strategies` row."""
    return OptionsStrategy(
        id=row["id"],
        name=row["name"],
        strategy_type=row["strategy_type"],
        underlying=row["underlying"],
        leg_exec_ids=row["leg_exec_ids"],
        net_debit_credit=row["net_debit_credit"],
        max_profit=row["max_profit"],
        max_loss=row["max_loss"],
        # Strings (or numbers written by another tool) become exact Decimals in the entity.
        breakeven_prices=row["breakeven_prices"],
        created_at=row["created_at"],
    )


class SqlAlchemyOptionsStrategyRepository(CoreRepository[OptionsStrategy, int]):
    """Options strategies, listed per underlying."""

    __slots__ = ()
    table = _STRATEGIES
    key = "id"
    noun = "options strategy"
    generated_key = True

    def _to_row(self, entity: OptionsStrategy) -> dict[str, Any]:
        return strategy_to_row(entity)

    def _from_row(self, row: RowMapping) -> OptionsStrategy:
        return row_to_strategy(row)

    def save(self, strategy: OptionsStrategy) -> int:
        return self._save_new(strategy)

    def get(self, strategy_id: int) -> OptionsStrategy | None:
        return self._get(strategy_id)

    def update(self, strategy: OptionsStrategy) -> None:
        self._update(strategy)

    def delete(self, strategy_id: int) -> None:
        self._delete(strategy_id)

    def list_for_underlying(self, underlying: str) -> list[OptionsStrategy]:
        """The strategies on one underlying (exact match), oldest first."""
        return self._list(
            _STRATEGIES.c.underlying == underlying,
            order_by=(_STRATEGIES.c.created_at, _STRATEGIES.c.id),
        )

    def count(self) -> int:
        return self._count()
