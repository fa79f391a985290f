"""Groups of subcommands (`zorivest trade ...`, `zorivest image ...`), all set up alike."""

from __future__ import annotations

import typer


def command_group(help_text: str) -> typer.Typer:
    """A Typer group with plain help (Rich help would import Pygments; see cli/app.py)."""
    return typer.Typer(
        help=help_text,
        rich_markup_mode=None,
        no_args_is_help=True,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
