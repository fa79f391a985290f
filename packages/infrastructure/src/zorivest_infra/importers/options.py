"""Option contracts named the one way the journal names them: the OCC symbol.

Brokers write the same contract differently (Schwab `SPY 03/15/2024 500.00 C`, Fidelity
`-SPY240315C500`). The journal's `instrument` for an option is the 21-character OCC symbol
(`SPY   240315C00500000`: root padded to 6, YYMMDD, C/P, strike x 1000 in 8 digits), the
form IBKR uses too, so that one contract is one instrument whichever file it came from;
underlying, expiry, strike and right are stored beside it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from zorivest_core.domain.entities import Trade
from zorivest_core.domain.enums import AssetClass, OptionRight, TradeAction
from zorivest_core.domain.errors import ValidationError
from zorivest_infra.importers import values

EQUITY_OPTION_MULTIPLIER: Final = Decimal(100)
"""Standard US equity and ETF options deliver 100 shares per contract."""

_THOUSAND: Final = Decimal(1000)


@dataclass(frozen=True, slots=True)
class OptionContract:
    underlying: str
    expiry: dt.date
    strike: Decimal
    right: OptionRight

    @property
    def occ_symbol(self) -> str:
        """The OCC symbol, e.g. `SPY   240315C00500000`."""
        scaled = self.strike * _THOUSAND
        if scaled != scaled.to_integral_value() or not 0 <= scaled < 10**8:
            raise ValidationError(
                f"strike {self.strike} cannot be written as an OCC symbol (at most 5 digits "
                "and 3 decimals)"
            )
        return f"{self.underlying:<6}{self.expiry:%y%m%d}{self.right.value}{int(scaled):08d}"


def contract_matched(
    match: re.Match[str] | None, *, expiry_form: str, expiry_shown: str
) -> OptionContract | None:
    """The contract a broker's option-symbol pattern matched (its groups `root`, `expiry`,
    `strike`, `right`), else None; the expiry is written in the strptime `expiry_form`."""
    if match is None:
        return None
    return OptionContract(
        underlying=match["root"],
        expiry=values.date(match["expiry"], "Symbol", form=expiry_form, shown=expiry_shown),
        strike=values.number(match["strike"], "Symbol"),
        right=OptionRight(match["right"]),
    )


def us_listed_trade(
    *,
    exec_id: str,
    time: dt.datetime,
    symbol: str,
    contract: OptionContract | None,
    action: TradeAction,
    quantity: Decimal,
    price: Decimal,
    account_id: str,
    commission: Decimal,
    multiplier: Decimal = EQUITY_OPTION_MULTIPLIER,
) -> Trade:
    """A US-dollar stock execution, or an option one when the symbol named a contract."""
    option = contract is not None
    return Trade(
        exec_id=exec_id,
        time=time,
        instrument=contract.occ_symbol if contract is not None else symbol,
        action=action,
        quantity=quantity,
        price=price,
        account_id=account_id,
        commission=commission,
        asset_class=AssetClass.OPTION if option else AssetClass.STOCK,
        multiplier=multiplier if option else None,
        underlying=contract.underlying if contract is not None else None,
        expiry=contract.expiry if contract is not None else None,
        strike=contract.strike if contract is not None else None,
        option_right=contract.right if contract is not None else None,
        currency="USD",
    )
