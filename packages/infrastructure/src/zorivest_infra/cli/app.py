"""The ``zorivest`` Typer application: global options and the command table.

Adding a command is one line in `COMMANDS` (keep its module free of heavy imports at the
top: `--help` imports it).
"""

from __future__ import annotations

from importlib import metadata
from typing import Annotated, Final

import typer

from zorivest_infra.cli.errors import EXIT_CODE_HELP, STATE
from zorivest_infra.cli.lazy import lazy_group

COMMANDS: Final = {
    # One line per command: its name and "module:function" (or a Typer app for a group).
    "init": "zorivest_infra.cli.commands:init",
    "encrypt": "zorivest_infra.cli.commands:encrypt",
    "account": "zorivest_infra.cli.account_app:account_app",
    "profile": "zorivest_infra.cli.profile_commands:profile_app",
    "import": "zorivest_infra.cli.import_commands:import_statement_command",
    "trades": "zorivest_infra.cli.commands:trades",
    "attach": "zorivest_infra.cli.commands:attach",
    "images": "zorivest_infra.cli.commands:images",
    "image": "zorivest_infra.cli.image_commands:image_app",
    "trade": "zorivest_infra.cli.trade_commands:trade_app",
    "thumbnail": "zorivest_infra.cli.image_commands:thumbnail",
    "info": "zorivest_infra.cli.commands:info",
    "verify": "zorivest_infra.cli.commands:verify",
    "backup": "zorivest_infra.cli.commands:backup",
    "passwd": "zorivest_infra.cli.commands:passwd",
    "upgrade": "zorivest_infra.cli.commands:upgrade",
    "demo": "zorivest_infra.cli.commands:demo",
    "export": "zorivest_infra.cli.export_commands:export",
    "import-export": "zorivest_infra.cli.export_commands:import_export",
    "roundtrips": "zorivest_infra.cli.roundtrip_commands:roundtrips",
    "report": "zorivest_infra.cli.roundtrip_commands:report",
    "reconcile": "zorivest_infra.cli.roundtrip_commands:reconcile",
}
"""The command table; each module is imported only when its command runs (or for --help)."""

# Plain help (rich_markup_mode=None): Typer's Rich help would import Pygments on every start.
_EPILOG = (
    "Passphrases come from a hidden prompt, ZORIVEST_PASSPHRASE or --passphrase-file "
    "(never from an argument value). Put --debug before the command for a traceback.\n\n"
    "\b\nExit codes:\n"
    + "\n".join(f"  {int(code):>2}  {meaning}" for code, meaning in EXIT_CODE_HELP)
)

app = typer.Typer(
    name="zorivest",
    cls=lazy_group(COMMANDS),
    help=(
        "Zorivest: a local-first, encrypted trading journal.\n\n"
        "Start with `zorivest demo`, or `zorivest init journal.zorivest`."
    ),
    epilog=_EPILOG,
    rich_markup_mode=None,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
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
