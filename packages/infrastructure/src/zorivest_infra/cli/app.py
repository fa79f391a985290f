"""The ``zorivest`` Typer application: global options and the command table."""

from __future__ import annotations

from importlib import metadata
from typing import Annotated

import typer

from zorivest_infra.cli import (
    account_commands,
    commands,
    export_commands,
    import_commands,
    profile_commands,
    roundtrip_commands,
)
from zorivest_infra.cli.errors import EXIT_CODE_HELP, STATE
from zorivest_infra.cli.image_commands import image_app
from zorivest_infra.cli.trade_commands import trade_app

_EPILOG = (
    "Passphrases come from a hidden prompt, `ZORIVEST_PASSPHRASE` or `--passphrase-file` "
    "(never from an argument value). Put `--debug` before the command for a traceback.\n\n"
    "**Exit codes**\n\n"
    + "\n".join(f"- **{int(code)}** {meaning}" for code, meaning in EXIT_CODE_HELP)
)

app = typer.Typer(
    name="zorivest",
    help=(
        "Zorivest: a local-first, encrypted trading journal.\n\n"
        "Start with `zorivest demo`, or `zorivest init journal.zorivest`."
    ),
    epilog=_EPILOG,
    rich_markup_mode="markdown",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

account_app = typer.Typer(
    help="Add, list, edit and delete accounts.",
    rich_markup_mode="markdown",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"zorivest {metadata.version('zorivest-infra')}")
        raise typer.Exit


@app.callback()
def _root(
    debug: Annotated[
        bool,
        typer.Option("--debug", help="Show tracebacks on errors (or set ZORIVEST_DEBUG=1)."),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Zorivest: a local-first, encrypted trading journal."""
    STATE.debug = debug


app.command("init")(commands.init)
app.command("encrypt")(commands.encrypt)
account_app.command("add")(commands.account_add)
account_app.command("list")(commands.account_list)
account_app.command("edit")(account_commands.account_edit)
account_app.command("delete")(account_commands.account_delete)
app.add_typer(account_app, name="account")
app.add_typer(profile_commands.profile_app, name="profile")
app.command("import")(import_commands.import_statement_command)
app.command("trades")(commands.trades)
app.command("attach")(commands.attach)
app.command("images")(commands.images)
app.add_typer(image_app, name="image")
app.add_typer(trade_app, name="trade")
app.command("thumbnail")(commands.thumbnail)
app.command("info")(commands.info)
app.command("verify")(commands.verify)
app.command("backup")(commands.backup)
app.command("passwd")(commands.passwd)
app.command("upgrade")(commands.upgrade)
app.command("demo")(commands.demo)
app.command("export")(export_commands.export)
app.command("import-export")(export_commands.import_export)
app.command("roundtrips")(roundtrip_commands.roundtrips)
app.command("report")(roundtrip_commands.report)
app.command("reconcile")(roundtrip_commands.reconcile)
