"""Round-trip workloads (issue 15): rebuild, report, and an import into a big journal.

* ``rt_rebuild``: `rebuild_all` over N executions vs a minimal FIFO over plain tuples fetched
  with raw SQL that writes the same rows (each in its own child process, for peak RSS);
* ``rt_report``: the report's SQL aggregates over N closed round trips vs the same SQL
  written by hand on the raw driver;
* ``rt_import``: 10k new executions (save_many + refresh of the pairs they touched, what
  an import does) into a journal of 10k executions vs into one of N.

The executions follow a six-step cycle per instrument that scales in, scales out, flips
through zero and ends flat: BOT 100, BOT 50, SLD 120, SLD 60, BOT 40, SLD 10 (three round
trips per cycle), over 200 instruments, with varying prices and commissions.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from bench.data import INSERT_TRADE_SQL, MAIN_ACCOUNT
from bench.measure import best_of, timed
from bench.report import Row, format_bytes, format_seconds
from zorivest_core.domain.entities import Account, Trade
from zorivest_core.domain.enums import AccountType, TradeAction
from zorivest_infra.database.connection import key_for_existing_journal

if TYPE_CHECKING:
    from bench.workloads import Context

__all__ = ["RT_WORKLOADS"]

INSTRUMENTS: Final = tuple(f"S{index:03d}" for index in range(200))
CYCLE: Final = (("BOT", 100), ("BOT", 50), ("SLD", 120), ("SLD", 60), ("BOT", 40), ("SLD", 10))
BASE: Final = dt.datetime(2020, 1, 2, 14, 30, tzinfo=dt.UTC)
_PRICE_SCALE: Final = 10**10
_MONEY_SCALE: Final = 10**6
IMPORT_SIZE: Final = 10_000


def _numbers(i: int) -> tuple[str, str, int, int, int]:
    """Instrument, action, quantity, price (cents) and commission (cents) of execution i."""
    instrument = INSTRUMENTS[i % len(INSTRUMENTS)]
    action, quantity = CYCLE[(i // len(INSTRUMENTS)) % len(CYCLE)]
    price_cents = 1_000 + (i * 7_919) % 9_000
    commission_cents = 1 + i % 250
    return instrument, action, quantity, price_cents, commission_cents


def _time_text(i: int) -> str:
    moment = BASE + dt.timedelta(seconds=20 * i)
    return f"{moment:%Y-%m-%d %H:%M:%S}.000000"


def raw_rows(start: int, stop: int) -> Iterator[tuple[Any, ...]]:
    for i in range(start, stop):
        instrument, action, quantity, price_cents, commission_cents = _numbers(i)
        yield (
            f"RT{i:010d}",
            _time_text(i),
            instrument,
            action,
            quantity * _PRICE_SCALE,
            price_cents * (_PRICE_SCALE // 100),
            MAIN_ACCOUNT,
            commission_cents * (_MONEY_SCALE // 100),
            0,
        )


def entities(start: int, stop: int) -> list[Trade]:
    cents = Decimal("0.01")
    result = []
    for i in range(start, stop):
        instrument, action, quantity, price_cents, commission_cents = _numbers(i)
        result.append(
            Trade(
                exec_id=f"RT{i:010d}",
                time=BASE + dt.timedelta(seconds=20 * i),
                instrument=instrument,
                action=TradeAction(action),
                quantity=Decimal(quantity),
                price=price_cents * cents,
                account_id=MAIN_ACCOUNT,
                commission=commission_cents * cents,
            )
        )
    return result


@dataclass(frozen=True, slots=True)
class RtJournal:
    path: Path
    executions: int
    key_literal: str


def build_journal(ctx: Context, executions: int, *, with_round_trips: bool) -> RtJournal:
    """A journal of ``executions`` cycle executions (filled through the raw driver)."""
    from bench.workloads import _driver_connection

    journal = ctx.create_journal(f"rt-{executions}")
    path = journal.path
    assert path is not None
    with journal.unit_of_work() as uow:
        uow.accounts.save(Account(MAIN_ACCOUNT, "Main", AccountType.BROKER))
        uow.commit()
    with _driver_connection(journal) as conn:
        conn.execute("BEGIN")
        batch: list[tuple[Any, ...]] = []
        for row in raw_rows(0, executions):
            batch.append(row)
            if len(batch) == 50_000:
                conn.executemany(INSERT_TRADE_SQL, batch)
                batch.clear()
        conn.executemany(INSERT_TRADE_SQL, batch)
        conn.execute("COMMIT")
    if with_round_trips:
        from zorivest_core.application.use_cases.round_trips import rebuild_all

        with journal.unit_of_work() as uow:
            rebuild_all(uow)
            uow.commit()
    with _driver_connection(journal) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    ctx.close_journal(journal)
    with key_for_existing_journal(path, _passphrase()) as key:
        literal = key.pragma_literal(include_salt=False)
    return RtJournal(Path(path), executions, literal)


def _passphrase() -> str:
    from bench.workloads import PASSPHRASE

    return PASSPHRASE


def _child(request: dict[str, Any]) -> dict[str, Any]:
    repo_root = Path(__file__).resolve().parent.parent
    path = os.environ.get("PYTHONPATH", "")
    completed = subprocess.run(
        [sys.executable, "-m", "bench.rt_child"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=False,
        cwd=repo_root,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(repo_root), path)))},
    )
    if completed.returncode != 0:
        raise RuntimeError(f"bench.rt_child failed:\n{completed.stderr}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def _x(value: float) -> str:
    return f"{value:.2f}x"


def _executions(ctx: Context) -> int:
    return ctx.sizes.big_journal


def run_rt_rebuild(ctx: Context) -> list[Row]:
    fixture = build_journal(ctx, _executions(ctx), with_round_trips=False)
    request = {"path": str(fixture.path), "key_literal": fixture.key_literal}
    base = _child({**request, "mode": "raw_rebuild"})
    ours = _child({**request, "mode": "ours_rebuild", "passphrase": _passphrase()})
    if (ours["stored"], ours["net"]) != (base["stored"], base["net"]):
        raise RuntimeError(f"rebuild results differ: ours {ours} raw {base}")
    ratio = ours["seconds"] / base["seconds"]
    limit = 100 * 1024**2
    return [
        Row(
            "rt_rebuild",
            f"rebuild round trips of {fixture.executions:,} executions",
            f"{format_seconds(ours['seconds'])}, +{format_bytes(ours['growth'])} peak RSS",
            f"{format_seconds(base['seconds'])}, +{format_bytes(base['growth'])}",
            _x(ratio),
            "<= 3x; peak RSS growth <= 100 MB",
            ratio <= 3 and ours["growth"] <= limit,
            [
                f"{ours['stored']:,} round trips over {len(INSTRUMENTS)} instruments, net "
                f"P&L {ours['net']} on both sides (checked equal); each side in its own "
                "child process, one transaction, committed",
                "ours = rebuild_all (streamed trades -> Decimal FIFO engine -> RoundTrip "
                "entities -> save_many); raw = SELECT ... ORDER BY account, instrument, time, "
                "exec_id, a FIFO over the tuples in scaled integers, executemany of the rows",
            ],
        )
    ]


def _insert_round_trips(ctx: Context, count: int) -> RtJournal:
    from bench.workloads import _driver_connection

    journal = ctx.create_journal(f"rt-report-{count}")
    path = journal.path
    assert path is not None
    with journal.unit_of_work() as uow:
        uow.accounts.save(Account(MAIN_ACCOUNT, "Main", AccountType.BROKER))
        uow.commit()
    sql = (
        "INSERT INTO round_trips (account_id, instrument, direction, entry_exec_ids, "
        "exit_exec_ids, entry_avg_price, exit_avg_price, total_quantity, realized_pnl, "
        "total_commission, opened_at, closed_at, status, holding_period_seconds) "
        "VALUES (?, ?, 'BOT', ?, ?, ?, ?, ?, ?, ?, ?, ?, 'closed', ?)"
    )
    with _driver_connection(journal) as conn:
        conn.execute("BEGIN")
        batch: list[tuple[Any, ...]] = []
        for i in range(count):
            pnl = ((i * 104_729) % 2_000_001 - 1_000_000) * 10_000
            batch.append(
                (
                    MAIN_ACCOUNT,
                    INSTRUMENTS[i % len(INSTRUMENTS)],
                    f'["E{i}"]',
                    f'["X{i}"]',
                    100 * _PRICE_SCALE,
                    101 * _PRICE_SCALE,
                    10 * _PRICE_SCALE,
                    pnl,
                    (1 + i % 300) * 10_000,
                    _time_text(2 * i),
                    _time_text(2 * i + 1),
                    20,
                )
            )
            if len(batch) == 50_000:
                conn.executemany(sql, batch)
                batch.clear()
        conn.executemany(sql, batch)
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    ctx.close_journal(journal)
    with key_for_existing_journal(path, _passphrase()) as key:
        literal = key.pragma_literal(include_salt=False)
    return RtJournal(Path(path), count, literal)


RAW_REPORT_SQL: Final = """
WITH base AS (
  SELECT a.currency AS currency, COALESCE(r.realized_pnl, 0) AS pnl,
         COALESCE(r.total_commission, 0) AS commission,
         COALESCE(r.holding_period_seconds, 0) AS held, r.closed_at AS closed_at, r.id AS id
  FROM round_trips r JOIN accounts a ON a.account_id = r.account_id
  WHERE r.status = 'closed'),
running AS (
  SELECT currency, SUM(pnl) OVER (PARTITION BY currency ORDER BY closed_at, id) AS cum,
         closed_at, id FROM base),
peaks AS (
  SELECT currency, cum, MAX(cum) OVER (PARTITION BY currency ORDER BY closed_at, id) AS peak
  FROM running),
drawdowns AS (
  SELECT currency, MAX(CASE WHEN peak > 0 THEN peak ELSE 0 END - cum) AS drawdown
  FROM peaks GROUP BY currency)
SELECT t.currency, t.trips, t.wins, t.losses, t.net, t.commission, t.won, t.lost, t.best,
       t.worst, t.held, d.drawdown
FROM (SELECT currency, COUNT(*) AS trips, SUM(CASE WHEN pnl > 0 THEN 1 ELSE 0 END) AS wins,
             SUM(CASE WHEN pnl < 0 THEN 1 ELSE 0 END) AS losses, SUM(pnl) AS net,
             SUM(commission) AS commission,
             SUM(CASE WHEN pnl > 0 THEN pnl ELSE 0 END) AS won,
             SUM(CASE WHEN pnl < 0 THEN pnl ELSE 0 END) AS lost,
             MAX(CASE WHEN pnl > 0 THEN pnl END) AS best,
             MIN(CASE WHEN pnl < 0 THEN pnl END) AS worst, SUM(held) AS held
      FROM base GROUP BY currency) t
JOIN drawdowns d ON d.currency = t.currency
"""


def run_rt_report(ctx: Context) -> list[Row]:
    from bench.baselines import open_raw
    from zorivest_core.application.use_cases.report import build_report
    from zorivest_infra.journal import Journal

    count = ctx.sizes.big_journal
    fixture = _insert_round_trips(ctx, count)
    journal = ctx.open_journal(fixture.path)
    conn = open_raw(fixture.path, fixture.key_literal)
    try:

        def ours_report(journal: Journal = journal) -> Any:
            with journal.unit_of_work(read_only=True) as uow:
                return build_report(uow)

        (row,) = ours_report()
        raw_row = conn.execute(RAW_REPORT_SQL).fetchone()
        if (
            row.round_trips != raw_row[1]
            or row.net_pnl != Decimal(raw_row[4]).scaleb(-6)
            or row.max_drawdown != Decimal(raw_row[11]).scaleb(-6)
        ):
            raise RuntimeError(f"report {row} differs from raw {raw_row}")
        repeats = max(2, ctx.sizes.totals_repeats)
        ours = best_of(repeats, ours_report)
        base = best_of(repeats, lambda: conn.execute(RAW_REPORT_SQL).fetchone())
    finally:
        conn.close()
        ctx.close_journal(journal)
    ratio = ours / base
    return [
        Row(
            "rt_report",
            f"report over {count:,} closed round trips",
            format_seconds(ours),
            format_seconds(base),
            _x(ratio),
            "<= 2x",
            ratio <= 2,
            [
                f"best of {repeats}; ours = build_report (statistics in SQL + ratios); raw = "
                "the same aggregates and window-function drawdown written by hand; round "
                "trips, net P&L and drawdown checked equal",
            ],
        )
    ]


def run_rt_import(ctx: Context) -> list[Row]:
    from zorivest_core.application.use_cases.round_trips import (
        RefreshSummary,
        earliest_changes,
        refresh_round_trips,
    )

    small = build_journal(ctx, IMPORT_SIZE, with_round_trips=True)
    big = build_journal(ctx, ctx.sizes.big_journal, with_round_trips=True)
    seconds: dict[int, float] = {}
    summaries: dict[int, RefreshSummary] = {}
    for fixture in (small, big):
        new = entities(fixture.executions, fixture.executions + IMPORT_SIZE)
        journal = ctx.open_journal(fixture.path)
        size = fixture.executions

        def run(journal: Any = journal, new: list[Trade] = new, size: int = size) -> None:
            with journal.unit_of_work() as uow:
                uow.trades.save_many(new)
                summaries[size] = refresh_round_trips(uow, earliest_changes(new))
                uow.commit()

        seconds[size] = timed(run)
        ctx.close_journal(journal)
    growth = seconds[big.executions] / seconds[small.executions]
    touched_big = summaries[big.executions]
    return [
        Row(
            "rt_import",
            f"import {IMPORT_SIZE:,} executions into {big.executions:,} (round trips kept)",
            format_seconds(seconds[big.executions]),
            f"{format_seconds(seconds[small.executions])} into {small.executions:,}",
            f"{_x(growth)} of @{small.executions:,}",
            f"<= 2x of @{small.executions:,}",
            growth <= 2,
            [
                "save_many + refresh_round_trips(earliest changed time per pair), one unit of "
                f"work, committed; @ {big.executions:,}: {touched_big.pairs} pairs, "
                f"{touched_big.deleted:,} round trips replaced, {touched_big.stored:,} stored",
            ],
        )
    ]


RT_WORKLOADS: Final = {
    "rt_rebuild": run_rt_rebuild,
    "rt_report": run_rt_report,
    "rt_import": run_rt_import,
}
