"""Corrections: edit or delete a trade, an image or an account; notes, tags and mistakes.

Each function takes an open (entered) unit of work, makes its change and commits it, so
every correction is exactly one transaction: when a rule refuses the change, or anything
fails, nothing of it is kept. Round trips follow the trades they are built from: the
(account, instrument) pairs a trade change touches are returned in ``affected``, and the
round trips of those pairs are rebuilt in the same transaction, just before the commit
(``use_cases.round_trips.refresh_round_trips``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from zorivest_core.application.ports import UnitOfWork
from zorivest_core.application.use_cases.round_trips import refresh_round_trips
from zorivest_core.domain.entities import Account, ImageAttachment, MistakeEntry, Trade, TradeReport
from zorivest_core.domain.enums import ImageOwnerType, MistakeCategory
from zorivest_core.domain.errors import ConflictError, NotFoundError, ValidationError

Pair = tuple[str, str]
"""An (account_id, instrument) pair whose round trips a change affects."""

TRADE_EDITABLE = tuple(item.name for item in dataclasses.fields(Trade) if item.name != "exec_id")
"""Every field of a trade but its exec_id (which identifies it)."""
ACCOUNT_EDITABLE = ("name", "account_type", "institution", "currency", "is_tax_advantaged", "notes")


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field's stored value before and after a change."""

    name: str
    old: object
    new: object


@dataclass(frozen=True, slots=True)
class TradeEdit:
    """What `edit_trade` changed (nothing when ``changes`` is empty)."""

    exec_id: str
    changes: list[FieldChange]
    affected: set[Pair] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class TradeDeletion:
    """What went with a deleted trade."""

    trade: Trade
    images: int
    report: bool
    mistakes: int
    affected: set[Pair] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class AccountEdit:
    account_id: str
    changes: list[FieldChange]


def _differences(before: object, after: object, names: Iterable[str]) -> list[FieldChange]:
    return [
        FieldChange(name, getattr(before, name), getattr(after, name))
        for name in names
        if getattr(before, name) != getattr(after, name)
    ]


def _refuse_unknown(values: Mapping[str, object], allowed: Sequence[str], what: str) -> None:
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ValidationError(f"{what} has no editable field {', '.join(unknown)}")


def _require_trade(uow: UnitOfWork, exec_id: str) -> Trade:
    trade = uow.trades.get(exec_id)
    if trade is None:
        raise NotFoundError(f"no trade with exec_id {exec_id!r}")
    return trade


def edit_trade(uow: UnitOfWork, exec_id: str, values: Mapping[str, object]) -> TradeEdit:
    """Change some fields of a stored trade (validated like a new trade), in one commit.

    Raises:
        NotFoundError: No such trade, or the new account does not exist.
        ValidationError: A field that cannot be edited, or a value the trade refuses.
    """
    _refuse_unknown(values, TRADE_EDITABLE, "a trade")
    before = _require_trade(uow, exec_id)
    after = dataclasses.replace(before, **values)  # type: ignore[arg-type]
    changes = _differences(before, after, TRADE_EDITABLE)
    if not changes:
        return TradeEdit(exec_id, [])
    if after.account_id != before.account_id and not uow.accounts.exists(after.account_id):
        raise NotFoundError(f"no account {after.account_id!r}")
    uow.trades.update(after)
    affected = {(before.account_id, before.instrument), (after.account_id, after.instrument)}
    refresh_round_trips(uow, affected)  # round trips follow, in the same transaction
    uow.commit()
    return TradeEdit(exec_id, changes, affected)


@dataclass(frozen=True, slots=True)
class TradeDetails:
    """A trade with what belongs to it: its review, mistakes and screenshots (no bytes)."""

    trade: Trade
    report: TradeReport | None
    mistakes: list[MistakeEntry]
    images: list[ImageAttachment]


def trade_details(uow: UnitOfWork, exec_id: str) -> TradeDetails:
    """Everything stored about one trade (reads only)."""
    trade = _require_trade(uow, exec_id)
    return TradeDetails(
        trade=trade,
        report=uow.trade_reports.get_for_trade(exec_id),
        mistakes=uow.mistakes.list_for_trade(exec_id),
        images=uow.images.get_for_trade(exec_id),
    )


def trade_deletion_preview(uow: UnitOfWork, exec_id: str) -> TradeDeletion:
    """What deleting the trade would remove (nothing is changed)."""
    trade = _require_trade(uow, exec_id)
    report = uow.trade_reports.get_for_trade(exec_id)
    images = len(uow.images.get_for_trade(exec_id))
    if report is not None and report.id is not None:
        images += len(uow.images.get_for_owner(ImageOwnerType.REPORT, str(report.id)))
    return TradeDeletion(
        trade=trade,
        images=images,
        report=report is not None,
        mistakes=len(uow.mistakes.list_for_trade(exec_id)),
        affected={(trade.account_id, trade.instrument)},
    )


def delete_trade(uow: UnitOfWork, exec_id: str) -> TradeDeletion:
    """Delete a trade with its images, report and mistakes, in one commit."""
    deletion = trade_deletion_preview(uow, exec_id)
    uow.trades.delete(exec_id)
    refresh_round_trips(uow, deletion.affected)  # round trips follow, same transaction
    uow.commit()
    return deletion


def annotate_trade(
    uow: UnitOfWork,
    exec_id: str,
    *,
    note: str | None = None,
    setup_quality: int | None = None,
    execution_quality: int | None = None,
    followed_plan: bool | None = None,
    emotional_state: str | None = None,
    add_tags: Sequence[str] = (),
    remove_tags: Sequence[str] = (),
) -> TradeReport:
    """Set the given fields of the trade's report (created when missing), in one commit.

    ``note`` replaces the report's lessons learned; tags are added (kept unique, in the
    order given) or removed. Fields left None keep their stored value.

    Raises:
        NotFoundError: No such trade, or a tag to remove that the report does not have.
        ValidationError: A rating outside 1-5 or another value the report refuses.
    """
    _require_trade(uow, exec_id)
    stored = uow.trade_reports.get_for_trade(exec_id)
    report = stored if stored is not None else TradeReport(trade_id=exec_id)
    tags = list(report.tags)
    for tag in remove_tags:
        if tag not in tags:
            raise NotFoundError(f"trade {exec_id!r} has no tag {tag!r}")
        tags.remove(tag)
    tags += [tag for tag in dict.fromkeys(add_tags) if tag not in tags]
    given: dict[str, object] = {
        "lessons_learned": note,
        "setup_quality": setup_quality,
        "execution_quality": execution_quality,
        "followed_plan": followed_plan,
        "emotional_state": emotional_state,
    }
    updated = dataclasses.replace(
        report,
        tags=tags,
        **{name: value for name, value in given.items() if value is not None},  # type: ignore[arg-type]
    )
    if stored is None:
        new_id = uow.trade_reports.save(updated)
        updated = dataclasses.replace(updated, id=new_id)
    else:
        uow.trade_reports.update(updated)
    uow.commit()
    return updated


def record_mistake(
    uow: UnitOfWork,
    exec_id: str,
    category: MistakeCategory | str,
    *,
    estimated_cost: Decimal | str | None = None,
    notes: str | None = None,
) -> MistakeEntry:
    """Record a mistake made on a trade, in one commit."""
    _require_trade(uow, exec_id)
    entry = MistakeEntry(
        trade_id=exec_id,
        category=category,  # type: ignore[arg-type]
        estimated_cost=estimated_cost,  # type: ignore[arg-type]
        notes=notes,
    )
    new_id = uow.mistakes.save(entry)
    uow.commit()
    return dataclasses.replace(entry, id=new_id)


def delete_image(uow: UnitOfWork, image_id: int) -> ImageAttachment:
    """Delete one image (returns what it was, without its bytes), in one commit."""
    image = image_without_data(uow, image_id)
    uow.images.delete(image_id)
    uow.commit()
    return image


def image_without_data(uow: UnitOfWork, image_id: int) -> ImageAttachment:
    image = uow.images.get(image_id)
    if image is None:
        raise NotFoundError(f"no image with id {image_id}")
    return dataclasses.replace(image, data=None, thumbnail=None)


def edit_account(uow: UnitOfWork, account_id: str, values: Mapping[str, object]) -> AccountEdit:
    """Change some fields of an account (its id stays), in one commit."""
    _refuse_unknown(values, ACCOUNT_EDITABLE, "an account")
    before = uow.accounts.get(account_id)
    if before is None:
        raise NotFoundError(f"no account {account_id!r}")
    after = dataclasses.replace(before, **values)  # type: ignore[arg-type]
    changes = _differences(before, after, ACCOUNT_EDITABLE)
    if changes:
        uow.accounts.update(after)
        uow.commit()
    return AccountEdit(account_id, changes)


_SINGULAR = {
    "trades": "trade",
    "balance snapshots": "balance snapshot",
    "round trips": "round trip",
    "bank transactions": "bank transaction",
}


def account_references(uow: UnitOfWork, account_id: str) -> dict[str, int]:
    """How many records of each kind still belong to the account (only non-zero kinds)."""
    counts = {
        "trades": uow.trades.count(account_id),
        "balance snapshots": len(uow.balance_snapshots.list_for_account(account_id)),
        "round trips": len(uow.round_trips.list_for_account(account_id)),
        "bank transactions": len(uow.bank_transactions.list_for_account(account_id)),
    }
    return {kind: count for kind, count in counts.items() if count}


def delete_account(uow: UnitOfWork, account_id: str) -> Account:
    """Delete an account nothing belongs to any more, in one commit.

    Raises:
        NotFoundError: No such account.
        ConflictError: Records still belong to it; the message names them with counts.
    """
    account = uow.accounts.get(account_id)
    if account is None:
        raise NotFoundError(f"no account {account_id!r}")
    held = account_references(uow, account_id)
    if held:
        listed = ", ".join(
            f"{count:,} {kind if count != 1 else _SINGULAR[kind]}" for kind, count in held.items()
        )
        raise ConflictError(f"account {account_id!r} still has {listed}; delete or move them first")
    uow.accounts.delete(account_id)
    uow.commit()
    return account
