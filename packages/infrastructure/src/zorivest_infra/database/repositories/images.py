"""Images attached to trades, reports and plans: the storage side.

Nothing a caller says about an image is stored as fact: `save` validates and measures the
bytes (`zorivest_infra.images.analyse_image`) before anything is written, and stores the
original bytes exactly, the measured MIME type, size and byte count, and a WebP thumbnail.
Listings never read the `data` column: they select the other columns explicitly and return
entities with `data=None` (thumbnails included).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy import Delete, Table, bindparam, delete, func, insert, select

from zorivest_core.domain import validation as v
from zorivest_core.domain.entities import THUMBNAIL_SIZE, ImageAttachment
from zorivest_core.domain.enums import ImageOwnerType
from zorivest_core.domain.errors import ConflictError, ValidationError
from zorivest_infra.database.models import ImageModel, TradeModel, TradePlanModel, TradeReportModel
from zorivest_infra.database.repositories._base import (
    SqlAlchemyRepository,
    chunked,
    not_found,
    table_of,
    utc_now,
)

__all__ = [
    "IMAGE_COLUMNS",
    "LISTED_IMAGE_COLUMNS",
    "SqlAlchemyImageRepository",
    "delete_images_of",
    "image_from_row",
]

IMAGE_COLUMNS: Final = (
    "id",
    "owner_type",
    "owner_id",
    "mime_type",
    "caption",
    "width",
    "height",
    "file_size",
    "created_at",
    "thumbnail",
    "data",
)
"""The stored columns of an image, in the order `image_from_row` reads them."""

LISTED_IMAGE_COLUMNS: Final = IMAGE_COLUMNS[:-1]
"""What listings select: everything but the full image bytes."""

_OWNER_LOOKUP_CHUNK: Final = 1_000

_IMAGES: Final = table_of(ImageModel)
_I = _IMAGES.c
_SELECT_FULL: Final = select(*(_I[name] for name in IMAGE_COLUMNS))
_SELECT_LISTED: Final = select(*(_I[name] for name in LISTED_IMAGE_COLUMNS))

# Where each owner type lives: its table and key column.
_OWNERS: Final[dict[ImageOwnerType, tuple[Table, str]]] = {
    ImageOwnerType.TRADE: (table_of(TradeModel), "exec_id"),
    ImageOwnerType.REPORT: (table_of(TradeReportModel), "id"),
    ImageOwnerType.PLAN: (table_of(TradePlanModel), "id"),
}


def delete_images_of(owner_type: ImageOwnerType, owner_id: str) -> Delete:
    """The DELETE of every image of one owner, run wherever that owner is deleted."""
    return delete(_IMAGES).where(_I.owner_type == owner_type.value, _I.owner_id == owner_id)


def image_from_row(row: Sequence[Any]) -> ImageAttachment:
    """An image from a row of `IMAGE_COLUMNS` values, or of `LISTED_IMAGE_COLUMNS` (then
    `data` is None: not loaded)."""
    data = row[10] if len(row) > len(LISTED_IMAGE_COLUMNS) else None
    return ImageAttachment(
        id=row[0],
        owner_type=row[1],
        owner_id=row[2],
        mime_type=row[3],
        caption=row[4],
        width=row[5],
        height=row[6],
        file_size=row[7],
        created_at=row[8],
        thumbnail=row[9],
        data=data,
    )


def _owner_key(owner_type: ImageOwnerType, owner_id: object) -> str | int:
    """The owner's key as its table stores it: an exec_id, or a report/plan integer id.

    Report and plan ids are given as their canonical decimal string (`str(report.id)`),
    which is also how `images.owner_id` stores them.
    """
    owner = v.text("owner_id", owner_id, max_length=128)
    if owner_type is ImageOwnerType.TRADE:
        return owner
    if not owner.isascii() or not owner.isdigit() or owner != str(int(owner)):
        raise v.fail("owner_id", owner_id, f"must be a {owner_type.value} id like '42'")
    return int(owner)


class SqlAlchemyImageRepository(SqlAlchemyRepository):
    """Images of trades, reports and plans (implements `ImageRepository`)."""

    __slots__ = ()

    def save(
        self,
        owner_id: str,
        image: ImageAttachment,
        *,
        owner_type: ImageOwnerType = ImageOwnerType.TRADE,
    ) -> int:
        """Validate, measure and store an image for an existing owner.

        Only `image.data` and `image.caption` are taken from the caller; the MIME type,
        width, height and byte count are measured, the thumbnail (WebP, longest side
        `THUMBNAIL_SIZE`) generated, and `created_at` is now.

        Args:
            owner_id: The owner's key: a trade's exec_id, or `str(id)` of a report or plan.
            image: The attachment; its `data` is required.
            owner_type: What kind of row owns the image.

        Returns:
            The new image's id.

        Raises:
            InvalidImageError: The bytes are not an accepted, safe image (nothing written).
            ValidationError: No data, or a malformed owner id.
            ConflictError: The owner does not exist.
        """
        kind = v.choice("owner_type", owner_type, ImageOwnerType)
        key = _owner_key(kind, owner_id)
        if not isinstance(image, ImageAttachment):
            raise v.fail("image", image, "must be an ImageAttachment")
        if image.data is None:
            raise ValidationError("image.data: the image bytes are required", field="data")
        from zorivest_infra.images import analyse_image  # Pillow: only when storing images

        analysed = analyse_image(image.data)
        facts = analysed.facts
        owner_table, key_column = _OWNERS[kind]
        with self._atomic(f"attaching an image to {kind.value} {owner_id!r}") as connection:
            # FOR SHARE on PostgreSQL (ignored by SQLite): the owner cannot be deleted
            # between this check and the insert, so no orphan image can be created.
            owner_exists = connection.execute(
                select(owner_table.c[key_column])
                .where(owner_table.c[key_column] == key)
                .with_for_update(read=True)
            ).first()
            if owner_exists is None:
                raise ConflictError(
                    f"cannot attach an image: {kind.value} {owner_id!r} does not exist"
                )
            result = connection.execute(
                insert(_IMAGES).values(
                    owner_type=kind.value,
                    owner_id=str(key),
                    data=image.data,
                    thumbnail=analysed.thumbnail,
                    mime_type=facts.mime_type,
                    caption=image.caption,
                    width=facts.width,
                    height=facts.height,
                    file_size=facts.file_size,
                    created_at=utc_now(),
                )
            )
            primary_key = result.inserted_primary_key
        if primary_key is None or primary_key[0] is None:  # pragma: no cover - driver contract
            raise RuntimeError("the database returned no id for the new image")
        return int(primary_key[0])

    def get(self, image_id: int) -> ImageAttachment | None:
        """The image with its full bytes, or None."""
        row = self._connection().execute(_SELECT_FULL.where(_I.id == image_id)).first()
        return None if row is None else image_from_row(row)

    def get_for_trade(self, exec_id: str) -> list[ImageAttachment]:
        """A trade's images by id, without their full bytes (`data` is None)."""
        return self.get_for_owner(ImageOwnerType.TRADE, exec_id)

    def get_for_owner(self, owner_type: ImageOwnerType, owner_id: str) -> list[ImageAttachment]:
        """An owner's images by id, without their full bytes (`data` is None)."""
        kind = v.choice("owner_type", owner_type, ImageOwnerType)
        statement = _SELECT_LISTED.where(
            _I.owner_type == kind.value, _I.owner_id == str(owner_id)
        ).order_by(_I.id)
        return [image_from_row(row) for row in self._connection().execute(statement)]

    def get_for_owners(
        self, owner_type: ImageOwnerType, owner_ids: Sequence[str]
    ) -> dict[str, list[ImageAttachment]]:
        """Images of many owners at once, without their full bytes.

        One query per 1,000 owners. Every requested owner is a key of the result (with an
        empty list when it has no image); each list is ordered by id.
        """
        kind = v.choice("owner_type", owner_type, ImageOwnerType)
        if isinstance(owner_ids, str):
            raise v.fail("owner_ids", owner_ids, "must be a sequence of owner ids, not one")
        wanted = [str(owner) for owner in owner_ids]
        found: dict[str, list[ImageAttachment]] = {owner: [] for owner in wanted}
        statement = _SELECT_LISTED.where(
            _I.owner_type == kind.value,
            _I.owner_id.in_(bindparam("owner_ids", expanding=True)),
        ).order_by(_I.id)
        connection = self._connection()
        for chunk in chunked(dict.fromkeys(wanted), _OWNER_LOOKUP_CHUNK):
            for row in connection.execute(statement, {"owner_ids": chunk}):
                found[row[2]].append(image_from_row(row))
        return found

    def get_thumbnail(self, image_id: int, max_size: int = THUMBNAIL_SIZE) -> bytes:
        """A WebP thumbnail whose sides are at most `max_size` (never upscaled).

        The stored thumbnail is returned when `max_size` is the stored size; any other size
        is generated from the original image.

        Raises:
            NotFoundError: No image has this id.
            ValidationError: `max_size` is not a positive integer.
        """
        size = v.integer("max_size", max_size, minimum=1)
        connection = self._connection()
        if size == THUMBNAIL_SIZE:
            row = connection.execute(select(_I.thumbnail).where(_I.id == image_id)).first()
            if row is None:
                raise not_found("image", image_id)
            if row[0] is not None:
                return bytes(row[0])
        original = connection.execute(select(_I.data).where(_I.id == image_id)).first()
        if original is None:
            raise not_found("image", image_id)
        from zorivest_infra.images import make_thumbnail  # Pillow: only when resizing

        return make_thumbnail(bytes(original[0]), size)

    def delete(self, image_id: int) -> None:
        """Delete one image.

        Raises:
            NotFoundError: No image has this id.
        """
        with self._atomic(f"deleting image {image_id!r}") as connection:
            result = connection.execute(delete(_IMAGES).where(_I.id == image_id))
            if result.rowcount == 0:
                raise not_found("image", image_id)

    def delete_for_owner(self, owner_type: ImageOwnerType, owner_id: str) -> int:
        """Delete all images of one owner; returns how many there were."""
        kind = v.choice("owner_type", owner_type, ImageOwnerType)
        with self._atomic(f"deleting the images of {kind.value} {owner_id!r}") as connection:
            result = connection.execute(delete_images_of(kind, str(owner_id)))
            return int(result.rowcount)

    def count(self) -> int:
        """How many images are stored."""
        return int(self._connection().scalar(select(func.count()).select_from(_IMAGES)) or 0)
