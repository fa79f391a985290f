"""Watchlist repository contract, on every backend."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import BASE_TIME
from tests.integration.contract._rows import captured_statements, count_rows, raw_count
from zorivest_core.domain.entities import Watchlist, WatchlistItem
from zorivest_core.domain.errors import DuplicateError, NotFoundError, ValidationError
from zorivest_infra.database.repositories.watchlists import SqlAlchemyWatchlistRepository

AEST = dt.timezone(dt.timedelta(hours=10))


@pytest.fixture
def repo(backend_session: Session) -> SqlAlchemyWatchlistRepository:
    return SqlAlchemyWatchlistRepository(backend_session)


def item(ticker: str, minutes: int = 0, notes: str | None = None) -> WatchlistItem:
    return WatchlistItem(
        ticker=ticker, added_at=BASE_TIME + dt.timedelta(minutes=minutes), notes=notes
    )


def full_watchlist() -> Watchlist:
    return Watchlist(
        name="Momentum — ünïcode",
        description="Gappers over $10\nwith news",
        items=[
            WatchlistItem(
                ticker="NVDA", added_at=dt.datetime(2024, 3, 8, 9, 0, tzinfo=AEST), notes="AI"
            ),
            item("AMD", 1),
            item("TSLA", 2, ""),
        ],
        created_at=dt.datetime(2024, 3, 8, 8, 0, 0, 42, tzinfo=AEST),
        updated_at=BASE_TIME,
    )


def without_ids(watchlist: Watchlist | None) -> Watchlist:
    assert watchlist is not None
    items = [dataclasses.replace(i, id=None, watchlist_id=None) for i in watchlist.items]
    return dataclasses.replace(watchlist, id=None, items=items)


def test_round_trip_of_every_field(
    repo: SqlAlchemyWatchlistRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    watchlist = full_watchlist()
    watchlist_id = repo.save(watchlist)
    empty_id = repo.save(Watchlist(name="Empty", created_at=BASE_TIME))
    backend_session.commit()
    with session_factory() as fresh:
        fresh_repo = SqlAlchemyWatchlistRepository(fresh)
        stored = fresh_repo.get(watchlist_id)
        empty = fresh_repo.get(empty_id)
        raw = fresh.execute(
            text("SELECT ticker, watchlist_id FROM watchlist_items ORDER BY id")
        ).all()
    assert without_ids(stored) == watchlist
    assert stored is not None
    assert stored.id == watchlist_id
    assert all(i.watchlist_id == watchlist_id and i.id is not None for i in stored.items)
    assert stored.created_at.tzinfo == dt.UTC
    assert empty == Watchlist(name="Empty", created_at=BASE_TIME, id=empty_id)
    assert [tuple(row) for row in raw] == [(t, watchlist_id) for t in ("NVDA", "AMD", "TSLA")]


def test_missing_rows(repo: SqlAlchemyWatchlistRepository) -> None:
    assert repo.get(404) is None
    assert repo.list_all() == []
    with pytest.raises(NotFoundError):
        repo.update(dataclasses.replace(full_watchlist(), id=404))
    with pytest.raises(NotFoundError):
        repo.delete(404)
    with pytest.raises(NotFoundError):
        repo.add_item(404, item("X"))
    with pytest.raises(NotFoundError):
        repo.remove_item(404, "X")
    with pytest.raises(ValidationError):
        repo.save(dataclasses.replace(full_watchlist(), id=1))
    with pytest.raises(ValidationError):
        repo.update(full_watchlist())
    assert repo.count() == 0


def test_add_and_remove_items(
    repo: SqlAlchemyWatchlistRepository, backend_session: Session
) -> None:
    watchlist_id = repo.save(full_watchlist())
    new_id = repo.add_item(watchlist_id, item("MSFT", 9, "earnings"))
    with pytest.raises(DuplicateError):
        repo.add_item(watchlist_id, item("NVDA"))
    stored = repo.get(watchlist_id)
    assert stored is not None
    assert [i.ticker for i in stored.items] == ["NVDA", "AMD", "TSLA", "MSFT"]
    assert stored.items[-1].id == new_id
    assert stored.updated_at is not None
    assert stored.updated_at > BASE_TIME

    repo.remove_item(watchlist_id, "AMD")
    with pytest.raises(NotFoundError):
        repo.remove_item(watchlist_id, "AMD")
    tickers = backend_session.execute(
        text("SELECT ticker FROM watchlist_items ORDER BY id")
    ).scalars()
    assert list(tickers) == ["NVDA", "TSLA", "MSFT"]


def test_the_same_ticker_may_be_on_two_watchlists(repo: SqlAlchemyWatchlistRepository) -> None:
    first = repo.save(Watchlist(name="A", items=[item("AAPL")]))
    second = repo.save(Watchlist(name="B"))
    repo.add_item(second, item("AAPL"))
    assert [w.items[0].ticker for w in repo.list_all()] == ["AAPL", "AAPL"]
    assert first != second


def test_update_replaces_items_and_keeps_the_ids_of_kept_tickers(
    repo: SqlAlchemyWatchlistRepository, backend_session: Session
) -> None:
    watchlist_id = repo.save(full_watchlist())
    before = repo.get(watchlist_id)
    assert before is not None
    nvda_id = before.items[0].id
    replacement = Watchlist(
        id=watchlist_id,
        name="Renamed",
        description=None,
        items=[item("NVDA", 30, "kept"), item("META", 31)],
        created_at=before.created_at,
    )
    repo.update(replacement)
    after = repo.get(watchlist_id)
    assert after is not None
    assert (after.name, after.description) == ("Renamed", None)
    assert [(i.ticker, i.notes) for i in after.items] == [("NVDA", "kept"), ("META", None)]
    assert after.items[0].id == nvda_id
    assert after.items[0].added_at == BASE_TIME + dt.timedelta(minutes=30)
    assert after.updated_at is not None
    assert after.updated_at > BASE_TIME
    assert count_rows(backend_session, "watchlist_items") == 2

    # The number of statements does not grow with the number of items.
    small = Watchlist(name="small", items=[item(f"S{n}") for n in range(2)])
    large = Watchlist(name="large", items=[item(f"L{n}") for n in range(40)])
    counts = []
    for watchlist in (small, large):
        stored_id = repo.save(watchlist)
        changed = dataclasses.replace(
            watchlist, id=stored_id, items=[*watchlist.items[1:], item("NEW")]
        )
        with captured_statements(backend_session) as statements:
            repo.update(changed)
        counts.append(len(statements))
        reread = repo.get(stored_id)
        assert reread is not None
        assert [i.ticker for i in reread.items] == [i.ticker for i in changed.items]
    assert counts[0] == counts[1]

    repo.update(dataclasses.replace(replacement, items=[]))
    emptied = repo.get(watchlist_id)
    assert emptied is not None
    assert emptied.items == []


def test_deleting_a_watchlist_removes_its_items(
    repo: SqlAlchemyWatchlistRepository, backend_session: Session
) -> None:
    doomed = repo.save(full_watchlist())
    kept = repo.save(Watchlist(name="Kept", items=[item("SPY")]))
    repo.delete(doomed)
    assert repo.get(doomed) is None
    rows = backend_session.execute(text("SELECT watchlist_id FROM watchlist_items")).scalars()
    assert list(rows) == [kept]
    assert repo.count() == 1


def test_list_all_takes_two_queries_whatever_the_size(
    repo: SqlAlchemyWatchlistRepository, backend_session: Session
) -> None:
    for index in range(30):
        repo.save(
            Watchlist(
                name=f"List {index:02d}",
                items=[item(f"T{index}-{n}", n) for n in range(index % 4)],
            )
        )
    with captured_statements(backend_session) as statements:
        listed = repo.list_all()
    assert len(statements) == 2
    assert [w.name for w in listed] == [f"List {index:02d}" for index in range(30)]
    assert [len(w.items) for w in listed] == [index % 4 for index in range(30)]
    assert all(i.watchlist_id == w.id for w in listed for i in w.items)


def test_rollback_leaves_nothing(
    repo: SqlAlchemyWatchlistRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    backend_session.commit()
    repo.save(full_watchlist())
    backend_session.rollback()
    assert raw_count(session_factory, "watchlists") == 0
    assert raw_count(session_factory, "watchlist_items") == 0
