"""Broker configurations: pattern-day-trader rule, settlement, leverage, routing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping

from zorivest_core.domain.entities import BrokerConfig
from zorivest_infra.database.models import BrokerConfigModel
from zorivest_infra.database.repositories._base import table_of
from zorivest_infra.database.repositories._core import CoreRepository

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


class SqlAlchemyBrokerConfigRepository(CoreRepository[BrokerConfig, str]):
    """Broker configurations keyed by broker_id. `update` stamps `updated_at`.

    `save` raises DuplicateError for an existing broker_id; `update` and `delete` raise
    NotFoundError for a missing one.
    """

    __slots__ = ()
    table = _BROKERS
    key = "broker_id"
    noun = "broker config"
    stamps_updated_at = True

    def _to_row(self, entity: BrokerConfig) -> dict[str, Any]:
        return broker_to_row(entity)

    def _from_row(self, row: RowMapping) -> BrokerConfig:
        return row_to_broker(row)

    def save(self, config: BrokerConfig) -> None:
        self._save(config)

    def get(self, broker_id: str) -> BrokerConfig | None:
        return self._get(broker_id)

    def update(self, config: BrokerConfig) -> None:
        self._update(config)

    def delete(self, broker_id: str) -> None:
        self._delete(broker_id)

    def list_all(self) -> list[BrokerConfig]:
        """Every configuration, by broker_id."""
        return self._list()
