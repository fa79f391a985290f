"""``zorivest demo``: an encrypted journal full of realistic data, then a summary read back.

The demo directory (default ``./demo-journal``) receives:

* ``journal.zorivest``: the encrypted journal;
* ``screenshots/*.png``: the chart screenshots that were attached to trades;
* ``sample-import.csv``: a few executions in the import format, to try ``zorivest import``;
* ``.zorivest-demo``: the list of the files above.

Running the demo again replaces exactly the files that list names (and the journal's -wal and
-shm); a directory that holds anything else and has no such list is refused, so the demo
never deletes a file it did not create. (Demos from older versions also listed a
``demo-passphrase.txt`` there; a rerun removes it like any other listed file.)

Without a given passphrase the journal is encrypted with :data:`DEMO_PASSPHRASE`, a fixed,
public passphrase published in the documentation: the demo journal is for trying things out
and is not private. No passphrase is ever written to any file but the journal itself.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Final

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from zorivest_core.application.ports import ReportGrouping
from zorivest_core.application.use_cases.list_trades import list_trades
from zorivest_core.application.use_cases.report import ReportRow, build_report
from zorivest_core.application.use_cases.round_trips import rebuild_all
from zorivest_core.domain.entities import ImageAttachment, Trade, TradeReport
from zorivest_infra.cli.columns import trade_columns
from zorivest_infra.cli.demo_charts import chart_png
from zorivest_infra.cli.demo_data import DemoData, RoundTrip, generate
from zorivest_infra.cli.errors import CliError, ExitCode
from zorivest_infra.cli.invocation import command_line
from zorivest_infra.cli.output import money
from zorivest_infra.cli.render import OutputFormat, write_listing

if TYPE_CHECKING:
    from zorivest_core.application.ports import UnitOfWork

JOURNAL_NAME: Final = "journal.zorivest"
# Public and documented on purpose (docs/cli.md): not a secret, the demo journal is not private.
DEMO_PASSPHRASE: Final = "zorivest-demo"  # noqa: S105
SCREENSHOTS_DIR: Final = "screenshots"
SAMPLE_CSV_NAME: Final = "sample-import.csv"
CHART_NAME: Final = "report-chart.png"
MARKER_NAME: Final = ".zorivest-demo"
DEFAULT_EXECUTIONS: Final = 20_000
DEFAULT_SEED: Final = 7
_CHUNK: Final = 5_000
_SIDE_FILES: Final = ("-wal", "-shm", "-journal")


@dataclass(slots=True)
class AccountSummary:
    account_id: str
    account_type: str
    trades: int
    commission: Decimal
    realized_pnl: Decimal


@dataclass(slots=True)
class DemoResult:
    """What the demo wrote and what it read back afterwards."""

    journal: Path
    data: DemoData
    # True when no passphrase was given and the public DEMO_PASSPHRASE encrypts the journal.
    # A given passphrase is never kept here, so it cannot be printed.
    public_passphrase: bool = False
    attached: dict[str, int] = field(default_factory=dict)
    reports: int = 0
    read_back: list[AccountSummary] = field(default_factory=list)
    newest: list[Trade] = field(default_factory=list)
    images_read_back: int = 0
    reports_read_back: int = 0
    snapshots_read_back: int = 0
    generate_seconds: float = 0.0
    save_seconds: float = 0.0
    total_seconds: float = 0.0
    created_files: list[str] = field(default_factory=list)
    round_trips: int = 0
    report: list[ReportRow] = field(default_factory=list)
    daily_pnl: list[tuple[dt.date, Decimal]] = field(default_factory=list)


# ------------------------------------------------------------------------------------------
# The directory
# ------------------------------------------------------------------------------------------


def prepare_directory(directory: Path) -> list[str]:
    """Make ``directory`` ready for a fresh demo; returns the files removed from a former one.

    Only files an earlier demo created are removed, recognised by identity (device, inode,
    size and modification time recorded in the marker when they were written), never by
    name alone; nothing is
    followed through a symbolic link the demo did not create.

    Raises:
        CliError: The path is a file or a symbolic link, a directory owned by another
            user, or a non-empty directory the demo did not create.
    """
    if directory.is_symlink():
        raise CliError(
            f"{directory} is a symbolic link; give the demo a real directory",
            ExitCode.ALREADY_EXISTS,
        )
    if directory.exists() and not directory.is_dir():
        raise CliError(f"{directory} exists and is not a directory", ExitCode.ALREADY_EXISTS)
    if not directory.exists():
        directory.mkdir(parents=True, mode=0o700)
        return []
    if hasattr(os, "getuid") and directory.stat().st_uid != os.getuid():
        raise CliError(
            f"{directory} belongs to another user; give a directory of your own",
            ExitCode.ALREADY_EXISTS,
        )
    marker = directory / MARKER_NAME
    if not marker.exists() or marker.is_symlink():
        if any(directory.iterdir()):
            raise CliError(
                f"{directory} is not empty and was not created by `zorivest demo`; "
                "give another directory (zorivest demo DIR)",
                ExitCode.ALREADY_EXISTS,
            )
        return []
    removed: list[str] = []
    for name, identity in _marker_files(marker):
        target = directory / name
        candidates = [(target, identity)]
        if name == JOURNAL_NAME:  # SQLite's side files, made by the journal itself
            candidates += [(Path(f"{target}{suffix}"), None) for suffix in _SIDE_FILES]
        for candidate, expected in candidates:
            if _ours(directory, candidate, expected):
                candidate.unlink()
                removed.append(os.fspath(candidate.relative_to(directory)))
    screenshots = directory / SCREENSHOTS_DIR
    if _real_directory(screenshots) and not any(screenshots.iterdir()):
        screenshots.rmdir()
    marker.unlink()
    return removed


def _real_directory(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


Identity = tuple[int, int, int, int]
"""(device, inode, size, modification time in ns): an inode number alone can be reused."""


def _identity(status: os.stat_result) -> Identity:
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


def _ours(directory: Path, path: Path, identity: Identity | None) -> bool:
    """Whether `path` is a regular file reached without links that the demo wrote."""
    current = directory
    for part in path.relative_to(directory).parts[:-1]:
        current = current / part
        if not _real_directory(current):
            return False  # a link (or a file) in the way: never follow it
    try:
        status = path.lstat()
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(status.st_mode):
        return False
    if identity is None:
        return True
    if path.name == JOURNAL_NAME and path.parent == directory:
        # SQLite keeps writing the journal after it was recorded (a demo may have stopped
        # half-way): its device and inode are what identify it.
        return _identity(status)[:2] == identity[:2]
    return _identity(status) == identity


def _marker_files(marker: Path) -> list[tuple[str, Identity | None]]:
    """The marker's files: (relative name, identity) each.

    Markers of older versions list bare names (no identity): those files are removed only
    if they are regular files reached without links.
    """
    damaged = CliError(
        f"{marker} is damaged; remove the demo directory by hand", ExitCode.ALREADY_EXISTS
    )
    try:
        content = json.loads(marker.read_text(encoding="utf-8"))
    except ValueError as error:
        raise damaged from error
    entries = content.get("files") if isinstance(content, dict) else None
    if not isinstance(entries, list):
        raise damaged
    safe: list[tuple[str, Identity | None]] = []
    keys = ("device", "inode", "size", "mtime_ns")
    for entry in entries:
        if isinstance(entry, str):
            name, identity = entry, None
        elif (
            isinstance(entry, dict)
            and isinstance(entry.get("name"), str)
            and all(isinstance(entry.get(key), int) for key in keys)
        ):
            device, inode, size, mtime = (entry[key] for key in keys)
            name, identity = entry["name"], (device, inode, size, mtime)
        else:
            raise damaged
        path = Path(name)
        # Only plain relative names inside the directory: a crafted marker cannot point out.
        if path.is_absolute() or ".." in path.parts or not path.parts:
            raise CliError(f"{marker} names {name!r}, outside the demo directory")
        safe.append((name, identity))
    return safe


# ------------------------------------------------------------------------------------------
# Screenshots, reports, the sample CSV
# ------------------------------------------------------------------------------------------


def _closed(
    trips: Sequence[RoundTrip], account_id: str, *, short: bool | None = None
) -> list[RoundTrip]:
    return [
        trip
        for trip in trips
        if trip.account_id == account_id
        and trip.exits
        and len(trip.exits) >= 1
        and (short is None or trip.short == short)
    ]


def pick_screenshot_trips(data: DemoData) -> list[RoundTrip]:
    """A handful of telling round trips: best and worst, a short, a crypto and an IRA trade."""
    picks: list[RoundTrip] = []

    def add(candidates: list[RoundTrip], *, best: bool) -> None:
        ordered = sorted(
            candidates,
            key=lambda trip: (trip.realized_pnl, trip.entries[0].exec_id),
            reverse=best,
        )
        for trip in ordered:
            if trip not in picks:
                picks.append(trip)
                return

    add(_closed(data.round_trips, "IBKR-MARGIN", short=False), best=True)
    add(_closed(data.round_trips, "IBKR-MARGIN"), best=False)
    add(_closed(data.round_trips, "IBKR-MARGIN", short=True), best=True)
    add(_closed(data.round_trips, "COINBASE"), best=True)
    add(_closed(data.round_trips, "FIDELITY-IRA"), best=True)
    return picks


def _day(data: DemoData, moment: dt.datetime) -> int:
    return int((moment - data.start).total_seconds() // 86_400)


def _reports(picks: Sequence[RoundTrip]) -> list[TradeReport]:
    reports: list[TradeReport] = []
    if picks:
        reports.append(
            TradeReport(
                trade_id=picks[0].entries[0].exec_id,
                setup_quality=5,
                execution_quality=4,
                followed_plan=True,
                emotional_state="calm",
                lessons_learned=(
                    "Waited for the retest of the breakout level and scaled out into "
                    "strength. Keep doing this."
                ),
                tags=["breakout", "trend", "a-setup"],
            )
        )
    if len(picks) > 1:
        reports.append(
            TradeReport(
                trade_id=picks[1].entries[0].exec_id,
                setup_quality=2,
                execution_quality=1,
                followed_plan=False,
                emotional_state="frustrated",
                lessons_learned=(
                    "Chased the move after missing the entry and had no stop. Wait for a "
                    "pullback or pass."
                ),
                tags=["chasing", "no-stop"],
            )
        )
    return reports


def sample_csv(end: dt.datetime) -> str:
    """A few executions in the import format (times with their UTC offset)."""
    day = (end - dt.timedelta(days=1)).date()
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    from zoneinfo import ZoneInfo

    new_york = ZoneInfo("America/New_York")

    def at(hour: int, minute: int, second: int) -> str:
        local = dt.datetime.combine(day, dt.time(hour, minute, second), tzinfo=new_york)
        return local.isoformat()

    rows = [
        "exec_id,time,instrument,action,quantity,price,account_id,commission,realized_pnl",
        f"SAMPLE-0001,{at(9, 41, 7)},AAPL,BOT,100,189.25,IBKR-MARGIN,1.00,0",
        f"SAMPLE-0002,{at(9, 41, 9)},AAPL,BOT,50,189.27,IBKR-MARGIN,1.00,0",
        f"SAMPLE-0003,{at(11, 5, 42)},AAPL,SLD,150,190.10,IBKR-MARGIN,1.00,124.50",
        f"SAMPLE-0004,{at(13, 30, 0)},TSLA,SLD,40,251.40,IBKR-MARGIN,1.00,0",
        f"SAMPLE-0005,{at(15, 2, 31)},TSLA,BOT,40,248.95,IBKR-MARGIN,1.00,96.00",
    ]
    return "\n".join(rows) + "\n"


# ------------------------------------------------------------------------------------------
# The run
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Screenshot:
    trip: RoundTrip
    file_name: str
    png: bytes
    caption: str


def make_screenshots(data: DemoData, picks: Sequence[RoundTrip], seed: int) -> list[Screenshot]:
    """One chart per picked round trip, and a second one on the first (several per trade)."""
    shots: list[Screenshot] = []
    for index, trip in enumerate(picks):
        entry_day = _day(data, trip.entries[0].time)
        exit_day = _day(data, trip.exits[-1].time) if trip.exits else entry_day
        png = chart_png(
            trip,
            data.paths[trip.instrument],
            entry_day=entry_day,
            exit_day=exit_day,
            seed=seed * 1000 + index,
        )
        side = "short" if trip.short else "long"
        name = f"{trip.entries[0].time:%Y-%m-%d}-{trip.instrument}-{side}.png"
        shots.append(
            Screenshot(trip, name, png, f"{trip.instrument} {side}: entry and exit, daily chart")
        )
    if shots:
        first = shots[0].trip
        review = chart_png(
            first,
            data.paths[first.instrument],
            entry_day=_day(data, first.entries[0].time),
            exit_day=_day(data, first.exits[-1].time) if first.exits else 0,
            seed=seed * 1000 + 99,
        )
        name = f"{first.entries[0].time:%Y-%m-%d}-{first.instrument}-review.png"
        shots.append(Screenshot(first, name, review, "Post-trade review: where I could have added"))
    return shots


def run_demo(
    directory: Path,
    *,
    passphrase: str | None,
    seed: int = DEFAULT_SEED,
    executions: int = DEFAULT_EXECUTIONS,
    end: dt.date | None = None,
    status: Console | None = None,
) -> DemoResult:
    """Create the demo journal in ``directory`` and read its summary back.

    Args:
        directory: Where the demo's files go (see the module docstring).
        passphrase: The journal's passphrase; None uses the public :data:`DEMO_PASSPHRASE`.
        seed: Makes the data reproducible (same seed and end date, same content).
        executions: How many executions to generate.
        end: The last day of the two-year history (exclusive); today (UTC) by default.
        status: Where progress lines go (stderr), or None for none.
    """
    from zorivest_infra.journal import Journal

    started = time.perf_counter()
    prepare_directory(directory)
    # Written first (and again once the journal exists), so that a demo that fails
    # half-way is still cleaned up by the next run.
    _write_marker(directory, [JOURNAL_NAME])
    end_date = end if end is not None else dt.datetime.now(dt.UTC).date()
    secret = DEMO_PASSPHRASE if passphrase is None else passphrase

    def say(message: str) -> None:
        if status is not None:
            status.print(message, markup=False, highlight=False)

    say(f"Generating {executions:,} executions (seed {seed})...")
    tick = time.perf_counter()
    data = generate(seed, executions, end_date)
    result = DemoResult(
        journal=directory / JOURNAL_NAME,
        data=data,
        public_passphrase=passphrase is None,
    )
    picks = pick_screenshot_trips(data)
    shots = make_screenshots(data, picks, seed)
    result.generate_seconds = time.perf_counter() - tick

    say(f"Saving them in the encrypted journal {result.journal}...")
    tick = time.perf_counter()
    journal = Journal.create(result.journal, secret)
    _write_marker(directory, [JOURNAL_NAME])
    try:
        with journal.unit_of_work() as uow:
            _save(uow, data, shots, _reports(picks), result)
            result.round_trips = rebuild_all(uow).stored
            uow.commit()
        result.save_seconds = time.perf_counter() - tick
        _read_back(journal.unit_of_work(read_only=True), result)
    finally:
        journal.close()
    _write_side_files(directory, result, shots)
    result.total_seconds = time.perf_counter() - started
    return result


def _save(
    uow: UnitOfWork,
    data: DemoData,
    shots: Sequence[Screenshot],
    reports: Sequence[TradeReport],
    result: DemoResult,
) -> None:
    for account in data.accounts:
        uow.accounts.save(account)
    for start in range(0, len(data.trades), _CHUNK):
        uow.trades.save_many(data.trades[start : start + _CHUNK])
    for snapshot in data.snapshots:
        uow.balance_snapshots.save(snapshot)
    for shot in shots:
        exec_id = shot.trip.entries[0].exec_id
        uow.images.save(exec_id, ImageAttachment(data=shot.png, caption=shot.caption))
        result.attached[exec_id] = result.attached.get(exec_id, 0) + 1
    for report in reports:
        uow.trade_reports.save(report)
        result.reports += 1


def _write_side_files(directory: Path, result: DemoResult, shots: Sequence[Screenshot]) -> None:
    created = [JOURNAL_NAME]
    screenshots = directory / SCREENSHOTS_DIR
    if not screenshots.exists():
        screenshots.mkdir(mode=0o700)
    if not _real_directory(screenshots):
        raise CliError(
            f"{screenshots} is not a directory the demo made; remove it and run the demo again",
            ExitCode.ALREADY_EXISTS,
        )
    for shot in shots:
        _write_new_file(directory / SCREENSHOTS_DIR / shot.file_name, shot.png)
        created.append(f"{SCREENSHOTS_DIR}/{shot.file_name}")
    _write_new_file(directory / SAMPLE_CSV_NAME, sample_csv(result.data.end).encode("utf-8"))
    created.append(SAMPLE_CSV_NAME)
    if result.report:
        from zorivest_infra.cli.report_chart import chart_png as report_chart_png

        currency = result.report[0].currency
        png = report_chart_png(
            result.daily_pnl, title=f"Demo journal: net P&L by day, {currency}", currency=currency
        )
        (directory / CHART_NAME).write_bytes(png)
        created.append(CHART_NAME)
    _write_marker(directory, created)
    result.created_files = created


def _write_new_file(path: Path, data: bytes) -> None:
    """Create `path` (it must not exist; a symbolic link there is never followed)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(path, flags, 0o600)
    except FileExistsError:
        raise CliError(
            f"{path} exists and was not created by `zorivest demo`; move it away and run "
            "the demo again",
            ExitCode.ALREADY_EXISTS,
        ) from None
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def _write_marker(directory: Path, names: list[str]) -> None:
    """Record the demo's files with their identity, replacing the marker atomically."""
    files: list[dict[str, object]] = []
    for name in names:
        try:
            status = (directory / name).lstat()
        except FileNotFoundError:
            continue  # the journal before it exists: recorded again once written
        device, inode, size, mtime = _identity(status)
        files.append(
            {"name": name, "device": device, "inode": inode, "size": size, "mtime_ns": mtime}
        )
    content = {"created_by": "zorivest demo", "files": files}
    temporary = directory / f"{MARKER_NAME}.{os.getpid()}.tmp"
    _write_new_file(temporary, (json.dumps(content, indent=2) + "\n").encode("utf-8"))
    os.replace(temporary, directory / MARKER_NAME)  # replaces a link itself, never its target


def _read_back(uow: UnitOfWork, result: DemoResult) -> None:
    with uow:
        for account in uow.accounts.list_all():
            totals = uow.trades.totals(account.account_id)
            result.read_back.append(
                AccountSummary(
                    account_id=account.account_id,
                    account_type=account.account_type.value,
                    trades=uow.trades.count(account.account_id),
                    commission=totals.commission,
                    realized_pnl=totals.realized_pnl,
                )
            )
        result.newest = list(list_trades(uow, account_id=None, since=None, until=None, limit=8))
        result.images_read_back = sum(
            len(uow.images.get_for_trade(exec_id)) for exec_id in result.attached
        )
        result.reports_read_back = uow.trade_reports.count()
        result.snapshots_read_back = uow.balance_snapshots.count()
        result.report = build_report(uow)
        if result.report:
            currency = result.report[0].currency
            result.daily_pnl = [
                (dt.date.fromisoformat(row.group), row.net_pnl)
                for row in build_report(uow, by=ReportGrouping.DAY)
                if row.group is not None and row.currency == currency
            ]


# ------------------------------------------------------------------------------------------
# Printing
# ------------------------------------------------------------------------------------------


def print_result(console: Console, result: DemoResult) -> None:
    """What the demo did, then what was read back from the journal, then what to try."""
    _print_header(console, result)
    _print_actions(console, result)
    _print_read_back(console, result)
    _print_next_steps(console, result)


def _print_header(console: Console, result: DemoResult) -> None:
    size = result.journal.stat().st_size if result.journal.exists() else 0
    console.print()
    console.print("[bold]Zorivest demo journal[/bold]")
    console.print(
        f"  Journal     {escape(str(result.journal))}  "
        f"(encrypted with SQLCipher, {size / 1e6:.1f} MB)"
    )
    if not result.public_passphrase:
        console.print("  Passphrase  the one you gave (not shown)")
        return
    console.print(f"  Passphrase  {escape(DEMO_PASSPHRASE)}")
    console.print(
        "              the public demo passphrase, the same for every demo: this journal\n"
        "              is for trying things out and is [bold]NOT private[/bold]. For a private\n"
        "              journal use `zorivest init`."
    )


def _print_actions(console: Console, result: DemoResult) -> None:
    data = result.data
    directory = result.journal.parent
    trading = {trade.account_id for trade in data.trades}
    first = data.trades[0].time if data.trades else data.start
    last = data.trades[-1].time if data.trades else data.end
    images = sum(result.attached.values())
    console.print()
    console.print("[bold]What the demo did[/bold]")
    console.print(
        f"  - created {len(data.accounts)} accounts: "
        + ", ".join(f"{a.account_id} ({a.account_type.value})" for a in data.accounts)
    )
    console.print(
        f"  - generated {len(data.trades):,} executions in {len(trading)} trading accounts, "
        f"{first:%Y-%m-%d} to {last:%Y-%m-%d} ({result.generate_seconds:.1f} s):\n"
        f"      {len(data.round_trips):,} round trips, {data.shorts:,} of them short "
        f"(opened with SLD), {data.partial_fills:,} partial fills, "
        f"{data.fractional:,} fractional quantities, {data.open_positions:,} still open"
    )
    console.print(
        f"  - saved them with {len(data.snapshots)} month-end balance snapshots in one "
        f"transaction ({result.save_seconds:.1f} s)"
    )
    console.print(
        f"  - attached {images} chart screenshots (1280x720 PNG) to {len(result.attached)} "
        f"trades and wrote {result.reports} trade reports"
    )
    console.print(
        f"  - wrote {escape(str(directory / SCREENSHOTS_DIR))}/ (the screenshots) and "
        f"{escape(str(directory / SAMPLE_CSV_NAME))} (to try an import)"
    )


def _print_read_back(console: Console, result: DemoResult) -> None:
    console.print()
    console.print("[bold]Read back from the journal[/bold]")
    table = Table(title_justify="left")
    table.add_column("Account")
    table.add_column("Type")
    table.add_column("Trades", justify="right")
    table.add_column("Commission", justify="right")
    table.add_column("Realized P&L", justify="right")
    for row in result.read_back:
        table.add_row(
            row.account_id,
            row.account_type,
            f"{row.trades:,}",
            money(row.commission, coloured=False),
            money(row.realized_pnl),
        )
    total_trades = sum(row.trades for row in result.read_back)
    total_pnl = sum((row.realized_pnl for row in result.read_back), Decimal(0))
    total_commission = sum((row.commission for row in result.read_back), Decimal(0))
    table.add_row(
        "[bold]all[/bold]",
        "",
        f"[bold]{total_trades:,}[/bold]",
        money(total_commission, coloured=False),
        money(total_pnl),
    )
    console.print(table)
    console.print("[bold]Newest trades (all accounts)[/bold]")
    # The shared renderer: fits the terminal without cutting a number.
    write_listing(
        trade_columns(zone=None, wide=False, with_account=True),
        result.newest,
        OutputFormat.TABLE,
        stream=console.file,
    )
    console.print(
        f"  Images: {result.images_read_back} (with WebP thumbnails)   "
        f"Trade reports: {result.reports_read_back}   "
        f"Balance snapshots: {result.snapshots_read_back}"
    )
    _print_report(console, result)
    console.print(f"  Done in {result.total_seconds:.1f} s.")


def _print_report(console: Console, result: DemoResult) -> None:
    """The trader's report over the round trips the demo's executions make."""
    for row in result.report:
        win_rate = "-" if row.win_rate is None else f"{row.win_rate * 100:.1f}%"
        factor = "-" if row.profit_factor is None else f"{row.profit_factor:.2f}"
        console.print(
            f"  Report ({row.currency}): {row.round_trips:,} closed round trips of "
            f"{result.round_trips:,} matched FIFO"
        )
        console.print(
            "    net P&L ",
            money(row.net_pnl),
            " after ",
            money(row.commission, coloured=False),
            " commission",
            sep="",
        )
        console.print(
            f"    win rate {win_rate}, profit factor {factor}, max drawdown {row.max_drawdown:,.2f}"
        )
    if result.report:
        chart = result.journal.parent / CHART_NAME
        console.print(f"  Chart: {escape(str(chart))} (cumulative net P&L, daily bars)")


def _print_next_steps(console: Console, result: DemoResult) -> None:
    directory = result.journal.parent
    journal = os.fspath(result.journal)
    # With the public demo passphrase the hints run as printed; with a given one they use
    # ZORIVEST_PASSPHRASE if it is set, or ask for it.
    prefix = f"ZORIVEST_PASSPHRASE={DEMO_PASSPHRASE} " if result.public_passphrase else ""
    example = next(iter(result.attached), None)
    # Printed so that each runs as is in the user's shell (uv run, quoting; see invocation).
    lines = [
        command_line("trades", journal, "--account", "COINBASE", "--limit", "10"),
        command_line("import", journal, directory / SAMPLE_CSV_NAME),
    ]
    if example is not None:
        lines.append(command_line("images", journal, example))
    lines += [
        command_line("report", journal, "--by", "month"),
        command_line("roundtrips", journal, "--open"),
        command_line("info", journal),
        command_line("verify", journal),
    ]
    lines = [prefix + line for line in lines]
    console.print()
    console.print("[bold]Try next[/bold]")
    for line in lines:
        console.print(f"  {line}", soft_wrap=True, markup=False)
