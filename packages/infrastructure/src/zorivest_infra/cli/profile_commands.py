"""`zorivest profile add|list|show|delete`: saved CSV mapping profiles.

A profile tells the generic CSV importer how one broker's file maps onto executions; it
is stored in the journal and used with `zorivest import JOURNAL FILE --profile NAME`.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from zorivest_core.application.mapping_profile import FIELDS, ID_STRATEGIES, MappingProfile
from zorivest_core.application.use_cases import profiles
from zorivest_infra.cli.errors import CliError, ExitCode, handle_errors
from zorivest_infra.cli.groups import command_group
from zorivest_infra.cli.options import JournalOrUrl, Json, PassphraseFile, Url, positional
from zorivest_infra.cli.output import stdout_console
from zorivest_infra.cli.target import open_unit_of_work, resolve

profile_app = command_group("Saved CSV mapping profiles for `zorivest import --profile NAME`.")

ProfileName = Annotated[str | None, positional("NAME", "The profile's name, e.g. my-broker.")]


def _columns(pairs: list[str]) -> dict[str, str]:
    columns: dict[str, str] = {}
    for pair in pairs:
        field, separator, header = pair.partition("=")
        field = field.strip().lower()
        if not separator or not field:
            raise CliError(
                f"--column {pair!r}: write FIELD=HEADER, e.g. --column time='Trade Date' "
                "(an empty HEADER: the file has no such column)",
                ExitCode.USAGE,
            )
        if field in columns:
            raise CliError(f"--column: {field} is mapped twice", ExitCode.USAGE)
        columns[field] = header.strip()
    return columns


def _describe(stored: profiles.StoredProfile) -> list[tuple[str, str]]:
    profile = stored.profile
    mapped = [
        (f"  {field}", repr(header) if header else "(no such column)")
        for field, header in profile.columns.items()
    ]
    return [
        ("name", profile.name),
        ("description", stored.description),
        ("columns", "" if mapped else "(the field names themselves)"),
        *mapped,
        ("date format", profile.date_format or "ISO 8601"),
        ("delimiter", repr(profile.delimiter) if profile.delimiter else "from the header line"),
        ("decimal", repr(profile.decimal)),
        ("buy words", ", ".join(profile.buy_words)),
        ("sell words", ", ".join(profile.sell_words)),
        ("time zone", profile.zone or "(times must carry an offset, or give --tz)"),
        ("ids", profile.id_strategy),
        ("account", profile.account_id or "(from the file or --account)"),
        ("encoding", profile.encoding),
    ]


@handle_errors
def profile_add(
    *,
    journal: JournalOrUrl = None,
    name: ProfileName = None,
    column: Annotated[
        list[str] | None,
        typer.Option(
            "--column",
            metavar="FIELD=HEADER",
            help=f"Which header holds a field (repeatable). Fields: {', '.join(FIELDS)}.",
            show_default=False,
        ),
    ] = None,
    date_format: Annotated[
        str | None,
        typer.Option(
            metavar="FORMAT",
            help="strptime format of the time column, e.g. '%d.%m.%Y %H:%M' (default ISO).",
            show_default=False,
        ),
    ] = None,
    delimiter: Annotated[
        str | None,
        typer.Option(
            metavar="C", help="Field delimiter (default: from the header line).", show_default=False
        ),
    ] = None,
    decimal: Annotated[str, typer.Option(metavar="C", help="Decimal separator, . or ,")] = ".",
    buy: Annotated[
        list[str] | None,
        typer.Option(metavar="WORD", help="A word meaning buy (repeatable).", show_default=False),
    ] = None,
    sell: Annotated[
        list[str] | None,
        typer.Option(metavar="WORD", help="A word meaning sell (repeatable).", show_default=False),
    ] = None,
    zone: Annotated[
        str | None,
        typer.Option(
            "--tz", metavar="ZONE", help="IANA zone of times without an offset.", show_default=False
        ),
    ] = None,
    ids: Annotated[
        str,
        typer.Option(
            metavar="STRATEGY",
            help="column: the file's exec_id column; derived: no id column, derive one.",
        ),
    ] = "column",
    account: Annotated[
        str | None,
        typer.Option(
            metavar="ID", help="Journal account for rows naming none.", show_default=False
        ),
    ] = None,
    encoding: Annotated[str, typer.Option(metavar="NAME", help="The file's encoding.")] = "utf-8",
    description: Annotated[
        str | None, typer.Option(metavar="TEXT", help="A readable description.", show_default=False)
    ] = None,
    replace: Annotated[bool, typer.Option(help="Overwrite a profile of that name.")] = False,
    url: Url = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Save a CSV mapping profile in the journal.

    Example: `zorivest profile add journal.zorivest broker-x --column time=Datum
    --column action=Richtung --date-format '%d.%m.%Y %H:%M' --delimiter ';' --decimal ,
    --buy Kauf --sell Verkauf --tz Europe/Berlin --ids derived`
    """
    target, (profile_name,) = resolve(journal, url, [name], ["NAME"])
    if ids not in ID_STRATEGIES:
        raise CliError(f"--ids must be one of {', '.join(ID_STRATEGIES)}", ExitCode.USAGE)
    profile = MappingProfile(
        name=profile_name,
        columns=_columns(column or []),
        date_format=date_format,
        delimiter=delimiter,
        decimal=decimal,
        buy_words=tuple(buy) if buy else MappingProfile().buy_words,
        sell_words=tuple(sell) if sell else MappingProfile().sell_words,
        zone=zone,
        id_strategy=ids,
        account_id=account,
        encoding=encoding,
    )
    with open_unit_of_work(target, passphrase_file) as uow:
        replaced = profiles.save_profile(uow, profile, description=description, replace=replace)
        uow.commit()
    verb = "Replaced" if replaced else "Saved"
    typer.echo(f"{verb} profile {profile_name} in {target.shown}.")
    typer.echo(f"Use it with: zorivest import {target.shown} FILE --profile {profile_name}")


@handle_errors
def profile_list(
    journal: JournalOrUrl = None,
    as_json: Json = False,
    url: Url = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """List the saved profiles."""
    target, _ = resolve(journal, url, [], [])
    with open_unit_of_work(target, passphrase_file, read_only=True) as uow:
        stored = profiles.list_profiles(uow)
    if as_json:
        typer.echo(json.dumps([_json(item) for item in stored], indent=2))
        return
    if not stored:
        typer.echo(f"No profiles in {target.shown} (add one with: zorivest profile add).")
        return
    for item in stored:
        typer.echo(f"{item.profile.name}  {item.description}")


@handle_errors
def profile_show(
    journal: JournalOrUrl = None,
    name: ProfileName = None,
    as_json: Json = False,
    url: Url = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Show one profile's mapping."""
    target, (profile_name,) = resolve(journal, url, [name], ["NAME"])
    with open_unit_of_work(target, passphrase_file, read_only=True) as uow:
        stored = profiles.load_profile(uow, profile_name)
    if as_json:
        typer.echo(json.dumps(_json(stored), indent=2))
        return
    out = stdout_console()
    for label, value in _describe(stored):
        label_text = label if label.startswith(" ") else f"{label}:"
        out.print(f"{label_text:<13} {value}".rstrip(), markup=False, highlight=False)


@handle_errors
def profile_delete(
    journal: JournalOrUrl = None,
    name: ProfileName = None,
    url: Url = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Delete a saved profile."""
    target, (profile_name,) = resolve(journal, url, [name], ["NAME"])
    with open_unit_of_work(target, passphrase_file) as uow:
        profiles.delete_profile(uow, profile_name)
        uow.commit()
    typer.echo(f"Deleted profile {profile_name} from {target.shown}.")


def _json(stored: profiles.StoredProfile) -> dict[str, object]:
    return {
        "name": stored.profile.name,
        "description": stored.description,
        **{k: v for k, v in stored.profile.to_config().items() if k not in ("kind", "version")},
    }


profile_app.command("add")(profile_add)
profile_app.command("list")(profile_list)
profile_app.command("show")(profile_show)
profile_app.command("delete")(profile_delete)
