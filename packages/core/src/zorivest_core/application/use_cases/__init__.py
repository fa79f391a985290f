"""Use cases: what the application does, each taking a unit of work."""
