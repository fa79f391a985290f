"""``zorivest roundtrips``, ``roundtrips rebuild``, ``report`` and ``reconcile``.

The rules live in the use cases (`zorivest_core.application.use_cases.round_trips`,
`.report`, `.reconcile`); these commands parse, call and print.
"""

from __future__ import annotations

import csv
import decimal
import json
import sys
from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from zorivest_core.application.ports import ReportGrouping, RoundTripFilter
from zorivest_core.domain import validation as v
from zorivest_core.domain.enums import RoundTripStatus
from zorivest_infra.cli import csv_import
from zorivest_infra.cli.columns import held, roundtrip_columns
from zorivest_infra.cli.errors import CliError, ExitCode, handle_errors
from zorivest_infra.cli.options import (
    AccountFilter,
    Format,
    JournalOrUrl,
    Json,
    PassphraseFile,
    Since,
    Until,
    Url,
    Wide,
    Zone,
    check_account_filter,
    positional,
)
from zorivest_infra.cli.out_files import refuse_output, write_private_file
from zorivest_infra.cli.output import (
    money,
    plain,
    stdout_console,
    write_json_array,
)
from zorivest_infra.cli.render import OutputFormat, pick_format, plural, say, write_listing
from zorivest_infra.cli.target import open_unit_of_work, resolve

if TYPE_CHECKING:
    from zorivest_core.application.use_cases.report import ReportRow

REBUILD: Final = "rebuild"
ROUND_TRIP_KEYS: Final = (
    "account_id",
    "instrument",
    "direction",
    "entry_exec_ids",
    "exit_exec_ids",
    "entry_avg_price",
    "exit_avg_price",
    "total_quantity",
    "realized_pnl",
    "total_commission",
    "opened_at",
    "closed_at",
    "status",
    "holding_period_seconds",
    "currency",
)


# ------------------------------------------------------------------------------------------
# roundtrips / roundtrips rebuild
# ------------------------------------------------------------------------------------------


@handle_errors
def roundtrips(
    *,
    journal: JournalOrUrl = None,
    more: Annotated[str | None, positional("[JOURNAL]", "After `rebuild`: the journal.")] = None,
    account: AccountFilter = None,
    instrument: Annotated[
        str | None,
        typer.Option(
            "--instrument", metavar="SYM", help="Only this instrument.", show_default=False
        ),
    ] = None,
    only_open: Annotated[
        bool | None,
        typer.Option(
            "--open/--closed", help="Only open (or only closed) round trips.", show_default=False
        ),
    ] = None,
    since: Since = None,
    until: Until = None,
    zone: Zone = None,
    as_json: Json = False,
    output_format: Format = None,
    wide: Wide = False,
    url: Url = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """List round trips (a position's life from flat to flat), oldest opened first.

    --since/--until select by the time a round trip OPENED. --json (or --format json,
    ndjson, csv) gives objects keyed by the round trip's field names (decimals as strings,
    times ISO 8601 UTC; currency is null when the executions named none: the account's).
    Round trips are recomputed on every import; `zorivest roundtrips rebuild JOURNAL`
    recomputes all of them from the executions.
    """
    if journal == REBUILD and (more is not None or url is not None):
        _rebuild(more, url, passphrase_file)
        return
    if more is not None:
        raise CliError(f"unexpected argument {more!r}", ExitCode.USAGE)
    target, _ = resolve(journal, url, [], [])
    timezone = csv_import.zone_from_name(zone)
    opened_since, opened_until = csv_import.since_until(since, until, timezone)
    where = RoundTripFilter(
        account_id=account,
        instrument=instrument,
        status=(
            None
            if only_open is None
            else RoundTripStatus.OPEN
            if only_open
            else RoundTripStatus.CLOSED
        ),
        since=opened_since,
        until=opened_until,
    )
    with open_unit_of_work(target, passphrase_file, read_only=True) as uow:
        check_account_filter(uow, account, target)
        chosen = pick_format(output_format, as_json)
        columns = roundtrip_columns(
            zone=timezone, wide=wide, with_account=account is None, keys=ROUND_TRIP_KEYS
        )
        if chosen is not OutputFormat.TABLE:  # machine formats keep the public key order
            columns.sort(key=lambda column: ROUND_TRIP_KEYS.index(column.key))
        write_listing(
            columns,
            uow.round_trips.iter_matching(where),
            chosen,
            wide=wide,
            empty="No round trips match (import executions, or run `zorivest roundtrips rebuild`).",
            footer=lambda count: [
                f"{plural(count, 'round trip')}; * open: net P&L realized so far (FIFO).",
                *([f"Local times are {timezone.key}."] if timezone is not None else []),
            ],
        )


def _shown(value: Decimal, *, places: int = 2) -> str:
    """For a table cell: rounded half-even to ``places`` (tiny prices keep 6), grouped."""
    if places == 2 and value != 0 and abs(value) < 1:
        places = 6
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_EVEN)
    return f"{v.canonical(rounded) if places > 2 else rounded:,f}"


def _rebuild(journal: str | None, url: str | None, passphrase_file: Path | None) -> None:
    from zorivest_core.application.use_cases.round_trips import rebuild_all

    target, _ = resolve(journal, url, [], [])
    with open_unit_of_work(target, passphrase_file) as uow:
        summary = rebuild_all(uow)
        uow.commit()
    say(
        f"Rebuilt the round trips of {target.shown}: {summary.stored:,} round trips from "
        f"{summary.pairs:,} account/instrument pairs ({summary.deleted:,} replaced)."
    )


# ------------------------------------------------------------------------------------------
# report
# ------------------------------------------------------------------------------------------


class By(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    INSTRUMENT = "instrument"


@handle_errors
def report(
    *,
    journal: JournalOrUrl = None,
    account: AccountFilter = None,
    since: Since = None,
    until: Until = None,
    zone: Zone = None,
    by: Annotated[
        By | None,
        typer.Option(
            "--by", help="One row per day, week, month or instrument.", show_default=False
        ),
    ] = None,
    currency: Annotated[
        str | None,
        typer.Option(
            "--currency",
            metavar="CUR",
            help="Only amounts in this currency (needed when round trips use several).",
            show_default=False,
        ),
    ] = None,
    as_json: Json = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
    chart: Annotated[
        Path | None,
        typer.Option(
            "--chart",
            metavar="FILE.png",
            help="Also write a chart: cumulative net P&L and daily P&L bars (1200x600 PNG).",
            show_default=False,
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the chart file.")] = False,
    url: Url = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """What did I make, and where did I lose it: statistics of CLOSED round trips.

    Net P&L is after commissions (gross = net + commission). --since/--until select by the
    time a round trip CLOSED. Amounts in different currencies are never added: if the
    round trips use several (their executions', else their account's), choose one with
    --currency.
    --json prints one object with exactly the report's keys (with --by, an array of such
    objects, each also keyed by its day/week/month/instrument); decimals are strings and a
    ratio without a value (a profit factor without losses) is null.
    """
    from zorivest_core.application.use_cases.report import (
        REPORT_KEYS,
        CurrencyChoiceError,
        currency_code,
        report_in_one_currency,
    )

    if as_json and as_csv:
        raise CliError("choose one of --json and --csv", ExitCode.USAGE)
    target, _ = resolve(journal, url, [], [])
    timezone = csv_import.zone_from_name(zone)
    closed_since, closed_until = csv_import.since_until(since, until, timezone)
    where = RoundTripFilter(account_id=account, since=closed_since, until=closed_until)
    if chart is not None:
        if chart.suffix.lower() != ".png":
            raise CliError(f"--chart {chart}: the chart is a PNG file (FILE.png)", ExitCode.USAGE)
        refuse_output(chart, target, force=force)
    grouping = ReportGrouping(by.value) if by is not None else ReportGrouping.ALL
    if currency is not None:
        currency = currency_code(currency)  # refused before the passphrase is asked for
    with open_unit_of_work(target, passphrase_file, read_only=True) as uow:
        check_account_filter(uow, account, target)
        try:
            report = report_in_one_currency(
                uow, where, by=grouping, currency=currency, daily=chart is not None
            )
        except CurrencyChoiceError as error:
            raise CliError(f"{error} with --currency CUR", ExitCode.USAGE) from None
    rows, chosen, days = report.rows, report.currency, report.daily_net_pnl
    key = None if by is None else by.value
    if as_json:
        if key is None:
            obj = _row_json(rows[0], REPORT_KEYS) if rows else _empty_json(REPORT_KEYS)
            typer.echo(json.dumps(obj, indent=2))
        else:
            write_json_array({key: row.group, **_row_json(row, REPORT_KEYS)} for row in rows)
    elif as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(([key] if key else []) + list(REPORT_KEYS))
        for row in rows:
            values = _row_json(row, REPORT_KEYS)
            writer.writerow(
                ([row.group] if key else [])
                + ["" if values[k] is None else values[k] for k in REPORT_KEYS]
            )
    else:
        _print_report(rows, key=key, currency=chosen, shown=target.shown)
    if chart is not None:
        from zorivest_infra.cli.report_chart import chart_png

        title = f"Net P&L by day, {chosen}" + (f", account {account}" if account else "")
        write_private_file(
            chart, chart_png(days, title=title, currency=chosen or ""), replace=force
        )
        typer.echo(f"Wrote the chart to {chart} (1200x600 PNG).", err=as_json or as_csv)


def _row_json(row: ReportRow, keys: Sequence[str]) -> dict[str, object]:
    return {key: plain(getattr(row, key)) for key in keys}


def _empty_json(keys: Sequence[str]) -> dict[str, object]:
    zero_keys = {"net_pnl", "gross_pnl", "commission", "max_drawdown"}
    counts = {"round_trips", "wins", "losses"}
    return {key: "0" if key in zero_keys else 0 if key in counts else None for key in keys}


def _ratio(value: Decimal | None, *, percent: bool = False) -> str:
    if value is None:
        return "-"
    if percent:
        return f"{value * 100:.1f}%"
    return f"{value:.2f}"


def _print_report(rows: Sequence[ReportRow], *, key: str | None, currency: str, shown: str) -> None:
    console = stdout_console()
    if not rows:
        console.print(
            f"No closed round trips in {currency} in {shown} for this selection.", markup=False
        )
        return
    if key is None:
        row = rows[0]
        table = Table(title=Text(f"Closed round trips ({currency})"), title_justify="left")
        table.add_column("Measure")
        table.add_column("Value", justify="right")
        lines: list[tuple[str, str | Text]] = [
            ("Net P&L (after commission)", money(row.net_pnl)),
            ("Gross P&L", money(row.gross_pnl)),
            ("Commission", money(row.commission, coloured=False)),
            ("Round trips", f"{row.round_trips:,}"),
            ("Wins / losses", f"{row.wins:,} / {row.losses:,}"),
            ("Win rate", _ratio(row.win_rate, percent=True)),
            ("Average win", "-" if row.average_win is None else money(row.average_win)),
            ("Average loss", "-" if row.average_loss is None else money(row.average_loss)),
            ("Profit factor", _ratio(row.profit_factor)),
            (
                "Expectancy (per round trip)",
                "-" if row.expectancy is None else money(row.expectancy),
            ),
            ("Max drawdown (peak to trough)", money(row.max_drawdown, coloured=False)),
            ("Largest win", "-" if row.largest_win is None else money(row.largest_win)),
            ("Largest loss", "-" if row.largest_loss is None else money(row.largest_loss)),
            ("Average holding time", held(row.average_holding_seconds) or "-"),
        ]
        for label, value in lines:
            table.add_row(label, value)
        console.print(table)
        return
    table = Table(
        title=Text(f"Closed round trips by {key} ({currency})"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 0, 0, 2),
        caption="Amounts rounded to the cent; --json and --csv are exact.",
    )
    table.add_column(key.capitalize(), overflow="fold")
    table.add_column("Trips", justify="right")
    table.add_column("Win %", justify="right")
    table.add_column("Net P&L", justify="right", no_wrap=True)
    table.add_column("Commission", justify="right", no_wrap=True)
    table.add_column("Max DD", justify="right", no_wrap=True)
    for row in rows:
        table.add_row(
            Text(row.group or ""),
            f"{row.round_trips:,}",
            _ratio(row.win_rate, percent=True),
            Text(
                _shown(row.net_pnl),
                style="green" if row.net_pnl > 0 else "red" if row.net_pnl < 0 else "",
            ),
            _shown(row.commission),
            _shown(row.max_drawdown),
        )
    console.print(table)


# ------------------------------------------------------------------------------------------
# reconcile
# ------------------------------------------------------------------------------------------


@handle_errors
def reconcile(
    *,
    journal: JournalOrUrl = None,
    statement: Annotated[
        str | None, positional("FILE", "The broker statement, or - for standard input.")
    ] = None,
    format_name: Annotated[
        str | None,
        typer.Option("--format", metavar="NAME", help="Use this format (see import --formats)."),
    ] = None,
    account: Annotated[
        str | None,
        typer.Option(
            "--account",
            metavar="ID",
            help="As for import: the account of rows whose file names none.",
            show_default=False,
        ),
    ] = None,
    delimiter: Annotated[
        str | None,
        typer.Option("--delimiter", metavar="C", help="CSV delimiter (else sniffed)."),
    ] = None,
    zone: Zone = None,
    url: Url = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Compare the broker's realized P&L of each execution with ours (FIFO).

    Reads the statement like `zorivest import` (same detection and options) without
    storing anything, and compares every execution that carries the broker's realized P&L
    (IBKR Flex `fifoPnlRealized`) with ours, computed over the journal's whole history of
    that account and instrument. Values are compared at the broker's precision. Every
    difference is listed with both values; exits with 1 when any differs or an execution
    of the statement is not in the journal (import it first).
    """
    from zorivest_core.application.importing import ImportContext
    from zorivest_core.application.use_cases.reconcile import broker_pnl_of
    from zorivest_core.application.use_cases.reconcile import reconcile as reconcile_use_case
    from zorivest_infra import importers

    target, (file_name,) = resolve(journal, url, [statement], ["FILE"])
    timezone = csv_import.zone_from_name(zone)
    forced = importers.importer_named(format_name) if format_name is not None else None
    with importers.open_statement(file_name) as (stream, shown, head):
        importer = forced if forced is not None else importers.detect_format(head, source=shown)[0]
        context = ImportContext(
            account_id=account, zone=timezone, delimiter=delimiter, source_name=shown
        )
        with open_unit_of_work(target, passphrase_file, read_only=True) as uow:
            result = reconcile_use_case(uow, broker_pnl_of(importer.parse(stream, context)))
    typer.echo(
        f"Reconciled {result.checked:,} execution(s) of {shown} ({importer.name}) with "
        f"{target.shown}: {len(result.differences):,} differ, {len(result.missing):,} not "
        "in the journal."
    )
    for item in result.differences:
        where = f"line {item.line}: " if item.line is not None else ""
        typer.echo(
            f"  {where}{item.exec_id} ({item.account_id} {item.instrument}): "
            f"ours {format(item.ours, 'f')}, broker {format(item.broker, 'f')}",
        )
    for missing in result.missing:
        where = f"line {missing.line}: " if missing.line is not None else ""
        typer.echo(
            f"  {where}{missing.exec_id}: not in the journal (broker "
            f"{format(missing.realized_pnl, 'f')}); import the statement first",
        )
    if not result.ok:
        raise CliError(
            f"{len(result.differences)} execution(s) differ and {len(result.missing)} are "
            "missing from the journal",
            ExitCode.ERROR,
        )
