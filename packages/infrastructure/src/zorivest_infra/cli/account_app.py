"""The `zorivest account` group."""

from __future__ import annotations

import typer

from zorivest_infra.cli import account_commands, commands

account_app = typer.Typer(
    help="Add, list, edit and delete accounts.",
    rich_markup_mode=None,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
account_app.command("add")(commands.account_add)
account_app.command("list")(commands.account_list)
account_app.command("edit")(account_commands.account_edit)
account_app.command("delete")(account_commands.account_delete)
