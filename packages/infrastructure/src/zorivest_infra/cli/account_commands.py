"""``zorivest account edit|delete``: correct an account, or remove an unused one."""

from __future__ import annotations

from typing import Annotated

import typer

from zorivest_core.application.use_cases import corrections
from zorivest_core.domain.enums import AccountType
from zorivest_infra.cli.confirm import Yes, confirm_or_refuse
from zorivest_infra.cli.errors import CliError, ExitCode, handle_errors
from zorivest_infra.cli.options import JournalOrUrl, PassphraseFile, Url, positional
from zorivest_infra.cli.output import plain
from zorivest_infra.cli.render import safe
from zorivest_infra.cli.target import open_journal, open_unit_of_work, resolve

AccountId = Annotated[str | None, positional("ID", "The account's id.")]


def _option(name: str, help_text: str) -> object:
    return typer.Option(name, help=help_text, show_default=False)


@handle_errors
def account_edit(
    *,
    journal: JournalOrUrl = None,
    account_id: AccountId = None,
    name: Annotated[str | None, _option("--name", "A readable name.")] = None,
    account_type: Annotated[
        AccountType | None,
        typer.Option(
            "--type", help="The kind of account.", case_sensitive=False, show_default=False
        ),
    ] = None,
    institution: Annotated[str | None, _option("--institution", "Broker or bank name.")] = None,
    currency: Annotated[str | None, _option("--currency", "ISO 4217 code.")] = None,
    tax_advantaged: Annotated[
        bool | None,
        typer.Option("--tax-advantaged/--taxable", help="Tax treatment.", show_default=False),
    ] = None,
    notes: Annotated[str | None, _option("--notes", "Free text.")] = None,
    url: Url = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Change an account's fields (its id stays); prints each change (old -> new)."""
    target, (identifier,) = resolve(journal, url, [account_id], ["ID"])
    values = {
        key: value
        for key, value in (
            ("name", name),
            ("account_type", account_type),
            ("institution", institution),
            ("currency", currency.upper() if currency is not None else None),
            ("is_tax_advantaged", tax_advantaged),
            ("notes", notes),
        )
        if value is not None
    }
    if not values:
        raise CliError(
            "nothing to change: give --name, --type, --institution, --currency, "
            "--tax-advantaged/--taxable or --notes",
            ExitCode.USAGE,
        )
    with open_unit_of_work(target, passphrase_file) as uow:
        result = corrections.edit_account(uow, identifier, values)
    if not result.changes:
        typer.echo(safe(f"Account {identifier} already has these values; nothing changed."))
        return
    typer.echo(safe(f"Edited account {identifier}:"))
    for change in result.changes:
        typer.echo(safe(f"  {change.name}: {plain(change.old)} -> {plain(change.new)}"))


@handle_errors
def account_delete(
    *,
    journal: JournalOrUrl = None,
    account_id: AccountId = None,
    yes: Yes = False,
    url: Url = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Delete an account nothing belongs to (refused, naming what still does)."""
    target, (identifier,) = resolve(journal, url, [account_id], ["ID"])
    with open_journal(target, passphrase_file) as opened:
        with opened.unit_of_work(read_only=True) as uow:
            account = uow.accounts.get(identifier)
            held = corrections.account_references(uow, identifier) if account else {}
        if account is not None and not held:
            confirm_or_refuse(f"account {identifier} ({account.name})", yes=yes)
        # The use case re-checks inside the writing transaction and names what holds it.
        with opened.unit_of_work() as uow:
            corrections.delete_account(uow, identifier)
    typer.echo(safe(f"Deleted account {identifier}."))
