"""Options strategies: several option legs (executions) grouped as one strategy."""

from __future__ import annotations

from typing import Any

from zorivest_core.domain import validation as v
from zorivest_core.domain.entities import OptionsStrategy
from zorivest_infra.database.models import OptionsStrategyModel
from zorivest_infra.database.repositories._base import table_of
from zorivest_infra.database.repositories._core import CoreRepository

_STRATEGIES = table_of(OptionsStrategyModel)


class SqlAlchemyOptionsStrategyRepository(CoreRepository[OptionsStrategy, int]):
    """Options strategies, listed per underlying."""

    __slots__ = ()
    table = _STRATEGIES
    entity = OptionsStrategy
    key = "id"
    noun = "options strategy"
    generated_key = True

    def _to_row(self, entity: OptionsStrategy) -> dict[str, Any]:
        """Breakeven prices are stored as a JSON array of decimal strings, so they never
        pass through a binary float (on reading, the entity makes them exact Decimals)."""
        row = super()._to_row(entity)
        prices = entity.breakeven_prices
        row["breakeven_prices"] = None if prices is None else [v.decimal_text(p) for p in prices]
        return row

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
