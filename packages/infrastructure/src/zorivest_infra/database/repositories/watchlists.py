"""Watchlists and their items (one aggregate: a watchlist owns its items)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, RowMapping, bindparam, delete, func, insert, select, update

from zorivest_core.domain import validation as v
from zorivest_core.domain.entities import Watchlist, WatchlistItem
from zorivest_infra.database.models import WatchlistItemModel, WatchlistModel
from zorivest_infra.database.repositories._base import (
    SqlAlchemyRepository,
    not_found,
    table_of,
    utc_now,
)

_LISTS = table_of(WatchlistModel)
_ITEMS = table_of(WatchlistItemModel)


def watchlist_to_row(watchlist: Watchlist) -> dict[str, Any]:
    """Column values of a watchlist (without its id and items)."""
    return {
        "name": watchlist.name,
        "description": watchlist.description,
        "created_at": watchlist.created_at,
        "updated_at": watchlist.updated_at,
    }


def item_to_row(watchlist_id: int, item: WatchlistItem) -> dict[str, Any]:
    """Column values of an item on a watchlist (without its id)."""
    return {
        "watchlist_id": watchlist_id,
        "ticker": item.ticker,
        "added_at": item.added_at,
        "notes": item.notes,
    }


def row_to_item(row: RowMapping) -> WatchlistItem:
    """The item stored in a `watchlist_items` row."""
    return WatchlistItem(
        id=row["id"],
        watchlist_id=row["watchlist_id"],
        ticker=row["ticker"],
        added_at=row["added_at"],
        notes=row["notes"],
    )


def row_to_watchlist(row: RowMapping, items: list[WatchlistItem]) -> Watchlist:
    """The watchlist stored in a `watchlists` row, with its items."""
    return Watchlist(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        items=items,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class SqlAlchemyWatchlistRepository(SqlAlchemyRepository):
    """Watchlists with their items.

    Items are identified by ticker within their watchlist; the ids and `watchlist_id` an
    item entity carries are ignored on writes (the repository assigns them). Items are
    listed in the order they were added. `update`, `add_item` and `remove_item` stamp the
    watchlist's `updated_at`; `save` stores it as given.

    Reads never go through the ORM identity map: `get` and `list_all` run one query for the
    watchlists and one for their items (the `selectinload` strategy, done in Core), however
    many watchlists and items there are.
    """

    __slots__ = ()

    def save(self, watchlist: Watchlist) -> int:
        """Store a new watchlist with its items; return its generated id.

        Raises:
            ValidationError: The watchlist already carries an id (use `update`).
        """
        if watchlist.id is not None:
            raise v.fail("id", watchlist.id, "a new watchlist is saved without an id")
        with self._atomic(f"saving watchlist {watchlist.name!r}") as conn:
            new_id = int(
                conn.execute(
                    insert(_LISTS).values(watchlist_to_row(watchlist)).returning(_LISTS.c.id)
                ).scalar_one()
            )
            self._insert_items(conn, new_id, watchlist.items)
        return new_id

    @staticmethod
    def _insert_items(conn: Connection, watchlist_id: int, items: list[WatchlistItem]) -> None:
        if items:
            conn.execute(insert(_ITEMS), [item_to_row(watchlist_id, item) for item in items])

    def get(self, watchlist_id: int) -> Watchlist | None:
        """The watchlist with its items, or None (two queries)."""
        conn = self._connection()
        row = conn.execute(select(_LISTS).where(_LISTS.c.id == watchlist_id)).mappings().first()
        if row is None:
            return None
        items = conn.execute(
            select(_ITEMS).where(_ITEMS.c.watchlist_id == watchlist_id).order_by(_ITEMS.c.id)
        ).mappings()
        return row_to_watchlist(row, [row_to_item(item) for item in items])

    def list_all(self) -> list[Watchlist]:
        """Every watchlist with its items, by name then id, in exactly two queries."""
        conn = self._connection()
        lists = conn.execute(select(_LISTS).order_by(_LISTS.c.name, _LISTS.c.id)).mappings().all()
        if not lists:
            return []
        # Every item belongs to some watchlist, and all watchlists are wanted: one plain
        # query fetches exactly the items needed, with no IN list to grow or chunk.
        items: defaultdict[int, list[WatchlistItem]] = defaultdict(list)
        for item_row in conn.execute(
            select(_ITEMS).order_by(_ITEMS.c.watchlist_id, _ITEMS.c.id)
        ).mappings():
            items[item_row["watchlist_id"]].append(row_to_item(item_row))
        return [row_to_watchlist(row, items[row["id"]]) for row in lists]

    def update(self, watchlist: Watchlist) -> None:
        """Replace a stored watchlist's name, description and items.

        Items whose ticker stays keep their id (their `added_at` and notes are updated);
        tickers no longer listed are removed; new tickers are added.

        Raises:
            ValidationError: The watchlist has no id.
            NotFoundError: No watchlist has that id.
        """
        if watchlist.id is None:
            raise v.fail("id", None, "updating a watchlist needs its id")
        watchlist_id = watchlist.id
        values = watchlist_to_row(watchlist)
        values["updated_at"] = utc_now()
        with self._atomic(f"updating watchlist {watchlist_id}") as conn:
            result = conn.execute(update(_LISTS).where(_LISTS.c.id == watchlist_id).values(values))
            if result.rowcount == 0:
                raise not_found("watchlist", watchlist_id)
            stored: dict[str, int] = dict(
                conn.execute(
                    select(_ITEMS.c.ticker, _ITEMS.c.id).where(
                        _ITEMS.c.watchlist_id == watchlist_id
                    )
                ).all()
            )
            wanted = {item.ticker: item for item in watchlist.items}
            gone = [item_id for ticker, item_id in stored.items() if ticker not in wanted]
            if gone:
                conn.execute(delete(_ITEMS).where(_ITEMS.c.id.in_(gone)))
            kept = [
                {"item_id": stored[ticker], "new_added_at": item.added_at, "new_notes": item.notes}
                for ticker, item in wanted.items()
                if ticker in stored
            ]
            if kept:
                # One executemany, however many items stay.
                conn.execute(
                    update(_ITEMS)
                    .where(_ITEMS.c.id == bindparam("item_id"))
                    .values(added_at=bindparam("new_added_at"), notes=bindparam("new_notes")),
                    kept,
                )
            self._insert_items(
                conn, watchlist_id, [item for item in watchlist.items if item.ticker not in stored]
            )

    def delete(self, watchlist_id: int) -> None:
        """Delete a watchlist and its items.

        Raises:
            NotFoundError: No watchlist has that id.
        """
        with self._atomic(f"deleting watchlist {watchlist_id}") as conn:
            # The foreign key cascades too; deleting the items first keeps the aggregate
            # whole even on a connection where SQLite's foreign keys are off.
            conn.execute(delete(_ITEMS).where(_ITEMS.c.watchlist_id == watchlist_id))
            result = conn.execute(delete(_LISTS).where(_LISTS.c.id == watchlist_id))
            if result.rowcount == 0:
                raise not_found("watchlist", watchlist_id)

    def add_item(self, watchlist_id: int, item: WatchlistItem) -> int:
        """Add a ticker to a watchlist; return the item's id.

        Raises:
            NotFoundError: No watchlist has that id.
            DuplicateError: The ticker is already on the watchlist.
        """
        with self._atomic(f"adding {item.ticker!r} to watchlist {watchlist_id}") as conn:
            self._touch(conn, watchlist_id)
            new_id = conn.execute(
                insert(_ITEMS).values(item_to_row(watchlist_id, item)).returning(_ITEMS.c.id)
            ).scalar_one()
        return int(new_id)

    def remove_item(self, watchlist_id: int, ticker: str) -> None:
        """Remove a ticker from a watchlist.

        Raises:
            NotFoundError: No watchlist has that id, or the ticker is not on it.
        """
        with self._atomic(f"removing {ticker!r} from watchlist {watchlist_id}") as conn:
            self._touch(conn, watchlist_id)
            result = conn.execute(
                delete(_ITEMS).where(
                    _ITEMS.c.watchlist_id == watchlist_id, _ITEMS.c.ticker == ticker
                )
            )
            if result.rowcount == 0:
                raise not_found(f"ticker on watchlist {watchlist_id}:", ticker)

    @staticmethod
    def _touch(conn: Connection, watchlist_id: int) -> None:
        result = conn.execute(
            update(_LISTS).where(_LISTS.c.id == watchlist_id).values(updated_at=utc_now())
        )
        if result.rowcount == 0:
            raise not_found("watchlist", watchlist_id)

    def count(self) -> int:
        return int(
            self._connection().execute(select(func.count()).select_from(_LISTS)).scalar_one()
        )
