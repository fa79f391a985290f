"""Attach a screenshot to a trade."""

from __future__ import annotations

from zorivest_core.application.ports import UnitOfWork
from zorivest_core.domain.entities import ImageAttachment
from zorivest_core.domain.errors import NotFoundError


def attach_screenshot(
    uow: UnitOfWork, exec_id: str, data: bytes, *, caption: str | None = None
) -> ImageAttachment:
    """Store `data` as a screenshot of trade `exec_id` and commit.

    Args:
        uow: A unit of work that is not active yet; this use case runs one block.
        exec_id: The trade's exec_id.
        data: The raw image bytes (validated and measured by the image repository).
        caption: An optional caption.

    Returns:
        The stored attachment as listed (id, MIME type, size, dimensions; no bytes).

    Raises:
        NotFoundError: No trade with that exec_id (nothing written).
        InvalidImageError: The bytes are not an accepted image (nothing written).
    """
    with uow:
        if not uow.trades.exists(exec_id):
            raise NotFoundError(f"no trade with exec_id {exec_id!r}")
        image_id = uow.images.save(exec_id, ImageAttachment(data=data, caption=caption))
        uow.commit()
        return next(item for item in uow.images.get_for_trade(exec_id) if item.id == image_id)
