"""Contract tests: every repository's behaviour on every backend."""
