"""Options strategies: several option legs (executions) grouped as one strategy."""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping, delete, func, insert, select, update

from zorivest_core.domain import validation as v
from zorivest_core.domain.entities import OptionsStrategy
from zorivest_infra.database.models import OptionsStrategyModel
from zorivest_infra.database.repositories._base import SqlAlchemyRepository, not_found, table_of

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


class SqlAlchemyOptionsStrategyRepository(SqlAlchemyRepository):
    """Options strategies, listed per underlying."""

    __slots__ = ()

    def save(self, strategy: OptionsStrategy) -> int:
        """Store a new strategy and return its generated id.

        Raises:
            ValidationError: The strategy already carries an id (use `update`).
        """
        if strategy.id is not None:
            raise v.fail("id", strategy.id, "a new options strategy is saved without an id")
        with self._atomic(f"saving an options strategy on {strategy.underlying!r}") as conn:
            new_id = conn.execute(
                insert(_STRATEGIES).values(strategy_to_row(strategy)).returning(_STRATEGIES.c.id)
            ).scalar_one()
        return int(new_id)

    def get(self, strategy_id: int) -> OptionsStrategy | None:
        row = (
            self._connection()
            .execute(select(_STRATEGIES).where(_STRATEGIES.c.id == strategy_id))
            .mappings()
            .one_or_none()
        )
        return None if row is None else row_to_strategy(row)

    def update(self, strategy: OptionsStrategy) -> None:
        """Replace a stored strategy's values (found by its id).

        Raises:
            ValidationError: The strategy has no id.
            NotFoundError: No strategy has that id.
        """
        if strategy.id is None:
            raise v.fail("id", None, "updating an options strategy needs its id")
        with self._atomic(f"updating options strategy {strategy.id}") as conn:
            result = conn.execute(
                update(_STRATEGIES)
                .where(_STRATEGIES.c.id == strategy.id)
                .values(strategy_to_row(strategy))
            )
        if result.rowcount == 0:
            raise not_found("options strategy", strategy.id)

    def delete(self, strategy_id: int) -> None:
        """Delete one strategy.

        Raises:
            NotFoundError: No strategy has that id.
        """
        with self._atomic(f"deleting options strategy {strategy_id}") as conn:
            result = conn.execute(delete(_STRATEGIES).where(_STRATEGIES.c.id == strategy_id))
        if result.rowcount == 0:
            raise not_found("options strategy", strategy_id)

    def list_for_underlying(self, underlying: str) -> list[OptionsStrategy]:
        """The strategies on one underlying (exact match), oldest first."""
        rows = self._connection().execute(
            select(_STRATEGIES)
            .where(_STRATEGIES.c.underlying == underlying)
            .order_by(_STRATEGIES.c.created_at, _STRATEGIES.c.id)
        )
        return [row_to_strategy(row) for row in rows.mappings()]

    def count(self) -> int:
        return int(
            self._connection().execute(select(func.count()).select_from(_STRATEGIES)).scalar_one()
        )
