"""Bank transaction and bank import config repository contract, on every backend.

Also covers the dedup-hash function importers use (`zorivest_core.domain.bank`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import BASE_TIME
from tests.integration.contract._rows import add_account, dialect_of, raw_count
from zorivest_core.domain.bank import compute_dedup_hash, statement_dedup_hashes
from zorivest_core.domain.entities import BankImportConfig, BankTransaction
from zorivest_core.domain.enums import BalanceSource, TransactionCategory
from zorivest_core.domain.errors import (
    ConflictError,
    DuplicateError,
    NotFoundError,
    ValidationError,
)
from zorivest_infra.database.repositories.bank import (
    SqlAlchemyBankImportConfigRepository,
    SqlAlchemyBankTransactionRepository,
)

CET = dt.timezone(dt.timedelta(hours=1))


@pytest.fixture
def repo(backend_session: Session) -> SqlAlchemyBankTransactionRepository:
    add_account(backend_session, "BANK1")
    add_account(backend_session, "BANK2")
    return SqlAlchemyBankTransactionRepository(backend_session)


def line(
    description: str = "COFFEE SHOP",
    amount: str = "-4.50",
    day: int = 1,
    occurrence: int = 0,
    account_id: str = "BANK1",
    batch: str | None = None,
) -> BankTransaction:
    date = dt.date(2024, 3, day)
    return BankTransaction(
        account_id=account_id,
        date=dt.datetime(2024, 3, day, tzinfo=dt.UTC),
        description=description,
        amount=Decimal(amount),
        dedup_hash=compute_dedup_hash(account_id, date, amount, description, occurrence=occurrence),
        source=BalanceSource.CSV_IMPORT,
        import_batch_id=batch,
        created_at=BASE_TIME,
    )


# -- the dedup hash ---------------------------------------------------------------------


def test_dedup_hash_is_32_hex_and_canonical() -> None:
    base = compute_dedup_hash("BANK1", dt.date(2024, 3, 1), "-4.50", "COFFEE  SHOP ")
    assert re.fullmatch(r"[0-9a-f]{32}", base)
    assert compute_dedup_hash("BANK1", dt.date(2024, 3, 1), Decimal("-4.5"), "COFFEE SHOP") == base
    assert compute_dedup_hash("BANK1", dt.date(2024, 3, 1), -4.5, " COFFEE SHOP") == base
    others = {
        compute_dedup_hash("BANK2", dt.date(2024, 3, 1), "-4.50", "COFFEE SHOP"),
        compute_dedup_hash("BANK1", dt.date(2024, 3, 2), "-4.50", "COFFEE SHOP"),
        compute_dedup_hash("BANK1", dt.date(2024, 3, 1), "4.50", "COFFEE SHOP"),
        compute_dedup_hash("BANK1", dt.date(2024, 3, 1), "-4.50", "coffee shop"),
        compute_dedup_hash("BANK1", dt.date(2024, 3, 1), "-4.50", "COFFEE SHOP", "REF1"),
        compute_dedup_hash("BANK1", dt.date(2024, 3, 1), "-4.50", "COFFEE SHOP", None, 1),
        compute_dedup_hash("BANK1", dt.datetime(2024, 3, 1, tzinfo=dt.UTC), "-4.50", "COFFEE SHOP"),
    }
    assert base not in others
    assert len(others) == 7


def test_dedup_hash_compares_times_in_utc() -> None:
    utc_time = dt.datetime(2024, 3, 1, 15, 0, tzinfo=dt.UTC)
    same_instant = utc_time.astimezone(CET)
    assert compute_dedup_hash("A", utc_time, "1", "x") == compute_dedup_hash(
        "A", same_instant, "1", "x"
    )
    with pytest.raises(ValidationError):
        compute_dedup_hash("A", dt.datetime(2024, 3, 1), "1", "x")  # noqa: DTZ001
    with pytest.raises(ValidationError):
        compute_dedup_hash("A", dt.date(2024, 3, 1), "1.0000001", "x")
    with pytest.raises(ValidationError):
        compute_dedup_hash("A", dt.date(2024, 3, 1), "1", "x", occurrence=-1)


def test_statement_hashes_number_identical_lines() -> None:
    day = dt.date(2024, 3, 1)
    hashes = statement_dedup_hashes(
        "BANK1",
        [
            (day, "-4.50", "COFFEE", None),
            (day, "-4.50", "COFFEE", None),
            (day, "-9.00", "LUNCH", None),
            (day, "-4.5", "COFFEE ", None),
        ],
    )
    assert hashes == [
        compute_dedup_hash("BANK1", day, "-4.50", "COFFEE", None, 0),
        compute_dedup_hash("BANK1", day, "-4.50", "COFFEE", None, 1),
        compute_dedup_hash("BANK1", day, "-9.00", "LUNCH", None, 0),
        compute_dedup_hash("BANK1", day, "-4.50", "COFFEE", None, 2),
    ]


# -- transactions -----------------------------------------------------------------------


def test_round_trip_of_every_field(
    repo: SqlAlchemyBankTransactionRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    full = BankTransaction(
        account_id="BANK1",
        date=dt.datetime(2024, 3, 1, 0, 30, tzinfo=CET),
        post_date=dt.datetime(2024, 3, 3, 0, 0, 0, 1, tzinfo=CET),
        description='SEPA transfer — ünïcode "quoted"',
        amount=Decimal("-999999999999.999999"),
        category=TransactionCategory.WIRE_OUT,
        reference_id="REF-123",
        dedup_hash="f" * 32,
        source=BalanceSource.OFX_IMPORT,
        import_batch_id="batch-1",
        created_at=dt.datetime(2024, 3, 8, 12, 0, tzinfo=CET),
    )
    full_id = repo.save(full)
    bare_id = repo.save(line())
    backend_session.commit()
    with session_factory() as fresh:
        fresh_repo = SqlAlchemyBankTransactionRepository(fresh)
        stored = fresh_repo.get(full_id)
        assert fresh_repo.get(bare_id) == dataclasses.replace(line(), id=bare_id)
        raw = fresh.execute(
            text("SELECT amount, category, source FROM bank_transactions WHERE id = :id"),
            {"id": full_id},
        ).one()
    assert stored == dataclasses.replace(full, id=full_id)
    assert stored.date.tzinfo == dt.UTC
    assert stored.date == dt.datetime(2024, 2, 29, 23, 30, tzinfo=dt.UTC)
    assert (raw[1], raw[2]) == ("wire_out", "ofx_import")
    if dialect_of(backend_session) == "sqlite":
        assert raw[0] == -999999999999999999


def test_missing_duplicate_and_unknown_account(repo: SqlAlchemyBankTransactionRepository) -> None:
    assert repo.get(404) is None
    assert repo.list_for_batch("nope") == []
    assert repo.undo_batch("nope") == 0
    with pytest.raises(NotFoundError):
        repo.delete(404)
    repo.save(line())
    with pytest.raises(DuplicateError):
        repo.save(line())
    repo.save(line(account_id="BANK2"))  # the same hash on another account is fine
    with pytest.raises(ConflictError):
        repo.save(line(account_id="UNKNOWN"))
    with pytest.raises(ConflictError):
        repo.import_batch([line(day=9), line(account_id="UNKNOWN")], import_batch_id="b")
    with pytest.raises(ValidationError):
        repo.save(dataclasses.replace(line(day=2), id=9))
    assert repo.count() == 2
    assert repo.list_for_batch("b") == []


def test_import_is_idempotent_and_keeps_identical_lines_apart(
    repo: SqlAlchemyBankTransactionRepository, backend_session: Session
) -> None:
    statement = [
        line("COFFEE", "-4.50", 1, occurrence=0),
        line("COFFEE", "-4.50", 1, occurrence=1),  # a genuine second coffee
        line("SALARY", "5000", 2),
        line("RENT", "-1500", 3),
    ]
    first = repo.import_batch(statement, import_batch_id="march-1")
    assert (first.inserted, first.duplicates) == (4, 0)

    again = repo.import_batch(statement, import_batch_id="march-2")
    assert (again.inserted, again.duplicates) == (0, 4)
    # Overlapping export: two known lines, one new, and one line repeated in the input.
    overlap = repo.import_batch(
        [statement[2], statement[3], line("GYM", "-30", 4), line("GYM", "-30", 4)],
        import_batch_id="march-3",
    )
    assert (overlap.inserted, overlap.duplicates) == (1, 3)
    assert repo.import_batch([]).inserted == 0

    rows = backend_session.execute(
        text("SELECT description, import_batch_id FROM bank_transactions ORDER BY id")
    ).all()
    assert [tuple(row) for row in rows] == [
        ("COFFEE", "march-1"),
        ("COFFEE", "march-1"),
        ("SALARY", "march-1"),
        ("RENT", "march-1"),
        ("GYM", "march-3"),
    ]
    assert repo.list_for_batch("march-2") == []
    assert [t.description for t in repo.list_for_batch("march-3")] == ["GYM"]


def test_a_large_import_crosses_chunk_boundaries(
    repo: SqlAlchemyBankTransactionRepository,
) -> None:
    lines = [line(f"ITEM {n}", f"-{n}.01", 1 + n % 28) for n in range(1200)]
    assert repo.import_batch(lines[:700], import_batch_id="a").inserted == 700
    result = repo.import_batch(lines, import_batch_id="b")
    assert (result.inserted, result.duplicates) == (500, 700)
    assert repo.count("BANK1") == 1200


def test_undo_batch_removes_only_that_batch(
    repo: SqlAlchemyBankTransactionRepository, backend_session: Session
) -> None:
    repo.import_batch([line("A", day=1), line("B", day=2)], import_batch_id="keep")
    repo.import_batch(
        [line("C", day=3), line("D", day=4), line("E", day=5, account_id="BANK2")],
        import_batch_id="undo",
    )
    assert [t.description for t in repo.list_for_batch("undo")] == ["C", "D", "E"]
    assert repo.undo_batch("undo") == 3
    remaining = backend_session.execute(
        text("SELECT description FROM bank_transactions ORDER BY id")
    ).scalars()
    assert list(remaining) == ["A", "B"]
    # Undone lines can be imported again.
    assert repo.import_batch([line("C", day=3)], import_batch_id="redo").inserted == 1


def test_listing_is_ordered_and_windowed(repo: SqlAlchemyBankTransactionRepository) -> None:
    for day in (5, 1, 3):
        repo.save(line(f"day {day}", day=day))
    repo.save(line("other", day=2, account_id="BANK2"))
    assert [t.description for t in repo.list_for_account("BANK1")] == [
        "day 1",
        "day 3",
        "day 5",
    ]
    window = repo.list_for_account(
        "BANK1",
        since=dt.datetime(2024, 3, 3, tzinfo=dt.UTC),
        until=dt.datetime(2024, 3, 5, 1, 0, tzinfo=CET),  # = 5 March 00:00 UTC, exclusive
    )
    assert [t.description for t in window] == ["day 3"]
    assert repo.count() == 4
    assert repo.count("BANK2") == 1


def test_rollback_leaves_nothing(
    repo: SqlAlchemyBankTransactionRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    backend_session.commit()
    repo.import_batch([line("A"), line("B")], import_batch_id="x")
    backend_session.rollback()
    assert raw_count(session_factory, "bank_transactions") == 0


# -- import configs ---------------------------------------------------------------------


def test_import_configs(backend_session: Session, session_factory: sessionmaker[Session]) -> None:
    configs = SqlAlchemyBankImportConfigRepository(backend_session)
    full = BankImportConfig(
        bank_id="chase",
        name="Chase checking",
        config={"columns": {"date": 0, "amount": 3}, "date_format": "%m/%d/%Y", "skip": 1},
        country="DE",
        created_at=dt.datetime(2024, 3, 8, 1, 0, tzinfo=CET),
        updated_at=BASE_TIME,
    )
    configs.save(full)
    configs.save(BankImportConfig(bank_id="amex", name="Amex", config={}, created_at=BASE_TIME))
    with pytest.raises(DuplicateError):
        configs.save(full)
    assert configs.get("nope") is None
    with pytest.raises(NotFoundError):
        configs.update(dataclasses.replace(full, bank_id="nope"))
    with pytest.raises(NotFoundError):
        configs.delete("nope")
    backend_session.commit()
    with session_factory() as fresh:
        fresh_configs = SqlAlchemyBankImportConfigRepository(fresh)
        assert fresh_configs.get("chase") == full
        assert [c.bank_id for c in fresh_configs.list_all()] == ["amex", "chase"]
        raw = fresh.execute(
            text("SELECT config FROM bank_import_configs WHERE bank_id = 'chase'")
        ).scalar_one()
    assert json.loads(raw)["columns"] == {"date": 0, "amount": 3}
    configs.update(dataclasses.replace(full, config={"v": 2}))
    updated = configs.get("chase")
    assert updated is not None
    assert updated.config == {"v": 2}
    assert updated.updated_at is not None
    assert updated.updated_at > BASE_TIME
    configs.delete("amex")
    assert [c.bank_id for c in configs.list_all()] == ["chase"]
