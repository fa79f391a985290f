"""The use cases, each test run twice: on the in-memory fakes and on a real journal.

The fakes make a use-case test cheap; running the same test on the real unit of work
proves the fakes behave like the repositories the use cases are written against.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.factories import make_account, make_trade, png_bytes
from tests.fakes import FakeUnitOfWork
from zorivest_core.application.importing import ImportContext
from zorivest_core.application.ports import (
    ReportGrouping,
    RoundTripFilter,
    SchemaUpgrade,
    UnitOfWork,
    UpgradableJournal,
)
from zorivest_core.application.use_cases.accounts import add_account, new_account
from zorivest_core.application.use_cases.attach_screenshot import attach_screenshot
from zorivest_core.application.use_cases.import_statement import (
    FieldChange,
    ImportSummary,
    StrictImportError,
    import_statement,
)
from zorivest_core.application.use_cases.list_images import list_images
from zorivest_core.application.use_cases.list_trades import PAGE_SIZE, list_trades
from zorivest_core.application.use_cases.report import (
    CurrencyChoiceError,
    ReportRow,
    build_report,
    report_in_one_currency,
)
from zorivest_core.application.use_cases.upgrade_journal import upgrade_journal
from zorivest_core.domain.entities import RoundTrip, Trade
from zorivest_core.domain.enums import AccountType, RoundTripStatus, TradeAction
from zorivest_core.domain.errors import (
    DuplicateError,
    InvalidImageError,
    NotFoundError,
    ValidationError,
)
from zorivest_infra.database import migrations
from zorivest_infra.importers.ibkr_flex import IbkrFlexImporter
from zorivest_infra.journal import Journal

NewUnitOfWork = Callable[[], UnitOfWork]
UTC = dt.UTC


@pytest.fixture(params=["fake", "journal"])
def new_uow(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NewUnitOfWork]:
    """Makes units of work on one store: the fakes' shared database, or a journal file."""
    if request.param == "fake":
        fake = FakeUnitOfWork()
        yield lambda: fake
        return
    with Journal.connect(f"sqlite:///{tmp_path / 'journal.db'}", create_schema=True) as journal:
        yield journal.unit_of_work


def _fill(new_uow: NewUnitOfWork, *trades: Trade) -> None:
    with new_uow() as uow:
        uow.accounts.save(make_account("A"))
        uow.accounts.save(make_account("B"))
        uow.trades.save_many(trades)
        uow.commit()


def _at(minute: int) -> dt.datetime:
    return dt.datetime(2024, 3, 8, 14, minute, tzinfo=UTC)


# -------------------------------------------------------------------------- attach


def test_attach_stores_the_measured_image_and_commits(new_uow: NewUnitOfWork) -> None:
    _fill(new_uow, make_trade("E1", account_id="A"))
    data = png_bytes(320, 200)

    stored = attach_screenshot(new_uow(), "E1", data, caption="entry")

    assert (stored.width, stored.height, stored.mime_type) == (320, 200, "image/png")
    assert stored.file_size == len(data)
    assert stored.caption == "entry"
    with new_uow() as uow:  # a new block sees it: it was committed
        (listed,) = uow.images.get_for_trade("E1")
        assert listed.id == stored.id
        assert uow.images.get(listed.id or 0) is not None


def test_attach_to_an_unknown_trade_is_refused_and_writes_nothing(
    new_uow: NewUnitOfWork,
) -> None:
    _fill(new_uow, make_trade("E1", account_id="A"))

    with pytest.raises(NotFoundError, match="'E9'"):
        attach_screenshot(new_uow(), "E9", png_bytes())

    with new_uow() as uow:
        assert uow.images.count() == 0


def test_attach_of_bytes_that_are_no_image_writes_nothing(new_uow: NewUnitOfWork) -> None:
    _fill(new_uow, make_trade("E1", account_id="A"))

    with pytest.raises(InvalidImageError):
        attach_screenshot(new_uow(), "E1", b"GIF89a but not really")

    with new_uow() as uow:
        assert uow.images.count() == 0


# -------------------------------------------------------------------------- list trades


def test_listing_merges_accounts_newest_first(new_uow: NewUnitOfWork) -> None:
    _fill(
        new_uow,
        make_trade("A1", account_id="A", time=_at(1)),
        make_trade("B1", account_id="B", time=_at(2)),
        make_trade("A2", account_id="A", time=_at(3)),
        make_trade("B2", account_id="B", time=_at(3)),  # same time: exec_id breaks the tie
        make_trade("A3", account_id="A", time=_at(5)),
    )
    with new_uow() as uow:
        everything = [t.exec_id for t in list_trades(uow)]
        newest_three = [t.exec_id for t in list_trades(uow, limit=3)]
        only_b = [t.exec_id for t in list_trades(uow, account_id="B")]
        window = [t.exec_id for t in list_trades(uow, since=_at(2), until=_at(5))]

    assert everything == ["A3", "B2", "A2", "B1", "A1"]
    assert newest_three == ["A3", "B2", "A2"]
    assert only_b == ["B2", "B1"]
    assert window == ["B2", "A2", "B1"]  # since inclusive, until exclusive


def test_listing_pages_through_more_trades_than_one_page(new_uow: NewUnitOfWork) -> None:
    count = PAGE_SIZE + 7
    start = dt.datetime(2024, 1, 1, tzinfo=UTC)
    trades = [
        make_trade(f"E{n:04d}", account_id="A", time=start + dt.timedelta(seconds=n))
        for n in range(count)
    ]
    _fill(new_uow, *trades)
    with new_uow() as uow:
        listed = [t.exec_id for t in list_trades(uow, account_id="A")]
    assert len(listed) == count
    assert listed[0] == f"E{count - 1:04d}"
    assert listed[-1] == "E0000"
    assert listed == sorted(listed, reverse=True)


def test_listing_an_unknown_account_is_refused(new_uow: NewUnitOfWork) -> None:
    _fill(new_uow)
    with new_uow() as uow, pytest.raises(NotFoundError, match="'Z'"):
        list_trades(uow, account_id="Z")


def test_listing_refuses_a_negative_limit_and_a_naive_time(new_uow: NewUnitOfWork) -> None:
    _fill(new_uow, make_trade("A1", account_id="A"))
    with new_uow() as uow:
        with pytest.raises(ValidationError, match="limit"):
            list_trades(uow, limit=-1)
        with pytest.raises(ValidationError, match="since"):
            list(list_trades(uow, since=dt.datetime(2024, 1, 1)))  # noqa: DTZ001 - the point


def test_listing_keeps_exact_values(new_uow: NewUnitOfWork) -> None:
    trade = make_trade("A1", account_id="A", price=Decimal("0.0000000001"))
    _fill(new_uow, trade)
    with new_uow() as uow:
        (listed,) = list_trades(uow)
    assert listed == trade


# -------------------------------------------------------------------------- report

EDT = dt.timezone(dt.timedelta(hours=-4))


def _closed(
    account_id: str, instrument: str, pnl: str, closed_at: dt.datetime, currency: str | None = None
) -> RoundTrip:
    return RoundTrip(
        account_id=account_id,
        instrument=instrument,
        direction=TradeAction.BOT,
        entry_exec_ids=[f"in-{instrument}-{pnl}"],
        exit_exec_ids=[f"out-{instrument}-{pnl}"],
        entry_avg_price=Decimal(10),
        exit_avg_price=Decimal(11),
        total_quantity=Decimal(1),
        realized_pnl=Decimal(pnl),
        total_commission=Decimal(1),
        opened_at=closed_at - dt.timedelta(minutes=2),
        closed_at=closed_at,
        status=RoundTripStatus.CLOSED,
        holding_period_seconds=120,
        currency=currency,
    )


def _fill_round_trips(new_uow: NewUnitOfWork) -> None:
    with new_uow() as uow:
        uow.accounts.save(make_account("A"))  # USD
        uow.accounts.save(make_account("B", currency="EUR"))
        saved = uow.round_trips.save_many(
            [
                _closed("A", "SAP", "-7", dt.datetime(2024, 3, 6, 12, tzinfo=UTC), "EUR"),
                _closed("A", "AAPL", "100", dt.datetime(2024, 3, 6, 15, tzinfo=UTC)),
                _closed("A", "MSFT", "-40", dt.datetime(2024, 3, 6, 16, tzinfo=UTC)),
                _closed("B", "BMW", "-5.5", dt.datetime(2024, 3, 7, 10, tzinfo=UTC)),
                _closed("A", "AAPL", "-80", dt.datetime(2024, 3, 7, 23, 59, 59, tzinfo=UTC)),
                # Sunday evening in New York is Monday 00:00 UTC: Monday's day and week.
                _closed("A", "MSFT", "30", dt.datetime(2024, 3, 10, 20, tzinfo=EDT)),
                RoundTrip(  # open: never in the report
                    account_id="A",
                    instrument="AAPL",
                    direction=TradeAction.BOT,
                    entry_exec_ids=["in-open"],
                    entry_avg_price=Decimal(10),
                    total_quantity=Decimal(1),
                    opened_at=_at(0),
                ),
            ]
        )
        assert saved == 7
        uow.commit()


def test_report_per_currency_with_ratios_and_drawdown(new_uow: NewUnitOfWork) -> None:
    _fill_round_trips(new_uow)
    with new_uow() as uow:
        eur, usd = build_report(uow)
    # EUR: SAP (account A, traded in EUR) -7, then account B's -5.5.
    assert (eur.group, eur.currency, eur.round_trips, eur.wins, eur.losses) == (
        None,
        "EUR",
        2,
        0,
        2,
    )
    assert (eur.net_pnl, eur.largest_win, eur.largest_loss) == (
        Decimal("-12.5"),
        None,
        Decimal(-7),
    )
    assert eur.max_drawdown == Decimal("12.5")  # the curve starts at 0
    # USD closes 100, -40, -80, 30: cumulative 100, 60, -20, 10.
    assert usd == ReportRow(
        group=None,
        currency="USD",
        net_pnl=Decimal(10),
        gross_pnl=Decimal(14),
        commission=Decimal(4),
        round_trips=4,
        wins=2,
        losses=2,
        win_rate=Decimal("0.5"),
        average_win=Decimal(65),
        average_loss=Decimal(-60),
        profit_factor=Decimal("1.083333"),
        expectancy=Decimal("2.5"),
        max_drawdown=Decimal(120),
        largest_win=Decimal(100),
        largest_loss=Decimal(-80),
        average_holding_seconds=120,
    )


def test_report_groups_in_utc_and_filters_on_closing_time(new_uow: NewUnitOfWork) -> None:
    _fill_round_trips(new_uow)
    account_a = RoundTripFilter(account_id="A")
    with new_uow() as uow:
        by_week = build_report(uow, account_a, by=ReportGrouping.WEEK)
        by_day = build_report(uow, account_a, by=ReportGrouping.DAY)
        by_month = build_report(uow, by=ReportGrouping.MONTH)
        by_instrument = build_report(uow, account_a, by=ReportGrouping.INSTRUMENT)
        window = RoundTripFilter(
            since=dt.datetime(2024, 3, 7, tzinfo=UTC), until=dt.datetime(2024, 3, 11, tzinfo=UTC)
        )
        in_window = build_report(uow, window)
        nobody = build_report(uow, RoundTripFilter(account_id="NOBODY"))
    assert [(r.group, r.currency, r.round_trips, r.net_pnl) for r in by_week] == [
        ("2024-03-04", "EUR", 1, Decimal(-7)),
        ("2024-03-04", "USD", 3, Decimal(-20)),
        ("2024-03-11", "USD", 1, Decimal(30)),
    ]
    assert [(r.group, r.currency, r.net_pnl, r.max_drawdown) for r in by_day] == [
        ("2024-03-06", "EUR", Decimal(-7), Decimal(7)),
        ("2024-03-06", "USD", Decimal(60), Decimal(40)),
        ("2024-03-07", "USD", Decimal(-80), Decimal(80)),
        ("2024-03-11", "USD", Decimal(30), Decimal(0)),
    ]
    assert [(r.group, r.currency, r.round_trips) for r in by_month] == [
        ("2024-03-01", "EUR", 2),
        ("2024-03-01", "USD", 4),
    ]
    assert [(r.group, r.currency, r.wins, r.losses) for r in by_instrument] == [
        ("AAPL", "USD", 1, 1),
        ("MSFT", "USD", 1, 1),
        ("SAP", "EUR", 0, 1),
    ]
    # since is inclusive, until exclusive: Thursday's two closes, not Monday's 00:00 UTC.
    assert [(r.currency, r.round_trips, r.net_pnl) for r in in_window] == [
        ("EUR", 1, Decimal("-5.5")),
        ("USD", 1, Decimal(-80)),
    ]
    assert nobody == []


def test_report_in_one_currency_chooses_only_when_it_is_unambiguous(
    new_uow: NewUnitOfWork,
) -> None:
    _fill_round_trips(new_uow)
    with new_uow() as uow:
        with pytest.raises(CurrencyChoiceError) as several:
            report_in_one_currency(uow)
        euro = report_in_one_currency(uow, currency="eur", by=ReportGrouping.DAY, daily=True)
        only_b = report_in_one_currency(uow, RoundTripFilter(account_id="B"))
        yen = report_in_one_currency(uow, currency="JPY")
        nothing = report_in_one_currency(uow, RoundTripFilter(account_id="NOBODY"))
        with pytest.raises(ValidationError, match="3-letter"):
            report_in_one_currency(uow, currency="euro")
    assert several.value.currencies == ["EUR", "USD"]
    assert euro.currency == "EUR"
    assert [(r.group, r.net_pnl) for r in euro.rows] == [
        ("2024-03-06", Decimal(-7)),
        ("2024-03-07", Decimal("-5.5")),
    ]
    assert euro.daily_net_pnl == [
        (dt.date(2024, 3, 6), Decimal(-7)),
        (dt.date(2024, 3, 7), Decimal("-5.5")),
    ]
    # account B's round trips are all in EUR: no choice needed
    assert (only_b.currency, [r.net_pnl for r in only_b.rows]) == ("EUR", [Decimal("-5.5")])
    assert (yen.currency, yen.rows, yen.daily_net_pnl) == ("JPY", [], [])
    assert (nothing.currency, nothing.rows) == ("USD", [])


# -------------------------------------------------------------------------- upgrade


@dataclasses.dataclass
class _FakeJournal:
    schema_upgrade: SchemaUpgrade
    closed: bool = False


def test_upgrade_reports_what_opening_did_and_closes_the_journal() -> None:
    journal = _FakeJournal(SchemaUpgrade(before="0001", after="0003", snapshot=Path("j.pre")))

    @contextmanager
    def opener() -> Iterator[UpgradableJournal]:
        try:
            yield journal
        finally:
            journal.closed = True

    done = upgrade_journal(opener)

    assert done == SchemaUpgrade(before="0001", after="0003", snapshot=Path("j.pre"))
    assert done.upgraded
    assert journal.closed


def _connect(url: str) -> Callable[[], AbstractContextManager[UpgradableJournal]]:
    return lambda: Journal.connect(url, create_schema=True)


def test_upgrade_of_a_real_database_then_again_changes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'server.db'}"

    first = upgrade_journal(_connect(url))
    second = upgrade_journal(_connect(url))

    head = migrations.head_revision()
    assert first == SchemaUpgrade(before=None, after=head)
    assert first.upgraded
    assert second == SchemaUpgrade(before=head, after=head)
    assert not second.upgraded


# -------------------------------------------------------------------------- accounts


def test_add_account_applies_the_trader_s_defaults_and_commits(new_uow: NewUnitOfWork) -> None:
    ira = add_account(
        new_uow(), new_account(account_id="IRA-1", name="Roth", account_type=AccountType.IRA)
    )
    cash = add_account(new_uow(), new_account(account_id="CASH-1", name="Cash", currency="eur"))
    taxable_ira = add_account(
        new_uow(),
        new_account(
            account_id="IRA-2", name="Rollover", account_type=AccountType.IRA, tax_advantaged=False
        ),
    )

    assert (ira.is_tax_advantaged, ira.currency) == (True, "USD")
    assert (cash.is_tax_advantaged, cash.currency, cash.account_type) == (
        False,
        "EUR",
        AccountType.BROKER,
    )
    assert taxable_ira.is_tax_advantaged is False
    with new_uow() as uow:  # committed: a new block reads them
        stored = {account.account_id: account for account in uow.accounts.list_all()}
    assert stored == {"IRA-1": ira, "CASH-1": cash, "IRA-2": taxable_ira}


def test_add_account_refuses_an_existing_id_and_keeps_the_first(new_uow: NewUnitOfWork) -> None:
    first = add_account(new_uow(), new_account(account_id="A1", name="First"))

    with pytest.raises(DuplicateError, match="account 'A1' already exists"):
        add_account(new_uow(), new_account(account_id="A1", name="Second"))

    with new_uow() as uow:
        assert uow.accounts.get("A1") == first


def test_a_new_account_is_validated_before_any_unit_of_work() -> None:
    with pytest.raises(ValidationError, match="currency"):
        new_account(account_id="A1", name="First", currency="euro")


# -------------------------------------------------------------------------- images


def test_list_images_names_a_missing_trade_and_lists_a_trade_s_images(
    new_uow: NewUnitOfWork,
) -> None:
    _fill(new_uow, make_trade("E1", account_id="A"), make_trade("E2", account_id="A"))
    first = attach_screenshot(new_uow(), "E1", png_bytes(64, 48), caption="entry")
    second = attach_screenshot(new_uow(), "E1", png_bytes(80, 60), caption="exit")

    with new_uow() as uow:
        assert [image.id for image in list_images(uow, "E1")] == [first.id, second.id]
        assert list_images(uow, "E2") == []
        with pytest.raises(NotFoundError, match="no trade with exec_id 'E9'"):
            list_images(uow, "E9")


# -------------------------------------------------------------------------- import

FLEX = Path(__file__).parents[1] / "fixtures" / "imports" / "ibkr-flex" / "trades.xml"
# One execution of that fixture (line 28): BUY 100 AAPL at 170, commission -1.
FIRST_FILL = (
    b'tradeID="501000001" ibExecID="0000a001.65e5c301.01.01" dateTime="20240304;093115" '
    b'buySell="BUY" quantity="100" tradePrice="170" ibCommission="-1"'
)


def _import(new_uow: NewUnitOfWork, data: bytes, *, strict: bool = False) -> ImportSummary:
    items = IbkrFlexImporter().parse(
        io.BytesIO(data), ImportContext(zone=ZoneInfo("America/New_York"))
    )
    with new_uow() as uow:
        summary = import_statement(uow, items, format_name="ibkr-flex", strict=strict)
        uow.commit()
    return summary


def test_import_stores_a_statement_once_and_reports_a_changed_fill(
    new_uow: NewUnitOfWork,
) -> None:
    with new_uow() as uow:
        uow.accounts.save(make_account("U1234567"))
        uow.commit()

    first = _import(new_uow, FLEX.read_bytes())
    again = _import(new_uow, FLEX.read_bytes())
    changed = _import(
        new_uow, FLEX.read_bytes().replace(FIRST_FILL, FIRST_FILL.replace(b'"170"', b'"170.5"'))
    )

    assert (first.items, first.inserted, first.fees, first.identifiers) == (16, 16, 1, 14)
    assert (again.inserted, again.duplicates, again.conflicts) == (0, 16, 0)
    assert (changed.inserted, changed.duplicates, changed.conflicts) == (0, 15, 1)
    (report,) = changed.conflict_reports
    assert (report.line, report.changes) == (28, (FieldChange("price", "170", "170.5"),))
    with new_uow() as uow:
        assert uow.trades.count() == 16
        stored = uow.trades.get("0000a001.65e5c301.01.01")
        assert stored is not None
        assert (stored.price, stored.quantity) == (Decimal(170), Decimal(100))


def test_a_strict_import_with_a_conflict_keeps_nothing(new_uow: NewUnitOfWork) -> None:
    with new_uow() as uow:
        uow.accounts.save(make_account("U1234567"))
        uow.trades.save(
            make_trade("0000a001.65e5c301.01.01", account_id="U1234567", currency="USD")
        )
        uow.commit()

    with pytest.raises(StrictImportError) as refused:
        _import(new_uow, FLEX.read_bytes(), strict=True)

    assert (refused.value.summary.conflicts, refused.value.summary.rejected) == (1, 0)
    with new_uow() as uow:  # the 15 new executions were not kept either
        assert uow.trades.count() == 1
