"""List the screenshots of one trade (their metadata and thumbnails, never the bytes)."""

from __future__ import annotations

from zorivest_core.application.ports import UnitOfWork
from zorivest_core.domain.entities import ImageAttachment
from zorivest_core.domain.errors import NotFoundError


def list_images(uow: UnitOfWork, exec_id: str) -> list[ImageAttachment]:
    """The images attached to trade `exec_id`, in the order they were attached.

    Args:
        uow: An active unit of work.

    Raises:
        NotFoundError: No trade with that exec_id (an empty list means a trade without
            images, never a mistyped id).
    """
    if not uow.trades.exists(exec_id):
        raise NotFoundError(f"no trade with exec_id {exec_id!r}")
    return uow.images.get_for_trade(exec_id)
