"""Counts in words take the number they show."""

from __future__ import annotations

from zorivest_infra.cli.wording import count_of, noun_for


def test_counts_in_words() -> None:
    assert count_of(0, "trade") == "0 trades"
    assert count_of(1, "trade") == "1 trade"
    assert count_of(1234, "row") == "1,234 rows"
    assert count_of(2, "entry", "entries") == "2 entries"
    assert noun_for(1, "column") == "column"
    assert noun_for(3, "column") == "columns"
