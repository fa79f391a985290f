"""Fast start: what a fresh interpreter imports for help and for opening a current journal.

Each check runs in a subprocess (a clean `sys.modules`) and reports which of the heavy
libraries were imported; the expected lists are written here by hand.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Final

from zorivest_infra.cli.app import COMMANDS
from zorivest_infra.journal import Journal

HEAVY: Final = ("sqlalchemy", "alembic", "PIL", "pygments")


def _imported_after(code: str) -> list[str]:
    """Run `code` in a fresh interpreter; return which HEAVY packages it imported."""
    probe = (
        f"{code}\nimport json, sys\n"
        f"print(json.dumps([name for name in {HEAVY!r} if name in sys.modules]))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr
    result: list[str] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def test_help_of_the_program_and_of_every_command_imports_no_heavy_library() -> None:
    invocations = [["--help"], *([name, "--help"] for name in COMMANDS)]
    # Every subcommand of every group too (account add, trade edit, image export, ...).
    code = (
        "from typer import _click as click\n"
        "from typer.core import TyperGroup\n"
        "from typer.main import get_command\n"
        "from typer.testing import CliRunner\n"
        "from zorivest_infra.cli import app\n"
        f"invocations = {invocations!r}\n"
        "root = get_command(app)\n"
        "with click.Context(root) as ctx:\n"
        "    for name in root.list_commands(ctx):\n"
        "        group = root.get_command(ctx, name)\n"
        "        if isinstance(group, TyperGroup):\n"
        "            invocations += [[name, sub, '--help'] for sub in group.list_commands(ctx)]\n"
        "assert ['account', 'add', '--help'] in invocations\n"
        "runner = CliRunner()\n"
        "for args in invocations:\n"
        "    result = runner.invoke(app, args)\n"
        "    assert result.exit_code == 0, (args, result.output)\n"
        "    assert 'Usage: ' in result.output, args\n"
    )
    assert _imported_after(code) == []


def test_opening_a_journal_at_the_newest_revision_does_not_import_alembic_or_pillow(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'journal.db'}"
    with Journal.connect(url, create_schema=True):  # creates it at the newest revision
        pass
    code = (
        "from zorivest_infra.journal import Journal\n"
        f"with Journal.connect({url!r}) as journal, journal.unit_of_work() as uow:\n"
        "    assert uow.trades.count() == 0\n"
        "    assert journal.schema_upgrade.upgraded is False\n"
    )
    assert _imported_after(code) == ["sqlalchemy"]


def test_opening_an_empty_database_imports_alembic_to_migrate_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    code = (
        "from zorivest_infra.journal import Journal\n"
        f"Journal.connect({url!r}, create_schema=True).close()\n"
    )
    imported = _imported_after(code)
    assert "alembic" in imported  # the probe itself can tell the two cases apart
