"""`schwab`: the Schwab (and thinkorswim account) transaction history CSV.

Exported from schwab.com: Accounts > History > Transactions, pick the date range, Export
(CSV). Columns: `Date, Action, Symbol, Description, Quantity, Price, Fees & Comm, Amount`.
Older exports put a title line (`"Transactions  for account ..."`) above the header and a
`"Transactions Total"` line below the table; both are recognised and skipped.

Mapping:
- `Date` is `MM/DD/YYYY`, or `MM/DD/YYYY as of MM/DD/YYYY` where the second date is the
  trade date (used). Schwab gives no time of day: the time stored is 00:00 of the trade
  date in America/New_York (or --tz), so a day's executions keep their date but not their
  order within the day.
- `Action`: `Buy`, `Buy to Open`, `Buy to Close`, `Reinvest Shares` -> BOT; `Sell`,
  `Sell to Open`, `Sell to Close`, `Sell Short` -> SLD. Any other action (dividends,
  transfers, interest, journal entries, expirations, assignments) is not an execution:
  the row is listed as rejected with its action, never dropped silently.
- `Symbol`: a stock/ETF ticker, or an option written `SPY 03/15/2024 500.00 C`
  (underlying, expiry MM/DD/YYYY, strike, C/P) -> asset class option, multiplier 100, the
  OCC symbol as instrument (see importers.options).
- `Quantity`: `1,000` style; its absolute value is stored, the action gives the side.
- `Price`: `$1,234.50`. `Fees & Comm`: paid fees are written positive and stored as the
  commission as written (a negative value, a rebate, stays negative); empty is 0.
- `Amount` is not stored (it is price x quantity x multiplier -/+ fees) but is part of the
  deterministic id.
- Ids: Schwab writes no execution id; see importers.ids for the deterministic id.
- Currency USD.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import ClassVar, Final
from zoneinfo import ZoneInfo

from zorivest_core.application.importing import ImportContext, ParsedExecution, ParsedItem
from zorivest_core.domain.enums import TradeAction
from zorivest_core.domain.errors import ValidationError
from zorivest_infra.importers import values
from zorivest_infra.importers.csv_base import Columns, DerivedIdCsvImporter, account_for
from zorivest_infra.importers.csv_reading import CsvRecord
from zorivest_infra.importers.ids import DerivedIds
from zorivest_infra.importers.options import OptionContract, contract_matched, us_listed_trade

DEFAULT_ZONE: Final = ZoneInfo("America/New_York")
_ACTIONS: Final = {
    "buy": TradeAction.BOT,
    "buy to open": TradeAction.BOT,
    "buy to close": TradeAction.BOT,
    "reinvest shares": TradeAction.BOT,
    "sell": TradeAction.SLD,
    "sell to open": TradeAction.SLD,
    "sell to close": TradeAction.SLD,
    "sell short": TradeAction.SLD,
}
_OPTION: Final = re.compile(
    r"(?P<root>[A-Z][A-Z0-9.]{0,5})\s+(?P<expiry>\d{2}/\d{2}/\d{4})\s+"
    r"(?P<strike>\d+(?:\.\d+)?)\s+(?P<right>[CP])"
)
_AS_OF: Final = re.compile(r"(?P<posted>\S+)\s+as\s+of\s+(?P<traded>\S+)", re.IGNORECASE)


def option_from_symbol(symbol: str) -> OptionContract | None:
    """The contract in a Schwab option symbol (`SPY 03/15/2024 500.00 C`), else None."""
    return contract_matched(
        _OPTION.fullmatch(" ".join(symbol.split())),
        expiry_form="%m/%d/%Y",
        expiry_shown="MM/DD/YYYY",
    )


class SchwabImporter(DerivedIdCsvImporter):
    name: ClassVar[str] = "schwab"
    title = "Schwab"
    description: ClassVar[str] = "Schwab / thinkorswim transaction history CSV"
    required = (
        "Date",
        "Action",
        "Symbol",
        "Quantity",
        "Price",
        "Fees & Comm",
        "Amount",
    )
    max_preamble: ClassVar[int] = 1

    def is_footer(self, record: CsvRecord, columns: Columns, *, blank_seen: bool) -> bool:
        return record.cells[0].strip().lower() == "transactions total"

    def row(
        self, columns: Columns, record: CsvRecord, context: ImportContext, state: DerivedIds
    ) -> ParsedItem:
        action_text = columns.cell(record, "Action")
        action = _ACTIONS.get(" ".join(action_text.lower().split()))
        if action is None:
            raise ValidationError(
                f"not an execution (Action {action_text!r}); only buys and sells are imported"
            )
        account = account_for(context, None)
        date_text = columns.cell(record, "Date")
        as_of = _AS_OF.fullmatch(date_text)
        day = values.date(
            as_of["traded"] if as_of else date_text, "Date", form="%m/%d/%Y", shown="MM/DD/YYYY"
        )
        zone = context.zone or DEFAULT_ZONE
        time = values.start_of_day(day, zone, "Date")
        symbol = " ".join(columns.cell(record, "Symbol").split())
        if not symbol:
            raise ValidationError("Symbol: must not be empty")
        quantity = values.unsigned_quantity(columns.cell(record, "Quantity"), "Quantity")
        price = values.price(columns.cell(record, "Price"), "Price")
        fees = values.optional_number(columns.cell(record, "Fees & Comm"), "Fees & Comm")
        contract = option_from_symbol(symbol)
        # The id hashes exactly the columns that identify the format, in their order.
        exec_id = state.next_id(account, [columns.cell(record, name) for name in self.required])
        trade = us_listed_trade(
            exec_id=exec_id,
            time=time,
            symbol=symbol,
            contract=contract,
            action=action,
            quantity=quantity,
            price=price,
            account_id=account,
            commission=fees or Decimal(0),
        )
        return ParsedExecution(line=record.line, trade=trade)
