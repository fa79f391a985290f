"""Use cases: each takes a unit of work and plain inputs and returns a result object."""
