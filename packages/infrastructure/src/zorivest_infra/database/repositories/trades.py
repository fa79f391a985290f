"""Trades: one row per broker execution, keyed by the broker's execution id.

The column types are the one codec of a trades row (`database/row_codec.py`): reads are
prebuilt Core statements whose results SQLAlchemy converts with them, mapped by
`trade_from_row`; `save_many` encodes each chunk once into driver values with the same
types (`RowCodec`), compares it with the stored rows in those values (one `IN` query per
chunk), and inserts only new rows with one `executemany` per chunk. Single writes run
under a savepoint (`_base`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from operator import attrgetter
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Connection,
    Dialect,
    Insert,
    Integer,
    Row,
    Select,
    String,
    bindparam,
    cast,
    column,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    table,
    text,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql

from zorivest_core.application.ports import SaveManyResult, TradeCursor, TradeTotals
from zorivest_core.domain import validation as v
from zorivest_core.domain.entities import Trade, TradeReport
from zorivest_core.domain.enums import AssetClass, ImageOwnerType, OptionRight, TradeAction
from zorivest_core.domain.errors import ConflictError
from zorivest_infra.database.direct_select import DirectSelect, driver_rows
from zorivest_infra.database.models import (
    AccountModel,
    ExcursionMetricsModel,
    ImageModel,
    MistakeEntryModel,
    TradeModel,
    TradePlanModel,
    TradeReportModel,
    TransactionLedgerModel,
)
from zorivest_infra.database.repositories._base import (
    LIKE_ESCAPE,
    check_limit,
    chunked,
    contains_pattern,
    keyset_pages,
    not_found,
    table_of,
    utc_now,
)
from zorivest_infra.database.repositories._core import CoreRepository
from zorivest_infra.database.repositories.images import delete_images_of
from zorivest_infra.database.row_codec import CompiledStatement, PerDialect, RowCodec

__all__ = [
    "MAX_PAGE_SIZE",
    "SAVE_MANY_CHUNK_SIZE",
    "TRADE_COLUMNS",
    "SqlAlchemyTradeRepository",
    "report_from_row",
    "trade_from_row",
    "trade_to_row",
]

TRADE_COLUMNS: Final = tuple(item.name for item in fields(Trade))
"""The stored columns of a trade: its fields, in declaration order (each column is named
after its field), so a row of them restores the entity field by field."""

REPORT_COLUMNS: Final = (
    "id",
    "trade_id",
    "setup_quality",
    "execution_quality",
    "followed_plan",
    "emotional_state",
    "lessons_learned",
    "tags",
    "created_at",
)

MAX_PAGE_SIZE: Final = 10_000
"""Largest `limit` (and `batch_size`) a listing accepts."""

MAX_SEARCH_RESULTS: Final = 1_000

SAVE_MANY_CHUNK_SIZE: Final = 1_000
"""Trades per existence query and per `executemany` in `save_many`. 1,000 bound values in
an `IN` list are far below SQLite's 32,766 and PostgreSQL's 65,535 parameter limits."""

_ZERO: Final = Decimal(0)

_TRADES: Final = table_of(TradeModel)
_ACCOUNTS: Final = table_of(AccountModel)
_REPORTS: Final = table_of(TradeReportModel)
_IMAGES: Final = table_of(ImageModel)
_PLANS: Final = table_of(TradePlanModel)
_LEDGER: Final = table_of(TransactionLedgerModel)
_EXCURSIONS: Final = table_of(ExcursionMetricsModel)
_MISTAKES: Final = table_of(MistakeEntryModel)

_T = _TRADES.c
_SELECT_TRADE: Final = select(*(_T[name] for name in TRADE_COLUMNS))
_GET: Final = DirectSelect(_SELECT_TRADE.where(_T.exec_id == bindparam("exec_id")))

# The same columns without types: what the driver stores, with no conversion on the way in
# or out. save_many compares trades with stored rows in these values.
_RAW_TRADES: Final = table("trades", *(column(name) for name in TRADE_COLUMNS))
# One fixed statement for every chunk (shorter lists are padded with NULL): compiled once,
# and prepared once by the driver.
_SELECT_STORED_KEYS: Final = tuple(f"e{index}" for index in range(SAVE_MANY_CHUNK_SIZE))
_GET_STORED: Final = select(*_RAW_TRADES.c).where(_RAW_TRADES.c.exec_id == bindparam("exec_id"))
_SELECT_STORED: Final = select(*_RAW_TRADES.c).where(
    _RAW_TRADES.c.exec_id.in_([bindparam(key) for key in _SELECT_STORED_KEYS])
)


def trade_values(trade: Trade) -> tuple[Any, ...]:
    """The column values of a trade, in `TRADE_COLUMNS` order."""
    return (
        trade.exec_id,
        trade.time,
        trade.instrument,
        trade.action.value,
        trade.quantity,
        trade.price,
        trade.account_id,
        trade.commission,
        trade.realized_pnl,
        None if trade.asset_class is None else trade.asset_class.value,
        trade.multiplier,
        trade.underlying,
        trade.expiry,
        trade.strike,
        None if trade.option_right is None else trade.option_right.value,
        trade.currency,
        trade.fx_rate,
    )


def _value_columns(trades: Sequence[Trade]) -> list[Iterable[Any]]:
    """`trade_values` of many trades, column by column (each built by a loop in C)."""
    columns: list[Iterable[Any]] = []
    for name in TRADE_COLUMNS:
        values: Iterable[Any] = map(attrgetter(name), trades)
        stored = _STORED_ENUM_VALUES.get(name)
        columns.append(values if stored is None else map(stored.__getitem__, values))
    return columns


def trade_to_row(trade: Trade) -> dict[str, Any]:
    """The column values of a trade (for Core `insert`/`update` on the trades table)."""
    return dict(zip(TRADE_COLUMNS, trade_values(trade), strict=True))


def trade_from_row(row: Sequence[Any]) -> Trade:
    """A trade from a row of `TRADE_COLUMNS` values (as the column types return them).

    The row was validated as a `Trade` on its way in and the column types hand back
    normalised values (exact canonical Decimals, aware UTC times), so the entity is restored
    without validating again: re-validation cost a third of a primary-key lookup. A NULL
    P&L (the column is nullable, as in the seed) reads as zero; commission is NOT NULL since
    revision 0003.
    """
    (
        exec_id,
        time,
        instrument,
        action,
        quantity,
        price,
        account_id,
        commission,
        pnl,
        asset_class,
        multiplier,
        underlying,
        expiry,
        strike,
        option_right,
        currency,
        fx_rate,
    ) = row
    return Trade.restore_fields(
        (
            exec_id,
            time,
            instrument,
            _ACTIONS[action],
            quantity,
            price,
            account_id,
            commission,
            _ZERO if pnl is None else pnl,
            _ASSET_CLASSES[asset_class],
            multiplier,
            underlying,
            expiry,
            strike,
            _RIGHTS[option_right],
            currency,
            fx_rate,
        )
    )


def trades_from_columns(count: int, columns: Sequence[Iterable[Any]]) -> list[Trade]:
    """`trade_from_row` for a whole result given column by column (`DirectSelect.columns`)."""
    if not count:
        return []
    fields_ = list(columns)
    for name, decode in _FIELD_DECODERS:
        index = _COLUMN_INDEX[name]
        column = fields_[index]
        if name in _NULLABLE_ENUMS and isinstance(column, tuple) and column.count(None) == count:
            continue  # no value at all (a stock's option right): None stays None
        fields_[index] = map(decode, column)
    return Trade.restore_columns(count, fields_)


def _zero_if_null(value: Decimal | None) -> Decimal:
    return _ZERO if value is None else value


_ACTIONS: Final = {action.value: action for action in TradeAction}
_ASSET_CLASSES: Final[dict[str | None, AssetClass | None]] = {
    None: None,
    **{asset_class.value: asset_class for asset_class in AssetClass},
}
_RIGHTS: Final[dict[str | None, OptionRight | None]] = {
    None: None,
    **{right.value: right for right in OptionRight},
}
_STORED_ENUM_VALUES: Final[dict[str, dict[Any, str | None]]] = {
    name: {None: None, **{member: member.value for member in enum}}
    for name, enum in (
        ("action", TradeAction),
        ("asset_class", AssetClass),
        ("option_right", OptionRight),
    )
}
"""The stored text of each enum field's members (what `trade_values` writes)."""
_COLUMN_INDEX: Final = {name: index for index, name in enumerate(TRADE_COLUMNS)}
_FIELD_DECODERS: Final[tuple[tuple[str, Callable[[Any], Any]], ...]] = (
    ("action", _ACTIONS.__getitem__),
    ("realized_pnl", _zero_if_null),
    ("asset_class", _ASSET_CLASSES.__getitem__),
    ("option_right", _RIGHTS.__getitem__),
)
"""Stored values -> entity values for the columns whose column type leaves them stored
(enum members from their text; a NULL P&L reads as zero)."""
_NULLABLE_ENUMS: Final = frozenset({"asset_class", "option_right"})


def report_from_row(row: Sequence[Any]) -> TradeReport:
    """A trade report from a row of `REPORT_COLUMNS` values; NULL tags read as no tags."""
    (
        report_id,
        trade_id,
        setup_quality,
        execution_quality,
        followed_plan,
        emotional_state,
        lessons_learned,
        tags,
        created_at,
    ) = row
    return TradeReport(
        id=report_id,
        trade_id=trade_id,
        setup_quality=setup_quality,
        execution_quality=execution_quality,
        followed_plan=followed_plan,
        emotional_state=emotional_state,
        lessons_learned=lessons_learned,
        tags=[] if tags is None else tags,
        created_at=created_at,
    )


class SqlAlchemyTradeRepository(CoreRepository[Trade, str]):
    """Trades of every account (implements `TradeRepository`).

    Listings are newest first: `time` descending, ties broken by `exec_id` descending,
    served by the index `ix_trades_account_id_time (account_id, time, exec_id)`.
    Time windows are half-open: `since` is inclusive, `until` exclusive, so consecutive
    windows never overlap or leave a gap. Single-row writes are the Core base's; reads and
    bulk writes are this module's (one row codec, `DirectSelect`).
    """

    __slots__ = ()

    table = _TRADES
    entity = Trade
    key = "exec_id"
    noun = "trade"
    selected = tuple(_TRADES.c[name] for name in TRADE_COLUMNS)

    # The one mapping of a trade to its columns and back, also for the base's helpers.
    def _to_row(self, entity: Trade) -> dict[str, Any]:
        return trade_to_row(entity)

    def _from_row(self, row: Row[Any], /, **given: Any) -> Trade:
        if given:
            raise TypeError(f"a trade is read whole from its row, not with {sorted(given)}")
        return trade_from_row(row)

    # -- single trades -------------------------------------------------------------------

    def save(self, trade: Trade) -> None:
        """Store a new trade.

        Raises:
            DuplicateError: A trade with this exec_id is already stored.
            ConflictError: The trade's account does not exist.
        """
        self._save(trade)

    def get(self, exec_id: str) -> Trade | None:
        """The trade with this exec_id, or None."""
        row = _GET.first(self._connection(), {"exec_id": exec_id})
        return None if row is None else trade_from_row(row)

    def exists(self, exec_id: str) -> bool:
        """Whether a trade with this exec_id is stored."""
        return self._exists(exec_id)

    def count(self, account_id: str | None = None) -> int:
        """How many trades are stored, in all or in one account."""
        return self._count(*self._equal(account_id=account_id))

    def update(self, trade: Trade) -> None:
        """Replace the stored fields of the trade with the same exec_id.

        Raises:
            NotFoundError: No trade with this exec_id is stored.
            ConflictError: The trade's (new) account does not exist.
        """
        self._update(trade)

    def delete(self, exec_id: str) -> None:
        """Delete a trade with everything that belongs to it, all or nothing.

        Removes the trade's images, its report and the report's images, its ledger entries,
        excursion metrics and mistakes; plans linked to it are unlinked (kept, with
        `linked_trade_id` cleared). The foreign keys cascade too where they are enforced,
        but the deletes are explicit so no orphan is left on any connection.

        Raises:
            NotFoundError: No trade with this exec_id is stored (nothing is changed).
        """
        report_ids = select(cast(_REPORTS.c.id, String)).where(_REPORTS.c.trade_id == exec_id)
        with self._atomic(f"deleting trade {exec_id!r}") as connection:
            connection.execute(
                delete(_IMAGES).where(
                    _IMAGES.c.owner_type == ImageOwnerType.REPORT.value,
                    _IMAGES.c.owner_id.in_(report_ids.scalar_subquery()),
                )
            )
            connection.execute(delete(_REPORTS).where(_REPORTS.c.trade_id == exec_id))
            connection.execute(delete(_LEDGER).where(_LEDGER.c.trade_exec_id == exec_id))
            connection.execute(delete(_EXCURSIONS).where(_EXCURSIONS.c.trade_exec_id == exec_id))
            connection.execute(delete(_MISTAKES).where(_MISTAKES.c.trade_id == exec_id))
            connection.execute(
                update(_PLANS)
                .where(_PLANS.c.linked_trade_id == exec_id)
                .values(linked_trade_id=None, updated_at=utc_now())
            )
            result = connection.execute(delete(_TRADES).where(_T.exec_id == exec_id))
            if result.rowcount == 0:
                raise not_found("trade", exec_id)
            # After the trade row is gone (and locked until commit on PostgreSQL), so an
            # image committed concurrently for this trade is seen and deleted too.
            connection.execute(delete_images_of(ImageOwnerType.TRADE, exec_id))

    # -- bulk import ---------------------------------------------------------------------

    def save_many(self, trades: Iterable[Trade]) -> SaveManyResult:
        """Store many trades idempotently, in one savepoint.

        Each exec_id is classified, in input order: not stored yet -> inserted; stored
        with identical content -> a duplicate (nothing changes); stored with different
        content -> a conflict (the stored row is left untouched, never overwritten). An
        exec_id repeated within the input is treated the same way against its first
        occurrence. Re-saving the same trades therefore inserts nothing.

        Returns:
            The exec_ids inserted, found as duplicates, and found in conflict.

        Raises:
            ConflictError: A trade names an account that does not exist. Nothing from this
                call is stored then; the caller's transaction is otherwise unaffected.
            ValidationError: An item is not a `Trade`.
        """
        inserted: list[str] = []
        duplicates: list[str] = []
        conflicts: list[str] = []
        with self._atomic("saving trades in bulk") as connection:
            statements = _statements(connection.dialect)
            # SQLite serialises writers (BEGIN IMMEDIATE), so nothing can be inserted between
            # the check and the INSERT. PostgreSQL (READ COMMITTED) can: there the INSERT
            # skips exec_ids another transaction stored meanwhile and reports which rows
            # it inserted, and the chunk is classified again (`_resolve_race`).
            racing = connection.dialect.name == "postgresql"
            known_accounts: set[str] = set()
            for number, chunk in enumerate(chunked(trades, SAVE_MANY_CHUNK_SIZE)):
                self._require_accounts(chunk, known_accounts, SAVE_MANY_CHUNK_SIZE * number)
                encoded = statements.codec.encode_columns(_value_columns(chunk))
                stored = statements.stored(connection, list({values[0] for values in encoded}))
                marks = (len(inserted), len(duplicates), len(conflicts))
                new_rows: list[tuple[Any, ...]] = []
                for values in encoded:
                    exec_id = values[0]
                    existing = stored.get(exec_id)
                    if existing is None:
                        stored[exec_id] = values
                        new_rows.append(values)
                        inserted.append(exec_id)
                    elif existing == values:
                        duplicates.append(exec_id)
                    else:
                        conflicts.append(exec_id)
                if not new_rows:
                    continue
                if not racing:
                    statements.insert_rows(connection, new_rows)
                    continue
                added = _insert_new(connection, statements, new_rows)
                if len(added) < len(new_rows):
                    del inserted[marks[0] :], duplicates[marks[1] :], conflicts[marks[2] :]
                    ours = {values[0]: values for values in new_rows if values[0] in added}
                    chunk_result = _resolve_race(connection, statements, encoded, ours)
                    inserted += chunk_result.inserted
                    duplicates += chunk_result.duplicates
                    conflicts += chunk_result.conflicts
        return SaveManyResult(inserted=inserted, duplicates=duplicates, conflicts=conflicts)

    def _require_accounts(self, chunk: Sequence[Trade], known: set[str], offset: int) -> None:
        """Refuse items that are not trades, and trades of accounts that do not exist."""
        items: Sequence[object] = chunk
        for index, item in enumerate(items, start=offset):
            if not isinstance(item, Trade):
                raise v.fail(f"trades[{index}]", item, "must be a Trade")
        wanted = {trade.account_id for trade in chunk} - known
        if not wanted:
            return
        found = set(
            self._connection().scalars(
                select(_ACCOUNTS.c.account_id).where(_ACCOUNTS.c.account_id.in_(wanted))
            )
        )
        missing = sorted(wanted - found)
        if missing:
            raise ConflictError(
                f"unknown account(s) {', '.join(map(repr, missing))}: no trade of this "
                "save_many was stored"
            )
        known.update(found)

    # -- listings ------------------------------------------------------------------------

    def list_for_account(
        self,
        account_id: str,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        limit: int = 100,
        after: TradeCursor | None = None,
    ) -> list[Trade]:
        """One page of an account's trades, newest first.

        Args:
            account_id: The account.
            since: Only trades at or after this aware time (inclusive).
            until: Only trades before this aware time (exclusive).
            limit: Page size, 1 to 10,000.
            after: Continue after this position (`TradeCursor.after(last_trade_of_page)`);
                pages never repeat or skip a trade, also among trades with equal times.

        Raises:
            ValidationError: A naive time, or a limit out of range.
        """
        values = self._page_values(account_id, since, until, after, limit)
        page = _PAGES[since is not None, until is not None, after is not None]
        return trades_from_columns(*page.columns(self._connection(), values))

    @staticmethod
    def _page_values(
        account_id: str,
        since: dt.datetime | None,
        until: dt.datetime | None,
        after: TradeCursor | None,
        limit: int,
    ) -> dict[str, Any]:
        """The bound values of a `_PAGES` statement (validated: aware times, a sane limit)."""
        values: dict[str, Any] = {
            "account_id": account_id,
            "limit": check_limit(limit, maximum=MAX_PAGE_SIZE),
        }
        if since is not None:
            values["since"] = v.utc("since", since)
        if until is not None:
            values["until"] = v.utc("until", until)
        if after is not None:
            if not isinstance(after, TradeCursor):
                raise v.fail("after", after, "must be a TradeCursor")
            values["after_time"] = v.utc("after.time", after.time)
            values["after_exec_id"] = after.exec_id
        return values

    def iter_for_account(
        self,
        account_id: str,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        batch_size: int = 1000,
    ) -> Iterator[Trade]:
        """Every trade of an account, newest first, read in keyset batches.

        Memory stays bounded by `batch_size` whatever the number of trades: each batch is
        one indexed query continuing after the previous batch's last trade (no OFFSET).
        Same filters as `list_for_account`. Consume it inside the unit of work that
        created it.

        Raises:
            ValidationError: A naive time, or a batch size out of range (at the call).
        """
        size = check_limit(batch_size, maximum=MAX_PAGE_SIZE, field="batch_size")
        window = (v.optional_utc("since", since), v.optional_utc("until", until))
        return keyset_pages(
            lambda after: self.list_for_account(
                account_id, since=window[0], until=window[1], limit=size, after=after
            ),
            size,
            TradeCursor.after,
        )

    def iter_in_matching_order(
        self,
        *,
        account_id: str | None = None,
        instrument: str | None = None,
        since: dt.datetime | None = None,
        batch_size: int = 5000,
    ) -> Iterator[Trade]:
        """Trades in the order round trips are matched: account, instrument, time, exec_id.

        ``since`` (inclusive) keeps only trades at or after that time.

        One query, streamed `batch_size` rows at a time (a server-side cursor on
        PostgreSQL), so memory stays bounded however many trades there are. Consume it
        inside the unit of work that created it.
        """
        size = check_limit(batch_size, maximum=MAX_PAGE_SIZE, field="batch_size")
        connection = self._connection()
        query = _SELECT_TRADE  # converted by the column types (the one row codec)
        if account_id is not None:
            query = query.where(_T.account_id == account_id)
        if instrument is not None:
            query = query.where(_T.instrument == instrument)
        if since is not None:
            query = query.where(_T.time >= v.utc("since", since))
        query = query.order_by(_T.account_id, _T.instrument, _T.time, _T.exec_id)
        rows = connection.execute(query.execution_options(yield_per=size))
        return map(trade_from_row, rows)

    def list_with_reports(
        self, account_id: str, *, limit: int = 100, after: TradeCursor | None = None
    ) -> list[tuple[Trade, TradeReport | None]]:
        """A page of an account's trades with their reports, in one query.

        Same order and paging as `list_for_account`.
        """
        values = self._page_values(account_id, None, None, after, limit)
        page = _PAGES[False, False, after is not None].statement.subquery("page")
        width = len(TRADE_COLUMNS)
        statement = (
            select(
                *(page.c[name] for name in TRADE_COLUMNS),
                *(_REPORTS.c[name] for name in REPORT_COLUMNS),
            )
            .select_from(page.outerjoin(_REPORTS, _REPORTS.c.trade_id == page.c.exec_id))
            .order_by(page.c.time.desc(), page.c.exec_id.desc())
        )
        return [
            (
                trade_from_row(row[:width]),
                None if row[width] is None else report_from_row(row[width:]),
            )
            for row in self._connection().execute(statement, values)
        ]

    def search_instruments(self, text: str, *, limit: int = 50) -> list[str]:
        """Distinct instruments containing `text`, ignoring case, alphabetically.

        `%`, `_` and other characters in `text` match literally. Case is folded with the
        database's `lower()` on both sides (on SQLite that folds ASCII letters only).
        An empty `text` matches every instrument.

        Raises:
            ValidationError: `text` is not a string, or the limit is out of range.
        """
        if not isinstance(text, str):
            raise v.fail("text", text, "must be a string")
        size = check_limit(limit, maximum=MAX_SEARCH_RESULTS)
        statement = (
            select(_T.instrument)
            .where(
                func.lower(_T.instrument).like(
                    func.lower(contains_pattern(text)), escape=LIKE_ESCAPE
                )
            )
            .distinct()
            .order_by(_T.instrument)
            .limit(size)
        )
        return list(self._connection().scalars(statement))

    def totals(self, account_id: str) -> TradeTotals:
        """Count, total commission and total realized P&L of an account, exact, in SQL.

        An account without trades has zero totals. Sums are exact at any size: on SQLite
        the scaled 64-bit integers are summed in two parts (see `_exact_sum`), because one
        SUM over them overflows once the total passes 2**63.
        """
        connection = self._connection()
        if connection.dialect.name != "sqlite":
            statement = select(
                func.count(),
                func.coalesce(func.sum(_T.commission), literal(_ZERO, _T.commission.type)),
                func.coalesce(func.sum(_T.realized_pnl), literal(_ZERO, _T.realized_pnl.type)),
            ).where(_T.account_id == account_id)
            row = connection.execute(statement).one()
            return TradeTotals(count=int(row[0]), commission=row[1], realized_pnl=row[2])
        row = connection.execute(_SQLITE_TOTALS, {"account_id": account_id}).one()
        return TradeTotals(
            count=int(row[0]),
            commission=_exact_sum(row[1], row[2], _T.commission.type),
            realized_pnl=_exact_sum(row[3], row[4], _T.realized_pnl.type),
        )


# Each scaled integer is v = high * _PART + low (SQLite's / and % truncate toward zero, so
# this holds for negative values too); with |v| < 10**18 both parts stay below 10**9, and
# their sums stay within 64 bits for billions of rows.
_PART: Final = 10**9


def _sum_parts(column: ColumnElement[Any]) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    scaled = type_coerce(column, BigInteger)
    high = scaled.op("/", return_type=BigInteger)(_PART)
    low = scaled.op("%", return_type=BigInteger)(_PART)
    return (
        func.coalesce(func.sum(high), 0),
        func.coalesce(func.sum(low), 0),
    )


# SQLite's planner (no statistics) may take the (account, instrument, time) index, which
# visits the rows instrument by instrument, all over the file: on a million trades that is
# ten times slower than the (account, time) index's nearly sequential order, each row
# lookup decrypting another page. SQLAlchemy renders no SQLite index hint, so the FROM
# is written out and the columns named without a table.
_SQLITE_TOTALS: Final = (
    select(
        func.count(),
        *_sum_parts(column("commission")),
        *_sum_parts(column("realized_pnl")),
    )
    .select_from(text("trades INDEXED BY ix_trades_account_id_time"))
    .where(column("account_id") == bindparam("account_id", type_=String))
)


def _exact_sum(high: int, low: int, column_type: Any) -> Decimal:
    """The Decimal of ``high * _PART + low`` scaled integers, as the column would return it."""
    scaled = int(high) * _PART + int(low)
    return v.canonical(Decimal(scaled).scaleb(-int(column_type.scale)))


# -- statements and codec per dialect --------------------------------------------------


_INSERT_NEW: Final = (
    postgresql.insert(_RAW_TRADES)
    .on_conflict_do_nothing(index_elements=[_RAW_TRADES.c.exec_id])
    .returning(_RAW_TRADES.c.exec_id)
)
_RACE_ATTEMPTS: Final = 10


def _insert_new(
    connection: Connection, statements: _TradeStatements, rows: list[tuple[Any, ...]]
) -> set[str]:
    """Insert rows of new exec_ids on PostgreSQL; return the exec_ids actually inserted.

    A row whose exec_id another transaction stored after the check is skipped (ON CONFLICT
    DO NOTHING), never overwritten, and missing from the result.
    """
    parameters = [dict(zip(TRADE_COLUMNS, row, strict=True)) for row in statements.insertable(rows)]
    return set(connection.execute(_INSERT_NEW, parameters).scalars())


def _resolve_race(
    connection: Connection,
    statements: _TradeStatements,
    encoded: list[tuple[Any, ...]],
    ours: dict[str, tuple[Any, ...]],
) -> SaveManyResult:
    """Classify a chunk again after a concurrent writer stored some of its new exec_ids.

    `ours` are the rows this call inserted. Every other stored row is read again and each
    trade classified against it (duplicate or conflict, as if it had been stored before
    the call); exec_ids stored by nobody (a raced row deleted again) are inserted again.

    Raises:
        ConflictError: The exec_ids kept changing under this call.
    """
    for _ in range(_RACE_ATTEMPTS):
        unique = list({values[0] for values in encoded})
        others = {
            exec_id: values
            for exec_id, values in statements.stored(connection, unique).items()
            if exec_id not in ours
        }
        inserted: list[str] = []
        duplicates: list[str] = []
        conflicts: list[str] = []
        claimed: dict[str, tuple[Any, ...]] = {}
        pending: list[tuple[Any, ...]] = []
        for values in encoded:
            exec_id = values[0]
            existing = others.get(exec_id, claimed.get(exec_id))
            if existing is None:
                claimed[exec_id] = values
                inserted.append(exec_id)
                if exec_id not in ours:
                    pending.append(values)
            elif existing == values:
                duplicates.append(exec_id)
            else:
                conflicts.append(exec_id)
        if pending:
            added = _insert_new(connection, statements, pending)
            ours.update((values[0], values) for values in pending if values[0] in added)
            if len(added) < len(pending):
                continue
        return SaveManyResult(inserted=inserted, duplicates=duplicates, conflicts=conflicts)
    raise ConflictError(
        "save_many gave up: other transactions kept inserting and deleting the same exec_ids"
    )


@dataclass(frozen=True, slots=True)
class _TradeStatements:
    """The trades codec and hot statements of one dialect, compiled once.

    A chunk is classified in *compared* rows: driver values, except the time, which stays
    an aware datetime on both sides (a stored time text decodes ten times faster than an
    aware datetime encodes, and a re-import compares every row but inserts none). Rows
    get their time encoded only on their way into an INSERT (`insertable`).

    Attributes:
        codec: `TRADE_COLUMNS` values -> compared rows (the column types' conversions,
            time left as it is).
        decode_time: The time column's result conversion (stored -> aware datetime).
        insert: INSERT of one row of driver values.
        insert_plain: INSERT of the first nine columns only, for trades without instrument
            details (binding eight NULLs per row doubled SQLite's insert time).
        select_stored: SELECT of the stored rows of up to `SAVE_MANY_CHUNK_SIZE` exec_ids.
        zero_pnl: The driver value of a zero P&L, standing in for NULL when a stored row is
            compared (commission is NOT NULL since revision 0003).
    """

    codec: RowCodec
    decode_time: Callable[[Any], Any]
    insert: CompiledStatement
    insert_plain: CompiledStatement
    select_stored: CompiledStatement
    zero_pnl: Any

    def insert_rows(self, connection: Connection, rows: list[tuple[Any, ...]]) -> None:
        """Insert new rows: those without instrument details through the shorter INSERT."""
        rows = self.insertable(rows)
        plain = [row[:_PLAIN_WIDTH] for row in rows if row[_PLAIN_WIDTH:] == _NO_DETAILS]
        if len(plain) < len(rows):
            detailed = [row for row in rows if row[_PLAIN_WIDTH:] != _NO_DETAILS]
            connection.exec_driver_sql(self.insert.sql, _executemany(self.insert, detailed))
        if plain:
            plain_sql = self.insert_plain.sql
            connection.exec_driver_sql(plain_sql, _executemany(self.insert_plain, plain))

    def insertable(self, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Compared rows -> the driver values an INSERT binds (the time encoded)."""
        encode_time = self.codec.converter("time")
        return [(row[0], encode_time(row[1]), *row[2:]) for row in rows]

    def stored(self, connection: Connection, exec_ids: list[str]) -> dict[str, tuple[Any, ...]]:
        """The stored rows of these exec_ids (at most a chunk), as compared rows."""
        padded = [*exec_ids, *([None] * (SAVE_MANY_CHUNK_SIZE - len(exec_ids)))]
        named = dict(zip(_SELECT_STORED_KEYS, padded, strict=True))
        parameters = self.select_stored.parameters(named)
        rows = driver_rows(connection, self.select_stored.sql, parameters)
        if not rows:
            return {}
        columns: list[Iterable[Any]] = list(zip(*rows, strict=True))
        columns[1] = map(self.decode_time, columns[1])
        return {row[0]: self._comparable(row) for row in zip(*columns, strict=True)}

    def _comparable(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        if row[8] is None:
            return (*row[:8], self.zero_pnl, *row[9:])
        return row


def _page_statement(*, since: bool, until: bool, after: bool) -> Select[Any]:
    """The newest-first page of an account; `<=` on time bounds deep pages' index range."""
    conditions: list[ColumnElement[bool]] = [_T.account_id == bindparam("account_id")]
    if since:
        conditions.append(_T.time >= bindparam("since", type_=_T.time.type))
    if until:
        conditions.append(_T.time < bindparam("until", type_=_T.time.type))
    if after:
        position: BindParameter[Any] = bindparam("after_time", type_=_T.time.type)
        conditions.append(_T.time <= position)
        conditions.append(
            or_(
                _T.time < position,
                (_T.time == position) & (_T.exec_id < bindparam("after_exec_id")),
            )
        )
    return (
        _SELECT_TRADE.where(*conditions)
        .order_by(_T.time.desc(), _T.exec_id.desc())
        .limit(bindparam("limit", type_=Integer))
    )


_PLAIN_WIDTH: Final = TRADE_COLUMNS.index("asset_class")
_PLAIN: Final = TRADE_COLUMNS[:_PLAIN_WIDTH]
_NO_DETAILS: Final = (None,) * (len(TRADE_COLUMNS) - _PLAIN_WIDTH)


def _insert_of(names: Sequence[str]) -> Insert:
    return insert(_RAW_TRADES).values({name: bindparam(name) for name in names})


def _executemany(
    statement: CompiledStatement, rows: list[tuple[Any, ...]]
) -> Sequence[tuple[Any, ...] | Mapping[str, Any]]:
    """Rows of driver values (in column order) as a statement's executemany parameters."""
    names = _PLAIN if len(rows[0]) == _PLAIN_WIDTH else TRADE_COLUMNS
    if statement.order == names:
        return rows  # already in the driver's order: no per-row work
    return [statement.parameters(dict(zip(names, row, strict=True))) for row in rows]


def _build_statements(dialect: Dialect) -> _TradeStatements:
    # Trusted: save_many binds only fields of validated Trade entities.
    codec = RowCodec([_T[name] for name in TRADE_COLUMNS], dialect, trusted=True, leave={"time"})
    decode_time = _T.time.type.dialect_impl(dialect).result_processor(dialect, None)
    return _TradeStatements(
        codec=codec,
        decode_time=decode_time or (lambda value: value),
        insert=CompiledStatement.of(_insert_of(TRADE_COLUMNS), dialect),
        insert_plain=CompiledStatement.of(_insert_of(_PLAIN), dialect),
        select_stored=CompiledStatement.of(_SELECT_STORED, dialect),
        zero_pnl=codec.encode_one("realized_pnl", _ZERO),
    )


_statements: Final = PerDialect(_build_statements)

_PAGES: Final = {
    (since, until, after): DirectSelect(_page_statement(since=since, until=until, after=after))
    for since in (False, True)
    for until in (False, True)
    for after in (False, True)
}
"""The page query for each combination of bounds, built once (compiled once per dialect)."""
