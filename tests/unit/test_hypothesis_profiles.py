"""The property-test profiles that tests/conftest.py registers (CI selects "ci")."""

from __future__ import annotations


def test_the_ci_hypothesis_profile_is_derandomised() -> None:
    from hypothesis import settings

    ci = settings.get_profile("ci")
    assert ci.derandomize is True
    assert ci.database is None
    assert settings.get_profile("fuzz").max_examples > ci.max_examples


def test_a_test_s_own_example_count_grows_with_the_fuzz_profile() -> None:
    from hypothesis import settings

    from tests.budget import examples

    loaded = settings.default
    assert loaded is not None
    current = settings.get_current_profile_name()
    try:
        settings.load_profile("ci")
        assert examples(50) == 50
        settings.load_profile("fuzz")
        assert examples(50) == 6_666  # 50 x 20,000 / 150, rounded down
    finally:
        settings.load_profile(current)
    assert settings.default == loaded
