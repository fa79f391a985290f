"""Write docs/schema.md (Mermaid ER diagram and index list) from the models.

uv run python scripts/generate_schema_doc.py          # rewrite the file
uv run python scripts/generate_schema_doc.py --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from zorivest_infra.database.schema_doc import DOC_PATH, render_schema_doc

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only check, do not write")
    args = parser.parse_args(argv)
    path = ROOT / DOC_PATH
    text = render_schema_doc()
    current = path.read_text(encoding="utf-8") if path.exists() else None
    if args.check:
        if current != text:
            print(f"{DOC_PATH} is out of date: run uv run python scripts/generate_schema_doc.py")
            return 1
        print(f"{DOC_PATH} is up to date")
        return 0
    if current == text:
        print(f"{DOC_PATH} unchanged")
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {DOC_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
