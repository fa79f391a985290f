"""Commands registered by name and imported only when used.

A command table maps each command name to ``"module:attribute"``: a command function or
a Typer application (a group of subcommands). `zorivest info` imports the module of
`info` only; `zorivest --help` imports the command modules for their one-line help, so
command modules import their heavy libraries (SQLAlchemy, Pillow, ...) inside functions.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

import typer

# Typer vendors Click (typer._click) and has no public name for its Command type.
from typer import _click as click
from typer.core import TyperGroup
from typer.main import get_command_from_info, get_group
from typer.models import CommandInfo


def _load(name: str, target: str) -> click.Command:
    module_name, _, attribute = target.partition(":")
    loaded: object = getattr(importlib.import_module(module_name), attribute)
    if isinstance(loaded, typer.Typer):
        group = get_group(loaded)
        group.name = name
        return group
    if not callable(loaded):
        raise TypeError(f"command {name!r}: {target} is neither a function nor a Typer app")
    return get_command_from_info(
        CommandInfo(name=name, callback=loaded), pretty_exceptions_short=True, rich_markup_mode=None
    )


def lazy_group(table: Mapping[str, str]) -> type[TyperGroup]:
    """A Typer group class that adds the commands of `table`, each imported on first use."""

    class LazyGroup(TyperGroup):
        def list_commands(self, ctx: click.Context) -> list[str]:
            return list(dict.fromkeys([*table, *super().list_commands(ctx)]))

        def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
            if cmd_name in table and cmd_name not in self.commands:
                self.commands[cmd_name] = _load(cmd_name, table[cmd_name])
            return super().get_command(ctx, cmd_name)

    return LazyGroup
