"""Watchlists and their items (one aggregate: a watchlist owns its items)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, insert, select, update

from zorivest_core.domain.entities import Watchlist, WatchlistItem
from zorivest_infra.database.models import WatchlistItemModel, WatchlistModel
from zorivest_infra.database.repositories._base import not_found, table_of, utc_now
from zorivest_infra.database.repositories._core import CoreRepository, RowMapper

_LISTS = table_of(WatchlistModel)
_ITEMS = table_of(WatchlistItemModel)
_I = _ITEMS.c
_ITEM_ROWS = RowMapper(WatchlistItem, _ITEMS, generated="id")
_SELECT_ITEMS = select(*_ITEM_ROWS.selected)


class SqlAlchemyWatchlistRepository(CoreRepository[Watchlist, int]):
    """Watchlists with their items.

    Items are identified by ticker within their watchlist; the ids and `watchlist_id` an
    item entity carries are ignored on writes (the repository assigns them). Items are
    listed in the order they were added. `update`, `add_item` and `remove_item` stamp the
    watchlist's `updated_at`; `save` stores it as given. `save` returns the generated id;
    `update` and `delete` raise NotFoundError for a missing id.

    Reads never go through the ORM identity map: `get` and `list_all` run one query for the
    watchlists and one for their items (the `selectinload` strategy, done in Core), however
    many watchlists and items there are.
    """

    __slots__ = ()
    table = _LISTS
    entity = Watchlist
    key = "id"
    noun = "watchlist"
    generated_key = True
    stamps_updated_at = True

    def _from_row(self, row: Row[Any], /, **given: Any) -> Watchlist:
        """The watchlist with its items: unless given, read with one more query."""
        if "items" not in given:
            items = self._connection().execute(
                _SELECT_ITEMS.where(_I.watchlist_id == row.id).order_by(_I.id)
            )
            given["items"] = [_ITEM_ROWS.from_row(item) for item in items]
        return super()._from_row(row, **given)

    def save(self, watchlist: Watchlist) -> int:
        """Store a new watchlist with its items; return its generated id.

        Raises:
            ValidationError: The watchlist already carries an id (use `update`).
        """
        return self._save_new(
            watchlist, then=lambda conn, new_id: _insert_items(conn, new_id, watchlist.items)
        )

    def get(self, watchlist_id: int) -> Watchlist | None:
        """The watchlist with its items, or None (two queries)."""
        return self._get(watchlist_id)

    def list_all(self) -> list[Watchlist]:
        """Every watchlist with its items, by name then id, in exactly two queries."""
        conn = self._connection()
        lists = conn.execute(self._select.order_by(_LISTS.c.name, _LISTS.c.id)).all()
        if not lists:
            return []
        # Every item belongs to some watchlist, and all watchlists are wanted: one plain
        # query fetches exactly the items needed, with no IN list to grow or chunk.
        items: defaultdict[int, list[WatchlistItem]] = defaultdict(list)
        for item in conn.execute(_SELECT_ITEMS.order_by(_I.watchlist_id, _I.id)):
            items[item.watchlist_id].append(_ITEM_ROWS.from_row(item))
        return [self._from_row(row, items=items[row.id]) for row in lists]

    def update(self, watchlist: Watchlist) -> None:
        """Replace a stored watchlist's name, description and items.

        Items whose ticker stays keep their id (their `added_at` and notes are updated);
        tickers no longer listed are removed; new tickers are added.

        Raises:
            ValidationError: The watchlist has no id.
            NotFoundError: No watchlist has that id.
        """
        self._update(watchlist, then=lambda conn, key: _replace_items(conn, key, watchlist.items))

    def delete(self, watchlist_id: int) -> None:
        """Delete a watchlist and its items.

        The foreign key cascades too; deleting the items explicitly keeps the aggregate
        whole even on a connection where SQLite's foreign keys are off.

        Raises:
            NotFoundError: No watchlist has that id.
        """
        self._delete(watchlist_id, then=_delete_items)

    def add_item(self, watchlist_id: int, item: WatchlistItem) -> int:
        """Add a ticker to a watchlist; return the item's id.

        Raises:
            NotFoundError: No watchlist has that id.
            DuplicateError: The ticker is already on the watchlist.
        """
        with self._atomic(f"adding {item.ticker!r} to watchlist {watchlist_id}") as conn:
            self._touch(conn, watchlist_id)
            new_id = conn.execute(
                insert(_ITEMS).values(_item_row(watchlist_id, item)).returning(_I.id)
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
                delete(_ITEMS).where(_I.watchlist_id == watchlist_id, _I.ticker == ticker)
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
        return self._count()


def _item_row(watchlist_id: int, item: WatchlistItem) -> dict[str, Any]:
    """Column values of an item on a watchlist (without its id)."""
    return {**_ITEM_ROWS.to_row(item), "watchlist_id": watchlist_id}


def _insert_items(conn: Connection, watchlist_id: int, items: list[WatchlistItem]) -> None:
    if items:
        conn.execute(insert(_ITEMS), [_item_row(watchlist_id, item) for item in items])


def _delete_items(conn: Connection, watchlist_id: int) -> None:
    conn.execute(delete(_ITEMS).where(_I.watchlist_id == watchlist_id))


def _replace_items(conn: Connection, watchlist_id: int, items: list[WatchlistItem]) -> None:
    """Make a stored watchlist's items `items`: a ticker that stays keeps its item's id."""
    stored: dict[str, int] = dict(
        conn.execute(select(_I.ticker, _I.id).where(_I.watchlist_id == watchlist_id)).all()
    )
    wanted = {item.ticker: item for item in items}
    gone = [item_id for ticker, item_id in stored.items() if ticker not in wanted]
    if gone:
        conn.execute(delete(_ITEMS).where(_I.id.in_(gone)))
    kept = [
        {"item_id": stored[ticker], "new_added_at": item.added_at, "new_notes": item.notes}
        for ticker, item in wanted.items()
        if ticker in stored
    ]
    if kept:
        # One executemany, however many items stay.
        conn.execute(
            update(_ITEMS)
            .where(_I.id == bindparam("item_id"))
            .values(added_at=bindparam("new_added_at"), notes=bindparam("new_notes")),
            kept,
        )
    _insert_items(conn, watchlist_id, [item for item in items if item.ticker not in stored])
