"""Dependencies point inward: `zorivest_core` uses the standard library only.

Checked twice: statically (every import statement under packages/core/src, found with
`ast`, including imports nested in functions or `if TYPE_CHECKING:` blocks) and dynamically
(a fresh interpreter imports every core module and reports which forbidden packages ended
up in `sys.modules`).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Final

import pytest

ROOT: Final = Path(__file__).resolve().parents[2]
CORE_SRC: Final = ROOT / "packages" / "core" / "src"
CORE_PACKAGE: Final = "zorivest_core"

FORBIDDEN: Final = frozenset(
    {
        "sqlalchemy",
        "PIL",
        "sqlcipher3",
        "pysqlcipher3",
        "argon2",
        "cryptography",
        "psycopg",
        "psycopg2",
        "psycopg_binary",
        "alembic",
        "zorivest_infra",
    }
)


def _core_files() -> list[Path]:
    return sorted(CORE_SRC.rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(CORE_SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def imported_modules(source: str, module: str, *, is_package: bool) -> list[tuple[int, str]]:
    """Every module an import statement in `source` names, as (line, absolute name).

    Relative imports are resolved against `module` (the importing module's dotted name).
    """
    tree = ast.parse(source)
    package_parts = module.split(".") if is_package else module.split(".")[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                assert node.module is not None
                found.append((node.lineno, node.module))
            else:
                base = package_parts[: len(package_parts) - (node.level - 1)]
                name = ".".join([*base, node.module] if node.module else base)
                found.append((node.lineno, name))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def _all_core_imports() -> list[tuple[str, int, str]]:
    rows = []
    for path in _core_files():
        source = path.read_text(encoding="utf-8")
        for line, name in imported_modules(
            source, _module_name(path), is_package=_is_package(path)
        ):
            rows.append((str(path.relative_to(ROOT)), line, name))
    return rows


def _top(name: str) -> str:
    return name.split(".", maxsplit=1)[0]


def test_core_sources_exist() -> None:
    modules = {_module_name(path) for path in _core_files()}
    assert {
        "zorivest_core",
        "zorivest_core.domain.entities",
        "zorivest_core.domain.enums",
        "zorivest_core.domain.errors",
        "zorivest_core.domain.validation",
        "zorivest_core.application.ports",
    } <= modules


def test_core_never_imports_forbidden_packages_statically() -> None:
    offending = [row for row in _all_core_imports() if _top(row[2]) in FORBIDDEN]
    assert offending == [], f"zorivest_core imports outside its layer: {offending}"


def test_core_imports_only_stdlib_and_itself() -> None:
    allowed = set(sys.stdlib_module_names) | {CORE_PACKAGE}
    offending = [row for row in _all_core_imports() if _top(row[2]) not in allowed]
    assert offending == [], f"zorivest_core imports non-stdlib modules: {offending}"


def test_core_relative_imports_stay_inside_core() -> None:
    for path, line, name in _all_core_imports():
        if _top(name) not in sys.stdlib_module_names:
            assert _top(name) == CORE_PACKAGE, (path, line, name)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("import sqlalchemy", "sqlalchemy", id="import"),
        pytest.param("import sqlalchemy.orm as orm", "sqlalchemy.orm", id="import_dotted"),
        pytest.param("from PIL import Image", "PIL", id="from_import"),
        pytest.param(
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import psycopg",
            "psycopg",
            id="type_checking_block",
        ),
        pytest.param("def f():\n    import argon2\n", "argon2", id="nested_in_function"),
        pytest.param(
            "try:\n    import sqlcipher3\nexcept ImportError:\n    pass",
            "sqlcipher3",
            id="optional_import",
        ),
        pytest.param(
            "import importlib\nimportlib.import_module('alembic')", "alembic", id="import_module"
        ),
        pytest.param("__import__('cryptography')", "cryptography", id="dunder_import"),
        pytest.param("from ...zorivest_infra import x", "zorivest_infra", id="relative_escape"),
    ],
)
def test_the_static_check_catches_each_import_form(source: str, expected: str) -> None:
    names = [
        name for _, name in imported_modules(source, "zorivest_core.domain.x", is_package=False)
    ]
    assert expected in names
    assert any(_top(name) in FORBIDDEN for name in names)


def test_relative_imports_resolve_correctly() -> None:
    def names(source: str, module: str, *, is_package: bool = False) -> list[str]:
        return [name for _, name in imported_modules(source, module, is_package=is_package)]

    assert names("from . import enums", "zorivest_core.domain.entities") == ["zorivest_core.domain"]
    assert names("from .errors import X", "zorivest_core.domain.entities") == [
        "zorivest_core.domain.errors"
    ]
    assert names("from ..domain import entities", "zorivest_core.application.ports") == [
        "zorivest_core.domain"
    ]
    assert names("from .domain import enums", "zorivest_core", is_package=True) == [
        "zorivest_core.domain"
    ]


def test_core_imports_no_forbidden_module_at_runtime() -> None:
    modules = sorted(_module_name(path) for path in _core_files())
    script = "\n".join(
        [
            "import importlib, json, sys",
            f"for name in {modules!r}:",
            "    importlib.import_module(name)",
            f"forbidden = {sorted(FORBIDDEN)!r}",
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in forbidden)))",
            "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))",
        ]
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    forbidden_line, loaded_line = result.stdout.strip().splitlines()[-2:]
    assert json.loads(forbidden_line) == []
    loaded = set(json.loads(loaded_line))
    assert CORE_PACKAGE in loaded
    assert "zorivest_infra" not in loaded
    # Whatever the interpreter itself loads at start-up is stdlib; nothing else may appear.
    outside = sorted(
        name
        for name in loaded
        if name not in sys.stdlib_module_names
        and name != CORE_PACKAGE
        and not name.startswith("_")  # interpreter internals, e.g. _distutils_hack (.pth)
    )
    assert outside == [], f"importing zorivest_core loaded non-stdlib modules: {outside}"


def test_core_distribution_declares_no_dependencies() -> None:
    project = tomllib.loads((ROOT / "packages" / "core" / "pyproject.toml").read_text("utf-8"))
    assert project["project"].get("dependencies", []) == []
    assert not project["project"].get("optional-dependencies")
