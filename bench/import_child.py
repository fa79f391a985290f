"""Child process of `flex_import_rss`: import a streamed Flex file, report peak RSS.

Run as ``python -m bench.import_child`` with ``{"path": ..., "count": ...}`` on stdin.
"""

from __future__ import annotations

import io
import json
import sys
import time
from typing import Any

from bench.flex import ACCOUNT, ZONE, FlexStream
from bench.measure import PeakRss

PASSPHRASE = "bench passphrase: it's only a benchmark"  # noqa: S105 - not a secret
WARM_UP = 2_000


def main() -> None:
    from zorivest_core.application.importing import ImportContext
    from zorivest_core.application.use_cases.import_statement import import_statement
    from zorivest_core.domain.entities import Account
    from zorivest_core.domain.enums import AccountType
    from zorivest_infra.importers.ibkr_flex import IbkrFlexImporter
    from zorivest_infra.journal import Journal

    request: dict[str, Any] = json.loads(sys.stdin.read())
    journal = Journal.create(request["path"], PASSPHRASE)
    try:
        with journal.unit_of_work() as uow:
            uow.accounts.save(Account(ACCOUNT, "Bench IBKR", AccountType.BROKER))
            uow.commit()

        def run(count: int) -> int:
            stream = io.BufferedReader(FlexStream(count))
            with journal.unit_of_work() as uow:
                items = IbkrFlexImporter().parse(stream, ImportContext(zone=ZONE))
                summary = import_statement(uow, items, format_name="ibkr-flex")
                uow.commit()
            return summary.inserted + summary.duplicates

        run(WARM_UP)
        with PeakRss() as peak:
            start = time.perf_counter()
            seen = run(request["count"])
            seconds = time.perf_counter() - start
    finally:
        journal.close()
    print(
        json.dumps(
            {
                "inserted": seen,
                "seconds": seconds,
                "start_rss": peak.start_rss,
                "growth": peak.growth,
                "method": peak.method,
            }
        )
    )


if __name__ == "__main__":
    main()
