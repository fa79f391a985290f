"""Revision 0003 (CHECK constraints, commission NOT NULL, redundant indexes) as a real upgrade.

A journal at revision 0002 gets 100,000 trades (1,000 where refusals are tested; raw SQL,
storage forms per dialect, some with a NULL commission) and a row in every other table
(through the repositories, which write the 0002 schema's columns), then is upgraded.
Every row of every table is read with raw SQL before and after: nothing changes but the
NULL commissions, which become 0. Then rows that break a domain rule, written by raw SQL,
are refused. Runs on SQLite, an
encrypted SQLCipher file and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import pytest
from sqlalchemy import Engine, exc, inspect, text
from sqlalchemy.orm import sessionmaker

from tests.factories import png_bytes
from tests.pg import private_schema, search_path_args
from zorivest_core.domain.bank import compute_dedup_hash
from zorivest_core.domain.entities import (
    Account,
    BalanceSnapshot,
    BankImportConfig,
    BankTransaction,
    BrokerConfig,
    ExcursionMetrics,
    IdentifierMapping,
    ImageAttachment,
    LedgerEntry,
    MarketProviderSetting,
    MistakeEntry,
    OptionsStrategy,
    TradePlan,
    TradeReport,
    Watchlist,
    WatchlistItem,
)
from zorivest_core.domain.enums import (
    AccountType,
    BalanceSource,
    ConvictionLevel,
    FeeType,
    IdentifierType,
    ImageOwnerType,
    MistakeCategory,
    StrategyType,
    TradeAction,
)
from zorivest_core.domain.errors import ConflictError
from zorivest_infra.database.engine import create_engine_from_url
from zorivest_infra.database.migrations import current_revision, upgrade
from zorivest_infra.database.unit_of_work import SqlAlchemyUnitOfWork

TRADES: Final = 100_000
NULL_COMMISSION_EVERY: Final = 1_000  # 100 trades stored with a NULL commission
AT: Final = dt.datetime(2024, 3, 8, 14, 30, tzinfo=dt.UTC)
DROPPED_INDEXES: Final = {
    "images": "ix_images_owner_type",
    "identifier_cache": "ix_identifier_cache_id_type",
    "bank_transactions": "ix_bank_transactions_account_id",
}


@pytest.fixture(
    params=["sqlite", "sqlcipher", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database on each backend."""
    if request.param == "postgresql":
        with private_schema("zm3") as (url, schema):
            pg = create_engine_from_url(url, connect_args=search_path_args(schema))
            try:
                yield pg
            finally:
                pg.dispose()
        return
    if request.param == "sqlcipher":
        request.getfixturevalue("fast_kdf")
        from zorivest_infra.database.engine import create_encrypted_engine

        built = create_encrypted_engine(tmp_path / "journal.db", "migration passphrase")
    else:
        built = create_engine_from_url(f"sqlite:///{tmp_path / 'plain.db'}")
    try:
        yield built
    finally:
        built.dispose()


def _insert_trades(engine: Engine, count: int) -> None:
    """Trades in the stored forms of 0002 (scaled integers / NUMERIC, UTC text)."""
    pg = engine.dialect.name == "postgresql"
    rows = []
    for n in range(count):
        moment = AT + dt.timedelta(seconds=n)
        quantity, price = Decimal(n % 500 + 1), Decimal(n % 9973) / 100
        commission = None if n % NULL_COMMISSION_EVERY == 0 else Decimal(n % 7) / 4
        rows.append(
            {
                "e": f"T{n:06d}",
                "t": moment if pg else moment.isoformat(" ", "microseconds")[:26],
                "i": ("AAPL", "MSFT", "ES 03-24")[n % 3],
                "a": ("BOT", "SLD")[n % 2],
                "q": quantity if pg else int(quantity.scaleb(10)),
                "p": price if pg else int(price.scaleb(10)),
                "acc": ("U1", "U2")[n % 2],
                "c": commission if pg or commission is None else int(commission.scaleb(6)),
                "r": Decimal(0) if pg else 0,
                "ac": "option" if n % 4 == 0 else None,
                "m": (Decimal(100) if pg else int(Decimal(100).scaleb(10))) if n % 4 == 0 else None,
            }
        )
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO trades (exec_id, time, instrument, action, quantity, price, "
                "account_id, commission, realized_pnl, asset_class, multiplier) "
                "VALUES (:e, :t, :i, :a, :q, :p, :acc, :c, :r, :ac, :m)"
            ),
            rows,
        )


def _fill_every_other_table(engine: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(sessionmaker(engine, expire_on_commit=False))
    with uow:
        report_id = uow.trade_reports.save(
            TradeReport(trade_id="T000001", setup_quality=4, tags=["breakout"], created_at=AT)
        )
        plan_id = uow.trade_plans.save(
            TradePlan(
                ticker="AAPL",
                direction=TradeAction.BOT,
                conviction=ConvictionLevel.HIGH,
                entry_price=Decimal("189.5"),
                created_at=AT,
            )
        )
        for owner_type, owner in (
            (ImageOwnerType.TRADE, "T000001"),
            (ImageOwnerType.REPORT, str(report_id)),
            (ImageOwnerType.PLAN, str(plan_id)),
        ):
            uow.images.save(owner, ImageAttachment(data=png_bytes(64, 48)), owner_type=owner_type)
        watchlist_id = uow.watchlists.save(Watchlist(name="Tech", created_at=AT))
        uow.watchlists.add_item(watchlist_id, WatchlistItem(ticker="NVDA", added_at=AT))
        uow.balance_snapshots.save(BalanceSnapshot("U1", AT, Decimal("25000.5")))
        uow.settings.set("ui.theme", "dark")
        uow.market_providers.save(MarketProviderSetting("polygon", created_at=AT))
        uow.excursions.save(ExcursionMetrics(trade_exec_id="T000001", mfe_dollars=Decimal(12)))
        uow.identifiers.save(
            IdentifierMapping(IdentifierType.CUSIP, "037833100", "AAPL", "test", resolved_at=AT)
        )
        uow.ledger.save(LedgerEntry("T000001", FeeType.REGULATORY, Decimal("0.02")))
        uow.options_strategies.save(
            OptionsStrategy(StrategyType.VERTICAL, "AAPL", ["T000004", "T000008"], created_at=AT)
        )
        uow.mistakes.save(
            MistakeEntry("T000001", MistakeCategory.EARLY_EXIT, Decimal(-40), created_at=AT)
        )
        uow.broker_configs.save(BrokerConfig("ibkr", "Interactive Brokers", created_at=AT))
        uow.bank_transactions.save(
            BankTransaction(
                account_id="B1",
                date=AT,
                description="COFFEE",
                amount=Decimal("-4.5"),
                dedup_hash=compute_dedup_hash("B1", AT.date(), "-4.5", "COFFEE"),
                source=BalanceSource.CSV_IMPORT,
                created_at=AT,
            )
        )
        uow.bank_import_configs.save(
            BankImportConfig("chase", "Chase", {"date": "Posting Date"}, created_at=AT)
        )
        uow.commit()
    _insert_round_trip(engine)


def _insert_round_trip(engine: Engine) -> None:
    """An open round trip in the stored forms of 0002 (raw SQL: the repository writes
    0004's currency column, which 0002 lacks)."""
    pg = engine.dialect.name == "postgresql"
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO round_trips (account_id, instrument, direction, entry_exec_ids, "
                "entry_avg_price, total_quantity, total_commission, opened_at, status) "
                "VALUES ('U1', 'AAPL', 'BOT', '[\"T000000\"]', :p, :q, :c, :o, 'open')"
            ),
            {
                "p": Decimal("0.01") if pg else int(Decimal("0.01").scaleb(10)),
                "q": Decimal(1) if pg else int(Decimal(1).scaleb(10)),
                "c": Decimal(0) if pg else 0,
                "o": AT if pg else AT.isoformat(" ", "microseconds")[:26],
            },
        )


def _populate_0002(engine: Engine, trades: int = 1_000) -> None:
    uow = SqlAlchemyUnitOfWork(sessionmaker(engine, expire_on_commit=False))
    with uow:
        for account_id, kind in (
            ("U1", AccountType.BROKER),
            ("U2", AccountType.IRA),
            ("B1", AccountType.BANK),
        ):
            uow.accounts.save(Account(account_id, account_id, kind, created_at=AT))
        uow.commit()
    _insert_trades(engine, trades)
    _fill_every_other_table(engine)


def _snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, every column, in a stable order, read with raw SQL."""
    with engine.connect() as connection:
        inspector = inspect(connection)
        snapshot: dict[str, list[tuple[Any, ...]]] = {}
        for table in sorted(inspector.get_table_names()):
            if table == "alembic_version":
                continue
            names = [column["name"] for column in inspector.get_columns(table)]
            listing = ", ".join(f'"{name}"' for name in names)
            order = ", ".join(str(position) for position in range(1, len(names) + 1))
            rows = connection.execute(text(f'SELECT {listing} FROM "{table}" ORDER BY {order}'))
            snapshot[table] = [tuple(row) for row in rows]
        return snapshot


def test_upgrading_a_populated_0002_journal_changes_no_row(engine: Engine) -> None:
    upgrade(engine, revision="0002")
    _populate_0002(engine, TRADES)
    before = _snapshot(engine)
    assert len(before["trades"]) == TRADES
    assert all(before[table] for table in before), "every table must hold a row"

    upgrade(engine, revision="0003")

    assert current_revision(engine) == "0003"
    after = _snapshot(engine)
    pg = engine.dialect.name == "postgresql"
    zero = Decimal("0.000000") if pg else 0
    commission = 7  # its position among the trades columns
    expected_trades = [
        (*row[:commission], zero, *row[commission + 1 :]) if row[commission] is None else row
        for row in before["trades"]
    ]
    nulls = sum(row[commission] is None for row in before["trades"])
    assert nulls == TRADES // NULL_COMMISSION_EVERY
    assert after["trades"] == expected_trades
    assert {k: v for k, v in after.items() if k != "trades"} == {
        k: v for k, v in before.items() if k != "trades"
    }


def test_after_the_upgrade_rule_breaking_rows_are_refused(engine: Engine) -> None:
    upgrade(engine, revision="0002")
    _populate_0002(engine)
    upgrade(engine, revision="0003")

    refused = (
        "UPDATE trades SET quantity = 0 WHERE exec_id = 'T000002'",
        "UPDATE trades SET action = 'BUY' WHERE exec_id = 'T000002'",
        "UPDATE trades SET commission = NULL WHERE exec_id = 'T000002'",
        "UPDATE trades SET option_right = 'X' WHERE exec_id = 'T000002'",
        "UPDATE images SET width = 0",
        "UPDATE accounts SET account_type = 'martian' WHERE account_id = 'U1'",
        "UPDATE trade_reports SET setup_quality = 6",
        "UPDATE round_trips SET status = 'maybe'",
        "UPDATE mcp_guard SET calls_per_minute_limit = 0",
    )
    for statement in refused:
        with pytest.raises(exc.IntegrityError), engine.begin() as connection:
            connection.execute(text(statement))
    with engine.connect() as connection:
        inspector = inspect(connection)
        for table, index in DROPPED_INDEXES.items():
            assert index not in {found["name"] for found in inspector.get_indexes(table)}


def test_an_upgrade_over_rule_breaking_rows_is_refused_and_changes_nothing(
    engine: Engine,
) -> None:
    upgrade(engine, revision="0002")
    _populate_0002(engine)
    with engine.begin() as connection:  # written around Zorivest: 0002 had no CHECKs
        connection.execute(text("UPDATE trades SET quantity = 0 WHERE exec_id = 'T000003'"))
    before = _snapshot(engine)

    with pytest.raises(ConflictError, match=r"trades: 1 row\(s\) break ck_trades_quantity_"):
        upgrade(engine, revision="0003")

    assert current_revision(engine) == "0002"
    assert _snapshot(engine) == before


def test_the_migrated_checks_are_the_models_checks(tmp_path: Path) -> None:
    from zorivest_infra.database.models import DOMAIN_CHECKS

    migrated = create_engine_from_url(f"sqlite:///{tmp_path / 'checks.db'}")
    try:
        upgrade(migrated)
        with migrated.connect() as connection:
            inspector = inspect(connection)
            for table, checks in DOMAIN_CHECKS.items():
                found = {
                    check["name"]: " ".join(str(check["sqltext"]).split())
                    for check in inspector.get_check_constraints(table)
                }
                assert found == {f"ck_{table}_{name}": sql for name, sql in checks}, table
    finally:
        migrated.dispose()
