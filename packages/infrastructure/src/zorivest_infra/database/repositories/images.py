"""Images attached to trades, reports and plans: the storage side.

Nothing a caller says about an image is stored as fact: `save` validates and measures the
bytes (`zorivest_infra.images.analyse_image`) before anything is written, and stores the
original bytes exactly, the measured MIME type, size and byte count, and a WebP thumbnail.
Listings never read the `data` column: they select the other columns explicitly and return
entities with `data=None` (thumbnails included).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from typing import Final

from sqlalchemy import Connection, Delete, Table, bindparam, delete, insert, select

from zorivest_core.domain import validation as v
from zorivest_core.domain.entities import THUMBNAIL_SIZE, ImageAttachment
from zorivest_core.domain.enums import ImageOwnerType
from zorivest_core.domain.errors import ConflictError, ValidationError
from zorivest_infra.database.models import ImageModel, TradeModel, TradePlanModel, TradeReportModel
from zorivest_infra.database.repositories._base import chunked, not_found, table_of, utc_now
from zorivest_infra.database.repositories._core import CoreRepository, RowMapper

__all__ = ["LISTED_IMAGES", "SqlAlchemyImageRepository", "delete_images_of", "images_deleted_with"]

_OWNER_LOOKUP_CHUNK: Final = 1_000

_IMAGES: Final = table_of(ImageModel)
_I = _IMAGES.c

LISTED_IMAGES: Final = RowMapper(
    ImageAttachment, _IMAGES, selected=[column for column in _I if column.name != "data"]
)
"""What listings read: every column but the full image bytes (give `data=None`)."""
_SELECT_LISTED: Final = select(*LISTED_IMAGES.selected)

# Where each owner type lives: its table and key column.
_OWNERS: Final[dict[ImageOwnerType, tuple[Table, str]]] = {
    ImageOwnerType.TRADE: (table_of(TradeModel), "exec_id"),
    ImageOwnerType.REPORT: (table_of(TradeReportModel), "id"),
    ImageOwnerType.PLAN: (table_of(TradePlanModel), "id"),
}


def delete_images_of(owner_type: ImageOwnerType, owner_id: str) -> Delete:
    """The DELETE of every image of one owner, run wherever that owner is deleted."""
    return delete(_IMAGES).where(_I.owner_type == owner_type.value, _I.owner_id == owner_id)


def images_deleted_with(owner_type: ImageOwnerType) -> Callable[[Connection, int], None]:
    """What deleting a report or plan also runs, in its savepoint: deleting its images.

    For `CoreRepository._delete(key, then=...)`, which runs it after the owner's row is
    gone (and locked until commit on PostgreSQL), so an image committed concurrently for
    the owner is seen and deleted too.
    """

    def delete_images(connection: Connection, owner_id: int) -> None:
        connection.execute(delete_images_of(owner_type, str(owner_id)))

    return delete_images


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


class SqlAlchemyImageRepository(CoreRepository[ImageAttachment, int]):
    """Images of trades, reports and plans (implements `ImageRepository`)."""

    __slots__ = ()
    table = _IMAGES
    entity = ImageAttachment
    key = "id"
    noun = "image"
    generated_key = True

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
        stored = replace(
            image,
            owner_type=kind,
            owner_id=str(key),
            thumbnail=analysed.thumbnail,
            created_at=utc_now(),
            **asdict(analysed.facts),
        )
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
            new_id = connection.execute(
                insert(_IMAGES).values(self._to_row(stored)).returning(_I.id)
            ).scalar_one()
        return int(new_id)

    def get(self, image_id: int) -> ImageAttachment | None:
        """The image with its full bytes, or None."""
        return self._get(image_id)

    def get_for_trade(self, exec_id: str) -> list[ImageAttachment]:
        """A trade's images by id, without their full bytes (`data` is None)."""
        return self.get_for_owner(ImageOwnerType.TRADE, exec_id)

    def get_for_owner(self, owner_type: ImageOwnerType, owner_id: str) -> list[ImageAttachment]:
        """An owner's images by id, without their full bytes (`data` is None)."""
        kind = v.choice("owner_type", owner_type, ImageOwnerType)
        statement = _SELECT_LISTED.where(
            _I.owner_type == kind.value, _I.owner_id == str(owner_id)
        ).order_by(_I.id)
        rows = self._connection().execute(statement)
        return [LISTED_IMAGES.from_row(row, data=None) for row in rows]

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
                found[row.owner_id].append(LISTED_IMAGES.from_row(row, data=None))
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
                raise not_found(self.noun, image_id)
            if row[0] is not None:
                return bytes(row[0])
        original = connection.execute(select(_I.data).where(_I.id == image_id)).first()
        if original is None:
            raise not_found(self.noun, image_id)
        from zorivest_infra.images import make_thumbnail  # Pillow: only when resizing

        return make_thumbnail(bytes(original[0]), size)

    def delete(self, image_id: int) -> None:
        self._delete(image_id)

    def delete_for_owner(self, owner_type: ImageOwnerType, owner_id: str) -> int:
        """Delete all images of one owner; returns how many there were."""
        kind = v.choice("owner_type", owner_type, ImageOwnerType)
        with self._atomic(f"deleting the images of {kind.value} {owner_id!r}") as connection:
            result = connection.execute(delete_images_of(kind, str(owner_id)))
            return int(result.rowcount)

    def count(self) -> int:
        """How many images are stored."""
        return self._count()
