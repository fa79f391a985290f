"""``python -m zorivest_infra.cli``: the same as the ``zorivest`` console script."""

from zorivest_infra.cli import main

main()
