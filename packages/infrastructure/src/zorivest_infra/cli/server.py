"""``zorivest init --url``: giving a server database the Zorivest schema, on purpose.

Every other command refuses a database without the schema (`SchemaMissingError`, naming
``init --url``), so a mistyped URL never gets Zorivest's tables grafted onto it.
"""

from __future__ import annotations

import typer

from zorivest_infra.cli.errors import CliError, ExitCode
from zorivest_infra.cli.target import safe_url


def init_server(url: str) -> None:
    """Create the schema in the database at `url`; refuse one that already has it."""
    from zorivest_infra.database import migrations
    from zorivest_infra.database.engine import create_engine_from_url
    from zorivest_infra.journal import Journal

    shown = safe_url(url)
    engine = create_engine_from_url(url)
    try:
        migrations.check_compatible(engine)  # newer or foreign Zorivest tables: refused
        existing = migrations.current_revision(engine)
    finally:
        engine.dispose()
    if existing is not None:
        raise CliError(
            f"{shown} already has the Zorivest schema (revision {existing}); nothing was "
            f"changed (to bring it to the newest revision: zorivest upgrade --url URL)",
            ExitCode.ALREADY_EXISTS,
        )
    with Journal.connect(url, create_schema=True) as created:
        revision = created.schema_revision
    typer.echo(f"Created the Zorivest schema in {shown} (schema revision {revision}).")
