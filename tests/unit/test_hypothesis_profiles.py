"""The property-test profiles that tests/conftest.py registers (CI selects "ci")."""

from __future__ import annotations


def test_the_ci_hypothesis_profile_is_derandomised() -> None:
    from hypothesis import settings

    ci = settings.get_profile("ci")
    assert ci.derandomize is True
    assert ci.database is None
    assert settings.get_profile("fuzz").max_examples > ci.max_examples
