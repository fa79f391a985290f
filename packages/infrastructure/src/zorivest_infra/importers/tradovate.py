"""`tradovate`: Tradovate futures fills (executions) CSV.

Exported from the Tradovate Trader app: Account > Reports (or the Orders module's Fills
tab) > Fills > Download CSV. One row per fill. The columns this importer reads are the
fields of Tradovate's published Fill entity (`id`, `orderId`, `timestamp`, `action`, `qty`,
`price`) under the Trader app's titles; both spellings are accepted:

  Fill ID|id, Timestamp|timestamp, B/S|action, Contract|contract, Quantity|qty,
  Price|price, and optionally Order ID|orderId, Account|account, Commission|commission,
  Fees|fees.

Mapping:
- exec_id: `tradovate-<Fill ID>`. Tradovate's fill ids are unique within Tradovate; the
  prefix keeps them apart from other brokers' numeric ids. A fill id repeated in the file
  is reported as such (the later line wins, as brokers correct last).
- `Timestamp`: ISO 8601 with its offset (`2024-12-05T14:31:02.125Z`, as the API writes
  it), or `MM/DD/YYYY HH:MM:SS` / ISO without offset, which need --tz (never taken as UTC).
- `B/S`: `Buy`/`B` -> BOT, `Sell`/`S` -> SLD. `Quantity`: its absolute value; the side
  comes from B/S.
- `Contract`: a contract month symbol (`ESZ4`, `MESH25`) -> instrument `ESZ4` (root, month
  code, last digit of the year), asset class future, underlying the root, expiry the
  contract's last trading day, multiplier the point value from importers.futures
  (ES 50, MES 5, NQ 20, MNQ 2, RTY 50, M2K 5, YM 5, MYM 0.5, CL 1000, MCL 100, GC 100,
  MGC 10, SI 5000, HG 25000, 6E 125000, 6J 12500000, 6B 62500, ZB/ZN/ZF 1000). An unknown
  root is rejected, never given a guessed point value.
- `Commission` (paid, positive) -> commission; `Fees` (exchange and clearing) -> the
  transaction ledger as an exchange fee. Both 0 when absent. Currency USD.
- `Account` -> the statement's account (`broker_account`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import ClassVar, Final

from zorivest_core.application.importing import ImportContext, ParsedExecution, ParsedItem
from zorivest_core.domain import zones
from zorivest_core.domain.entities import Trade
from zorivest_core.domain.enums import AssetClass, FeeType, TradeAction
from zorivest_core.domain.errors import ValidationError
from zorivest_infra.importers import values
from zorivest_infra.importers.csv_base import Columns, CsvImporter, account_for, fee_if_charged
from zorivest_infra.importers.csv_reading import CsvRecord
from zorivest_infra.importers.futures import parse_contract
from zorivest_infra.importers.ids import RepeatedIds

_SIDES: Final = {
    "BUY": TradeAction.BOT,
    "B": TradeAction.BOT,
    "SELL": TradeAction.SLD,
    "S": TradeAction.SLD,
}
_US_TIME: Final = "%m/%d/%Y %H:%M:%S"


def _fill_time(text: str, context: ImportContext) -> dt.datetime:
    if "/" in text:
        if context.zone is None:
            raise ValidationError(
                f"Timestamp: {text!r} has no UTC offset; give the zone it is in with --tz "
                "(it is never assumed to be UTC)"
            )
        naive = values.wall_time(text, "Timestamp", form=_US_TIME, shown="MM/DD/YYYY HH:MM:SS")
        return values.in_zone(naive, context.zone, "Timestamp")
    return zones.parse_time(text, context.zone, field_name="Timestamp")


class TradovateImporter(CsvImporter[RepeatedIds]):
    name: ClassVar[str] = "tradovate"
    title = "Tradovate"
    description: ClassVar[str] = "Tradovate futures fills CSV (contract months, point values)"
    required = (
        "Fill ID|id",
        "Timestamp",
        "B/S|action",
        "Contract",
        "Quantity|qty",
        "Price",
    )

    def start(self, columns: Columns, context: ImportContext) -> RepeatedIds:
        return RepeatedIds()

    def row(
        self, columns: Columns, record: CsvRecord, context: ImportContext, state: RepeatedIds
    ) -> ParsedItem:
        fill_id = columns.cell(record, "Fill ID|id")
        if not fill_id:
            raise ValidationError("Fill ID: must not be empty")
        side_text = columns.cell(record, "B/S|action")
        side = _SIDES.get(side_text.upper())
        if side is None:
            raise ValidationError(f"B/S: {side_text!r} is neither Buy nor Sell")
        time = _fill_time(columns.cell(record, "Timestamp"), context)
        contract = parse_contract(columns.cell(record, "Contract"), traded_on=time.date())
        quantity = values.unsigned_quantity(columns.cell(record, "Quantity|qty"), "Quantity")
        price = values.price(columns.cell(record, "Price"), "Price")
        commission = values.optional_number(columns.cell(record, "Commission"), "Commission")
        fee_amount = values.optional_number(columns.cell(record, "Fees"), "Fees")
        broker_account = columns.cell(record, "Account") or None
        exec_id = f"{self.name}-{fill_id}"
        trade = Trade(
            exec_id=exec_id,
            time=time,
            instrument=contract.symbol,
            action=side,
            quantity=quantity,
            price=price,
            account_id=account_for(context, broker_account),
            commission=commission or Decimal(0),
            asset_class=AssetClass.FUTURE,
            multiplier=contract.product.point_value,
            underlying=contract.root,
            expiry=contract.expiry,
            currency=contract.product.currency,
        )
        fees = fee_if_charged(FeeType.EXCHANGE, fee_amount, contract.product.currency)
        return ParsedExecution(
            line=record.line,
            trade=trade,
            fees=fees,
            broker_account=broker_account,
            repeats_line=state.earlier_line(exec_id, record.line),
            may_repeat=True,
        )
