"""How many examples a property test runs: its usual number, scaled up by the profile.

A test that sets its own `max_examples` (a database round trip is slow, a pure check is
fast) would otherwise ignore the opt-in long `fuzz` profile (tests/conftest.py).
"""

from __future__ import annotations

from typing import Final

from hypothesis import settings

USUAL_EXAMPLES: Final = 150
"""`max_examples` of the everyday profiles, "ci" and "dev" (tests/conftest.py)."""


def examples(usual: int) -> int:
    """`usual` under the everyday profiles; as many times more as the loaded profile asks
    (`fuzz`: 20,000 / 150, so ~133x)."""
    loaded = settings.default
    if loaded is None:  # pragma: no cover - tests/conftest.py loads a profile first
        raise RuntimeError("no Hypothesis profile is loaded")
    return max(usual, usual * loaded.max_examples // USUAL_EXAMPLES)
