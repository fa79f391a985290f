"""The CSV importers' output through the real unit of work, on every backend.

Re-importing a file inserts nothing; two accounts' files never collide; instrument details
are stored (checked with raw SQL).
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import make_account
from tests.unit.importers.helpers import executions, parse_fixture
from zorivest_core.application.importing import Importer
from zorivest_core.domain.zones import iana_zone
from zorivest_infra.database.unit_of_work import SqlAlchemyUnitOfWork
from zorivest_infra.importers.degiro import DegiroImporter
from zorivest_infra.importers.fidelity import FidelityImporter
from zorivest_infra.importers.generic import GenericCsvImporter
from zorivest_infra.importers.schwab import SchwabImporter
from zorivest_infra.importers.tradovate import TradovateImporter

FIXTURES: list[tuple[Importer, str, int]] = [
    (SchwabImporter(), "schwab/transactions.csv", 5),
    (FidelityImporter(), "fidelity/Accounts_History.csv", 4),
    (DegiroImporter(), "degiro/Transactions-nl.csv", 3),
    (GenericCsvImporter(), "generic/executions.csv", 3),
]


def _save(factory: sessionmaker[Session], importer: Importer, fixture: str, account: str) -> int:
    parsed = executions(
        parse_fixture(importer, fixture, account_id=account, zone=None)
        if not isinstance(importer, GenericCsvImporter)
        else parse_fixture(importer, fixture, zone=iana_zone("America/New_York"))
    )
    with SqlAlchemyUnitOfWork(factory) as uow:
        result = uow.trades.save_many([item.trade for item in parsed])
        uow.commit()
    assert not result.conflicts
    return len(result.inserted)


def _accounts(factory: sessionmaker[Session], *ids: str) -> None:
    with SqlAlchemyUnitOfWork(factory) as uow:
        for account_id in ids:
            uow.accounts.save(make_account(account_id))
        uow.commit()


def _count(factory: sessionmaker[Session], account: str) -> int:
    with factory() as fresh:
        return int(
            fresh.scalar(text("SELECT COUNT(*) FROM trades WHERE account_id = :a"), {"a": account})
            or 0
        )


@pytest.mark.parametrize(("importer", "fixture", "expected"), FIXTURES)
def test_reimport_inserts_nothing(
    session_factory: sessionmaker[Session], importer: Importer, fixture: str, expected: int
) -> None:
    # Accounts as the files name them (generic: MAIN; Fidelity: its account number).
    account = {"generic": "MAIN", "fidelity": "X00000001"}.get(importer.name, "ACC1")
    _accounts(session_factory, account)
    assert _save(session_factory, importer, fixture, account) == expected
    assert _save(session_factory, importer, fixture, account) == 0
    assert _count(session_factory, account) == expected


def test_two_accounts_same_file_never_collide(session_factory: sessionmaker[Session]) -> None:
    _accounts(session_factory, "ACC1", "ACC2")
    assert _save(session_factory, SchwabImporter(), "schwab/transactions.csv", "ACC1") == 5
    assert _save(session_factory, SchwabImporter(), "schwab/transactions.csv", "ACC2") == 5
    assert _count(session_factory, "ACC1") == 5
    assert _count(session_factory, "ACC2") == 5


def test_tradovate_fill_ids_are_kept_with_their_prefix(
    session_factory: sessionmaker[Session],
) -> None:
    _accounts(session_factory, "DEMO0001")
    parsed = executions(parse_fixture(TradovateImporter(), "tradovate/fills.csv"))
    firsts = [item.trade for item in parsed if item.repeats_line is None]
    with SqlAlchemyUnitOfWork(session_factory) as uow:
        assert len(uow.trades.save_many(firsts).inserted) == 4
        uow.commit()
    with session_factory() as fresh:
        ids = list(fresh.scalars(text("SELECT exec_id FROM trades ORDER BY exec_id")))
    assert ids == [
        "tradovate-9100001",
        "tradovate-9100002",
        "tradovate-9100003",
        "tradovate-9100004",
    ]


def test_option_details_are_stored(session_factory: sessionmaker[Session]) -> None:
    _accounts(session_factory, "ACC1")
    _save(session_factory, SchwabImporter(), "schwab/transactions.csv", "ACC1")
    with session_factory() as fresh:
        rows = fresh.execute(
            text(
                "SELECT instrument, asset_class, underlying, expiry, option_right, currency "
                "FROM trades WHERE asset_class = 'option' ORDER BY exec_id"
            )
        ).all()
    assert [tuple(str(value) for value in row) for row in rows] == [
        ("SPY   240322C00510000", "option", "SPY", "2024-03-22", "C", "USD"),
    ] * 2
