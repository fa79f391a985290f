"""Round trips: entry and exit executions grouped into one position's life."""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    Dialect,
    Row,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.sql.elements import KeyedColumnElement

from zorivest_core.application.ports import (
    EVERY_ROUND_TRIP,
    PnlStatistics,
    ReportGrouping,
    RoundTripFilter,
)
from zorivest_core.domain import validation as v
from zorivest_core.domain.entities import RoundTrip
from zorivest_core.domain.enums import RoundTripStatus
from zorivest_core.domain.errors import ValidationError
from zorivest_infra.database.models import AccountModel, RoundTripModel
from zorivest_infra.database.repositories._base import (
    check_limit,
    chunked,
    keyset_pages,
    table_of,
)
from zorivest_infra.database.repositories._core import CoreRepository, half_open
from zorivest_infra.database.types import ExactDecimal, Money, UTCDateTime

_TRIPS = table_of(RoundTripModel)
_ACCOUNTS = table_of(AccountModel)
_R = _TRIPS.c
_SAVE_CHUNK: Final = 1000
_PAIRS_PER_DELETE: Final = 200
_MAX_BATCH: Final = 10_000


class SqlAlchemyRoundTripRepository(CoreRepository[RoundTrip, int]):
    """Round trips per account. Listings are served by the (account_id, instrument) index.

    Exec-id lists are stored as JSON arrays; a NULL commission or status reads as the
    default. `save` returns the generated id; `save` and `update` raise ConflictError for
    an unknown account, `update` and `delete` NotFoundError for a missing id.
    """

    __slots__ = ()
    table = _TRIPS
    entity = RoundTrip
    key = "id"
    noun = "round trip"
    generated_key = True
    null_reads_default = ("total_commission", "status")

    def save(self, round_trip: RoundTrip) -> int:
        return self._save_new(round_trip)

    def get(self, round_trip_id: int) -> RoundTrip | None:
        return self._get(round_trip_id)

    def update(self, round_trip: RoundTrip) -> None:
        self._update(round_trip)

    def delete(self, round_trip_id: int) -> None:
        self._delete(round_trip_id)

    def list_for_account(
        self,
        account_id: str,
        *,
        instrument: str | None = None,
        status: RoundTripStatus | None = None,
    ) -> list[RoundTrip]:
        """An account's round trips, oldest opened first (ties by id).

        Args:
            account_id: The account.
            instrument: Only this instrument (exact match).
            status: Only round trips with this status.
        """
        wanted = None if status is None else v.choice("status", status, RoundTripStatus)
        return self._list(
            *self._equal(account_id=account_id, instrument=instrument, status=wanted),
            order_by=(_R.opened_at, _R.id),
        )

    def count(self) -> int:
        return self._count()

    def save_many(self, round_trips: Iterable[RoundTrip]) -> int:
        """Store new round trips (no ids) in batches; how many were stored.

        Each batch is converted with the columns' own bind conversions and sent as one
        driver ``executemany`` (a rebuild stores hundreds of thousands of rows).

        Raises:
            ValidationError: A round trip carries an id, or a value is out of its column's
                exact range (nothing of that batch is stored).
            ConflictError: An account does not exist (nothing of that batch is stored).
        """
        connection = self._connection()
        inserter = _inserter(connection.dialect)
        stored = 0
        for batch in chunked(round_trips, _SAVE_CHUNK):
            rows = [inserter.encode(trip) for trip in batch]
            with self._atomic(f"saving {len(rows)} round trips") as conn:
                conn.exec_driver_sql(inserter.sql, rows)
            stored += len(rows)
        return stored

    def delete_for_pairs(self, pairs: Iterable[tuple[str, str]]) -> int:
        """Delete every round trip of the given (account_id, instrument) pairs; how many."""
        deleted = 0
        for batch in chunked(sorted(set(pairs)), _PAIRS_PER_DELETE):
            # OR of equalities rather than a row-value IN: every backend plans it on the
            # (account_id, instrument) index.
            condition = or_(
                *(
                    and_(_R.account_id == account, _R.instrument == symbol)
                    for account, symbol in batch
                )
            )
            with self._atomic(f"deleting the round trips of {len(batch)} instrument(s)") as conn:
                deleted += conn.execute(delete(_TRIPS).where(condition)).rowcount
        return deleted

    def opened_before_and_spanning(
        self, account_id: str, instrument: str, *, moment: dt.datetime
    ) -> dt.datetime | None:
        """When the pair's position in progress at ``moment`` opened, if one was.

        That is the latest ``opened_at`` before ``moment`` if a round trip opened then is
        still open or closed at/after ``moment``; None when the position was flat. (A
        pair's round trips follow one another, so only those opened last can span it.)
        Two index lookups on (account_id, instrument, opened_at).
        """
        when = v.utc("moment", moment)
        pair = (_R.account_id == account_id, _R.instrument == instrument)
        connection = self._connection()
        latest = connection.execute(
            select(func.max(_R.opened_at)).where(*pair, _R.opened_at < when)
        ).scalar_one()
        if latest is None:
            return None
        spanning = connection.execute(
            select(func.count())
            .select_from(_TRIPS)
            .where(
                *pair,
                _R.opened_at == latest,
                or_(_R.closed_at.is_(None), _R.closed_at >= when),
            )
        ).scalar_one()
        return v.utc("opened_at", latest) if spanning else None

    def delete_for_pair_since(
        self, account_id: str, instrument: str, *, opened_since: dt.datetime
    ) -> int:
        """Delete the pair's round trips opened at or after ``opened_since``; how many."""
        moment = v.utc("opened_since", opened_since)
        with self._atomic(f"deleting round trips of {instrument!r}") as conn:
            result = conn.execute(
                delete(_TRIPS).where(
                    _R.account_id == account_id,
                    _R.instrument == instrument,
                    _R.opened_at >= moment,
                )
            )
        return int(result.rowcount)

    def delete_all(self) -> int:
        """Delete every round trip (before a full rebuild); how many."""
        with self._atomic("deleting every round trip") as conn:
            return int(conn.execute(delete(_TRIPS)).rowcount)

    def iter_matching(
        self, where: RoundTripFilter = EVERY_ROUND_TRIP, *, batch_size: int = 1000
    ) -> Iterator[RoundTrip]:
        """Round trips that match ``where`` (since/until on opened_at), oldest opened first.

        Read in keyset batches on (opened_at, id): memory stays bounded by ``batch_size``.
        Consume it inside the unit of work that created it.
        """
        size = check_limit(batch_size, maximum=_MAX_BATCH, field="batch_size")
        conditions = self._matching(where, _R.opened_at)
        return self._keyset(conditions, size)

    def _matching(
        self, where: RoundTripFilter, moment: ColumnElement[dt.datetime]
    ) -> list[ColumnElement[bool]]:
        """The conditions of a filter, with since/until on `moment`."""
        status = None if where.status is None else v.choice("status", where.status, RoundTripStatus)
        equal = self._equal(account_id=where.account_id, instrument=where.instrument, status=status)
        return [*equal, *half_open(moment, where.since, where.until)]

    def _keyset(self, conditions: list[ColumnElement[bool]], size: int) -> Iterator[RoundTrip]:
        def page(after: tuple[dt.datetime, int] | None) -> Sequence[Row[Any]]:
            query = self._select.where(*conditions)
            if after is not None:
                query = query.where(
                    or_(_R.opened_at > after[0], and_(_R.opened_at == after[0], _R.id > after[1]))
                )
            query = query.order_by(_R.opened_at, _R.id).limit(size)
            return self._connection().execute(query).all()

        rows = keyset_pages(page, size, lambda row: (row.opened_at, row.id))
        return map(self._from_row, rows)

    def statistics(
        self, where: RoundTripFilter = EVERY_ROUND_TRIP, *, by: ReportGrouping = ReportGrouping.ALL
    ) -> list[PnlStatistics]:
        """Exact P&L aggregates of CLOSED round trips (since/until on closed_at), in SQL.

        One row per currency and group, ordered by group then currency.
        Sums stay exact: money columns are scaled integers on SQLite and NUMERIC on
        PostgreSQL. The maximum drawdown is computed with window functions in closing
        order (closed_at, id).
        """
        grouping = v.choice("by", by, ReportGrouping)
        closed = RoundTripFilter(
            account_id=where.account_id,
            instrument=where.instrument,
            status=RoundTripStatus.CLOSED,
            since=where.since,
            until=where.until,
        )
        conditions = self._matching(closed, _R.closed_at)
        dialect = self._connection().dialect.name
        group = _group_expression(grouping, dialect).label("grp")
        # A round trip's amounts are in its executions' currency, else the account's.
        currency = func.coalesce(_R.currency, _ACCOUNTS.c.currency).label("currency")
        pnl = func.coalesce(_R.realized_pnl, 0)
        money = Money()
        base = (
            select(
                group,
                currency,
                type_coerce(pnl, money).label("pnl"),
                type_coerce(func.coalesce(_R.total_commission, 0), money).label("commission"),
                func.coalesce(_R.holding_period_seconds, 0).label("held"),
                _R.closed_at,
                _R.id,
            )
            .select_from(_TRIPS.join(_ACCOUNTS, _ACCOUNTS.c.account_id == _R.account_id))
            .where(*conditions)
            .subquery("base")
        )
        partition = [base.c.grp, base.c.currency]
        order = [base.c.closed_at, base.c.id]
        running = (
            select(
                base.c.grp,
                base.c.currency,
                func.sum(base.c.pnl).over(partition_by=partition, order_by=order).label("cum"),
                base.c.closed_at,
                base.c.id,
            )
        ).subquery("running")
        peaks = select(
            running.c.grp,
            running.c.currency,
            running.c.cum,
            func.max(running.c.cum)
            .over(
                partition_by=[running.c.grp, running.c.currency],
                order_by=[running.c.closed_at, running.c.id],
            )
            .label("peak"),
        ).subquery("peaks")
        peak = case((peaks.c.peak > 0, peaks.c.peak), else_=literal(0))
        drawdowns = (
            select(
                peaks.c.grp,
                peaks.c.currency,
                type_coerce(func.max(peak - peaks.c.cum), money).label("drawdown"),
            )
            .group_by(peaks.c.grp, peaks.c.currency)
            .subquery("drawdowns")
        )
        zero = literal(0)
        totals = (
            select(
                base.c.grp,
                base.c.currency,
                func.count().label("trips"),
                func.sum(case((base.c.pnl > zero, 1), else_=0)).label("wins"),
                func.sum(case((base.c.pnl < zero, 1), else_=0)).label("losses"),
                type_coerce(func.sum(base.c.pnl), money).label("net"),
                type_coerce(func.sum(base.c.commission), money).label("commission"),
                type_coerce(
                    func.sum(case((base.c.pnl > zero, base.c.pnl), else_=zero)), money
                ).label("won"),
                type_coerce(
                    func.sum(case((base.c.pnl < zero, base.c.pnl), else_=zero)), money
                ).label("lost"),
                type_coerce(func.max(case((base.c.pnl > zero, base.c.pnl))), money).label("best"),
                type_coerce(func.min(case((base.c.pnl < zero, base.c.pnl))), money).label("worst"),
                func.sum(base.c.held).label("held"),
            )
            .group_by(base.c.grp, base.c.currency)
            .subquery("totals")
        )
        query = (
            select(totals, drawdowns.c.drawdown)
            .select_from(
                totals.join(
                    drawdowns,
                    and_(
                        _same_group(totals.c.grp, drawdowns.c.grp),
                        totals.c.currency == drawdowns.c.currency,
                    ),
                )
            )
            .order_by(totals.c.grp, totals.c.currency)
        )
        result = []
        for row in self._connection().execute(query).mappings():
            drawdown = row["drawdown"]
            result.append(
                PnlStatistics(
                    group=None if grouping is ReportGrouping.ALL else str(row["grp"]),
                    currency=row["currency"],
                    round_trips=int(row["trips"]),
                    wins=int(row["wins"]),
                    losses=int(row["losses"]),
                    net_pnl=row["net"],
                    commission=row["commission"],
                    total_win=row["won"],
                    total_loss=row["lost"],
                    largest_win=row["best"],
                    largest_loss=row["worst"],
                    holding_seconds=int(row["held"]),
                    max_drawdown=Decimal(0) if drawdown is None else max(drawdown, Decimal(0)),
                )
            )
        return result


_ROW_COLUMNS: Final = SqlAlchemyRoundTripRepository.rows.written
"""The columns `save_many` binds, in table order (`_Inserter.encode` lists them so)."""


def _identity(value: Any) -> Any:
    return value


@dataclass(frozen=True, slots=True)
class _Inserter:
    """One compiled INSERT for a dialect and the columns' bind conversions, in order."""

    sql: str
    processors: tuple[Callable[[Any], Any], ...]
    positional: bool

    def encode(self, trip: RoundTrip) -> tuple[Any, ...] | dict[str, Any]:
        # Spelled out, not mapped generically: a rebuild encodes hundreds of thousands.
        if trip.id is not None:
            raise v.fail("id", trip.id, "a new round trip is saved without an id")
        values = (
            trip.account_id,
            trip.instrument,
            trip.direction.value,
            trip.entry_exec_ids,
            trip.exit_exec_ids,
            trip.entry_avg_price,
            trip.exit_avg_price,
            trip.total_quantity,
            trip.realized_pnl,
            trip.total_commission,
            trip.opened_at,
            trip.closed_at,
            trip.status.value,
            trip.holding_period_seconds,
            trip.currency,
        )
        try:
            converted = tuple(
                process(value) for process, value in zip(self.processors, values, strict=True)
            )
        except (ValueError, TypeError, ArithmeticError):
            raise _refused(self.processors, values) from None
        return converted if self.positional else dict(zip(_ROW_COLUMNS, converted, strict=True))


def _refused(
    processors: tuple[Callable[[Any], Any], ...], values: tuple[Any, ...]
) -> ValidationError:
    for name, process, value in zip(_ROW_COLUMNS, processors, values, strict=True):
        try:
            process(value)
        except (ValueError, TypeError, ArithmeticError) as error:
            return v.fail(name, value, f"cannot be stored: {error}")
    return v.fail("round_trip", None, "cannot be stored")  # pragma: no cover


_INSERTERS: Final[weakref.WeakKeyDictionary[Dialect, _Inserter]] = weakref.WeakKeyDictionary()


def _inserter(dialect: Dialect) -> _Inserter:
    known = _INSERTERS.get(dialect)
    if known is not None:
        return known
    compiled = insert(_TRIPS).compile(dialect=dialect, column_keys=list(_ROW_COLUMNS))
    positional = bool(dialect.positional)
    if positional and list(compiled.positiontup or ()) != list(_ROW_COLUMNS):
        raise NotImplementedError(f"unexpected parameter order for {dialect.name}")
    processors = tuple(_fast_or_full(name, dialect) for name in _ROW_COLUMNS)
    made = _Inserter(str(compiled), processors, positional)
    _INSERTERS[dialect] = made
    return made


def _full(name: str, dialect: Dialect) -> Callable[[Any], Any]:
    return _TRIPS.c[name].type.dialect_impl(dialect).bind_processor(dialect) or _identity


def _fast_or_full(name: str, dialect: Dialect) -> Callable[[Any], Any]:
    """A cheaper conversion that gives the very values of the column type's own, or that.

    On SQLite an exact decimal is stored as an integer scaled by 10**scale and a UTC time
    as "YYYY-MM-DD HH:MM:SS.ffffff": the shortcut range-checks and scales (the engine's
    values are at the column's scale already) and is used only when it matches the full
    conversion on probes across the range; a value off the scale takes the full path.
    """
    full = _full(name, dialect)
    column_type = _TRIPS.c[name].type
    if isinstance(column_type, ExactDecimal):
        scale = column_type.scale
        unit = Decimal(1).scaleb(-scale)
        limit = Decimal(10) ** (v.SIGNIFICANT_DIGITS - scale)

        def scaled(value: Any) -> Any:
            if value is None:
                return None
            if (
                type(value) is Decimal
                and -limit < value < limit
                and int(value.as_tuple().exponent) >= -scale
            ):
                return int(value.scaleb(scale))
            return full(value)

        probes = (Decimal(0), unit, -unit, Decimal("-123.5"), limit - unit, -limit + unit, None)
        if all(scaled(probe) == full(probe) for probe in probes):
            return scaled
        return full  # pragma: no cover - another dialect's storage
    if isinstance(column_type, UTCDateTime):

        def utc_text(value: Any) -> Any:
            if value is None:
                return None
            if type(value) is dt.datetime and value.tzinfo is dt.UTC:
                return value.isoformat(" ", "microseconds")[:26]
            return full(value)

        probes_time = (
            dt.datetime(2024, 3, 8, 14, 30, tzinfo=dt.UTC),
            dt.datetime(1, 1, 1, 0, 0, 0, 1, tzinfo=dt.UTC),
            dt.datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=dt.UTC),
            None,
        )
        if all(utc_text(probe) == full(probe) for probe in probes_time):
            return utc_text
    return full


def _same_group(
    left: KeyedColumnElement[Any], right: KeyedColumnElement[Any]
) -> ColumnElement[bool]:
    # The ALL grouping's key is NULL on both sides; NULL = NULL is not true in SQL.
    return or_(left == right, and_(left.is_(None), right.is_(None)))


def _group_expression(grouping: ReportGrouping, dialect: str) -> ColumnElement[Any]:
    """The group key of a closed round trip: a UTC day/week/month start, or the instrument.

    SQLite stores UTC times as ISO text ('YYYY-MM-DD HH:MM:SS...'); PostgreSQL as
    timestamptz, read here at UTC. Weeks start on Monday (ISO 8601).
    """
    if grouping is ReportGrouping.ALL:
        return literal(None)
    if grouping is ReportGrouping.INSTRUMENT:
        return _R.instrument
    if dialect == "postgresql":
        unit = {
            ReportGrouping.DAY: "day",
            ReportGrouping.WEEK: "week",
            ReportGrouping.MONTH: "month",
        }
        local = func.timezone("UTC", _R.closed_at)
        return func.to_char(func.date_trunc(unit[grouping], local), "YYYY-MM-DD")
    day = func.substr(_R.closed_at, 1, 10)
    if grouping is ReportGrouping.DAY:
        return day
    if grouping is ReportGrouping.MONTH:
        return func.substr(_R.closed_at, 1, 7).op("||")("-01")
    # 'weekday 0' moves forward to Sunday (or stays), '-6 days' back to that week's Monday.
    return func.date(day, "weekday 0", "-6 days")
