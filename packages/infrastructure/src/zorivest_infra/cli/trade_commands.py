"""``zorivest trade show|edit|delete|note|tag|mistake``: see, correct and annotate a trade.

The rules live in :mod:`zorivest_core.application.use_cases.corrections`; these commands
parse, call and print. Every change is one transaction.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from typing import Annotated

import typer

from zorivest_core.application.use_cases import corrections
from zorivest_core.domain.enums import AssetClass, MistakeCategory, OptionRight, TradeAction
from zorivest_infra.cli.confirm import Yes, confirm_or_refuse
from zorivest_infra.cli.errors import CliError, ExitCode, handle_errors
from zorivest_infra.cli.groups import command_group
from zorivest_infra.cli.options import JournalOrUrl, Json, PassphraseFile, Url, Zone, positional
from zorivest_infra.cli.output import entity_to_json, plain
from zorivest_infra.cli.render import json_line, plural, safe, say
from zorivest_infra.cli.target import Target, open_journal, open_unit_of_work, resolve

trade_app = command_group(
    "Show, correct or annotate one trade: show, edit, delete, note, tag, mistake."
)

ExecId = Annotated[str | None, positional("EXEC_ID", "The trade's exec_id.")]


def _value(option: str, help_text: str, metavar: str = "VALUE") -> object:
    return typer.Option(option, metavar=metavar, help=help_text, show_default=False)


def _shown(value: object) -> str:
    shown = plain(value)
    return "(none)" if shown is None else str(shown)


def _split_target(
    journal: str | None, url: str | None, exec_id: str | None, extra: list[str]
) -> tuple[Target, str, list[str]]:
    """The target, the exec_id and any further positional words (with --url they shift)."""
    if url is None:
        target, (identifier,) = resolve(journal, url, [exec_id], ["EXEC_ID"])
        return target, identifier, extra
    words = [word for word in (journal, exec_id, *extra) if word is not None]
    if not words:
        raise CliError("missing argument EXEC_ID", ExitCode.USAGE)
    return Target(url=url), words[0], words[1:]


@trade_app.command("edit")
@handle_errors
def edit(
    *,
    journal: JournalOrUrl = None,
    exec_id: ExecId = None,
    time: Annotated[
        str | None, _value("--time", "ISO 8601 time (an offset, or --tz).", "TIME")
    ] = None,
    zone: Zone = None,
    instrument: Annotated[str | None, _value("--instrument", "Ticker or symbol.", "SYMBOL")] = None,
    action: Annotated[
        TradeAction | None,
        typer.Option("--action", help="BOT or SLD.", case_sensitive=False, show_default=False),
    ] = None,
    quantity: Annotated[str | None, _value("--quantity", "Positive, exact.", "N")] = None,
    price: Annotated[str | None, _value("--price", "Per unit, exact.", "N")] = None,
    account: Annotated[str | None, _value("--account", "Move to this account.", "ID")] = None,
    commission: Annotated[str | None, _value("--commission", "Exact money.", "N")] = None,
    realized_pnl: Annotated[str | None, _value("--realized-pnl", "Exact money.", "N")] = None,
    asset_class: Annotated[
        AssetClass | None,
        typer.Option("--asset-class", case_sensitive=False, show_default=False),
    ] = None,
    multiplier: Annotated[str | None, _value("--multiplier", "Contract multiplier.", "N")] = None,
    underlying: Annotated[str | None, _value("--underlying", "Option/future underlying.")] = None,
    expiry: Annotated[str | None, _value("--expiry", "Expiry date, YYYY-MM-DD.", "DATE")] = None,
    strike: Annotated[str | None, _value("--strike", "Option strike.", "N")] = None,
    right: Annotated[
        OptionRight | None,
        typer.Option("--right", help="C or P.", case_sensitive=False, show_default=False),
    ] = None,
    currency: Annotated[
        str | None, _value("--currency", "Trade currency (ISO 4217).", "CODE")
    ] = None,
    fx_rate: Annotated[
        str | None, _value("--fx-rate", "Trade currency -> account currency.", "N")
    ] = None,
    url: Url = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Change fields of a stored trade; prints each change (old -> new).

    Example: `zorivest trade edit JOURNAL E1 --price 189.30 --commission 1.05`
    """
    from zorivest_infra.cli import csv_import

    target, identifier, _ = _split_target(journal, url, exec_id, [])
    values: dict[str, object] = {
        name: value
        for name, value in (
            ("instrument", instrument),
            ("action", action),
            ("quantity", quantity),
            ("price", price),
            ("account_id", account),
            ("commission", commission),
            ("realized_pnl", realized_pnl),
            ("asset_class", asset_class),
            ("multiplier", multiplier),
            ("underlying", underlying),
            ("strike", strike),
            ("option_right", right),
            ("currency", currency.upper() if currency is not None else None),
            ("fx_rate", fx_rate),
        )
        if value is not None
    }
    if expiry is not None:
        try:
            values["expiry"] = dt.date.fromisoformat(expiry)
        except ValueError:
            raise CliError(
                f"--expiry must be a date YYYY-MM-DD (got {expiry!r})", ExitCode.USAGE
            ) from None
    if time is not None:
        from zorivest_core.domain.zones import parse_time

        values["time"] = parse_time(time, csv_import.zone_from_name(zone), field_name="--time")
    if not values:
        raise CliError(
            "nothing to change: give at least one of --time, --instrument, --action, "
            "--quantity, --price, --account, --commission, --realized-pnl or an instrument "
            "detail (--asset-class, --multiplier, ...)",
            ExitCode.USAGE,
        )
    with open_unit_of_work(target, passphrase_file) as uow:
        result = corrections.edit_trade(uow, identifier, values)
    if not result.changes:
        say(f"Trade {identifier} already has these values; nothing changed.")
        return
    say(f"Edited trade {identifier}:")
    for change in result.changes:
        say(f"  {change.name}: {_shown(change.old)} -> {_shown(change.new)}")


@trade_app.command("delete")
@handle_errors
def delete(
    *,
    journal: JournalOrUrl = None,
    exec_id: ExecId = None,
    yes: Yes = False,
    url: Url = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Delete a trade with its images, report and mistakes (asks first unless --yes)."""
    target, identifier, _ = _split_target(journal, url, exec_id, [])
    with open_journal(target, passphrase_file) as opened:
        with opened.unit_of_work(read_only=True) as uow:
            preview = corrections.trade_deletion_preview(uow, identifier)
        confirm_or_refuse(f"trade {identifier}{_belongings(preview)}", yes=yes)
        with opened.unit_of_work() as uow:
            done = corrections.delete_trade(uow, identifier)
    say(f"Deleted trade {identifier}{_belongings(done)}.")


def _belongings(deletion: corrections.TradeDeletion) -> str:
    parts = []
    if deletion.images:
        parts.append(plural(deletion.images, "image"))
    if deletion.report:
        parts.append("its report")
    if deletion.mistakes:
        parts.append(plural(deletion.mistakes, "mistake"))
    return f" (with {', '.join(parts)})" if parts else ""


@trade_app.command("show")
@handle_errors
def show(
    *,
    journal: JournalOrUrl = None,
    exec_id: ExecId = None,
    as_json: Json = False,
    url: Url = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Show one trade with its review (note, ratings, tags), mistakes and screenshots."""
    target, identifier, _ = _split_target(journal, url, exec_id, [])
    with open_unit_of_work(target, passphrase_file, read_only=True) as uow:
        details = corrections.trade_details(uow, identifier)
    if as_json:
        document = {
            "trade": entity_to_json(details.trade),
            "report": None if details.report is None else entity_to_json(details.report),
            "mistakes": [entity_to_json(item) for item in details.mistakes],
            "images": [
                entity_to_json(item, exclude=("data", "thumbnail")) for item in details.images
            ],
        }
        typer.echo(json_line(document))
        return
    for name, value in entity_to_json(details.trade).items():
        if value is not None:
            say(f"{name + ':':<14}{value}")
    report = details.report
    if report is not None:
        say("Review:")
        for label, value in (
            ("note", report.lessons_learned),
            ("setup", report.setup_quality),
            ("execution", report.execution_quality),
            ("followed plan", _yes_no(report.followed_plan)),
            ("emotion", report.emotional_state),
            ("tags", ", ".join(report.tags) or None),
        ):
            if value is not None:
                # Long notes wrap under their label (80 columns); escaped before wrapping.
                wrapped = textwrap.fill(
                    safe(str(plain(value))),
                    width=78,
                    initial_indent=f"  {label + ':':<15}",
                    subsequent_indent=" " * 17,
                )
                typer.echo(wrapped)
    for entry in details.mistakes:
        cost = "" if entry.estimated_cost is None else f", cost {plain(entry.estimated_cost)}"
        notes = "" if entry.notes is None else f": {entry.notes}"
        say(f"Mistake {entry.id}: {entry.category.value}{cost}{notes}")
    for image in details.images:
        caption = "" if image.caption is None else f" {image.caption!s}"
        say(f"Image {image.id}: {image.mime_type} {image.width}x{image.height}{caption}")


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


@trade_app.command("note")
@handle_errors
def note(
    *,
    journal: JournalOrUrl = None,
    exec_id: ExecId = None,
    text: Annotated[
        str | None, positional("TEXT", "The note (replaces the trade's lessons learned).")
    ] = None,
    setup: Annotated[
        int | None, typer.Option(min=1, max=5, help="Setup quality, 1-5.", show_default=False)
    ] = None,
    execution: Annotated[
        int | None,
        typer.Option(min=1, max=5, help="Execution quality, 1-5.", show_default=False),
    ] = None,
    followed_plan: Annotated[
        bool | None,
        typer.Option(
            "--followed-plan/--broke-plan", help="Was the plan followed?", show_default=False
        ),
    ] = None,
    emotion: Annotated[
        str | None, _value("--emotion", "Emotional state (e.g. calm, fomo).", "TEXT")
    ] = None,
    url: Url = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Write the trade's review: a note, ratings, whether the plan was followed.

    Example: `zorivest trade note JOURNAL E1 "Exited early" --setup 4 --execution 2`
    """
    target, identifier, rest = _split_target(journal, url, exec_id, [text] if text else [])
    words = rest[0] if rest else None
    if all(item is None for item in (words, setup, execution, followed_plan, emotion)):
        raise CliError(
            "nothing to write: give a TEXT, --setup, --execution, --followed-plan or --emotion",
            ExitCode.USAGE,
        )
    with open_unit_of_work(target, passphrase_file) as uow:
        report = corrections.annotate_trade(
            uow,
            identifier,
            note=words,
            setup_quality=setup,
            execution_quality=execution,
            followed_plan=followed_plan,
            emotional_state=emotion,
        )
    say(f"Saved the review of trade {identifier} (report {report.id}).")


@trade_app.command("tag")
@handle_errors
def tag(
    *,
    journal: JournalOrUrl = None,
    exec_id: ExecId = None,
    tags: Annotated[
        list[str] | None, typer.Argument(metavar="TAG...", help="Tags to add.", show_default=False)
    ] = None,
    remove: Annotated[
        list[str] | None,
        typer.Option(
            "--remove", metavar="TAG", help="A tag to remove (repeatable).", show_default=False
        ),
    ] = None,
    url: Url = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Add tags to a trade (or --remove them); prints the trade's tags.

    Example: `zorivest trade tag JOURNAL E1 breakout gap-up --remove fomo`
    """
    target, identifier, added = _split_target(journal, url, exec_id, list(tags or []))
    if not added and not remove:
        raise CliError("give tags to add, or --remove TAG", ExitCode.USAGE)
    with open_unit_of_work(target, passphrase_file) as uow:
        report = corrections.annotate_trade(
            uow, identifier, add_tags=added, remove_tags=list(remove or [])
        )
    shown = ", ".join(report.tags) if report.tags else "(none)"
    say(f"Tags of trade {identifier}: {shown}")


@trade_app.command("mistake")
@handle_errors
def mistake(
    *,
    journal: JournalOrUrl = None,
    exec_id: ExecId = None,
    category: Annotated[
        MistakeCategory | None,
        typer.Argument(metavar="CATEGORY", help="What kind of mistake.", show_default=False),
    ] = None,
    cost: Annotated[str | None, _value("--cost", "Estimated cost (money).", "N")] = None,
    notes: Annotated[str | None, _value("--notes", "What happened.", "TEXT")] = None,
    url: Url = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Record a mistake made on a trade (early_exit, fomo_entry, no_stop, ...)."""
    extra = [category.value] if category is not None else []
    target, identifier, rest = _split_target(journal, url, exec_id, extra)
    if not rest:
        raise CliError("missing argument CATEGORY", ExitCode.USAGE)
    with open_unit_of_work(target, passphrase_file) as uow:
        entry = corrections.record_mistake(
            uow, identifier, rest[0], estimated_cost=cost, notes=notes
        )
    say(f"Recorded mistake {entry.id} ({entry.category.value}) on trade {identifier}.")
