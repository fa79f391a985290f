"""Broker configurations: pattern-day-trader rule, settlement, leverage, routing."""

from __future__ import annotations

from zorivest_core.domain.entities import BrokerConfig
from zorivest_infra.database.models import BrokerConfigModel
from zorivest_infra.database.repositories._base import table_of
from zorivest_infra.database.repositories._core import CoreRepository


class SqlAlchemyBrokerConfigRepository(CoreRepository[BrokerConfig, str]):
    """Broker configurations keyed by broker_id. `update` stamps `updated_at`.

    Dicts and lists are stored as JSON text. `save` raises DuplicateError for an existing
    broker_id; `update` and `delete` raise NotFoundError for a missing one.
    """

    __slots__ = ()
    table = table_of(BrokerConfigModel)
    entity = BrokerConfig
    key = "broker_id"
    noun = "broker config"
    stamps_updated_at = True
    null_reads_default = ("pdt_rule", "pdt_threshold", "settlement_days")

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
