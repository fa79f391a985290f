"""In-memory fakes of the persistence ports, for use-case tests without a database.

`FakeUnitOfWork` implements `UnitOfWork` over a `FakeDatabase` of plain dicts. A block
works on a copy of the committed tables; `commit()` publishes the copy and leaving the
block discards what was not committed, so rollback behaves as on the real unit of work.
Each fake repository implements its Protocol from `zorivest_core.application.ports`
(mypy checks that: `FakeUnitOfWork` subclasses the port), keeps the entities it is given (they
are immutable) and raises the domain's errors where the real one does: DuplicateError on
an existing key, ConflictError on a missing referenced row, NotFoundError on updating or
deleting a missing one.

Images are measured with the same `analyse_image` the real repository uses, so a fake
attachment has real dimensions and a real thumbnail; only the database is missing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Hashable, Iterable, Iterator, Sequence
from decimal import Decimal
from types import TracebackType
from typing import Any, Self, TypeVar

from zorivest_core.application.ports import (
    EVERY_ROUND_TRIP,
    BankImportResult,
    PnlStatistics,
    ReportGrouping,
    RoundTripFilter,
    SaveManyResult,
    TradeCursor,
    TradeTotals,
    UnitOfWork,
)
from zorivest_core.domain import validation as v
from zorivest_core.domain.entities import (
    Account,
    AppDefault,
    BalanceSnapshot,
    BankImportConfig,
    BankTransaction,
    BrokerConfig,
    ExcursionMetrics,
    IdentifierMapping,
    ImageAttachment,
    LedgerEntry,
    MarketProviderSetting,
    McpGuardState,
    MistakeEntry,
    OptionsStrategy,
    RoundTrip,
    Setting,
    Trade,
    TradePlan,
    TradeReport,
    Watchlist,
    WatchlistItem,
)
from zorivest_core.domain.enums import (
    FeeType,
    IdentifierType,
    ImageOwnerType,
    MistakeCategory,
    PlanStatus,
    RoundTripStatus,
    SettingValueType,
)
from zorivest_core.domain.errors import (
    ConflictError,
    DuplicateError,
    NotFoundError,
    ValidationError,
)
from zorivest_core.domain.settings import (
    check_setting,
    decode_setting,
    encode_setting,
    pattern_default,
)
from zorivest_infra.images import analyse_image, make_thumbnail

ZERO = Decimal(0)
K = TypeVar("K", bound=Hashable)
E = TypeVar("E")


@dataclasses.dataclass
class FakeDatabase:
    """The committed state: one dict per table, keyed like the real primary key."""

    accounts: dict[str, Account] = dataclasses.field(default_factory=dict)
    trades: dict[str, Trade] = dataclasses.field(default_factory=dict)
    images: dict[int, ImageAttachment] = dataclasses.field(default_factory=dict)
    balance_snapshots: dict[int, BalanceSnapshot] = dataclasses.field(default_factory=dict)
    trade_reports: dict[int, TradeReport] = dataclasses.field(default_factory=dict)
    trade_plans: dict[int, TradePlan] = dataclasses.field(default_factory=dict)
    watchlists: dict[int, Watchlist] = dataclasses.field(default_factory=dict)
    settings: dict[str, Setting] = dataclasses.field(default_factory=dict)
    app_defaults: dict[str, AppDefault] = dataclasses.field(default_factory=dict)
    market_providers: dict[str, MarketProviderSetting] = dataclasses.field(default_factory=dict)
    api_keys: dict[str, str] = dataclasses.field(default_factory=dict)
    mcp_guard: list[McpGuardState] = dataclasses.field(default_factory=lambda: [McpGuardState()])
    round_trips: dict[int, RoundTrip] = dataclasses.field(default_factory=dict)
    excursions: dict[str, ExcursionMetrics] = dataclasses.field(default_factory=dict)
    identifiers: dict[int, IdentifierMapping] = dataclasses.field(default_factory=dict)
    ledger: dict[int, LedgerEntry] = dataclasses.field(default_factory=dict)
    options_strategies: dict[int, OptionsStrategy] = dataclasses.field(default_factory=dict)
    mistakes: dict[int, MistakeEntry] = dataclasses.field(default_factory=dict)
    broker_configs: dict[str, BrokerConfig] = dataclasses.field(default_factory=dict)
    bank_transactions: dict[int, BankTransaction] = dataclasses.field(default_factory=dict)
    bank_import_configs: dict[str, BankImportConfig] = dataclasses.field(default_factory=dict)
    last_id: int = 0

    def copy(self) -> FakeDatabase:
        """A copy whose tables can change without touching this one (entities are frozen)."""
        copied = dataclasses.replace(self)
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if isinstance(value, dict | list):
                setattr(copied, item.name, value.copy())
        return copied

    def next_id(self) -> int:
        self.last_id += 1
        return self.last_id


def _missing(kind: str, key: object) -> NotFoundError:
    return NotFoundError(f"{kind} {key!r} not found")


def _add(table: dict[K, E], key: K, entity: E, kind: str) -> None:
    if key in table:
        raise DuplicateError(f"{kind} {key!r} already exists")
    table[key] = entity


def _replace(table: dict[K, E], key: K | None, entity: E, kind: str) -> None:
    if key is None or key not in table:
        raise _missing(kind, key)
    table[key] = entity


def _remove(table: dict[K, E], key: K, kind: str) -> None:
    if table.pop(key, None) is None:
        raise _missing(kind, key)


def _with_id(entity: E, new_id: int) -> E:
    return dataclasses.replace(entity, id=new_id)  # type: ignore[type-var]


def _within(time: dt.datetime, since: dt.datetime | None, until: dt.datetime | None) -> bool:
    return (since is None or time >= since) and (until is None or time < until)


def _require_account(db: FakeDatabase, account_id: str, what: str) -> None:
    if account_id not in db.accounts:
        raise ConflictError(f"{what}: account {account_id!r} does not exist")


class FakeTradeRepository:
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def save(self, trade: Trade) -> None:
        _require_account(self._db, trade.account_id, f"trade {trade.exec_id!r}")
        _add(self._db.trades, trade.exec_id, trade, "trade")

    def save_many(self, trades: Iterable[Trade]) -> SaveManyResult:
        result = SaveManyResult()
        for trade in trades:
            stored = self._db.trades.get(trade.exec_id)
            if stored is None:
                self.save(trade)
                result.inserted.append(trade.exec_id)
            elif stored == trade:
                result.duplicates.append(trade.exec_id)
            else:
                result.conflicts.append(trade.exec_id)
        return result

    def get(self, exec_id: str) -> Trade | None:
        return self._db.trades.get(exec_id)

    def exists(self, exec_id: str) -> bool:
        return exec_id in self._db.trades

    def update(self, trade: Trade) -> None:
        if trade.exec_id in self._db.trades:
            _require_account(self._db, trade.account_id, f"trade {trade.exec_id!r}")
        _replace(self._db.trades, trade.exec_id, trade, "trade")

    def delete(self, exec_id: str) -> None:
        _remove(self._db.trades, exec_id, "trade")
        db = self._db
        for image_id in [i for i, image in db.images.items() if image.owner_id == exec_id]:
            del db.images[image_id]
        for table in (db.trade_reports, db.mistakes):
            for key in [k for k, row in table.items() if row.trade_id == exec_id]:
                del table[key]
        for entry_id in [k for k, row in db.ledger.items() if row.trade_exec_id == exec_id]:
            del db.ledger[entry_id]
        db.excursions.pop(exec_id, None)

    def count(self, account_id: str | None = None) -> int:
        return sum(account_id in (None, t.account_id) for t in self._db.trades.values())

    def _newest_first(
        self, account_id: str, since: dt.datetime | None, until: dt.datetime | None
    ) -> list[Trade]:
        v.optional_utc("since", since)
        v.optional_utc("until", until)
        chosen = (
            trade
            for trade in self._db.trades.values()
            if trade.account_id == account_id and _within(trade.time, since, until)
        )
        return sorted(chosen, key=lambda trade: (trade.time, trade.exec_id), reverse=True)

    def list_for_account(
        self,
        account_id: str,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        limit: int = 100,
        after: TradeCursor | None = None,
    ) -> list[Trade]:
        found = self._newest_first(account_id, since, until)
        if after is not None:
            found = [t for t in found if (t.time, t.exec_id) < (after.time, after.exec_id)]
        return found[:limit]

    def iter_for_account(
        self,
        account_id: str,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        batch_size: int = 1000,
    ) -> Iterator[Trade]:
        if batch_size < 1:
            raise ValidationError("batch_size: must be at least 1", field="batch_size")
        return iter(self._newest_first(account_id, since, until))

    def iter_in_matching_order(
        self,
        *,
        account_id: str | None = None,
        instrument: str | None = None,
        since: dt.datetime | None = None,
        batch_size: int = 5000,
    ) -> Iterator[Trade]:
        chosen = [
            t
            for t in self._db.trades.values()
            if account_id in (None, t.account_id)
            and instrument in (None, t.instrument)
            and _within(t.time, since, None)
        ]
        return iter(sorted(chosen, key=lambda t: (t.account_id, t.instrument, t.time, t.exec_id)))

    def list_with_reports(
        self, account_id: str, *, limit: int = 100, after: TradeCursor | None = None
    ) -> list[tuple[Trade, TradeReport | None]]:
        reports = {report.trade_id: report for report in self._db.trade_reports.values()}
        page = self.list_for_account(account_id, limit=limit, after=after)
        return [(trade, reports.get(trade.exec_id)) for trade in page]

    def search_instruments(self, text: str, *, limit: int = 50) -> list[str]:
        needle = text.lower()
        names = {t.instrument for t in self._db.trades.values() if needle in t.instrument.lower()}
        return sorted(names)[:limit]

    def totals(self, account_id: str) -> TradeTotals:
        mine = [t for t in self._db.trades.values() if t.account_id == account_id]
        return TradeTotals(
            count=len(mine),
            commission=sum((t.commission for t in mine), ZERO),
            realized_pnl=sum((t.realized_pnl for t in mine), ZERO),
        )


class FakeImageRepository:
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def _owner_exists(self, owner_type: ImageOwnerType, owner_id: str) -> bool:
        if owner_type is ImageOwnerType.TRADE:
            return owner_id in self._db.trades
        owners: dict[int, Any] = (
            self._db.trade_reports if owner_type is ImageOwnerType.REPORT else self._db.trade_plans
        )
        return owner_id.isdigit() and int(owner_id) in owners

    def save(
        self,
        owner_id: str,
        image: ImageAttachment,
        *,
        owner_type: ImageOwnerType = ImageOwnerType.TRADE,
    ) -> int:
        if image.data is None:
            raise ValidationError("image.data: the image bytes are required", field="data")
        analysed = analyse_image(image.data)
        if not self._owner_exists(owner_type, owner_id):
            raise ConflictError(
                f"cannot attach an image: {owner_type.value} {owner_id!r} does not exist"
            )
        image_id = self._db.next_id()
        self._db.images[image_id] = ImageAttachment(
            data=image.data,
            caption=image.caption,
            id=image_id,
            owner_type=owner_type,
            owner_id=owner_id,
            mime_type=analysed.facts.mime_type,
            thumbnail=analysed.thumbnail,
            width=analysed.facts.width,
            height=analysed.facts.height,
            file_size=analysed.facts.file_size,
            created_at=v.now_utc(),
        )
        return image_id

    def get(self, image_id: int) -> ImageAttachment | None:
        return self._db.images.get(image_id)

    def get_for_trade(self, exec_id: str) -> list[ImageAttachment]:
        return self.get_for_owner(ImageOwnerType.TRADE, exec_id)

    def get_for_owner(self, owner_type: ImageOwnerType, owner_id: str) -> list[ImageAttachment]:
        return [
            dataclasses.replace(image, data=None, thumbnail=None)
            for _, image in sorted(self._db.images.items())
            if image.owner_type is owner_type and image.owner_id == owner_id
        ]

    def get_for_owners(
        self, owner_type: ImageOwnerType, owner_ids: Sequence[str]
    ) -> dict[str, list[ImageAttachment]]:
        return {owner: self.get_for_owner(owner_type, owner) for owner in owner_ids}

    def get_thumbnail(self, image_id: int, max_size: int = 200) -> bytes:
        image = self._db.images.get(image_id)
        if image is None or image.data is None:
            raise _missing("image", image_id)
        return make_thumbnail(image.data, max_size)

    def delete(self, image_id: int) -> None:
        _remove(self._db.images, image_id, "image")

    def delete_for_owner(self, owner_type: ImageOwnerType, owner_id: str) -> int:
        doomed = [
            key
            for key, image in self._db.images.items()
            if image.owner_type is owner_type and image.owner_id == owner_id
        ]
        for key in doomed:
            del self._db.images[key]
        return len(doomed)

    def count(self) -> int:
        return len(self._db.images)


class FakeAccountRepository:
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def save(self, account: Account) -> None:
        _add(self._db.accounts, account.account_id, account, "account")

    def get(self, account_id: str) -> Account | None:
        return self._db.accounts.get(account_id)

    def exists(self, account_id: str) -> bool:
        return account_id in self._db.accounts

    def update(self, account: Account) -> None:
        _replace(self._db.accounts, account.account_id, account, "account")

    def delete(self, account_id: str) -> None:
        if account_id not in self._db.accounts:
            raise _missing("account", account_id)
        dependants: Iterable[Any] = [
            *self._db.trades.values(),
            *self._db.balance_snapshots.values(),
            *self._db.round_trips.values(),
            *self._db.bank_transactions.values(),
        ]
        if any(row.account_id == account_id for row in dependants):
            raise ConflictError(f"account {account_id!r} still has rows that belong to it")
        del self._db.accounts[account_id]

    def list_all(self) -> list[Account]:
        return [self._db.accounts[key] for key in sorted(self._db.accounts)]

    def count(self) -> int:
        return len(self._db.accounts)


class FakeBalanceSnapshotRepository:
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def save(self, snapshot: BalanceSnapshot) -> int:
        _require_account(self._db, snapshot.account_id, "balance snapshot")
        new_id = self._db.next_id()
        self._db.balance_snapshots[new_id] = _with_id(snapshot, new_id)
        return new_id

    def get(self, snapshot_id: int) -> BalanceSnapshot | None:
        return self._db.balance_snapshots.get(snapshot_id)

    def list_for_account(
        self,
        account_id: str,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> list[BalanceSnapshot]:
        found = [
            s
            for s in self._db.balance_snapshots.values()
            if s.account_id == account_id and _within(s.datetime, since, until)
        ]
        return sorted(found, key=lambda s: (s.datetime, s.id or 0))

    def latest(self, account_id: str) -> BalanceSnapshot | None:
        found = self.list_for_account(account_id)
        return found[-1] if found else None

    def delete(self, snapshot_id: int) -> None:
        _remove(self._db.balance_snapshots, snapshot_id, "balance snapshot")

    def count(self) -> int:
        return len(self._db.balance_snapshots)


class FakeTradeReportRepository:
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def save(self, report: TradeReport) -> int:
        if report.trade_id not in self._db.trades:
            raise ConflictError(f"report: trade {report.trade_id!r} does not exist")
        if self.get_for_trade(report.trade_id) is not None:
            raise DuplicateError(f"trade {report.trade_id!r} already has a report")
        new_id = self._db.next_id()
        self._db.trade_reports[new_id] = _with_id(report, new_id)
        return new_id

    def get(self, report_id: int) -> TradeReport | None:
        return self._db.trade_reports.get(report_id)

    def get_for_trade(self, trade_id: str) -> TradeReport | None:
        return next((r for r in self._db.trade_reports.values() if r.trade_id == trade_id), None)

    def update(self, report: TradeReport) -> None:
        _replace(self._db.trade_reports, report.id, report, "trade report")

    def delete(self, report_id: int) -> None:
        _remove(self._db.trade_reports, report_id, "trade report")

    def count(self) -> int:
        return len(self._db.trade_reports)


class FakeTradePlanRepository:
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def save(self, plan: TradePlan) -> int:
        new_id = self._db.next_id()
        self._db.trade_plans[new_id] = _with_id(plan, new_id)
        return new_id

    def get(self, plan_id: int) -> TradePlan | None:
        return self._db.trade_plans.get(plan_id)

    def update(self, plan: TradePlan) -> None:
        _replace(self._db.trade_plans, plan.id, plan, "trade plan")

    def delete(self, plan_id: int) -> None:
        _remove(self._db.trade_plans, plan_id, "trade plan")

    def link_trade(self, plan_id: int, exec_id: str) -> None:
        plan = self._db.trade_plans.get(plan_id)
        if plan is None:
            raise _missing("trade plan", plan_id)
        if exec_id not in self._db.trades:
            raise ConflictError(f"plan {plan_id}: trade {exec_id!r} does not exist")
        self._db.trade_plans[plan_id] = dataclasses.replace(plan, linked_trade_id=exec_id)

    def unlink_trade(self, plan_id: int) -> None:
        plan = self._db.trade_plans.get(plan_id)
        if plan is None:
            raise _missing("trade plan", plan_id)
        self._db.trade_plans[plan_id] = dataclasses.replace(plan, linked_trade_id=None)

    def list_by_status(self, status: PlanStatus) -> list[TradePlan]:
        return [p for _, p in sorted(self._db.trade_plans.items()) if p.status is status]

    def list_for_ticker(self, ticker: str) -> list[TradePlan]:
        return [p for _, p in sorted(self._db.trade_plans.items()) if p.ticker == ticker]

    def count(self) -> int:
        return len(self._db.trade_plans)


class FakeWatchlistRepository:
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def save(self, watchlist: Watchlist) -> int:
        if any(w.name == watchlist.name for w in self._db.watchlists.values()):
            raise DuplicateError(f"watchlist {watchlist.name!r} already exists")
        new_id = self._db.next_id()
        self._db.watchlists[new_id] = _with_id(watchlist, new_id)
        return new_id

    def get(self, watchlist_id: int) -> Watchlist | None:
        return self._db.watchlists.get(watchlist_id)

    def update(self, watchlist: Watchlist) -> None:
        _replace(self._db.watchlists, watchlist.id, watchlist, "watchlist")

    def delete(self, watchlist_id: int) -> None:
        _remove(self._db.watchlists, watchlist_id, "watchlist")

    def list_all(self) -> list[Watchlist]:
        return sorted(self._db.watchlists.values(), key=lambda w: w.name)

    def add_item(self, watchlist_id: int, item: WatchlistItem) -> int:
        watchlist = self._db.watchlists.get(watchlist_id)
        if watchlist is None:
            raise ConflictError(f"watchlist {watchlist_id} does not exist")
        if any(existing.ticker == item.ticker for existing in watchlist.items):
            raise DuplicateError(f"{item.ticker!r} is already on watchlist {watchlist_id}")
        item_id = self._db.next_id()
        stored = dataclasses.replace(item, id=item_id, watchlist_id=watchlist_id)
        self._db.watchlists[watchlist_id] = dataclasses.replace(
            watchlist, items=[*watchlist.items, stored]
        )
        return item_id

    def remove_item(self, watchlist_id: int, ticker: str) -> None:
        watchlist = self._db.watchlists.get(watchlist_id)
        if watchlist is None or all(item.ticker != ticker for item in watchlist.items):
            raise _missing("watchlist item", ticker)
        kept = [item for item in watchlist.items if item.ticker != ticker]
        self._db.watchlists[watchlist_id] = dataclasses.replace(watchlist, items=kept)

    def count(self) -> int:
        return len(self._db.watchlists)


class FakeSettingsRepository:
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def _default_type(self, key: str) -> SettingValueType | None:
        default = self._db.app_defaults.get(key)
        if default is not None:
            return default.value_type
        pattern = pattern_default(key)
        return pattern.value_type if pattern is not None else None

    def get(self, key: str) -> Setting | None:
        return self._db.settings.get(key)

    def set(self, key: str, value: object) -> Setting:
        text, value_type = encode_setting(value, self._default_type(key), key=key)
        check_setting(key, decode_setting(text, value_type, key=key))
        setting = Setting(key=key, value=text, value_type=value_type, updated_at=v.now_utc())
        self._db.settings[key] = setting
        return setting

    def delete(self, key: str) -> None:
        _remove(self._db.settings, key, "setting")

    def resolve(self, key: str) -> Any:
        user = self._db.settings.get(key)
        value_type = self._default_type(key) or SettingValueType.STR
        if user is not None:
            return decode_setting(user.value, user.value_type or value_type, key=key)
        default = self._db.app_defaults.get(key)
        if default is not None:
            return decode_setting(default.value, default.value_type, key=key)
        pattern = pattern_default(key)
        if pattern is not None:
            return decode_setting(pattern.value, pattern.value_type, key=key)
        raise _missing("setting", key)

    def list_all(self) -> list[Setting]:
        return [self._db.settings[key] for key in sorted(self._db.settings)]


class FakeAppDefaultRepository:
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def get(self, key: str) -> AppDefault | None:
        return self._db.app_defaults.get(key)

    def save(self, default: AppDefault) -> None:
        self._db.app_defaults[default.key] = default

    def upsert_missing(self, defaults: Iterable[AppDefault]) -> int:
        added = 0
        for default in defaults:
            if default.key not in self._db.app_defaults:
                self._db.app_defaults[default.key] = default
                added += 1
        return added

    def list_by_category(self, category: str) -> list[AppDefault]:
        return [d for d in self.list_all() if d.category == category]

    def list_all(self) -> list[AppDefault]:
        return [self._db.app_defaults[key] for key in sorted(self._db.app_defaults)]


class FakeMarketProviderRepository:
    """Keeps API keys in the clear: encryption is the real repository's business."""

    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def save(self, setting: MarketProviderSetting, *, api_key: str | None = None) -> None:
        stored = dataclasses.replace(setting, has_api_key=api_key is not None)
        _add(self._db.market_providers, setting.provider_name, stored, "market provider")
        if api_key is not None:
            self._db.api_keys[setting.provider_name] = api_key

    def get(self, provider_name: str) -> MarketProviderSetting | None:
        return self._db.market_providers.get(provider_name)

    def update(self, setting: MarketProviderSetting) -> None:
        has_key = setting.provider_name in self._db.api_keys
        stored = dataclasses.replace(setting, has_api_key=has_key)
        _replace(self._db.market_providers, setting.provider_name, stored, "market provider")

    def delete(self, provider_name: str) -> None:
        _remove(self._db.market_providers, provider_name, "market provider")
        self._db.api_keys.pop(provider_name, None)

    def list_all(self) -> list[MarketProviderSetting]:
        return [self._db.market_providers[k] for k in sorted(self._db.market_providers)]

    def set_api_key(self, provider_name: str, api_key: str | None) -> None:
        setting = self._db.market_providers.get(provider_name)
        if setting is None:
            raise _missing("market provider", provider_name)
        if api_key is None:
            self._db.api_keys.pop(provider_name, None)
        else:
            self._db.api_keys[provider_name] = api_key
        self._db.market_providers[provider_name] = dataclasses.replace(
            setting, has_api_key=api_key is not None
        )

    def get_api_key(self, provider_name: str) -> str | None:
        if provider_name not in self._db.market_providers:
            raise _missing("market provider", provider_name)
        return self._db.api_keys.get(provider_name)


class FakeMcpGuardRepository:
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def get(self) -> McpGuardState:
        return self._db.mcp_guard[0]

    def update(self, state: McpGuardState) -> None:
        self._db.mcp_guard[0] = state

    def lock(self, reason: str) -> McpGuardState:
        state = dataclasses.replace(
            self.get(), is_locked=True, locked_at=v.now_utc(), lock_reason=reason
        )
        self.update(state)
        return state

    def unlock(self) -> McpGuardState:
        state = dataclasses.replace(self.get(), is_locked=False, locked_at=None, lock_reason=None)
        self.update(state)
        return state


def _report_group(trip: RoundTrip, grouping: ReportGrouping) -> str | None:
    """The group key the SQL repository gives a closed round trip (UTC; weeks from Monday)."""
    if grouping is ReportGrouping.ALL:
        return None
    if grouping is ReportGrouping.INSTRUMENT:
        return trip.instrument
    assert trip.closed_at is not None
    day = trip.closed_at.astimezone(dt.UTC).date()
    if grouping is ReportGrouping.WEEK:
        day -= dt.timedelta(days=day.weekday())
    elif grouping is ReportGrouping.MONTH:
        day = day.replace(day=1)
    return day.isoformat()


def _statistics(group: str | None, currency: str, trips: list[RoundTrip]) -> PnlStatistics:
    """Aggregates of round trips given in closing order."""
    pnls = [r.realized_pnl or ZERO for r in trips]
    wins = [p for p in pnls if p > 0]
    losses = [p for p in pnls if p < 0]
    cumulative = peak = drawdown = ZERO
    for pnl in pnls:
        cumulative += pnl
        peak = max(peak, cumulative)
        drawdown = max(drawdown, peak - cumulative)
    return PnlStatistics(
        group=group,
        currency=currency,
        round_trips=len(trips),
        wins=len(wins),
        losses=len(losses),
        net_pnl=sum(pnls, ZERO),
        commission=sum((r.total_commission for r in trips), ZERO),
        total_win=sum(wins, ZERO),
        total_loss=sum(losses, ZERO),
        largest_win=max(wins, default=None),
        largest_loss=min(losses, default=None),
        holding_seconds=sum(r.holding_period_seconds or 0 for r in trips),
        max_drawdown=drawdown,
    )


class FakeRoundTripRepository:
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def save(self, round_trip: RoundTrip) -> int:
        _require_account(self._db, round_trip.account_id, "round trip")
        new_id = self._db.next_id()
        self._db.round_trips[new_id] = _with_id(round_trip, new_id)
        return new_id

    def save_many(self, round_trips: Iterable[RoundTrip]) -> int:
        return len([self.save(round_trip) for round_trip in round_trips])

    def get(self, round_trip_id: int) -> RoundTrip | None:
        return self._db.round_trips.get(round_trip_id)

    def _drop(self, doomed: Iterable[int]) -> int:
        keys = list(doomed)
        for key in keys:
            del self._db.round_trips[key]
        return len(keys)

    def delete_for_pairs(self, pairs: Iterable[tuple[str, str]]) -> int:
        wanted = set(pairs)
        table = self._db.round_trips
        return self._drop(k for k, r in table.items() if (r.account_id, r.instrument) in wanted)

    def delete_all(self) -> int:
        return self._drop(list(self._db.round_trips))

    def opened_before_and_spanning(
        self, account_id: str, instrument: str, *, moment: dt.datetime
    ) -> dt.datetime | None:
        pair = self.list_for_account(account_id, instrument=instrument)
        earlier = [r for r in pair if r.opened_at < moment]
        if not earlier:
            return None
        latest = max(r.opened_at for r in earlier)
        spanning = any(
            r.opened_at == latest and (r.closed_at is None or r.closed_at >= moment)
            for r in earlier
        )
        return latest if spanning else None

    def delete_for_pair_since(
        self, account_id: str, instrument: str, *, opened_since: dt.datetime
    ) -> int:
        pair = self.list_for_account(account_id, instrument=instrument)
        return self._drop(r.id for r in pair if r.id is not None and r.opened_at >= opened_since)

    def iter_matching(
        self, where: RoundTripFilter = EVERY_ROUND_TRIP, *, batch_size: int = 1000
    ) -> Iterator[RoundTrip]:
        found = [
            r
            for r in self._db.round_trips.values()
            if where.account_id in (None, r.account_id)
            and where.instrument in (None, r.instrument)
            and where.status in (None, r.status)
            and _within(r.opened_at, where.since, where.until)
        ]
        return iter(sorted(found, key=lambda r: (r.opened_at, r.id or 0)))

    def statistics(
        self, where: RoundTripFilter = EVERY_ROUND_TRIP, *, by: ReportGrouping = ReportGrouping.ALL
    ) -> list[PnlStatistics]:
        """The SQL repository's aggregates, computed in memory the same way.

        Closed round trips only, since/until on closed_at; one row per (group, currency),
        ordered by group then currency; the drawdown curve runs in closing order
        (closed_at, id) and starts at 0.
        """
        grouping = v.choice("by", by, ReportGrouping)
        closed = [
            r
            for r in self._db.round_trips.values()
            if r.status is RoundTripStatus.CLOSED
            and r.closed_at is not None
            and where.account_id in (None, r.account_id)
            and where.instrument in (None, r.instrument)
            and _within(r.closed_at, where.since, where.until)
        ]
        groups: dict[tuple[str | None, str], list[RoundTrip]] = {}
        for trip in sorted(closed, key=lambda r: (r.closed_at, r.id or 0)):
            currency = trip.currency or self._db.accounts[trip.account_id].currency
            groups.setdefault((_report_group(trip, grouping), currency), []).append(trip)
        return [
            _statistics(group, currency, trips)
            for (group, currency), trips in sorted(groups.items(), key=lambda item: item[0])
        ]

    def update(self, round_trip: RoundTrip) -> None:
        _replace(self._db.round_trips, round_trip.id, round_trip, "round trip")

    def delete(self, round_trip_id: int) -> None:
        _remove(self._db.round_trips, round_trip_id, "round trip")

    def list_for_account(
        self, account_id: str, *, instrument: str | None = None
    ) -> list[RoundTrip]:
        found = [
            r
            for r in self._db.round_trips.values()
            if r.account_id == account_id and instrument in (None, r.instrument)
        ]
        return sorted(found, key=lambda r: (r.opened_at, r.id or 0))

    def count(self) -> int:
        return len(self._db.round_trips)


class FakeExcursionRepository:
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def save(self, metrics: ExcursionMetrics) -> None:
        if metrics.trade_exec_id not in self._db.trades:
            raise ConflictError(f"excursions: trade {metrics.trade_exec_id!r} does not exist")
        _add(self._db.excursions, metrics.trade_exec_id, metrics, "excursion metrics")

    def get(self, trade_exec_id: str) -> ExcursionMetrics | None:
        return self._db.excursions.get(trade_exec_id)

    def update(self, metrics: ExcursionMetrics) -> None:
        _replace(self._db.excursions, metrics.trade_exec_id, metrics, "excursion metrics")

    def delete(self, trade_exec_id: str) -> None:
        _remove(self._db.excursions, trade_exec_id, "excursion metrics")

    def count(self) -> int:
        return len(self._db.excursions)


class FakeIdentifierRepository:
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def _find(self, id_type: IdentifierType, id_value: str) -> IdentifierMapping | None:
        return next(
            (
                m
                for m in self._db.identifiers.values()
                if m.id_type is id_type and m.id_value == id_value
            ),
            None,
        )

    def save(self, mapping: IdentifierMapping) -> int:
        if self._find(mapping.id_type, mapping.id_value) is not None:
            raise DuplicateError(f"identifier {mapping.id_type}:{mapping.id_value} exists")
        new_id = self._db.next_id()
        self._db.identifiers[new_id] = _with_id(mapping, new_id)
        return new_id

    def upsert(self, mapping: IdentifierMapping) -> int:
        found = self._find(mapping.id_type, mapping.id_value)
        if found is None or found.id is None:
            return self.save(mapping)
        self._db.identifiers[found.id] = _with_id(mapping, found.id)
        return found.id

    def lookup(
        self, id_type: IdentifierType, id_value: str, *, at: dt.datetime | None = None
    ) -> IdentifierMapping | None:
        found = self._find(id_type, id_value)
        moment = at or v.now_utc()
        if found is None or (found.expires_at is not None and found.expires_at <= moment):
            return None
        return found

    def delete_expired(self, *, at: dt.datetime | None = None) -> int:
        moment = at or v.now_utc()
        expired = [
            key
            for key, m in self._db.identifiers.items()
            if m.expires_at is not None and m.expires_at <= moment
        ]
        for key in expired:
            del self._db.identifiers[key]
        return len(expired)

    def count(self) -> int:
        return len(self._db.identifiers)


class FakeLedgerRepository:
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def save(self, entry: LedgerEntry) -> int:
        if entry.trade_exec_id not in self._db.trades:
            raise ConflictError(f"ledger entry: trade {entry.trade_exec_id!r} does not exist")
        new_id = self._db.next_id()
        self._db.ledger[new_id] = _with_id(entry, new_id)
        return new_id

    def get(self, entry_id: int) -> LedgerEntry | None:
        return self._db.ledger.get(entry_id)

    def list_for_trade(self, trade_exec_id: str) -> list[LedgerEntry]:
        return [e for _, e in sorted(self._db.ledger.items()) if e.trade_exec_id == trade_exec_id]

    def totals_by_fee_type(self, trade_exec_id: str | None = None) -> dict[FeeType, Decimal]:
        totals: dict[FeeType, Decimal] = {}
        for entry in self._db.ledger.values():
            if trade_exec_id in (None, entry.trade_exec_id):
                totals[entry.fee_type] = totals.get(entry.fee_type, ZERO) + entry.amount
        return totals

    def delete(self, entry_id: int) -> None:
        _remove(self._db.ledger, entry_id, "ledger entry")

    def count(self) -> int:
        return len(self._db.ledger)


class FakeOptionsStrategyRepository:
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def save(self, strategy: OptionsStrategy) -> int:
        new_id = self._db.next_id()
        self._db.options_strategies[new_id] = _with_id(strategy, new_id)
        return new_id

    def get(self, strategy_id: int) -> OptionsStrategy | None:
        return self._db.options_strategies.get(strategy_id)

    def update(self, strategy: OptionsStrategy) -> None:
        _replace(self._db.options_strategies, strategy.id, strategy, "options strategy")

    def delete(self, strategy_id: int) -> None:
        _remove(self._db.options_strategies, strategy_id, "options strategy")

    def list_for_underlying(self, underlying: str) -> list[OptionsStrategy]:
        table = self._db.options_strategies
        return [s for _, s in sorted(table.items()) if s.underlying == underlying]

    def count(self) -> int:
        return len(self._db.options_strategies)


class FakeMistakeRepository:
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def save(self, mistake: MistakeEntry) -> int:
        if mistake.trade_id not in self._db.trades:
            raise ConflictError(f"mistake: trade {mistake.trade_id!r} does not exist")
        new_id = self._db.next_id()
        self._db.mistakes[new_id] = _with_id(mistake, new_id)
        return new_id

    def get(self, mistake_id: int) -> MistakeEntry | None:
        return self._db.mistakes.get(mistake_id)

    def list_for_trade(self, trade_id: str) -> list[MistakeEntry]:
        return [m for _, m in sorted(self._db.mistakes.items()) if m.trade_id == trade_id]

    def cost_by_category(self) -> dict[MistakeCategory, Decimal]:
        costs: dict[MistakeCategory, Decimal] = {}
        for mistake in self._db.mistakes.values():
            if mistake.estimated_cost is not None:
                costs[mistake.category] = costs.get(mistake.category, ZERO) + (
                    mistake.estimated_cost
                )
        return costs

    def delete(self, mistake_id: int) -> None:
        _remove(self._db.mistakes, mistake_id, "mistake")

    def count(self) -> int:
        return len(self._db.mistakes)


class FakeBrokerConfigRepository:
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def save(self, config: BrokerConfig) -> None:
        _add(self._db.broker_configs, config.broker_id, config, "broker config")

    def get(self, broker_id: str) -> BrokerConfig | None:
        return self._db.broker_configs.get(broker_id)

    def update(self, config: BrokerConfig) -> None:
        _replace(self._db.broker_configs, config.broker_id, config, "broker config")

    def delete(self, broker_id: str) -> None:
        _remove(self._db.broker_configs, broker_id, "broker config")

    def list_all(self) -> list[BrokerConfig]:
        return [self._db.broker_configs[key] for key in sorted(self._db.broker_configs)]


class FakeBankTransactionRepository:
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def save(self, transaction: BankTransaction) -> int:
        _require_account(self._db, transaction.account_id, "bank transaction")
        if any(
            (t.account_id, t.dedup_hash) == (transaction.account_id, transaction.dedup_hash)
            for t in self._db.bank_transactions.values()
        ):
            raise DuplicateError(f"bank transaction {transaction.dedup_hash!r} already exists")
        new_id = self._db.next_id()
        self._db.bank_transactions[new_id] = _with_id(transaction, new_id)
        return new_id

    def get(self, transaction_id: int) -> BankTransaction | None:
        return self._db.bank_transactions.get(transaction_id)

    def import_batch(self, transactions: Iterable[BankTransaction]) -> BankImportResult:
        inserted = duplicates = 0
        for transaction in transactions:
            try:
                self.save(transaction)
            except DuplicateError:
                duplicates += 1
            else:
                inserted += 1
        return BankImportResult(inserted=inserted, duplicates=duplicates)

    def list_for_account(
        self,
        account_id: str,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> list[BankTransaction]:
        found = [
            t
            for t in self._db.bank_transactions.values()
            if t.account_id == account_id and _within(t.date, since, until)
        ]
        return sorted(found, key=lambda t: (t.date, t.id or 0))

    def list_for_batch(self, import_batch_id: str) -> list[BankTransaction]:
        table = self._db.bank_transactions
        return [t for _, t in sorted(table.items()) if t.import_batch_id == import_batch_id]

    def undo_batch(self, import_batch_id: str) -> int:
        doomed = [t.id for t in self.list_for_batch(import_batch_id) if t.id is not None]
        for key in doomed:
            del self._db.bank_transactions[key]
        return len(doomed)

    def count(self) -> int:
        return len(self._db.bank_transactions)


class FakeBankImportConfigRepository:
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def save(self, config: BankImportConfig) -> None:
        _add(self._db.bank_import_configs, config.bank_id, config, "bank import config")

    def get(self, bank_id: str) -> BankImportConfig | None:
        return self._db.bank_import_configs.get(bank_id)

    def update(self, config: BankImportConfig) -> None:
        _replace(self._db.bank_import_configs, config.bank_id, config, "bank import config")

    def delete(self, bank_id: str) -> None:
        _remove(self._db.bank_import_configs, bank_id, "bank import config")

    def list_all(self) -> list[BankImportConfig]:
        return [self._db.bank_import_configs[k] for k in sorted(self._db.bank_import_configs)]


class FakeUnitOfWork(UnitOfWork):
    """The `UnitOfWork` port over a `FakeDatabase`; `committed` counts commits.

    Like the real one, entering an active unit of work raises, and leaving the block
    without `commit()` discards the block's changes. The repository attributes are the
    port's (declared once there); mypy checks each fake assigned in `_begin` against them.
    """

    def __init__(self, database: FakeDatabase | None = None) -> None:
        self.database = database if database is not None else FakeDatabase()
        self.committed = 0
        self._working: FakeDatabase | None = None

    def __enter__(self) -> Self:
        if self._working is not None:
            raise RuntimeError("this fake unit of work is already active")
        self._begin()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._working = None

    def commit(self) -> None:
        if self._working is None:
            raise RuntimeError("commit() called outside the fake unit of work's block")
        self.database = self._working
        self.committed += 1
        self._begin()

    def rollback(self) -> None:
        if self._working is None:
            raise RuntimeError("rollback() called outside the fake unit of work's block")
        self._begin()

    def _begin(self) -> None:
        db = self._working = self.database.copy()
        self.trades = FakeTradeRepository(db)
        self.images = FakeImageRepository(db)
        self.accounts = FakeAccountRepository(db)
        self.balance_snapshots = FakeBalanceSnapshotRepository(db)
        self.trade_reports = FakeTradeReportRepository(db)
        self.trade_plans = FakeTradePlanRepository(db)
        self.watchlists = FakeWatchlistRepository(db)
        self.settings = FakeSettingsRepository(db)
        self.app_defaults = FakeAppDefaultRepository(db)
        self.market_providers = FakeMarketProviderRepository(db)
        self.mcp_guard = FakeMcpGuardRepository(db)
        self.round_trips = FakeRoundTripRepository(db)
        self.excursions = FakeExcursionRepository(db)
        self.identifiers = FakeIdentifierRepository(db)
        self.ledger = FakeLedgerRepository(db)
        self.options_strategies = FakeOptionsStrategyRepository(db)
        self.mistakes = FakeMistakeRepository(db)
        self.broker_configs = FakeBrokerConfigRepository(db)
        self.bank_transactions = FakeBankTransactionRepository(db)
        self.bank_import_configs = FakeBankImportConfigRepository(db)
