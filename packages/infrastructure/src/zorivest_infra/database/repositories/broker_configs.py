"""Broker configurations: pattern-day-trader rule, settlement, leverage, routing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping, delete, insert, select, update

from zorivest_core.domain.entities import BrokerConfig
from zorivest_infra.database.models import BrokerConfigModel
from zorivest_infra.database.repositories._base import (
    SqlAlchemyRepository,
    not_found,
    table_of,
    utc_now,
)

_BROKERS = table_of(BrokerConfigModel)
_DEFAULTS = BrokerConfig(broker_id="_", name="_")


def broker_to_row(config: BrokerConfig) -> dict[str, Any]:
    """Column values of a broker configuration; dicts and lists are JSON text."""
    return {
        "broker_id": config.broker_id,
        "name": config.name,
        "pdt_rule": config.pdt_rule,
        "pdt_threshold": config.pdt_threshold,
        "settlement_days": config.settlement_days,
        "max_leverage": config.max_leverage,
        "routing_type": None if config.routing_type is None else config.routing_type.value,
        "commission_schedule": config.commission_schedule,
        "supported_order_types": config.supported_order_types,
        "supported_asset_classes": config.supported_asset_classes,
        "trading_hours": config.trading_hours,
        "created_at": config.created_at,
        "updated_at": config.updated_at,
    }


def row_to_broker(row: RowMapping) -> BrokerConfig:
    """The configuration in a `broker_configs` row (NULLs read as the defaults)."""

    def _or_default(name: str) -> Any:
        value = row[name]
        return getattr(_DEFAULTS, name) if value is None else value

    return BrokerConfig(
        broker_id=row["broker_id"],
        name=row["name"],
        pdt_rule=_or_default("pdt_rule"),
        pdt_threshold=_or_default("pdt_threshold"),
        settlement_days=_or_default("settlement_days"),
        max_leverage=row["max_leverage"],
        routing_type=row["routing_type"],
        commission_schedule=row["commission_schedule"],
        supported_order_types=row["supported_order_types"],
        supported_asset_classes=row["supported_asset_classes"],
        trading_hours=row["trading_hours"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class SqlAlchemyBrokerConfigRepository(SqlAlchemyRepository):
    """Broker configurations keyed by broker_id. `update` stamps `updated_at`."""

    __slots__ = ()

    def save(self, config: BrokerConfig) -> None:
        """Store a new broker configuration.

        Raises:
            DuplicateError: The broker_id already exists.
        """
        with self._atomic(f"saving broker config {config.broker_id!r}") as conn:
            conn.execute(insert(_BROKERS).values(broker_to_row(config)))

    def get(self, broker_id: str) -> BrokerConfig | None:
        row = (
            self._connection()
            .execute(select(_BROKERS).where(_BROKERS.c.broker_id == broker_id))
            .mappings()
            .one_or_none()
        )
        return None if row is None else row_to_broker(row)

    def update(self, config: BrokerConfig) -> None:
        """Replace a stored configuration; `updated_at` becomes the current time.

        Raises:
            NotFoundError: The broker_id does not exist.
        """
        values = broker_to_row(config)
        values["updated_at"] = utc_now()
        with self._atomic(f"updating broker config {config.broker_id!r}") as conn:
            result = conn.execute(
                update(_BROKERS).where(_BROKERS.c.broker_id == config.broker_id).values(values)
            )
        if result.rowcount == 0:
            raise not_found("broker config", config.broker_id)

    def delete(self, broker_id: str) -> None:
        """Delete a configuration.

        Raises:
            NotFoundError: The broker_id does not exist.
        """
        with self._atomic(f"deleting broker config {broker_id!r}") as conn:
            result = conn.execute(delete(_BROKERS).where(_BROKERS.c.broker_id == broker_id))
        if result.rowcount == 0:
            raise not_found("broker config", broker_id)

    def list_all(self) -> list[BrokerConfig]:
        """Every configuration, by broker_id."""
        rows = self._connection().execute(select(_BROKERS).order_by(_BROKERS.c.broker_id))
        return [row_to_broker(row) for row in rows.mappings()]
