"""`ibkr-csv`: the same Interactive Brokers Flex Query delivered as CSV.

The CSV header names the fields as the Flex query's configuration page does
(`ClientAccountID`, `Buy/Sell`, `TradePrice`, `IBCommission`, ...; IBKR Reporting Guide,
"Activity Flex Query Reference: Trades"); the XML attribute names are accepted too.
A query with several sections repeats a header line per section; a header line starts a
new table. With "Include header and trailer records", the record-type column
(`HEADER`/`DATA`, and `BOF`/`BOS`/`EOS`/`EOF` lines) is understood. Each row then maps
exactly as in `ibkr-flex` (see `ibkr_rows`).
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from typing import BinaryIO, ClassVar, Final

from zorivest_core.application.importing import (
    Detection,
    ImportContext,
    ParsedItem,
    RowRejection,
)
from zorivest_core.domain.errors import ValidationError
from zorivest_infra.importers.ibkr_rows import execution_from_row, missing_zone_error
from zorivest_infra.importers.text_lines import bounded_lines

# Header names (lower-case, without '/', spaces and '_') -> the XML attribute name.
_ALIASES: Final = {
    "clientaccountid": "accountId",
    "accountid": "accountId",
    "currencyprimary": "currency",
    "currency": "currency",
    "fxratetobase": "fxRateToBase",
    "assetclass": "assetCategory",
    "assetcategory": "assetCategory",
    "symbol": "symbol",
    "conid": "conid",
    "cusip": "cusip",
    "isin": "isin",
    "multiplier": "multiplier",
    "strike": "strike",
    "expiry": "expiry",
    "putcall": "putCall",
    "underlyingsymbol": "underlyingSymbol",
    "tradeid": "tradeID",
    "ibexecid": "ibExecID",
    "datetime": "dateTime",
    "buysell": "buySell",
    "quantity": "quantity",
    "tradeprice": "tradePrice",
    "ibcommission": "ibCommission",
    "ibcommissioncurrency": "ibCommissionCurrency",
    "taxes": "taxes",
    "opencloseindicator": "openCloseIndicator",
    "notescodes": "notes",
    "notes": "notes",
    "fifopnlrealized": "fifoPnlRealized",
    "levelofdetail": "levelOfDetail",
}
_REQUIRED: Final = ("buySell", "quantity", "tradePrice", "dateTime", "symbol")
_MARKERS: Final = frozenset({"BOF", "BOA", "BOS", "EOS", "EOA", "EOF"})
_RECORD_TYPES: Final = frozenset({"HEADER", "DATA"}) | _MARKERS


def _sniff_delimiter(line: str) -> str:
    """The delimiter of a header line: the most frequent of comma, tab, semicolon, pipe.

    IBKR writes commas; a file re-saved by a spreadsheet in a decimal-comma locale has
    semicolons. (csv.Sniffer guesses from quoting patterns and was wrong on one-line
    samples of quoted headers.)
    """
    counts = {delimiter: line.count(delimiter) for delimiter in (",", "\t", ";", "|")}
    return max(counts, key=lambda delimiter: counts[delimiter])


def _key(name: str) -> str:
    return name.strip().lower().replace("/", "").replace(" ", "").replace("_", "")


def _header(cells: list[str]) -> list[str | None] | None:
    """The attribute name of each column when `cells` is a Trades header line, else None."""
    names = [_ALIASES.get(_key(cell)) for cell in cells]
    present = {name for name in names if name is not None}
    return names if all(name in present for name in _REQUIRED) else None


class IbkrCsvImporter:
    """Interactive Brokers Flex Query, CSV (Trades section, execution level)."""

    name: ClassVar[str] = "ibkr-csv"
    description: ClassVar[str] = "Interactive Brokers Flex Query as CSV (Trades, Execution level)"

    def detect(self, sample: bytes) -> Detection:
        text = sample.decode("utf-8", errors="replace").lstrip("\ufeff")
        for line in text.splitlines()[:20]:
            cells = next(csv.reader([line], delimiter=_sniff_delimiter(line)), [])
            if cells and cells[0].strip().upper() in _RECORD_TYPES:
                cells = cells[1:]
            keys = {_key(cell) for cell in cells}
            if _header(cells) is not None and ("ibexecid" in keys or "tradeid" in keys):
                return Detection(100, "a Flex Query CSV header (Buy/Sell, TradePrice, ...)")
            if {"buysell", "tradeprice"} <= keys:
                return Detection(
                    0,
                    "a Flex-like header without IBExecID/TradeID or DateTime, Symbol, Quantity",
                    closeness=60,
                )
        return Detection(0, "no Flex Query CSV header (Buy/Sell, TradePrice, IBExecID)")

    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[ParsedItem]:
        zone = context.zone
        if zone is None:
            raise missing_zone_error(context.source_name)
        source = context.source_name
        lines = bounded_lines(stream, source=source)
        first = next(lines, "")
        delimiter = context.delimiter or _sniff_delimiter(first)
        reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter)
        header: list[str | None] | None = None
        previous = 0
        try:
            for record in reader:
                line = previous + 1
                previous = reader.line_num
                kind = record[0].strip().upper() if record else ""
                if kind in _MARKERS:
                    continue  # begin/end-of-file, -account, -section lines
                cells = record[1:] if kind in _RECORD_TYPES else record
                if not cells or all(not cell.strip() for cell in cells):
                    continue
                names = _header(cells)
                if names is not None:
                    header = names
                    continue
                if header is None:
                    continue  # another section's rows, or a preamble
                if len(cells) != len(header):
                    yield RowRejection(
                        line, f"expected {len(header)} fields as in the header, got {len(cells)}"
                    )
                    continue
                row = {name: cell for name, cell in zip(header, cells, strict=True) if name}
                yield execution_from_row(row, line, context, zone)
        except csv.Error as error:
            raise ValidationError(
                f"{source}: line {reader.line_num}: not valid CSV ({error})"
            ) from None
        if header is None:
            raise ValidationError(
                f"{source}: no Trades header line (Buy/Sell, Quantity, TradePrice, DateTime, "
                "Symbol): is this the Flex query's CSV with the Trades section?"
            )
