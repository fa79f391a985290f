"""The nine workloads of issue 7, each measured through our API and as raw DB-API code.

Every workload function takes the run's `Context` and returns its table rows. Fixtures that
several workloads share (the imported journal, the 10k/1M journals, the screenshot journal)
are built once by the `Context`, on first use, so ``--only NAME`` runs any one workload.
"""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from PIL import Image

from bench import baselines as raw
from bench.data import (
    INSERT_TRADE_SQL,
    MAIN_ACCOUNT,
    OTHER_ACCOUNT,
    SELECT_TRADE_COLUMNS,
    RawTrade,
    TradeSeries,
    chart_png,
    raw_rows,
    trades,
)
from bench.imports import run_flex_import, run_flex_import_rss
from bench.measure import (
    best_of,
    capture_statements,
    query_plan,
    quiet_heap,
    read_bytes_of_process,
    timed,
)
from bench.report import Row, format_bytes, format_seconds
from bench.round_trips import RT_WORKLOADS
from zorivest_core.domain.entities import Account, ImageAttachment, Trade
from zorivest_core.domain.enums import AccountType, TradeAction
from zorivest_infra.database import connection as key_module
from zorivest_infra.database.connection import key_for_existing_journal
from zorivest_infra.journal import Journal

__all__ = ["WORKLOADS", "Context", "Sizes"]

PASSPHRASE: Final = "bench passphrase: it's only a benchmark"  # noqa: S105 - not a secret
IMAGE_OWNER: Final = "IMG-0001"
LIST_OWNER: Final = "IMG-0100"
WARM_OWNER: Final = "IMG-WARM"
THUMBNAIL_SIDE: Final = 200
THUMBNAIL_QUALITY: Final = 80  # what zorivest_infra.images uses for stored thumbnails


@dataclass(frozen=True, slots=True)
class Sizes:
    """How big and how often; `FULL` is issue 7's sizes, `QUICK` a smoke-test run."""

    label: str
    import_trades: int
    gets: int
    small_journal: int
    big_journal: int
    bulk_repeats: int
    reimport_repeats: int
    get_repeats: int
    list_repeats: int
    totals_repeats: int
    open_repeats: int
    image_repeats: int
    images_per_trade: int
    images_through_repository: int
    pool_connections: int = 50


FULL: Final = Sizes(
    label="full",
    import_trades=100_000,
    gets=10_000,
    small_journal=10_000,
    big_journal=1_000_000,
    bulk_repeats=2,
    reimport_repeats=3,
    get_repeats=3,
    list_repeats=50,
    totals_repeats=5,
    open_repeats=5,
    image_repeats=7,
    images_per_trade=100,
    images_through_repository=100,
)
QUICK: Final = Sizes(
    label="quick",
    import_trades=10_000,
    gets=1_000,
    small_journal=1_000,
    big_journal=50_000,
    bulk_repeats=1,
    reimport_repeats=1,
    get_repeats=2,
    list_repeats=20,
    totals_repeats=2,
    open_repeats=1,
    image_repeats=2,
    images_per_trade=100,
    images_through_repository=4,
)


def _n(count: int) -> str:
    return f"{count:,}"


def _ratio(ours: float, base: float) -> float:
    return ours / base if base > 0 else float("inf")


def _x(value: float) -> str:
    return f"{value:.2f}x"


def _main_series() -> TradeSeries:
    return TradeSeries(MAIN_ACCOUNT, "A", step_seconds=30)


def _other_series() -> TradeSeries:
    # Another account's trades interleaved in time, so listing one account needs the index.
    return TradeSeries(OTHER_ACCOUNT, "B", step_seconds=3_000, offset_seconds=15)


def _add_accounts(journal: Journal) -> None:
    with journal.unit_of_work() as uow:
        for account_id in (MAIN_ACCOUNT, OTHER_ACCOUNT):
            uow.accounts.save(Account(account_id, f"Account {account_id}", AccountType.BROKER))
        uow.commit()


@contextmanager
def _driver_connection(journal: Journal) -> Iterator[Any]:
    """The journal's own DB-API (sqlcipher3) connection, borrowed from its pool."""
    pooled = journal.engine.raw_connection()
    try:
        yield pooled.driver_connection
    finally:
        pooled.close()


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------


@dataclass
class ImportFixture:
    """The 100,000-trade import: entities, raw rows, our journal and the raw file."""

    entities: list[Trade]
    rows: list[RawTrade]
    journal: Journal
    raw_conn: raw.RawConnection


@dataclass
class TradeJournal:
    """A journal holding ``main_count`` trades of the main account (and 1% of that in
    another account), plus the key literal a raw connection opens it with."""

    path: Path
    main_count: int
    other_count: int
    key_literal: str


@dataclass
class ImageFixture:
    journal: Journal
    screenshots: list[bytes]


@dataclass
class Context:
    """One benchmark run: sizes, a scratch directory and the shared fixtures."""

    sizes: Sizes
    workdir: Path
    log: Callable[[str], None]
    _counter: int = 0
    _import: ImportFixture | None = None
    _journals: dict[int, TradeJournal] = field(default_factory=dict)
    _images: ImageFixture | None = None
    _open: list[Journal] = field(default_factory=list)

    def fresh_path(self, stem: str) -> Path:
        self._counter += 1
        return self.workdir / f"{self._counter:02d}-{stem}.db"

    def create_journal(self, stem: str) -> Journal:
        journal = Journal.create(self.fresh_path(stem), PASSPHRASE)
        self._open.append(journal)
        return journal

    def open_journal(self, path: Path) -> Journal:
        journal = Journal.open(path, PASSPHRASE)
        self._open.append(journal)
        return journal

    def close_journal(self, journal: Journal) -> None:
        if journal in self._open:
            self._open.remove(journal)
        journal.close()

    def close(self) -> None:
        for journal in list(self._open):
            self.close_journal(journal)
        if self._import is not None:
            self._import.raw_conn.close()

    # -- the import fixture (workloads save_many, reimport, get) -----------------------

    def import_data(self) -> tuple[list[Trade], list[RawTrade]]:
        if self._import is not None:
            return self._import.entities, self._import.rows
        count = self.sizes.import_trades
        self.log(f"generating {_n(count)} trades")
        series = _main_series()
        entities = trades(series, 0, count)
        rows = [row for chunk in raw_rows(series, 0, count) for row in chunk]
        return entities, rows

    def set_import(self, fixture: ImportFixture) -> None:
        if self._import is not None:
            self._import.raw_conn.close()
            self.close_journal(self._import.journal)
        self._import = fixture

    def imported(self) -> ImportFixture:
        """The journal and raw file both holding the import (built untimed if needed)."""
        if self._import is None:
            entities, rows = self.import_data()
            journal = self.create_journal("import-ours")
            _add_accounts(journal)
            with journal.unit_of_work() as uow:
                uow.trades.save_many(entities)
                uow.commit()
            conn = _new_raw_file(self.fresh_path("import-raw"))
            raw.insert_trades(conn, [rows])
            self._import = ImportFixture(entities, rows, journal, conn)
        return self._import

    # -- journals of a given size (list_newest, iterate, totals, open_pool) ------------

    def trade_journal(self, main_count: int) -> TradeJournal:
        """A closed journal with ``main_count`` trades in the main account.

        Created by our migrations (``Journal.create``); filled through the journal's own
        DB-API connection with ``executemany`` (the raw fast path), since these workloads
        measure reading, and building a million rows through any layer would only cost time.
        """
        existing = self._journals.get(main_count)
        if existing is not None:
            return existing
        other_count = max(1, main_count // 100)
        self.log(f"building a journal of {_n(main_count)} + {_n(other_count)} trades")
        start = time.perf_counter()
        journal = self.create_journal(f"trades-{main_count}")
        path = Path(journal_path(journal))
        _add_accounts(journal)
        with _driver_connection(journal) as conn:
            conn.execute("BEGIN")
            for chunk in raw_rows(_main_series(), 0, main_count):
                conn.executemany(INSERT_TRADE_SQL, chunk)
            for chunk in raw_rows(_other_series(), 0, other_count):
                conn.executemany(INSERT_TRADE_SQL, chunk)
            conn.execute("COMMIT")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        self.close_journal(journal)
        with key_for_existing_journal(path, PASSPHRASE) as key:
            literal = key.pragma_literal(include_salt=False)
        fixture = TradeJournal(path, main_count, other_count, literal)
        self._journals[main_count] = fixture
        self.log(f"  built in {format_seconds(time.perf_counter() - start)}")
        return fixture

    # -- screenshots (image_save, image_list) ------------------------------------------

    def image_journal(self) -> ImageFixture:
        if self._images is None:
            self.log("drawing 3 screenshots (2560x1440 PNG)")
            screenshots = [chart_png(seed) for seed in (1, 2, 3)]
            journal = self.create_journal("images")
            _add_accounts(journal)
            with journal.unit_of_work() as uow:
                for index, exec_id in enumerate((IMAGE_OWNER, LIST_OWNER, WARM_OWNER)):
                    uow.trades.save(
                        Trade(
                            exec_id=exec_id,
                            time=_main_series().time(index),
                            instrument="AAPL",
                            action=TradeAction.BOT,
                            quantity=Decimal(100),
                            price=Decimal("189.25"),
                            account_id=MAIN_ACCOUNT,
                        )
                    )
                uow.commit()
            self._images = ImageFixture(journal, screenshots)
        return self._images


def journal_path(journal: Journal) -> str:
    """The file of an encrypted journal."""
    if journal.path is None:
        raise RuntimeError("the benchmark needs journal files")
    return str(journal.path)


def _new_raw_file(path: Path) -> raw.RawConnection:
    conn, _ = raw.create_raw_database(path)
    conn.execute("BEGIN")
    for account_id in (MAIN_ACCOUNT, OTHER_ACCOUNT):
        raw.insert_account(conn, account_id)
    conn.execute("COMMIT")
    return conn


# ---------------------------------------------------------------------------------------------
# 1. save_many of new trades
# ---------------------------------------------------------------------------------------------


def _check_same_rows(journal: Journal, conn: raw.RawConnection, count: int) -> None:
    """Our stored rows must be byte-for-byte what the raw baseline stored."""
    sample = sorted({_main_series().exec_id(i) for i in range(0, count, max(1, count // 997))})
    marks = ", ".join("?" * len(sample))
    query = f"SELECT {SELECT_TRADE_COLUMNS} FROM trades WHERE exec_id IN ({marks}) ORDER BY 1"
    with _driver_connection(journal) as ours:
        our_rows = ours.execute(query, sample).fetchall()
        our_count = ours.execute("SELECT count(*) FROM trades").fetchone()[0]
    raw_rows_ = conn.execute(query, sample).fetchall()
    raw_count = conn.execute("SELECT count(*) FROM trades").fetchone()[0]
    if our_rows != raw_rows_ or our_count != raw_count:
        raise RuntimeError("our journal and the raw baseline stored different trades")


def run_save_many(ctx: Context) -> list[Row]:
    entities, rows = ctx.import_data()
    count = len(entities)
    ours_times: list[float] = []
    raw_times: list[float] = []
    journal: Journal | None = None
    conn: raw.RawConnection | None = None
    for _ in range(ctx.sizes.bulk_repeats):
        if journal is not None:
            ctx.close_journal(journal)
        journal = ctx.create_journal("import-ours")
        _add_accounts(journal)
        current = journal
        results: list[int] = []

        def save_all(current: Journal = current, results: list[int] = results) -> None:
            with current.unit_of_work() as uow:
                results.append(len(uow.trades.save_many(entities).inserted))
                uow.commit()

        ours_times.append(timed(save_all))
        if results != [count]:
            raise RuntimeError(f"save_many inserted {results} of {count} trades")
        if conn is not None:
            conn.close()
        conn = _new_raw_file(ctx.fresh_path("import-raw"))
        current_conn = conn

        def insert_all(conn: raw.RawConnection = current_conn) -> None:
            raw.insert_trades(conn, [rows])

        raw_times.append(timed(insert_all))
    assert journal is not None
    assert conn is not None
    _check_same_rows(journal, conn, count)
    ctx.set_import(ImportFixture(entities, rows, journal, conn))
    ours, base = min(ours_times), min(raw_times)
    ratio = _ratio(ours, base)
    return [
        Row(
            "save_many",
            f"save_many {_n(count)} new trades, 1 transaction",
            format_seconds(ours),
            format_seconds(base),
            _x(ratio),
            "<= 2.5x",
            ratio <= 2.5,
            [
                f"best of {ctx.sizes.bulk_repeats}; raw = executemany of the same driver values "
                f"(scaled integers, ISO time text) in one transaction; "
                f"{count / ours:,.0f} trades/s ours, {count / base:,.0f} rows/s raw; "
                "stored rows checked identical in both files",
            ],
        )
    ]


# ---------------------------------------------------------------------------------------------
# 2. re-import of the same trades (all duplicates)
# ---------------------------------------------------------------------------------------------


def run_reimport(ctx: Context) -> list[Row]:
    fixture = ctx.imported()
    count = len(fixture.entities)
    outcome: list[tuple[int, int, int]] = []

    def ours_reimport() -> None:
        with fixture.journal.unit_of_work() as uow:
            result = uow.trades.save_many(fixture.entities)
            outcome.append((len(result.inserted), len(result.duplicates), len(result.conflicts)))
            uow.commit()

    def raw_reimport() -> None:
        outcome.append(raw.raw_reimport(fixture.raw_conn, fixture.rows))

    ours = best_of(ctx.sizes.reimport_repeats, ours_reimport)
    base = best_of(ctx.sizes.reimport_repeats, raw_reimport)
    if set(outcome) != {(0, count, 0)}:
        raise RuntimeError(f"re-import classified {set(outcome)}, expected all duplicates")
    ignore = best_of(
        ctx.sizes.reimport_repeats, lambda: raw.insert_or_ignore(fixture.raw_conn, fixture.rows)
    )
    ratio = _ratio(ours, base)
    return [
        Row(
            "reimport",
            f"re-import the same {_n(count)} (all duplicates)",
            format_seconds(ours),
            format_seconds(base),
            _x(ratio),
            "<= 2.5x",
            ratio <= 2.5,
            [
                f"best of {ctx.sizes.reimport_repeats}; raw = per 1,000 rows one SELECT ... "
                "WHERE exec_id IN (...) of the stored rows, tuple comparison (duplicate / "
                "conflict / new), executemany of the new (none), one transaction: the same "
                "work save_many does",
                f"INSERT OR IGNORE executemany (detects no conflicts, not equivalent) takes "
                f"{format_seconds(ignore)}: ours is {_x(_ratio(ours, ignore))} of that",
            ],
        )
    ]


# ---------------------------------------------------------------------------------------------
# 3. get by exec_id
# ---------------------------------------------------------------------------------------------


def run_get(ctx: Context) -> list[Row]:
    fixture = ctx.imported()
    ids = random.Random(7).sample(
        [trade.exec_id for trade in fixture.entities],
        min(ctx.sizes.gets, len(fixture.entities)),
    )
    missing: list[str] = []

    def ours_gets() -> None:
        with fixture.journal.unit_of_work() as uow:
            repository = uow.trades
            for exec_id in ids:
                if repository.get(exec_id) is None:
                    missing.append(exec_id)

    conn = fixture.raw_conn

    def raw_gets() -> None:
        conn.execute("BEGIN")
        for exec_id in ids:
            if conn.execute(raw.RAW_GET_SQL, (exec_id,)).fetchone() is None:
                missing.append(exec_id)
        conn.execute("COMMIT")

    ours = best_of(ctx.sizes.get_repeats, ours_gets)
    base = best_of(ctx.sizes.get_repeats, raw_gets)
    if missing:
        raise RuntimeError(f"{len(missing)} trades not found by get")
    ratio = _ratio(ours, base)
    return [
        Row(
            "get",
            f"{_n(len(ids))} get(exec_id)",
            format_seconds(ours),
            format_seconds(base),
            _x(ratio),
            "<= 2x",
            ratio <= 2,
            [
                f"best of {ctx.sizes.get_repeats}, random order, one unit of work; raw = "
                "parametrised SELECT by primary key + fetchone in one transaction; "
                f"{ours / len(ids) * 1e6:.1f} us per get ours (a Trade entity with exact "
                f"Decimals and aware UTC datetimes), {base / len(ids) * 1e6:.1f} us raw "
                "(a tuple of driver values)",
            ],
        )
    ]


# ---------------------------------------------------------------------------------------------
# 4. newest 100 of an account
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _PlanCheck:
    lines: list[str]
    ok: bool
    statement: str


def _check_plan(
    journal: Journal, call: Callable[[Journal], object], needle: str, index: str
) -> _PlanCheck:
    """Capture the statement ``call`` sends that contains ``needle``; explain it."""
    with capture_statements(journal.engine) as captured:
        call(journal)
    statements = [item for item in captured if needle in item.sql]
    if not statements:
        raise RuntimeError(f"no statement containing {needle!r} was executed")
    chosen = statements[-1]
    with _driver_connection(journal) as conn:
        lines = query_plan(conn, chosen.sql, chosen.parameters)
    searched = any(line.startswith("SEARCH") and index in line for line in lines)
    scanned = any(line.startswith("SCAN") for line in lines)
    sorted_ = any("TEMP B-TREE" in line for line in lines)
    return _PlanCheck(lines, searched and not scanned and not sorted_, " ".join(chosen.sql.split()))


def _list_newest(journal: Journal) -> list[Trade]:
    # Read-only, as `zorivest trades` lists: a listing takes no write lock.
    with journal.unit_of_work(read_only=True) as uow:
        return uow.trades.list_for_account(MAIN_ACCOUNT, limit=100)


def _time_listing(ctx: Context, fixture: TradeJournal) -> tuple[float, float, _PlanCheck]:
    journal = ctx.open_journal(fixture.path)
    conn = raw.open_raw(fixture.path, fixture.key_literal)
    try:
        page = _list_newest(journal)
        expected = _main_series().exec_id(fixture.main_count - 1)
        if len(page) != 100 or page[0].exec_id != expected:
            raise RuntimeError("list_for_account did not return the newest 100 trades")
        plan = _check_plan(journal, _list_newest, "FROM trades", "ix_trades_account_id_time")
        ours = best_of(ctx.sizes.list_repeats, lambda: _list_newest(journal))
        base = best_of(
            ctx.sizes.list_repeats,
            lambda: conn.execute(raw.RAW_LIST_SQL, (MAIN_ACCOUNT, 100)).fetchall(),
        )
    finally:
        conn.close()
        ctx.close_journal(journal)
    return ours, base, plan


def run_list_newest(ctx: Context) -> list[Row]:
    small = ctx.trade_journal(ctx.sizes.small_journal)
    big = ctx.trade_journal(ctx.sizes.big_journal)
    ours_small, raw_small, plan_small = _time_listing(ctx, small)
    ours_big, raw_big, plan_big = _time_listing(ctx, big)
    growth = _ratio(ours_big, ours_small)
    ratio_small, ratio_big = _ratio(ours_small, raw_small), _ratio(ours_big, raw_big)
    plan_target = "index SEARCH, no SCAN, no TEMP B-TREE"
    return [
        Row(
            "list_newest",
            f"newest 100 of an account @ {_n(small.main_count)} trades",
            format_seconds(ours_small),
            format_seconds(raw_small),
            _x(ratio_small),
            f"<= 3x; {plan_target}",
            plan_small.ok and ratio_small <= 3,
            [
                f"best of {ctx.sizes.list_repeats} (a read-only unit of work, as `zorivest "
                "trades` uses, + list_for_account(limit=100));"
                " raw = the same SELECT ... ORDER BY time DESC, exec_id DESC LIMIT 100",
                f"our SQL: {plan_small.statement}",
                f"plan @ {_n(small.main_count)}: {' / '.join(plan_small.lines)}",
            ],
        ),
        Row(
            "list_newest",
            f"newest 100 of an account @ {_n(big.main_count)} trades",
            format_seconds(ours_big),
            format_seconds(raw_big),
            f"{_x(ratio_big)}; {_x(growth)} of @{_n(small.main_count)}",
            f"<= 3x; <= 2x of @{_n(small.main_count)}; {plan_target}",
            plan_big.ok and growth <= 2 and ratio_big <= 3,
            [
                f"plan @ {_n(big.main_count)}: {' / '.join(plan_big.lines)}",
                f"raw @ {_n(big.main_count)} / @ {_n(small.main_count)}: "
                f"{_x(_ratio(raw_big, raw_small))}",
            ],
        ),
    ]


# ---------------------------------------------------------------------------------------------
# 5. iterate a million trades
# ---------------------------------------------------------------------------------------------


def _child(request: dict[str, Any]) -> dict[str, Any]:
    repo_root = Path(__file__).resolve().parent.parent
    path = os.environ.get("PYTHONPATH", "")
    completed = subprocess.run(
        [sys.executable, "-m", "bench.rss_child"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=False,
        cwd=repo_root,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(repo_root), path)))},
    )
    if completed.returncode != 0:
        raise RuntimeError(f"bench.rss_child failed:\n{completed.stderr}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def run_iterate(ctx: Context) -> list[Row]:
    fixture = ctx.trade_journal(ctx.sizes.big_journal)
    base_request = {"path": str(fixture.path), "account": MAIN_ACCOUNT}
    ours = _child({**base_request, "mode": "ours", "passphrase": PASSPHRASE})
    base = _child({**base_request, "mode": "raw", "key_literal": fixture.key_literal})
    for result in (ours, base):
        if result["rows"] != fixture.main_count:
            raise RuntimeError(f"iterated {result['rows']} of {fixture.main_count} trades")
    limit = 50 * 1024**2
    ratio = _ratio(ours["seconds"], base["seconds"])
    return [
        Row(
            "iterate",
            f"iterate {_n(fixture.main_count)} trades of an account",
            f"+{format_bytes(ours['growth'])} peak RSS, {format_seconds(ours['seconds'])}",
            f"+{format_bytes(base['growth'])}, {format_seconds(base['seconds'])}",
            f"{_x(ratio)} time",
            "<= 3x time; peak RSS growth <= 50 MB",
            ratio <= 3 and ours["growth"] <= limit,
            [
                "each side in its own child process; growth = peak RSS during the iteration "
                f"({ours['method']}) minus RSS before it, after a {2_000:,}-row warm-up; ours = "
                "iter_for_account (keyset batches of 1,000, Trade entities), raw = cursor "
                "fetchmany(1,000) over the same ORDER BY",
                f"RSS before: ours {format_bytes(ours['start_rss'])}, raw "
                f"{format_bytes(base['start_rss'])}",
            ],
        )
    ]


# ---------------------------------------------------------------------------------------------
# 6. totals over a million trades
# ---------------------------------------------------------------------------------------------


def run_totals(ctx: Context) -> list[Row]:
    fixture = ctx.trade_journal(ctx.sizes.big_journal)
    journal = ctx.open_journal(fixture.path)
    conn = raw.open_raw(fixture.path, fixture.key_literal)
    try:

        def ours_totals(journal: Journal = journal) -> Any:
            with journal.unit_of_work() as uow:
                return uow.trades.totals(MAIN_ACCOUNT)

        totals = ours_totals()
        count, commission, pnl = conn.execute(raw.RAW_TOTALS_SQL, (MAIN_ACCOUNT,)).fetchone()
        if (
            totals.count != fixture.main_count
            or totals.count != count
            or totals.commission != Decimal(commission).scaleb(-6)
            or totals.realized_pnl != Decimal(pnl).scaleb(-6)
        ):
            raise RuntimeError(f"totals {totals} differ from raw SUMs {count, commission, pnl}")
        plan = _check_plan(journal, ours_totals, "FROM trades", "ix_trades_account_id_time")
        ours = best_of(ctx.sizes.totals_repeats, ours_totals)
        base = best_of(
            ctx.sizes.totals_repeats,
            lambda: conn.execute(raw.RAW_TOTALS_SQL, (MAIN_ACCOUNT,)).fetchone(),
        )
    finally:
        conn.close()
        ctx.close_journal(journal)
    ratio = _ratio(ours, base)
    return [
        Row(
            "totals",
            f"totals(account) over {_n(fixture.main_count)} trades",
            format_seconds(ours),
            format_seconds(base),
            _x(ratio),
            "<= 2x",
            ratio <= 2,
            [
                f"best of {ctx.sizes.totals_repeats}; raw = SELECT count(*), sum(commission), "
                "sum(realized_pnl) FROM trades INDEXED BY ix_trades_account_id_time "
                "WHERE account_id = ?; results checked equal (exact Decimals vs "
                "scaled-integer sums)",
                f"our SQL: {plan.statement}",
                f"plan: {' / '.join(plan.lines)}",
            ],
        )
    ]


# ---------------------------------------------------------------------------------------------
# 7. open + 50 pooled connections
# ---------------------------------------------------------------------------------------------


@contextmanager
def _counted_kdf() -> Iterator[list[float]]:
    """Count and time every Argon2id run (`hash_secret_raw` as connection.py calls it)."""
    runs: list[float] = []
    namespace = vars(key_module)
    original: Callable[..., bytes] = namespace["hash_secret_raw"]

    def counting(*args: Any, **kwargs: Any) -> bytes:
        start = time.perf_counter()
        try:
            result: bytes = original(*args, **kwargs)
            return result
        finally:
            runs.append(time.perf_counter() - start)

    namespace["hash_secret_raw"] = counting
    try:
        yield runs
    finally:
        namespace["hash_secret_raw"] = original


@dataclass(frozen=True, order=True, slots=True)
class _OpenTiming:
    rest: float
    kdf: float
    kdf_runs: int
    open_rest: float
    connects: float


def run_open_pool(ctx: Context) -> list[Row]:
    fixture = ctx.trade_journal(ctx.sizes.small_journal)
    count = ctx.sizes.pool_connections
    measurements: list[_OpenTiming] = []
    raw_times: list[float] = []

    def raw_pool() -> None:
        conns = [raw.open_raw(fixture.path, fixture.key_literal) for _ in range(count)]
        for conn in conns:
            conn.close()

    for _ in range(ctx.sizes.open_repeats):
        with quiet_heap(), _counted_kdf() as runs:
            start = time.perf_counter()
            journal = Journal.open(fixture.path, PASSPHRASE)
            opened = time.perf_counter()
            held = [journal.engine.connect() for _ in range(count)]
            end = time.perf_counter()
        for connection in held:
            connection.close()
        journal.close()
        kdf = sum(runs)
        measurements.append(
            _OpenTiming(end - start - kdf, kdf, len(runs), opened - start - kdf, end - opened)
        )
        raw_times.append(timed(raw_pool))  # interleaved: both sides see the same load
    best = min(measurements)
    base = min(raw_times)
    return [
        Row(
            "open_pool",
            f"open a journal + {count} pooled connections at once",
            f"Argon2id {format_seconds(best.kdf)} x{best.kdf_runs} + {format_seconds(best.rest)}",
            format_seconds(base),
            f"{_x(_ratio(best.rest, base))} (rest)",
            "1 Argon2id run + <= 50 ms",
            best.kdf_runs == 1 and best.rest <= 0.050,
            [
                f"best of {ctx.sizes.open_repeats}, interleaved; ours = Journal.open + {count} x "
                "engine.connect() held at once; Argon2id runs counted and timed at "
                "hash_secret_raw; raw = the same number of sqlcipher3 connections keyed with "
                "the raw key (no KDF) with the same PRAGMAs",
                f"rest = Journal.open without the KDF {format_seconds(best.open_rest)} + "
                f"{count} checkouts {format_seconds(best.connects)} "
                f"({best.connects / count * 1e3:.2f} ms per new connection; raw "
                f"{base / count * 1e3:.2f} ms)",
            ],
        )
    ]


# ---------------------------------------------------------------------------------------------
# 8. save one screenshot
# ---------------------------------------------------------------------------------------------


def pillow_thumbnail(png: bytes) -> bytes:
    """Pillow alone: decode the PNG, shrink it to a 200 px thumbnail, encode it as WebP."""
    image = Image.open(io.BytesIO(png))
    image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    out = io.BytesIO()
    image.save(out, format="WEBP", quality=THUMBNAIL_QUALITY)
    return out.getvalue()


def run_image_save(ctx: Context) -> list[Row]:
    fixture = ctx.image_journal()
    journal = fixture.journal
    screenshots = fixture.screenshots
    ours_times: list[float] = []
    raw_times: list[float] = []
    for index in range(ctx.sizes.image_repeats):
        png = screenshots[index % len(screenshots)]

        def save(png: bytes = png) -> None:
            with journal.unit_of_work() as uow:
                uow.images.save(IMAGE_OWNER, ImageAttachment(data=png))
                uow.commit()

        # Interleaved, so both sides see the same machine load.
        ours_times.append(timed(save))

        def thumbnail(png: bytes = png) -> None:
            pillow_thumbnail(png)

        raw_times.append(timed(thumbnail))
    ours, base = min(ours_times), min(raw_times)
    ratio = _ratio(ours, base)
    sizes = ", ".join(format_bytes(len(png)) for png in screenshots)
    return [
        Row(
            "image_save",
            "save a 2560x1440 PNG screenshot",
            format_seconds(ours),
            format_seconds(base),
            _x(ratio),
            "<= 1.3x",
            ratio <= 1.3,
            [
                f"best of {ctx.sizes.image_repeats}, interleaved; screenshots of {sizes}; "
                "ours = unit of work + images.save (validate, decode, WebP thumbnail, insert "
                "the original bytes, commit); raw = Pillow alone: Image.open + "
                f"thumbnail(({THUMBNAIL_SIDE}, {THUMBNAIL_SIDE})) + WebP q{THUMBNAIL_QUALITY} "
                f"encode ({format_bytes(len(pillow_thumbnail(screenshots[0])))})",
            ],
        )
    ]


# ---------------------------------------------------------------------------------------------
# 9. list the thumbnails of 100 screenshots
# ---------------------------------------------------------------------------------------------

_IMAGE_COPY_COLUMNS: Final = (
    "owner_type, owner_id, data, thumbnail, mime_type, caption, width, height, file_size, "
    "created_at"
)
_LISTED_COLUMNS: Final = (
    "id, owner_type, owner_id, mime_type, caption, width, height, file_size, created_at, thumbnail"
)


def _fill_list_owner(ctx: Context, fixture: ImageFixture) -> int:
    """Give `LIST_OWNER` its screenshots; returns how many went through the repository."""
    journal = fixture.journal
    wanted = ctx.sizes.images_per_trade
    through_repository = min(wanted, ctx.sizes.images_through_repository)
    ctx.log(f"saving {through_repository} screenshots through the image repository")
    for index in range(through_repository):
        with journal.unit_of_work() as uow:
            uow.images.save(
                LIST_OWNER, ImageAttachment(data=fixture.screenshots[index % 3], caption=None)
            )
            uow.commit()
    with journal.unit_of_work() as uow:
        uow.images.save(WARM_OWNER, ImageAttachment(data=fixture.screenshots[0]))
        uow.commit()
    with _driver_connection(journal) as conn:
        have = through_repository
        conn.execute("BEGIN")
        while have < wanted:
            # Quick runs copy stored rows (same bytes, same thumbnails) instead of decoding
            # a hundred screenshots: what is measured is reading them back.
            copied = conn.execute(
                f"INSERT INTO images ({_IMAGE_COPY_COLUMNS}) SELECT {_IMAGE_COPY_COLUMNS} "
                "FROM images WHERE owner_type = 'trade' AND owner_id = ? ORDER BY id LIMIT ?",
                (LIST_OWNER, wanted - have),
            ).rowcount
            have += copied
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    return through_repository


def _value_bytes(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, bytes | bytearray | memoryview):
        return len(value)
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    return 8  # integers and reals travel as 8-byte values


def _raw_listing_read(path: str, key_literal: str) -> tuple[int, float]:
    """Bytes read from the file and seconds for the listing query on a fresh connection."""
    conn = raw.open_raw(path, key_literal)
    try:
        conn.execute("SELECT count(*) FROM images WHERE owner_id = ?", (WARM_OWNER,))
        sql = (
            f"SELECT {_LISTED_COLUMNS} FROM images WHERE owner_type = 'trade' "
            "AND owner_id = ? ORDER BY id"
        )
        before = read_bytes_of_process()
        start = time.perf_counter()
        conn.execute(sql, (LIST_OWNER,)).fetchall()
        seconds = time.perf_counter() - start
        return read_bytes_of_process() - before, seconds
    finally:
        conn.close()


def run_image_list(ctx: Context) -> list[Row]:
    fixture = ctx.image_journal()
    journal = fixture.journal
    through_repository = _fill_list_owner(ctx, fixture)
    path = journal_path(journal)
    with key_for_existing_journal(path, PASSPHRASE) as key:
        literal = key.pragma_literal(include_salt=False)
    with _driver_connection(journal) as conn:
        count, full_bytes = conn.execute(
            "SELECT count(*), sum(length(data)) FROM images WHERE owner_type = 'trade' "
            "AND owner_id = ?",
            (LIST_OWNER,),
        ).fetchone()

    # A cold connection (empty page cache), warmed up on another trade's images only.
    journal.engine.dispose()
    with journal.unit_of_work() as uow:
        uow.images.get_for_trade(WARM_OWNER)
    with capture_statements(journal.engine) as captured:
        before = read_bytes_of_process()
        start = time.perf_counter()
        with journal.unit_of_work() as uow:
            images = uow.images.get_for_trade(LIST_OWNER)
        seconds = time.perf_counter() - start
        file_read = read_bytes_of_process() - before
    if len(images) != count or any(image.data is not None for image in images):
        raise RuntimeError("get_for_trade returned the wrong images, or their full bytes")
    selects = [item for item in captured if item.sql.lstrip().upper().startswith("SELECT")]
    data_selected = any("images.data" in item.sql for item in selects)
    # What the database returned for those statements: re-run them, sum the value sizes.
    returned = 0
    with _driver_connection(journal) as conn:
        for item in selects:
            for row in conn.execute(item.sql, item.parameters).fetchall():
                returned += sum(_value_bytes(value) for value in row)
    thumbnails = sum(len(image.thumbnail or b"") for image in images)

    with _driver_connection(journal) as conn:
        columns = [str(row[1]) for row in conn.execute("PRAGMA table_info(images)")]
    layout = (
        "data is the last column of images, so the listed columns are read without walking "
        "its overflow-page chain"
        if columns[-1] == "data"
        else f"images has {', '.join(columns[columns.index('data') + 1 :])} after data, so "
        "reading any of them walks the whole overflow-page chain of data"
    )
    raw_read, raw_seconds = _raw_listing_read(path, literal)

    returned_share = returned / full_bytes
    read_share = file_read / full_bytes
    listing = " ".join(selects[-1].sql.split()) if selects else "(none)"
    return [
        Row(
            "image_list",
            f"list thumbnails of {count} screenshots: bytes returned",
            format_bytes(returned),
            f"{format_bytes(full_bytes)} full images",
            f"{returned_share:.2%}",
            "< 1% of full bytes; no images.data in SQL",
            returned_share < 0.01 and not data_selected,
            [
                f"{through_repository} screenshots saved through the repository, the rest "
                "copied row by row; returned = every value of every SELECT the listing sent, "
                f"re-run and summed (thumbnails alone: {format_bytes(thumbnails)}); "
                f"images.data selected: {'YES' if data_selected else 'no'}",
                f"our SQL: {listing}",
            ],
        ),
        Row(
            "image_list",
            f"list thumbnails of {count} screenshots: bytes read from the file",
            f"{format_bytes(file_read)}, {format_seconds(seconds)}",
            f"{format_bytes(raw_read)}, {format_seconds(raw_seconds)}",
            f"{read_share:.2%}",
            "< 1% of full bytes",
            read_share < 0.01,
            [
                "read = rchar of /proc/self/io around the call on a cold connection: every "
                "page SQLite loaded (and decrypted), page cache or not; raw = the same "
                "column list in plain SQL on a fresh connection, same table",
                f"column order: {layout}",
            ],
        ),
    ]


# ---------------------------------------------------------------------------------------------
# 10. start-up: the command line's own cost
# ---------------------------------------------------------------------------------------------


def _wall(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, capture_output=True, timeout=120)  # noqa: S603 - our interpreter, fixed argv
    return time.perf_counter() - start


def run_startup(ctx: Context) -> list[Row]:
    fixture = ctx.trade_journal(ctx.sizes.small_journal)
    base_env = {**os.environ, "ZORIVEST_PASSPHRASE": PASSPHRASE}
    # As on a trader's machine: Python keeps the compiled bytecode of every module it
    # imported, so only the first run compiles. Some environments (this project's
    # development and CI machines, read-only installs) forbid writing it: measured too, in
    # the notes.
    cached = {k: v for k, v in base_env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cli = [sys.executable, "-m", "zorivest_infra.cli"]
    commands = {
        "bare": [sys.executable, "-c", "pass"],
        "help": [*cli, "--help"],
        "info": [*cli, "info", str(fixture.path)],
    }
    for argv in commands.values():
        _wall(argv, cached)  # writes the bytecode caches, as any first run does
    repeats = ctx.sizes.open_repeats
    times: dict[str, list[float]] = {name: [] for name in commands}
    uncached: dict[str, list[float]] = {name: [] for name in commands}
    kdfs: list[float] = []
    with tempfile.TemporaryDirectory() as no_caches:
        compiling = {
            **base_env,
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONPYCACHEPREFIX": no_caches,  # caches looked for (and never found) here
        }
        for _ in range(repeats):  # interleaved: every side sees the same load
            for name, argv in commands.items():
                times[name].append(_wall(argv, cached))
                uncached[name].append(_wall(argv, compiling))
            start = time.perf_counter()
            key_for_existing_journal(fixture.path, PASSPHRASE).wipe()
            kdfs.append(time.perf_counter() - start)
    best = {name: min(values) for name, values in times.items()}
    compiled = {name: min(values) for name, values in uncached.items()}
    base, kdf = best["bare"], min(kdfs)
    note = (
        f"best of {repeats}, interleaved; wall time of a fresh interpreter with bytecode "
        f"caches; raw = `python -c pass`; one Argon2id run in the same run: "
        f"{format_seconds(kdf)}"
    )
    without = (
        "without bytecode caches (every module compiled at each start): "
        f"`python -c pass` {format_seconds(compiled['bare'])}, `--help` "
        f"{format_seconds(compiled['help'])}, `info` {format_seconds(compiled['info'])}"
    )
    return [
        Row(
            "startup_help",
            "`zorivest --help`",
            format_seconds(best["help"]),
            format_seconds(base),
            f"+{format_seconds(best['help'] - base)}",
            "no SQLAlchemy/Alembic/Pillow/Pygments (a test)",
            None,
            [note, without],
        ),
        Row(
            "startup_info",
            "`zorivest info` (journal at the newest revision)",
            format_seconds(best["info"]),
            format_seconds(base),
            f"+{format_seconds(best['info'] - base)} (Argon2id {format_seconds(kdf)})",
            "no Alembic/Pillow (a test)",
            None,
            [note],
        ),
    ]


WORKLOADS: Final[dict[str, Callable[[Context], list[Row]]]] = {
    "save_many": run_save_many,
    "reimport": run_reimport,
    "get": run_get,
    "list_newest": run_list_newest,
    "iterate": run_iterate,
    "totals": run_totals,
    "open_pool": run_open_pool,
    "image_save": run_image_save,
    "image_list": run_image_list,
    **RT_WORKLOADS,
    "flex_import": run_flex_import,
    "flex_import_rss": run_flex_import_rss,
    "startup": run_startup,
}
