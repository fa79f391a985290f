"""`fidelity`: the Fidelity account history CSV (`Accounts_History.csv`).

Exported from fidelity.com: Accounts & Trade > Portfolio > Activity & Orders, choose the
period, then the download icon (CSV). The file starts with blank lines, then the header
`Run Date, [Account, Account Number,] Action, Symbol, Description, Type, Quantity,
Price ($), Commission ($), Fees ($), Accrued Interest ($), Amount ($), [Cash Balance ($),]
Settlement Date` (older files: `Security Description`, `Security Type`, no account
columns), and ends, after a blank line, with quoted disclaimer lines and "Date downloaded
..."; those are recognised as the footer and skipped.

Mapping:
- `Run Date` `MM/DD/YYYY`; no time of day is given: 00:00 of that date in
  America/New_York (or --tz) is stored.
- `Action` starting `YOU BOUGHT` or `REINVESTMENT` -> BOT, `YOU SOLD` -> SLD. Every other
  action (dividends, transfers, interest, expirations, assignments) is not an execution
  and is listed as rejected with its action, never dropped silently.
- `Symbol`: a ticker, or an option written ` -SPY240322C510` (root, YYMMDD, C/P, strike)
  -> asset class option, the OCC symbol as instrument, multiplier from the action's
  `(100 SHS)` (100 when absent). Other rows: asset class stock (the file does not tell
  funds apart: its `Type` column is Cash/Margin, not the kind of security).
- `Quantity` is negative for sales in Fidelity's files; the absolute value is stored and
  the action gives the side.
- `Price ($)` plain decimal. `Commission ($)` (paid, positive) -> commission; `Fees ($)`
  (SEC and activity fees, positive) -> the transaction ledger as a regulatory fee.
- `Account Number` (when present) is the statement's account (`broker_account`), kept
  when the journal has that account, else --account; it is also the account in the
  deterministic ids, so they do not depend on --account.
- Ids: Fidelity writes no execution id; see importers.ids. Currency USD.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import ClassVar, Final
from zoneinfo import ZoneInfo

from zorivest_core.application.importing import ImportContext, ParsedExecution, ParsedItem
from zorivest_core.domain.enums import FeeType, TradeAction
from zorivest_core.domain.errors import ValidationError
from zorivest_infra.importers import values
from zorivest_infra.importers.csv_base import (
    Columns,
    DerivedIdCsvImporter,
    account_for,
    fee_if_charged,
)
from zorivest_infra.importers.csv_reading import CsvRecord
from zorivest_infra.importers.ids import DerivedIds
from zorivest_infra.importers.options import (
    EQUITY_OPTION_MULTIPLIER,
    OptionContract,
    contract_matched,
    us_listed_trade,
)

DEFAULT_ZONE: Final = ZoneInfo("America/New_York")
_OPTION: Final = re.compile(
    r"-?(?P<root>[A-Z][A-Z0-9.]{0,5}?)(?P<expiry>\d{6})(?P<right>[CP])(?P<strike>\d+(?:\.\d+)?)"
)
_SHARES_PER_CONTRACT: Final = re.compile(r"\((?P<shares>\d+) SHS\)")
_TRADE_COLUMNS: Final = (
    "Action",
    "Symbol",
    "Quantity",
    "Price ($)",
    "Commission ($)",
    "Fees ($)",
    "Amount ($)",
)
_ID_COLUMNS: Final = ("Run Date", "Account Number", *_TRADE_COLUMNS, "Settlement Date")


def option_from_symbol(symbol: str) -> OptionContract | None:
    """The contract in a Fidelity option symbol (`-SPY240322C510`), else None."""
    return contract_matched(
        _OPTION.fullmatch(symbol.strip()), expiry_form="%y%m%d", expiry_shown="YYMMDD"
    )


def _action(text: str) -> TradeAction | None:
    words = " ".join(text.upper().split())
    if words.startswith(("YOU BOUGHT", "REINVESTMENT")):
        return TradeAction.BOT
    if words.startswith("YOU SOLD"):
        return TradeAction.SLD
    return None


class FidelityImporter(DerivedIdCsvImporter):
    name: ClassVar[str] = "fidelity"
    title = "Fidelity"
    description: ClassVar[str] = "Fidelity account history CSV (Accounts_History.csv)"
    required = ("Run Date", *_TRADE_COLUMNS)
    max_preamble: ClassVar[int] = 3

    def is_footer(self, record: CsvRecord, columns: Columns, *, blank_seen: bool) -> bool:
        # After the table: one quoted text cell per line (disclaimers, "Date downloaded").
        filled = [cell for cell in record.cells if cell.strip()]
        return blank_seen and len(filled) <= 1 and len(record.cells) < columns.width

    def row(
        self, columns: Columns, record: CsvRecord, context: ImportContext, state: DerivedIds
    ) -> ParsedItem:
        action_text = columns.cell(record, "Action")
        action = _action(action_text)
        if action is None:
            raise ValidationError(
                f"not an execution (Action {action_text!r}); only buys and sells are imported"
            )
        broker_account = columns.cell(record, "Account Number") or None
        account = account_for(context, broker_account)
        day = values.date(
            columns.cell(record, "Run Date"), "Run Date", form="%m/%d/%Y", shown="MM/DD/YYYY"
        )
        zone = context.zone or DEFAULT_ZONE
        time = values.start_of_day(day, zone, "Run Date")
        symbol = columns.cell(record, "Symbol")
        if not symbol:
            raise ValidationError("Symbol: must not be empty")
        quantity = values.unsigned_quantity(columns.cell(record, "Quantity"), "Quantity")
        price = values.price(columns.cell(record, "Price ($)"), "Price ($)")
        commission = values.optional_number(
            columns.cell(record, "Commission ($)"), "Commission ($)"
        )
        fee_amount = values.optional_number(columns.cell(record, "Fees ($)"), "Fees ($)")
        fees = fee_if_charged(FeeType.REGULATORY, fee_amount, "USD")
        exec_id = state.next_id(account, [columns.cell(record, name) for name in _ID_COLUMNS])
        contract = option_from_symbol(symbol)
        shares = _SHARES_PER_CONTRACT.search(action_text)
        trade = us_listed_trade(
            exec_id=exec_id,
            time=time,
            symbol=symbol,
            contract=contract,
            action=action,
            quantity=quantity,
            price=price,
            account_id=account,
            commission=commission or Decimal(0),
            multiplier=Decimal(shares["shares"]) if shares else EQUITY_OPTION_MULTIPLIER,
        )
        return ParsedExecution(
            line=record.line, trade=trade, fees=fees, broker_account=broker_account
        )
