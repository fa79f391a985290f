"""Use cases: what the journal does, each a plain function taking a unit of work.

One module per use case. Entry points (the CLI) parse arguments, call one of these and
print the result; the business rules live here, so they are tested on `tests.fakes`
without a database and once more on the real unit of work.
"""
