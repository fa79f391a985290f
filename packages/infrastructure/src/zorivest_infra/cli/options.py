"""Argument and option declarations shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from zorivest_core.domain.errors import NotFoundError
from zorivest_infra.cli.render import OutputFormat

if TYPE_CHECKING:
    from zorivest_core.application.ports import UnitOfWork
    from zorivest_infra.cli.target import Target

JournalOrUrl = Annotated[
    str | None,
    typer.Argument(
        metavar="JOURNAL",
        help="The encrypted journal file (leave out when --url is given).",
        show_default=False,
    ),
]
JournalPath = Annotated[
    Path,
    typer.Argument(metavar="JOURNAL", help="The encrypted journal file.", show_default=False),
]
Url = Annotated[
    str | None,
    typer.Option(
        "--url",
        metavar="URL",
        help=(
            "A server database instead of a journal file, e.g. "
            "postgresql+psycopg://user@host/zorivest (keep the password out of the URL: "
            "psycopg reads PGPASSWORD or ~/.pgpass)."
        ),
        show_default=False,
    ),
]
PassphraseFile = Annotated[
    Path | None,
    typer.Option(
        "--passphrase-file",
        metavar="PATH",
        help=(
            "Read the passphrase from the first line of PATH. Otherwise it comes from "
            "ZORIVEST_PASSPHRASE or a hidden prompt; it is never an argument value."
        ),
        show_default=False,
    ),
]
Json = Annotated[
    bool, typer.Option("--json", help="Print JSON instead of a table (decimals as strings).")
]
Zone = Annotated[
    str | None,
    typer.Option(
        "--tz",
        metavar="ZONE",
        help="IANA time zone (e.g. Europe/London) for times written without a UTC offset.",
        show_default=False,
    ),
]


def positional(name: str, help_text: str) -> object:
    """An argument that moves up one place when --url replaces JOURNAL (see target.resolve)."""
    return typer.Argument(metavar=name, help=help_text, show_default=False)


Format = Annotated[
    OutputFormat | None,
    typer.Option(
        "--format",
        help="Output format (default: table). Every format streams.",
        show_default=False,
        case_sensitive=False,
    ),
]
Wide = Annotated[
    bool,
    typer.Option("--wide", help="Tables: every column, ids in full (wider than the terminal)."),
]
AccountFilter = Annotated[
    str | None,
    typer.Option("--account", metavar="ID", help="Only this account.", show_default=False),
]
Since = Annotated[
    str | None,
    typer.Option(metavar="TIME", help="From this date or ISO 8601 time.", show_default=False),
]
Until = Annotated[
    str | None,
    typer.Option(
        metavar="TIME", help="Up to this date (inclusive), or before this time.", show_default=False
    ),
]


def check_account_filter(uow: UnitOfWork, account: str | None, target: Target) -> None:
    """Refuse an --account that names no account of the journal (not an empty listing)."""
    if account is not None and not uow.accounts.exists(account):
        raise NotFoundError(f"no account {account!r} in {target.shown}")
