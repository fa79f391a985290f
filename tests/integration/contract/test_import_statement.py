"""The import_statement use case on the real unit of work, on every backend.

Items come from the `ibkr-flex` importer reading its fixture; what was stored is checked
with raw SQL against values written here.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import make_trade
from tests.integration.contract._rows import add_account
from zorivest_core.application.importing import ImportContext
from zorivest_core.application.use_cases.import_statement import (
    AccountCollisionError,
    FieldChange,
    ImportSummary,
    import_statement,
)
from zorivest_core.domain.errors import NotFoundError, ValidationError
from zorivest_infra.database.unit_of_work import SqlAlchemyUnitOfWork
from zorivest_infra.importers.ibkr_flex import IbkrFlexImporter
from zorivest_infra.importers.ofx import OfxImporter

FIXTURE: Final = Path(__file__).parents[2] / "fixtures" / "imports" / "ibkr-flex" / "trades.xml"
NEW_YORK: Final = ZoneInfo("America/New_York")
Run = Callable[..., ImportSummary]


@pytest.fixture
def run(session_factory: sessionmaker[Session]) -> Run:
    with session_factory() as session:
        add_account(session, "U1234567")
        add_account(session, "OTHER")
        session.commit()

    def importing(
        data: bytes, *, account_id: str | None = None, replace: bool = False, chunk_size: int = 3
    ) -> ImportSummary:
        items = IbkrFlexImporter().parse(
            io.BytesIO(data), ImportContext(zone=NEW_YORK, account_id=account_id)
        )
        with SqlAlchemyUnitOfWork(session_factory) as uow:
            summary = import_statement(
                uow,
                items,
                format_name="ibkr-flex",
                account_id=account_id,
                replace=replace,
                chunk_size=chunk_size,
            )
            uow.commit()
        return summary

    return importing


def raw(session_factory: sessionmaker[Session], sql: str) -> list[tuple[Any, ...]]:
    with session_factory() as session:
        return [tuple(row) for row in session.execute(text(sql))]


def test_a_statement_is_stored_with_fees_and_identifiers(
    run: Run, session_factory: sessionmaker[Session]
) -> None:
    summary = run(FIXTURE.read_bytes())

    assert (summary.items, summary.inserted, summary.duplicates, summary.rejected) == (16, 16, 0, 0)
    assert (summary.fees, summary.identifiers) == (1, 14)
    assert raw(session_factory, "SELECT COUNT(*) FROM trades WHERE account_id = 'U1234567'") == [
        (16,)
    ]
    ledger = raw(
        session_factory, "SELECT trade_exec_id, fee_type, currency FROM transaction_ledger"
    )
    assert ledger == [("0000a001.65e8b2c4.01.01", "other", "USD")]
    cached = raw(
        session_factory,
        "SELECT id_type, id_value, ticker, source FROM identifier_cache "
        "WHERE id_type = 'cusip' ORDER BY id_value",
    )
    assert cached == [
        ("cusip", "037833100", "AAPL", "ibkr-flex"),
        ("cusip", "594918104", "MSFT", "ibkr-flex"),
        ("cusip", "88160R101", "TSLA", "ibkr-flex"),
    ]
    future = raw(
        session_factory,
        "SELECT asset_class, underlying, option_right FROM trades "
        "WHERE exec_id = '0000a001.65f44b5e.01.01'",
    )
    assert future == [("future", "ES", None)]


def test_reimport_inserts_nothing(run: Run, session_factory: sessionmaker[Session]) -> None:
    run(FIXTURE.read_bytes())
    again = run(FIXTURE.read_bytes())

    assert (again.inserted, again.duplicates, again.conflicts, again.fees) == (0, 16, 0, 0)
    assert raw(session_factory, "SELECT COUNT(*) FROM transaction_ledger") == [(1,)]


def test_a_conflict_names_the_line_and_each_differing_field(
    run: Run, session_factory: sessionmaker[Session]
) -> None:
    run(FIXTURE.read_bytes())
    changed = FIXTURE.read_bytes().replace(
        b'tradeID="501000001" ibExecID="0000a001.65e5c301.01.01" dateTime="20240304;093115" '
        b'buySell="BUY" quantity="100" tradePrice="170" ibCommission="-1"',
        b'tradeID="501000001" ibExecID="0000a001.65e5c301.01.01" dateTime="20240304;093115" '
        b'buySell="BUY" quantity="100" tradePrice="170.5" ibCommission="-1.25"',
    )

    summary = run(changed)

    assert (summary.inserted, summary.duplicates, summary.conflicts) == (0, 15, 1)
    (report,) = summary.conflict_reports
    assert (report.line, report.exec_id) == (28, "0000a001.65e5c301.01.01")
    assert report.changes == (
        FieldChange("price", "170", "170.5"),
        FieldChange("commission", "1", "1.25"),
    )
    (price,) = raw(
        session_factory, "SELECT price FROM trades WHERE exec_id = '0000a001.65e5c301.01.01'"
    )
    # Left as stored: 170 (NUMERIC on PostgreSQL, scaled by 10**10 on SQLite).
    assert price[0] in {Decimal(170), 1_700_000_000_000}


def test_replace_takes_the_file_version_and_reports_old_to_new(
    run: Run, session_factory: sessionmaker[Session]
) -> None:
    run(FIXTURE.read_bytes())
    changed = FIXTURE.read_bytes().replace(b'tradePrice="171"', b'tradePrice="171.01"')

    summary = run(changed, replace=True)

    assert (summary.conflicts, summary.replaced) == (0, 1)
    (report,) = summary.replaced_reports
    assert report.changes == (FieldChange("price", "171", "171.01"),)
    with SqlAlchemyUnitOfWork(session_factory) as uow:
        stored = uow.trades.get("0000a001.65e9d0aa.01.01")
    assert stored is not None
    assert stored.price == Decimal("171.01")


def test_the_same_exec_id_in_another_account_is_an_error_naming_both_rows(
    run: Run, session_factory: sessionmaker[Session]
) -> None:
    with SqlAlchemyUnitOfWork(session_factory) as uow:
        uow.trades.save(make_trade("0000a001.65eb1e10.01.01", account_id="OTHER"))
        uow.commit()

    with pytest.raises(AccountCollisionError) as caught:
        run(FIXTURE.read_bytes())

    message = str(caught.value)
    assert "line 32" in message
    assert "'U1234567'" in message
    assert "already stored for account 'OTHER'" in message
    assert raw(session_factory, "SELECT COUNT(*) FROM trades") == [(1,)]


def test_an_account_the_journal_lacks_is_mapped_by_the_option_or_rejected_once(
    run: Run, session_factory: sessionmaker[Session]
) -> None:
    data = FIXTURE.read_bytes().replace(b"U1234567", b"U9999999")

    rejected = run(data)
    assert (rejected.inserted, rejected.rejected) == (0, 16)
    assert rejected.unknown_accounts == {"U9999999": 16}
    assert len(rejected.rejected_rows) == 1
    assert "unknown account 'U9999999'" in rejected.rejected_rows[0].reason

    mapped = run(data, account_id="OTHER")
    assert mapped.inserted == 16
    assert raw(session_factory, "SELECT COUNT(*) FROM trades WHERE account_id = 'OTHER'") == [(16,)]


def test_an_unknown_account_option_is_refused(run: Run) -> None:
    with pytest.raises(NotFoundError, match="unknown account 'NOPE'"):
        run(FIXTURE.read_bytes(), account_id="NOPE")


def test_a_file_malformed_as_a_whole_writes_nothing(
    run: Run, session_factory: sessionmaker[Session]
) -> None:
    data = FIXTURE.read_bytes()
    truncated = data[: data.index(b"501000015")]  # 14 executions, then the file stops

    with pytest.raises(ValidationError, match="not well-formed"):
        run(truncated)

    assert raw(session_factory, "SELECT COUNT(*) FROM trades") == [(0,)]
    assert raw(session_factory, "SELECT COUNT(*) FROM identifier_cache") == [(0,)]


def test_ofx_bank_lines_are_stored_once_by_fitid(session_factory: sessionmaker[Session]) -> None:
    data = (FIXTURE.parents[1] / "ofx" / "checking-v1.ofx").read_bytes()
    with session_factory() as session:
        add_account(session, "CHK-0042")
        session.commit()

    def importing() -> ImportSummary:
        with SqlAlchemyUnitOfWork(session_factory) as uow:
            items = OfxImporter().parse(io.BytesIO(data), ImportContext())
            summary = import_statement(uow, items, format_name="ofx")
            uow.commit()
        return summary

    first = importing()
    again = importing()

    assert (first.bank_inserted, first.bank_duplicates) == (4, 0)
    assert (again.bank_inserted, again.bank_duplicates) == (0, 4)
    rows = raw(
        session_factory,
        "SELECT account_id, reference_id, category, source FROM bank_transactions "
        "ORDER BY reference_id",
    )
    assert rows == [
        ("CHK-0042", "20240301-0001", "ach_credit", "ofx_import"),
        ("CHK-0042", "20240305-0007", "card_purchase", "ofx_import"),
        ("CHK-0042", "20240305-0008", "card_purchase", "ofx_import"),
        ("CHK-0042", "20240315-0003", "transfer_out", "ofx_import"),
    ]


REPEATED_CSV: Final = (
    b"exec_id,time,instrument,action,quantity,price,account_id\n"
    b"R1,2024-03-08T09:30:00-05:00,AAPL,BOT,100,189.25,OTHER\n"
    b"R2,2024-03-08T09:31:00-05:00,AAPL,BOT,10,189.50,OTHER\n"
    b"R3,2024-03-08T09:32:00-05:00,AAPL,SLD,110,190.00,OTHER\n"
    b"R1,2024-03-08T09:30:00-05:00,AAPL,BOT,100,189.20,OTHER\n"
)


@pytest.mark.parametrize("chunk_size", [1, 10], ids=["earlier-line-stored", "same-chunk"])
def test_a_repeated_exec_id_in_one_file_is_reported_and_the_later_line_wins(
    session_factory: sessionmaker[Session], chunk_size: int
) -> None:
    from zorivest_infra.importers.generic import GenericCsvImporter

    with session_factory() as session:
        add_account(session, "OTHER")
        session.commit()
    items = GenericCsvImporter().parse(io.BytesIO(REPEATED_CSV), ImportContext())
    with SqlAlchemyUnitOfWork(session_factory) as uow:
        summary = import_statement(uow, items, format_name="generic", chunk_size=chunk_size)
        uow.commit()

    assert (summary.items, summary.repeated, summary.conflicts, summary.duplicates) == (4, 1, 0, 0)
    assert summary.inserted == 3
    [report] = summary.repeat_reports
    assert (report.line, report.repeats_line, report.exec_id) == (5, 2, "R1")
    assert report.changes == (FieldChange("price", "189.25", "189.2"),)
    # The later line's price is what the journal holds (scaled integers on SQLite).
    [(price,)] = raw(session_factory, "SELECT price FROM trades WHERE exec_id = 'R1'")
    assert Decimal(price) in (Decimal("189.2"), Decimal("1892000000000"))
