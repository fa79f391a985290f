"""The `zorivest account` group."""

from __future__ import annotations

from zorivest_infra.cli import account_commands, commands
from zorivest_infra.cli.groups import command_group

account_app = command_group("Add, list, edit and delete accounts.")
account_app.command("add")(commands.account_add)
account_app.command("list")(commands.account_list)
account_app.command("edit")(account_commands.account_edit)
account_app.command("delete")(account_commands.account_delete)
