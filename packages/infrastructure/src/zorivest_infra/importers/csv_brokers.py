"""The broker CSV importers of this package, for the registry to list.

`CSV_IMPORTERS` holds one instance of each (they keep no state between files). The
generic CSV importer is not here: it is built per import from the user's options or a
saved profile (`zorivest_infra.importers.generic`).
"""

from __future__ import annotations

from typing import Final

from zorivest_core.application.importing import Importer
from zorivest_infra.importers.degiro import DegiroImporter
from zorivest_infra.importers.fidelity import FidelityImporter
from zorivest_infra.importers.schwab import SchwabImporter
from zorivest_infra.importers.tradovate import TradovateImporter

CSV_IMPORTERS: Final[tuple[Importer, ...]] = (
    SchwabImporter(),
    FidelityImporter(),
    TradovateImporter(),
    DegiroImporter(),
)
