"""Realistic, deterministic demo data: accounts, price paths and broker executions.

Everything comes from one ``random.Random(seed)`` and a fixed end date, so the same seed and
end date always give the same journal content. Executions are generated as round trips (an
entry and an exit order, each possibly split into partial fills) on a per-instrument random
walk of daily prices:

* a margin account trading US stocks and ETFs during New York market hours (converted to UTC
  with the real daylight-saving rules), long and short (a short opens with SLD);
* an IRA buying fractional shares (e.g. 3.25 shares), long only, commission-free;
* a crypto account trading fractional coins (e.g. 0.5 BTC) around the clock, with a
  percentage fee;
* a bank account without trades (balance snapshots only).

Realized P&L is set on closing fills (net of that fill's commission and its share of the
entry commission); opening fills have none. Some round trips are still open at the end.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final, Literal
from zoneinfo import ZoneInfo

from zorivest_core.domain.entities import Account, BalanceSnapshot, Trade
from zorivest_core.domain.enums import AccountType, TradeAction

CENT: Final = Decimal("0.01")
HISTORY_DAYS: Final = 730
NEW_YORK: Final = ZoneInfo("America/New_York")

Session = Literal["us", "24x7"]


@dataclass(frozen=True, slots=True)
class Instrument:
    symbol: str
    start_price: float
    daily_volatility: float
    session: Session = "us"


@dataclass(frozen=True, slots=True)
class AccountPlan:
    """How one demo account trades."""

    account: Account
    instruments: tuple[Instrument, ...]
    weight: float
    allow_short: bool
    quantity: Callable[[random.Random, float], Decimal]
    commission: Callable[[Decimal, Decimal], Decimal]
    exec_id: Callable[[random.Random, int, dt.datetime], str]
    starting_cash: Decimal


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def _whole_shares(rng: random.Random, price: float) -> Decimal:
    # Position sizes of roughly $2,000 to $40,000, in round-ish share counts.
    notional = rng.uniform(2_000, 40_000)
    shares = max(1, round(notional / price))
    if shares >= 50:
        shares = max(5, round(shares / 5) * 5)
    return Decimal(shares)


def _fractional_shares(rng: random.Random, price: float) -> Decimal:
    # An IRA buying by dollar amount: quarter shares and odd fractions such as 3.25 or 0.875.
    notional = rng.uniform(300, 6_000)
    step = rng.choice((Decimal("0.25"), Decimal("0.125"), Decimal("0.001")))
    shares = Decimal(str(notional / price)).quantize(step, rounding=ROUND_HALF_EVEN)
    return max(shares, step)


def _coins(rng: random.Random, price: float) -> Decimal:
    # Round fractions that traders actually type (0.5 BTC, 0.25 ETH) or dollar-sized amounts.
    if rng.random() < 0.4:
        return rng.choice((Decimal("0.5"), Decimal("0.25"), Decimal("0.1"), Decimal("1")))
    notional = rng.uniform(500, 25_000)
    return max(Decimal(str(notional / price)).quantize(Decimal("0.0001")), Decimal("0.0001"))


def _ibkr_commission(quantity: Decimal, price: Decimal) -> Decimal:
    # IBKR Pro fixed: $0.005 a share, at least $1.00, at most 1% of the trade value.
    fee = max(quantity * Decimal("0.005"), Decimal("1.00"))
    return _cents(min(fee, quantity * price * Decimal("0.01")))


def _no_commission(_quantity: Decimal, _price: Decimal) -> Decimal:
    return Decimal(0)


def _crypto_fee(quantity: Decimal, price: Decimal) -> Decimal:
    # Coinbase Advanced, a middle volume tier: 0.15%.
    return _cents(quantity * price * Decimal("0.0015"))


def _ibkr_exec_id(_rng: random.Random, serial: int, time: dt.datetime) -> str:
    return f"{0x0000E0D5 + serial:08x}.{int(time.timestamp()):08x}.01.01"


def _fidelity_exec_id(_rng: random.Random, serial: int, _time: dt.datetime) -> str:
    return f"FID{serial:010d}"


def _coinbase_exec_id(rng: random.Random, _serial: int, _time: dt.datetime) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


STOCKS: Final = (
    Instrument("AAPL", 170.0, 0.016),
    Instrument("MSFT", 320.0, 0.015),
    Instrument("NVDA", 45.0, 0.032),
    Instrument("TSLA", 220.0, 0.035),
    Instrument("AMD", 100.0, 0.028),
    Instrument("META", 300.0, 0.022),
    Instrument("AMZN", 130.0, 0.019),
    Instrument("SPY", 430.0, 0.009),
    Instrument("QQQ", 360.0, 0.012),
    Instrument("IWM", 185.0, 0.014),
)
IRA_FUNDS: Final = (
    Instrument("VTI", 215.0, 0.009),
    Instrument("SCHD", 72.0, 0.008),
    Instrument("SPY", 430.0, 0.009),
    Instrument("MSFT", 320.0, 0.015),
    Instrument("AAPL", 170.0, 0.016),
)
COINS: Final = (
    Instrument("BTC-USD", 29_000.0, 0.030, "24x7"),
    Instrument("ETH-USD", 1_800.0, 0.038, "24x7"),
    Instrument("SOL-USD", 22.0, 0.055, "24x7"),
)


def demo_accounts(created_at: dt.datetime) -> tuple[list[AccountPlan], Account]:
    """The trading accounts' plans and the bank account."""
    plans = [
        AccountPlan(
            account=Account(
                account_id="IBKR-MARGIN",
                name="Interactive Brokers margin",
                account_type=AccountType.BROKER,
                institution="Interactive Brokers",
                created_at=created_at,
            ),
            instruments=STOCKS,
            weight=0.65,
            allow_short=True,
            quantity=_whole_shares,
            commission=_ibkr_commission,
            exec_id=_ibkr_exec_id,
            starting_cash=Decimal(100_000),
        ),
        AccountPlan(
            account=Account(
                account_id="FIDELITY-IRA",
                name="Fidelity Roth IRA",
                account_type=AccountType.IRA,
                institution="Fidelity",
                is_tax_advantaged=True,
                created_at=created_at,
            ),
            instruments=IRA_FUNDS,
            weight=0.15,
            allow_short=False,
            quantity=_fractional_shares,
            commission=_no_commission,
            exec_id=_fidelity_exec_id,
            starting_cash=Decimal(45_000),
        ),
        AccountPlan(
            account=Account(
                account_id="COINBASE",
                name="Coinbase Advanced",
                account_type=AccountType.BROKER,
                institution="Coinbase",
                created_at=created_at,
            ),
            instruments=COINS,
            weight=0.20,
            allow_short=False,
            quantity=_coins,
            commission=_crypto_fee,
            exec_id=_coinbase_exec_id,
            starting_cash=Decimal(30_000),
        ),
    ]
    bank = Account(
        account_id="CHASE-CHECKING",
        name="Chase checking",
        account_type=AccountType.BANK,
        institution="JPMorgan Chase",
        created_at=created_at,
    )
    return plans, bank


class PricePath:
    """Daily closes of one instrument (geometric random walk) and intraday prices."""

    def __init__(self, instrument: Instrument, days: int, rng: random.Random) -> None:
        self.instrument = instrument
        closes = [instrument.start_price]
        vol = instrument.daily_volatility
        for _ in range(days + 40):
            # A small upward drift; occasional volatility bursts make charts look alive.
            burst = 2.5 if rng.random() < 0.03 else 1.0
            closes.append(closes[-1] * math.exp(rng.gauss(0.0002, vol * burst)))
        self.closes = closes

    def close(self, day: int) -> float:
        return self.closes[max(0, min(day, len(self.closes) - 1))]

    def at(self, day: int, fraction: float, rng: random.Random) -> float:
        """A plausible trade price ``fraction`` of the way through ``day``."""
        start, end = self.close(day - 1), self.close(day)
        mid = start * math.pow(end / start, fraction)
        return mid * (1 + rng.gauss(0, self.instrument.daily_volatility * 0.12))


@dataclass(slots=True)
class RoundTrip:
    """One position from entry to exit (``exits`` is empty while it is still open)."""

    account_id: str
    instrument: str
    short: bool
    entries: list[Trade] = field(default_factory=list)
    exits: list[Trade] = field(default_factory=list)

    @property
    def realized_pnl(self) -> Decimal:
        return sum((fill.realized_pnl for fill in self.exits), Decimal(0))


@dataclass(slots=True)
class DemoData:
    accounts: list[Account]
    trades: list[Trade]
    round_trips: list[RoundTrip]
    snapshots: list[BalanceSnapshot]
    paths: dict[str, PricePath]
    start: dt.datetime
    end: dt.datetime

    @property
    def shorts(self) -> int:
        return sum(1 for trip in self.round_trips if trip.short)

    @property
    def open_positions(self) -> int:
        return sum(1 for trip in self.round_trips if not trip.exits)

    @property
    def partial_fills(self) -> int:
        """Executions that are one of several fills of the same order."""
        count = 0
        for trip in self.round_trips:
            for fills in (trip.entries, trip.exits):
                if len(fills) > 1:
                    count += len(fills)
        return count

    @property
    def fractional(self) -> int:
        return sum(1 for trade in self.trades if trade.quantity != trade.quantity.to_integral())


def _split(quantity: Decimal, parts: int, rng: random.Random) -> list[Decimal]:
    """Split a quantity into ``parts`` positive pieces on its own decimal grid."""
    exponent = min(int(quantity.as_tuple().exponent), 0)
    step = Decimal(1).scaleb(exponent)
    units = int(quantity / step)
    if parts <= 1 or units < parts:
        return [quantity]
    cuts = sorted(rng.sample(range(1, units), parts - 1))
    bounds = [0, *cuts, units]
    return [Decimal(high - low) * step for low, high in itertools.pairwise(bounds)]


def _fill_count(rng: random.Random) -> int:
    roll = rng.random()
    return 1 if roll < 0.62 else 2 if roll < 0.88 else 3


class _Generator:
    def __init__(self, seed: int, end: dt.date) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not security
        self.end = dt.datetime.combine(end, dt.time(), tzinfo=dt.UTC)
        self.start = self.end - dt.timedelta(days=HISTORY_DAYS)
        self.plans, self.bank = demo_accounts(self.start)
        self.paths: dict[str, PricePath] = {}
        for plan in self.plans:
            for instrument in plan.instruments:
                if instrument.symbol not in self.paths:
                    self.paths[instrument.symbol] = PricePath(instrument, HISTORY_DAYS, self.rng)
        self.serials = dict.fromkeys((plan.account.account_id for plan in self.plans), 0)

    # -- time ---------------------------------------------------------------------------------

    def _day_of(self, moment: dt.datetime) -> tuple[int, float]:
        elapsed = (moment - self.start).total_seconds() / 86_400
        day = int(elapsed)
        return day, elapsed - day

    def _session_time(self, day: int, instrument: Instrument) -> dt.datetime | None:
        """A random moment on calendar day ``day`` when the instrument trades, or None."""
        date = (self.start + dt.timedelta(days=day)).date()
        if instrument.session == "24x7":
            seconds = self.rng.randrange(86_400)
            return self.start + dt.timedelta(days=day, seconds=seconds)
        if date.weekday() >= 5:
            return None
        # 09:30-15:55 New York time, converted with that day's real UTC offset.
        minute = self.rng.randrange(0, 385)
        local = dt.datetime.combine(date, dt.time(9, 30), tzinfo=NEW_YORK) + dt.timedelta(
            minutes=minute, seconds=self.rng.randrange(60)
        )
        return local.astimezone(dt.UTC)

    def _exit_time(self, entry: dt.datetime, instrument: Instrument) -> dt.datetime:
        if instrument.session == "24x7":
            minutes = self.rng.choice((self.rng.randrange(5, 240), self.rng.randrange(240, 14_400)))
            return entry + dt.timedelta(minutes=minutes, seconds=self.rng.randrange(60))
        local = entry.astimezone(NEW_YORK)
        close = local.replace(hour=15, minute=59, second=0)
        if self.rng.random() < 0.6 and local < close - dt.timedelta(minutes=3):
            # Day trade: out within minutes or hours, before the close.
            latest = int((close - local).total_seconds() // 60)
            exit_local = local + dt.timedelta(
                minutes=self.rng.randrange(2, max(3, latest)), seconds=self.rng.randrange(60)
            )
            return min(exit_local, close).astimezone(dt.UTC)
        # Swing trade: held 1-15 sessions, out at a random time of a weekday.
        date = local.date()
        sessions = self.rng.randrange(1, 16)
        while sessions:
            date += dt.timedelta(days=1)
            if date.weekday() < 5:
                sessions -= 1
        exit_local = dt.datetime.combine(date, dt.time(9, 30), tzinfo=NEW_YORK) + dt.timedelta(
            minutes=self.rng.randrange(0, 385), seconds=self.rng.randrange(60)
        )
        return exit_local.astimezone(dt.UTC)

    # -- executions ---------------------------------------------------------------------------

    def _price(self, instrument: Instrument, moment: dt.datetime) -> Decimal:
        day, fraction = self._day_of(moment)
        value = self.paths[instrument.symbol].at(day, fraction, self.rng)
        return max(_cents(Decimal(str(round(value, 2)))), CENT)

    def _fills(
        self,
        plan: AccountPlan,
        instrument: Instrument,
        action: TradeAction,
        quantity: Decimal,
        moment: dt.datetime,
    ) -> list[tuple[dt.datetime, Decimal, Decimal]]:
        base = self._price(instrument, moment)
        fills: list[tuple[dt.datetime, Decimal, Decimal]] = []
        for index, part in enumerate(_split(quantity, _fill_count(self.rng), self.rng)):
            # Later fills of the same order walk the book a cent or two.
            slip = Decimal(index * self.rng.randrange(0, 3)) * CENT
            price = base + slip if action is TradeAction.BOT else max(base - slip, CENT)
            fills.append((moment, part, price))
            moment += dt.timedelta(seconds=self.rng.randrange(1, 25))
        return fills

    def _trade(
        self,
        *,
        plan: AccountPlan,
        instrument: Instrument,
        action: TradeAction,
        fill: tuple[dt.datetime, Decimal, Decimal],
        realized: Decimal = Decimal(0),
        commission: Decimal | None = None,
    ) -> Trade:
        moment, quantity, price = fill
        account_id = plan.account.account_id
        self.serials[account_id] += 1
        return Trade(
            exec_id=plan.exec_id(self.rng, self.serials[account_id], moment),
            time=moment,
            instrument=instrument.symbol,
            action=action,
            quantity=quantity,
            price=price,
            account_id=account_id,
            commission=plan.commission(quantity, price) if commission is None else commission,
            realized_pnl=realized,
        )

    def round_trip(self) -> RoundTrip | None:
        plan = self.rng.choices(self.plans, weights=[plan.weight for plan in self.plans])[0]
        instrument = self.rng.choice(plan.instruments)
        entry_time = self._session_time(self.rng.randrange(HISTORY_DAYS), instrument)
        if entry_time is None:
            return None
        short = plan.allow_short and self.rng.random() < 0.3
        open_action = TradeAction.SLD if short else TradeAction.BOT
        close_action = TradeAction.BOT if short else TradeAction.SLD
        quantity = plan.quantity(self.rng, float(self._price(instrument, entry_time)))
        trip = RoundTrip(plan.account.account_id, instrument.symbol, short)
        entry_fills = self._fills(plan, instrument, open_action, quantity, entry_time)
        trip.entries = [
            self._trade(plan=plan, instrument=instrument, action=open_action, fill=fill)
            for fill in entry_fills
        ]
        exit_time = self._exit_time(entry_fills[-1][0], instrument)
        if exit_time >= self.end:
            return trip  # still open today
        entry_cost = sum((fill.quantity * fill.price for fill in trip.entries), Decimal(0))
        average_entry = entry_cost / quantity
        entry_commission = sum((fill.commission for fill in trip.entries), Decimal(0))
        direction = Decimal(-1) if short else Decimal(1)
        for fill in self._fills(plan, instrument, close_action, quantity, exit_time):
            _moment, part, price = fill
            commission = plan.commission(part, price)
            gross = (price - average_entry) * part * direction
            realized = _cents(gross - commission - entry_commission * part / quantity)
            trip.exits.append(
                self._trade(
                    plan=plan,
                    instrument=instrument,
                    action=close_action,
                    fill=fill,
                    realized=realized,
                    commission=commission,
                )
            )
        return trip

    # -- balances -----------------------------------------------------------------------------

    def snapshots(self, trades: Sequence[Trade]) -> list[BalanceSnapshot]:
        """Month-end balances: trading accounts from realized P&L, the bank from paychecks."""
        month_ends: list[dt.datetime] = []
        cursor = dt.date(self.start.year, self.start.month, 1)
        while True:
            following = dt.date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
            moment = dt.datetime.combine(following, dt.time(), tzinfo=dt.UTC) - dt.timedelta(
                seconds=1
            )
            if moment >= self.end:
                break
            if moment > self.start:
                month_ends.append(moment)
            cursor = following
        ordered = sorted(trades, key=lambda trade: trade.time)
        snapshots: list[BalanceSnapshot] = []
        for plan in self.plans:
            balance = plan.starting_cash
            index = 0
            mine = [trade for trade in ordered if trade.account_id == plan.account.account_id]
            for moment in month_ends:
                # Realized P&L is already net of the commissions of both legs.
                while index < len(mine) and mine[index].time <= moment:
                    balance += mine[index].realized_pnl
                    index += 1
                snapshots.append(BalanceSnapshot(plan.account.account_id, moment, balance))
        bank_balance = Decimal("8200.00")
        for moment in month_ends:
            paycheck = Decimal("6400.00")
            spending = _cents(Decimal(str(self.rng.uniform(4_800, 6_900))))
            bank_balance += paycheck - spending
            snapshots.append(BalanceSnapshot(self.bank.account_id, moment, bank_balance))
        return snapshots


def generate(seed: int, executions: int, end: dt.date) -> DemoData:
    """Generate exactly ``executions`` trades over the two years before ``end``."""
    generator = _Generator(seed, end)
    trips: list[RoundTrip] = []
    total = 0
    while total < executions:
        trip = generator.round_trip()
        if trip is None:
            continue
        trips.append(trip)
        total += len(trip.entries) + len(trip.exits)
    trades = sorted(
        (fill for trip in trips for fill in (*trip.entries, *trip.exits)),
        key=lambda trade: (trade.time, trade.exec_id),
    )
    surplus = {trade.exec_id for trade in trades[executions:]}
    trades = trades[:executions]
    if surplus:
        # The newest few fills beyond the requested count are dropped; their round trips
        # simply stay (partly) open.
        for trip in trips:
            trip.entries = [fill for fill in trip.entries if fill.exec_id not in surplus]
            trip.exits = [fill for fill in trip.exits if fill.exec_id not in surplus]
        trips = [trip for trip in trips if trip.entries]
    accounts = [plan.account for plan in generator.plans] + [generator.bank]
    return DemoData(
        accounts=accounts,
        trades=trades,
        round_trips=trips,
        snapshots=generator.snapshots(trades),
        paths=generator.paths,
        start=generator.start,
        end=generator.end,
    )
