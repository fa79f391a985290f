"""The `zorivest account` group."""

from __future__ import annotations

import typer

from zorivest_infra.cli import commands

account_app = typer.Typer(
    help="Add and list accounts.",
    rich_markup_mode=None,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
account_app.command("add")(commands.account_add)
account_app.command("list")(commands.account_list)
