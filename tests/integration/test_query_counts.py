"""No N+1 and the right query shapes: statements counted at the cursor, on every backend.

Each listing issues a number of statements that does not grow with the number of rows;
image listings never select the full `images.data` column; the newest-first trade listing
is served by its index without a sort.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

import pytest
from sqlalchemy import Engine, event, insert
from sqlalchemy.orm import Session

from tests.factories import BASE_TIME, make_account, make_stored_image, make_trade, png_bytes
from zorivest_core.application.ports import TradeCursor
from zorivest_core.domain.enums import ImageOwnerType
from zorivest_infra.database.models import ImageModel, TradeReportModel
from zorivest_infra.database.repositories import (
    SqlAlchemyAccountRepository,
    SqlAlchemyImageRepository,
    SqlAlchemyTradeRepository,
)

FULL_IMAGE_COLUMN: Final = re.compile(r"\bimages\.data\b|\bdata\s*(,|FROM)", re.IGNORECASE)
TINY_PNG: Final = png_bytes(48, 27)


@contextmanager
def captured(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every statement sent to the driver inside the block, with its parameters."""
    statements: list[tuple[str, Any]] = []

    def record(
        _connection: Any,
        _cursor: Any,
        statement: str,
        parameters: Any,
        _context: Any,
        _executemany: bool,
    ) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def selects(statements: list[tuple[str, Any]]) -> list[str]:
    return [sql for sql, _ in statements if sql.lstrip().upper().startswith("SELECT")]


@pytest.fixture
def session(backend_session: Session) -> Session:
    SqlAlchemyAccountRepository(backend_session).save(make_account("ACC1"))
    return backend_session


def save_trades(session: Session, count: int) -> list[str]:
    trades = [
        make_trade(f"T{index:04d}", time=BASE_TIME + dt.timedelta(seconds=index))
        for index in range(count)
    ]
    return SqlAlchemyTradeRepository(session).save_many(trades).inserted


def add_images(session: Session, exec_ids: list[str], per_trade: int) -> None:
    """Images inserted directly (thumbnails are not the point here)."""
    session.execute(
        insert(ImageModel),
        [
            {
                "owner_type": "trade",
                "owner_id": exec_id,
                "data": b"full image bytes",
                "thumbnail": b"thumb",
                "mime_type": "image/png",
                "width": 1,
                "height": 1,
                "file_size": 16,
                "created_at": BASE_TIME,
            }
            for exec_id in exec_ids
            for _ in range(per_trade)
        ],
    )


def test_images_of_many_trades_take_one_query_whatever_their_number(
    session: Session, backend_engine: Engine
) -> None:
    exec_ids = save_trades(session, 200)
    add_images(session, exec_ids, per_trade=2)
    repo = SqlAlchemyImageRepository(session)

    counts = {}
    for size in (10, 50, 200):
        with captured(backend_engine) as statements:
            found = repo.get_for_owners(ImageOwnerType.TRADE, exec_ids[:size])
        assert sum(len(images) for images in found.values()) == 2 * size
        counts[size] = len(statements)
        assert len(selects(statements)) == 1
        assert not FULL_IMAGE_COLUMN.search(selects(statements)[0])
    assert counts[10] == counts[50] == counts[200]


def test_image_listings_never_select_the_full_bytes(
    session: Session, backend_engine: Engine
) -> None:
    save_trades(session, 1)
    repo = SqlAlchemyImageRepository(session)
    image_id = repo.save("T0000", make_stored_image(TINY_PNG))

    with captured(backend_engine) as listing:
        listed = repo.get_for_trade("T0000")
        repo.get_for_owner(ImageOwnerType.TRADE, "T0000")
        repo.get_for_owners(ImageOwnerType.TRADE, ["T0000"])
        repo.get_thumbnail(image_id)
    with captured(backend_engine) as full:
        repo.get(image_id)

    assert [image.id for image in listed] == [image_id]
    assert len(selects(listing)) == 4
    for sql in selects(listing):
        assert not FULL_IMAGE_COLUMN.search(sql), sql
        assert "images.thumbnail" in sql or "thumbnail" in sql
    # The same check does see the column where it is selected.
    assert FULL_IMAGE_COLUMN.search(selects(full)[0])


def test_trades_with_reports_take_one_query_whatever_their_number(
    session: Session, backend_engine: Engine
) -> None:
    exec_ids = save_trades(session, 200)
    session.execute(
        insert(TradeReportModel),
        [
            {"trade_id": exec_id, "setup_quality": 3, "tags": ["x"], "created_at": BASE_TIME}
            for exec_id in exec_ids[::2]
        ],
    )
    repo = SqlAlchemyTradeRepository(session)

    counts = {}
    for size in (10, 200):
        with captured(backend_engine) as statements:
            listed = repo.list_with_reports("ACC1", limit=size)
        assert len(listed) == size
        assert sum(report is not None for _, report in listed) == size // 2
        counts[size] = len(statements)
        assert len(selects(statements)) == 1
    assert counts[10] == counts[200]


def test_iteration_reads_one_query_per_batch(session: Session, backend_engine: Engine) -> None:
    save_trades(session, 25)
    repo = SqlAlchemyTradeRepository(session)
    with captured(backend_engine) as statements:
        assert len(list(repo.iter_for_account("ACC1", batch_size=10))) == 25
    assert len(selects(statements)) == 3
    for sql, parameters in statements:
        assert "LIMIT" in sql.upper()
        if "OFFSET" in sql.upper():  # SQLite's compiler always writes one, set to 0
            assert backend_engine.dialect.name == "sqlite"
            assert parameters[-1] == 0


def test_bulk_save_takes_a_few_statements_per_chunk(
    session: Session, backend_engine: Engine
) -> None:
    repo = SqlAlchemyTradeRepository(session)
    counts = {}
    for first, size in ((0, 10), (10, 900)):
        trades = [make_trade(f"B{index:05d}") for index in range(first, first + size)]
        with captured(backend_engine) as statements:
            assert len(repo.save_many(trades).inserted) == size
        counts[size] = len(statements)
    # savepoint, account check, one existence query, one executemany, release
    assert counts[10] == counts[900] <= 5
    with captured(backend_engine) as statements:
        repo.save_many(make_trade(f"C{index:05d}") for index in range(2500))
    assert len(statements) <= 5 + 2 * 2  # two more chunks of 1,000


def _page_statement(session: Session, backend_engine: Engine) -> tuple[str, Any]:
    save_trades(session, 50)
    repo = SqlAlchemyTradeRepository(session)
    with captured(backend_engine) as statements:
        repo.list_for_account(
            "ACC1",
            since=BASE_TIME,
            until=BASE_TIME + dt.timedelta(days=1),
            limit=10,
            after=TradeCursor(time=BASE_TIME + dt.timedelta(seconds=30), exec_id="T0030"),
        )
    assert len(statements) == 1
    return statements[0]


def test_newest_first_listing_uses_the_index_without_sorting(
    session: Session, backend_engine: Engine
) -> None:
    statement, parameters = _page_statement(session, backend_engine)
    connection = session.connection()
    if backend_engine.dialect.name == "sqlite":
        plan = " | ".join(
            str(row[-1])
            for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        )
        assert "ix_trades_account_id_time" in plan, plan
        assert "TEMP B-TREE" not in plan, plan
        assert "SCAN trades" not in plan, plan
    else:
        # A tiny table would be scanned; forbid scans and sorts, and see what is left.
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        connection.exec_driver_sql("SET LOCAL enable_sort = off")
        plan = " | ".join(
            str(row[0]) for row in connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        )
        assert "ix_trades_account_id_time" in plan, plan
        assert "Sort" not in plan, plan
