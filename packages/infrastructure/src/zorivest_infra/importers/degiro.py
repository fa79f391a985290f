"""`degiro`: the DEGIRO Transactions CSV (English, Dutch or German headers).

Exported from the DEGIRO web trader: Inbox > Transactions, choose the period, untick
"Aggregate orders" (one row per fill), then Export > CSV. The header is

  Date, Time, Product, ISIN, Reference exchange, Venue, Quantity, Price, <currency>,
  Local value, <currency>, Value, <currency>, Exchange rate, Transaction and/or third,
  <currency>, Total, <currency>, Order ID

(Dutch: Datum, Tijd, Product, ISIN, Beurs, Uitvoeringsplaats, Aantal, Koers, ...,
Wisselkoers, Transactiekosten en/of, ..., Totaal, ..., Order ID; German: Datum, Uhrzeit,
Produkt, ISIN, Referenzbörse, Ausführungsort, Anzahl, Kurs, ...). The unnamed column right
of Price, Local value, Value, costs and Total holds that amount's currency. Files are
comma- or semicolon-separated, by the user's language setting.

Mapping:
- Numbers: DEGIRO writes no thousands separators, so a cell's one `.` or `,` is its
  decimal separator (`173,25` and `173.25` are both 173.25); a cell with both is rejected.
- `Date` `DD-MM-YYYY` + `Time` `HH:MM` are local times of the reference exchange: the zone
  comes from the exchange code (:data:`EXCHANGE_ZONES`, e.g. NSY/NDQ America/New_York,
  EAM Europe/Amsterdam, XET Europe/Berlin), each time converted with that zone's rules
  for its date (an unknown code falls back to the `Venue` MIC, :data:`VENUE_ZONES`); --tz
  overrides it for every row. A row whose zone is still unknown is rejected, naming both.
- `Quantity` is negative for sales: its absolute value is stored, the sign gives the side.
- `Price` and its currency -> price and the trade's currency.
- `Transaction and/or third` costs are negative when paid: commission = minus that value
  (paid positive, a refund negative), in the account currency.
- fx_rate = |Value| / |Local value| (account currency per unit of trade currency), rounded
  to 10 decimal places (DEGIRO prints the inverse rate; this quotient is the one rounded
  value). None when both are in the same currency.
- Instrument: the ISIN (DEGIRO files carry no ticker); the ISIN with the product name
  DEGIRO shows goes to the identifier cache.
- Ids: no fill id (Order ID is per order); see importers.ids, with Order ID in the content.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal
from typing import ClassVar, Final
from zoneinfo import ZoneInfo

from zorivest_core.application.importing import (
    Identifier,
    ImportContext,
    ParsedExecution,
    ParsedItem,
)
from zorivest_core.domain.entities import Trade
from zorivest_core.domain.enums import AssetClass, IdentifierType, TradeAction
from zorivest_core.domain.errors import ValidationError
from zorivest_infra.importers import values
from zorivest_infra.importers.csv_base import Columns, DerivedIdCsvImporter, account_for
from zorivest_infra.importers.csv_reading import CsvRecord
from zorivest_infra.importers.ids import DerivedIds

EXCHANGE_ZONES: Final[dict[str, str]] = {
    "NSY": "America/New_York",
    "NDQ": "America/New_York",
    "ASE": "America/New_York",
    "BATS": "America/New_York",
    "TOR": "America/Toronto",
    "EAM": "Europe/Amsterdam",
    "EPA": "Europe/Paris",
    "EBR": "Europe/Brussels",
    "ELI": "Europe/Lisbon",
    "XET": "Europe/Berlin",
    "FRA": "Europe/Berlin",
    "TDG": "Europe/Berlin",
    "LSE": "Europe/London",
    "MIL": "Europe/Rome",
    "MAD": "Europe/Madrid",
    "SWX": "Europe/Zurich",
    "VIE": "Europe/Vienna",
    "OMX": "Europe/Stockholm",
    "CSE": "Europe/Copenhagen",
    "HSE": "Europe/Helsinki",
    "OSL": "Europe/Oslo",
    "WSE": "Europe/Warsaw",
    "ATH": "Europe/Athens",
    "TSE": "Asia/Tokyo",
    "HKS": "Asia/Hong_Kong",
    "SGX": "Asia/Singapore",
    "ASX": "Australia/Sydney",
}
"""DEGIRO's reference-exchange codes and the IANA zone of their local times."""

VENUE_ZONES: Final[dict[str, str]] = {
    "XNYS": "America/New_York",
    "XNAS": "America/New_York",
    "ARCX": "America/New_York",
    "BATS": "America/New_York",
    "XTSE": "America/Toronto",
    "XAMS": "Europe/Amsterdam",
    "XPAR": "Europe/Paris",
    "XBRU": "Europe/Brussels",
    "XLIS": "Europe/Lisbon",
    "XETR": "Europe/Berlin",
    "XFRA": "Europe/Berlin",
    "XLON": "Europe/London",
    "XMIL": "Europe/Rome",
    "XMAD": "Europe/Madrid",
    "XSWX": "Europe/Zurich",
    "XWBO": "Europe/Vienna",
    "XSTO": "Europe/Stockholm",
    "XCSE": "Europe/Copenhagen",
    "XHEL": "Europe/Helsinki",
    "XOSL": "Europe/Oslo",
    "XWAR": "Europe/Warsaw",
    "XTKS": "Asia/Tokyo",
    "XHKG": "Asia/Hong_Kong",
    "XASX": "Australia/Sydney",
}
"""ISO 10383 market identifier codes of the `Venue` column, used when DEGIRO's own
reference-exchange code is not in EXCHANGE_ZONES."""

_COSTS: Final = "Transaction and/or third*|Transaction costs*|Transactiekosten*|Transaktionskosten*"
_ISIN: Final = re.compile(r"[A-Z]{2}[A-Z0-9]{9}[0-9]")
_TEN_PLACES: Final = Decimal("1e-10")
_ID_COLUMNS: Final = (
    "Date|Datum",
    "Time|Tijd|Uhrzeit",
    "ISIN",
    "Reference exchange|Beurs|Referenzbörse",
    "Venue|Uitvoeringsplaats|Ausführungsort",
    "Quantity|Aantal|Anzahl",
    "Price|Koers|Kurs",
    "Local value|Lokale waarde|Wert in Lokalwährung",
    _COSTS,
    "Order ID|Order-ID",
)


def degiro_number(text: str, field: str) -> Decimal:
    """A DEGIRO number: its one `.` or `,` is the decimal separator."""
    written = text.strip()
    if "." in written and "," in written:
        raise ValidationError(
            f"{field}: {written!r} has both '.' and ','; DEGIRO numbers have one decimal "
            "separator and no thousands separator"
        )
    return values.number(written, field, decimal="," if "," in written else ".")


class DegiroImporter(DerivedIdCsvImporter):
    name: ClassVar[str] = "degiro"
    title = "DEGIRO"
    description: ClassVar[str] = "DEGIRO Transactions CSV (comma or semicolon, decimal commas)"
    required = (
        "Date|Datum",
        "Time|Tijd|Uhrzeit",
        "Product|Produkt",
        "ISIN",
        "Reference exchange|Beurs|Referenzbörse",
        "Quantity|Aantal|Anzahl",
        "Price|Koers|Kurs",
        "Local value|Lokale waarde|Wert in Lokalwährung",
        "Value|Waarde|Wert",
        _COSTS,
        "Order ID|Order-ID",
    )
    delimiters = (",", ";")

    def row(
        self, columns: Columns, record: CsvRecord, context: ImportContext, state: DerivedIds
    ) -> ParsedItem:
        account = account_for(context, None)
        isin = columns.cell(record, "ISIN").upper()
        if not _ISIN.fullmatch(isin):
            raise ValidationError(f"ISIN: {isin!r} is not an ISIN")
        exchange = columns.cell(record, "Reference exchange|Beurs|Referenzbörse")
        venue = columns.cell(record, "Venue|Uitvoeringsplaats|Ausführungsort")
        zone = context.zone
        if zone is None:
            zone_name = EXCHANGE_ZONES.get(exchange.upper()) or VENUE_ZONES.get(venue.upper())
            if zone_name is None:
                raise ValidationError(
                    f"Reference exchange: no time zone known for {exchange!r} (venue "
                    f"{venue!r}); give the zone of this file's times with --tz"
                )
            zone = ZoneInfo(zone_name)
        date_text = columns.cell(record, "Date|Datum")
        time_text = columns.cell(record, "Time|Tijd|Uhrzeit")
        naive = values.wall_time(
            f"{date_text} {time_text}", "Date/Time", form="%d-%m-%Y %H:%M", shown="DD-MM-YYYY HH:MM"
        )
        time = values.in_zone(naive, zone, "Date/Time")
        quantity_text = columns.cell(record, "Quantity|Aantal|Anzahl")
        signed = degiro_number(quantity_text, "Quantity")
        if signed == 0:
            raise ValidationError(f"Quantity: must not be 0 (got {quantity_text})")
        price_text = columns.cell(record, "Price|Koers|Kurs")
        price = values.non_negative(degiro_number(price_text, "Price"), price_text, "Price")
        currency = columns.cell_after(record, "Price|Koers|Kurs").upper() or None
        local_value = degiro_number(
            columns.cell(record, "Local value|Lokale waarde|Wert in Lokalwährung"), "Local value"
        )
        value = degiro_number(columns.cell(record, "Value|Waarde|Wert"), "Value")
        value_currency = columns.cell_after(record, "Value|Waarde|Wert").upper() or None
        fx_rate = None
        if currency is not None and value_currency is not None and currency != value_currency:
            if local_value == 0:
                raise ValidationError("Local value: must not be 0 for a trade in another currency")
            fx_rate = (abs(value) / abs(local_value)).quantize(_TEN_PLACES, ROUND_HALF_EVEN)
        costs_text = columns.cell(record, _COSTS)
        commission = -degiro_number(costs_text, "Transaction costs") if costs_text else Decimal(0)
        product = columns.cell(record, "Product|Produkt")
        trade = Trade(
            exec_id=state.next_id(account, [columns.cell(record, name) for name in _ID_COLUMNS]),
            time=time,
            instrument=isin,
            action=TradeAction.BOT if signed > 0 else TradeAction.SLD,
            quantity=abs(signed),
            price=price,
            account_id=account,
            commission=commission,
            asset_class=AssetClass.STOCK,
            currency=currency,
            fx_rate=fx_rate,
        )
        identifiers = (Identifier(IdentifierType.ISIN, isin, product[:64]),) if product else ()
        return ParsedExecution(line=record.line, trade=trade, identifiers=identifiers)
