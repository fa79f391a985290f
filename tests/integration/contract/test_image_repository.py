"""Image repository contract (storage side), on every backend, with real images."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import replace
from typing import Any, Final

import pytest
from PIL import Image
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import BASE_TIME, make_stored_image, make_trade, png_bytes
from tests.integration.contract._rows import add_account, add_plan, add_report, raw_count
from zorivest_core.application.ports import ImageRepository
from zorivest_core.domain.entities import ImageAttachment
from zorivest_core.domain.enums import ImageOwnerType
from zorivest_core.domain.errors import (
    ConflictError,
    InvalidImageError,
    NotFoundError,
    ValidationError,
)
from zorivest_infra.database.repositories import (
    SqlAlchemyImageRepository,
    SqlAlchemyTradeRepository,
)
from zorivest_infra.database.repositories.images import LISTED_IMAGES

ORIENTATION: Final = 0x0112


def open_image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def jpeg_rotated(width: int = 64, height: int = 32) -> bytes:
    """A JPEG stored landscape whose EXIF orientation (6) displays it portrait."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


@pytest.fixture
def session(backend_session: Session) -> Session:
    add_account(backend_session)
    trades = SqlAlchemyTradeRepository(backend_session)
    trades.save(make_trade("TRADE1"))
    trades.save(make_trade("TRADE2"))
    trades.save(make_trade("1"))  # an exec_id that looks like a report/plan id
    backend_session.commit()
    return backend_session


@pytest.fixture
def repo(session: Session) -> SqlAlchemyImageRepository:
    return SqlAlchemyImageRepository(session)


def test_repository_satisfies_its_port(repo: SqlAlchemyImageRepository) -> None:
    port: ImageRepository = repo
    assert port is repo


def test_original_bytes_and_measured_facts_are_stored(
    repo: SqlAlchemyImageRepository, session: Session, session_factory: sessionmaker[Session]
) -> None:
    original = png_bytes(640, 360, seed=3)
    before = dt.datetime.now(dt.UTC)
    lying = ImageAttachment(
        data=original,
        caption="entry at VWAP ✓",
        mime_type="image/gif",
        width=1,
        height=1,
        file_size=5,
        thumbnail=b"not a thumbnail",
        owner_type=ImageOwnerType.PLAN,
        owner_id="elsewhere",
    )
    image_id = repo.save("TRADE1", lying)
    session.commit()

    with session_factory() as fresh:
        stored = SqlAlchemyImageRepository(fresh).get(image_id)
        raw = fresh.execute(
            text("SELECT data, mime_type, width, height, file_size FROM images WHERE id = :id"),
            {"id": image_id},
        ).one()
    assert stored is not None
    assert bytes(raw[0]) == original
    assert tuple(raw[1:]) == ("image/png", 640, 360, len(original))
    assert stored.data == original
    assert stored.id == image_id
    assert (stored.owner_type, stored.owner_id) == (ImageOwnerType.TRADE, "TRADE1")
    assert (stored.mime_type, stored.width, stored.height) == ("image/png", 640, 360)
    assert stored.file_size == len(original)
    assert stored.caption == "entry at VWAP ✓"
    assert stored.created_at is not None
    assert stored.created_at.tzinfo is dt.UTC
    assert before <= stored.created_at <= dt.datetime.now(dt.UTC)
    assert stored.thumbnail is not None
    thumbnail = open_image(stored.thumbnail)
    assert thumbnail.format == "WEBP"
    width, height = thumbnail.size
    assert width == 200
    assert abs(height - 200 * 360 / 640) <= 1  # aspect ratio kept


def test_facts_are_measured_as_displayed(repo: SqlAlchemyImageRepository) -> None:
    image_id = repo.save("TRADE1", make_stored_image(jpeg_rotated(64, 32)))
    stored = repo.get(image_id)
    assert stored is not None
    assert (stored.mime_type, stored.width, stored.height) == ("image/jpeg", 32, 64)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"RIFF\x00\x00\x00\x00WEBP_data", id="fake-webp"),
        pytest.param(b"plain text, not an image", id="text"),
        pytest.param(png_bytes()[:200], id="truncated-png"),
    ],
)
def test_invalid_bytes_are_refused_before_anything_is_written(
    repo: SqlAlchemyImageRepository,
    session: Session,
    session_factory: sessionmaker[Session],
    data: bytes,
) -> None:
    with pytest.raises(InvalidImageError):
        repo.save("TRADE1", make_stored_image(data))
    session.commit()
    assert raw_count(session_factory, "images") == 0


def test_data_is_required(repo: SqlAlchemyImageRepository) -> None:
    with pytest.raises(ValidationError, match="data"):
        repo.save("TRADE1", ImageAttachment(data=None))


def test_reports_and_plans_own_images_by_their_id(
    repo: SqlAlchemyImageRepository, session: Session
) -> None:
    report_id = add_report(session, "TRADE1")
    plan_id = add_plan(session)
    on_report = repo.save(str(report_id), make_stored_image(), owner_type=ImageOwnerType.REPORT)
    on_plan = repo.save(str(plan_id), make_stored_image(), owner_type="plan")  # type: ignore[arg-type]
    on_trade = repo.save("1", make_stored_image())

    assert [i.id for i in repo.get_for_owner(ImageOwnerType.REPORT, str(report_id))] == [on_report]
    assert [i.id for i in repo.get_for_owner(ImageOwnerType.PLAN, str(plan_id))] == [on_plan]
    assert [i.id for i in repo.get_for_trade("1")] == [on_trade]
    stored = repo.get(on_plan)
    assert stored is not None
    assert (stored.owner_type, stored.owner_id) == (ImageOwnerType.PLAN, str(plan_id))


@pytest.mark.parametrize(
    ("owner_type", "owner_id"),
    [
        (ImageOwnerType.TRADE, "NO-SUCH-TRADE"),
        (ImageOwnerType.REPORT, "999"),
        (ImageOwnerType.PLAN, "999"),
    ],
)
def test_a_missing_owner_is_a_conflict(
    repo: SqlAlchemyImageRepository,
    session: Session,
    session_factory: sessionmaker[Session],
    owner_type: ImageOwnerType,
    owner_id: str,
) -> None:
    kept = repo.save("TRADE1", make_stored_image())
    with pytest.raises(ConflictError, match=owner_id):
        repo.save(owner_id, make_stored_image(), owner_type=owner_type)
    session.commit()
    assert raw_count(session_factory, "images") == 1
    assert repo.get(kept) is not None


@pytest.mark.parametrize("owner_id", ["abc", "01", "-1", "1.0", " 1", "", "٣"])
def test_a_malformed_report_or_plan_id_is_invalid(
    repo: SqlAlchemyImageRepository, owner_id: str
) -> None:
    for owner_type in (ImageOwnerType.REPORT, ImageOwnerType.PLAN):
        with pytest.raises(ValidationError):
            repo.save(owner_id, make_stored_image(), owner_type=owner_type)


def test_listings_leave_out_the_image_bytes_and_keep_thumbnails(
    repo: SqlAlchemyImageRepository, session: Session
) -> None:
    ids = [repo.save("TRADE1", make_stored_image(png_bytes(seed=seed))) for seed in range(3)]
    other = repo.save("TRADE2", make_stored_image())
    plan_id = add_plan(session)
    repo.save(str(plan_id), make_stored_image(), owner_type=ImageOwnerType.PLAN)

    listed = repo.get_for_trade("TRADE1")

    assert [image.id for image in listed] == ids
    for image in listed:
        assert image.data is None
        assert image.thumbnail is not None
        assert open_image(image.thumbnail).format == "WEBP"
        assert (image.width, image.height, image.mime_type) == (640, 360, "image/png")
        full = repo.get(image.id or 0)
        assert full is not None
        assert full.data is not None
        assert image == replace(full, data=None)
    by_owner = repo.get_for_owners(ImageOwnerType.TRADE, ["TRADE2", "TRADE1", "NOPE", "TRADE1"])
    assert list(by_owner) == ["TRADE2", "TRADE1", "NOPE"]
    assert [image.id for image in by_owner["TRADE1"]] == ids
    assert [image.id for image in by_owner["TRADE2"]] == [other]
    assert by_owner["NOPE"] == []
    assert all(image.data is None for images in by_owner.values() for image in images)
    assert repo.get_for_owners(ImageOwnerType.TRADE, []) == {}
    assert repo.get_for_trade("NOPE") == []


def test_stored_thumbnail_is_served_at_the_stored_size(
    repo: SqlAlchemyImageRepository, session: Session
) -> None:
    image_id = repo.save("TRADE1", make_stored_image(png_bytes(800, 600)))
    stored = session.execute(
        text("SELECT thumbnail FROM images WHERE id = :id"), {"id": image_id}
    ).scalar_one()

    thumbnail = repo.get_thumbnail(image_id)

    assert thumbnail == bytes(stored)
    assert open_image(thumbnail).size == (200, 150)


@pytest.mark.parametrize(
    ("max_size", "expected"), [(50, (50, 38)), (640, (640, 480)), (2000, (800, 600))]
)
def test_other_thumbnail_sizes_are_made_from_the_original_and_never_upscaled(
    repo: SqlAlchemyImageRepository, max_size: int, expected: tuple[int, int]
) -> None:
    image_id = repo.save("TRADE1", make_stored_image(png_bytes(800, 600)))
    thumbnail = open_image(repo.get_thumbnail(image_id, max_size=max_size))
    assert thumbnail.format == "WEBP"
    assert thumbnail.size == expected


def test_thumbnail_of_an_unknown_image_or_a_bad_size_is_refused(
    repo: SqlAlchemyImageRepository,
) -> None:
    with pytest.raises(NotFoundError):
        repo.get_thumbnail(999)
    with pytest.raises(NotFoundError):
        repo.get_thumbnail(999, max_size=64)
    image_id = repo.save("TRADE1", make_stored_image())
    for bad in (0, -5, True):
        with pytest.raises(ValidationError):
            repo.get_thumbnail(image_id, max_size=bad)


def test_missing_images_read_as_none_and_cannot_be_deleted(
    repo: SqlAlchemyImageRepository,
) -> None:
    assert repo.get(999) is None
    with pytest.raises(NotFoundError):
        repo.delete(999)


def test_delete_and_delete_for_owner(
    repo: SqlAlchemyImageRepository, session: Session, session_factory: sessionmaker[Session]
) -> None:
    first = repo.save("TRADE1", make_stored_image())
    repo.save("TRADE1", make_stored_image())
    repo.save("TRADE1", make_stored_image())
    kept = repo.save("TRADE2", make_stored_image())

    repo.delete(first)
    assert repo.get(first) is None
    assert repo.delete_for_owner(ImageOwnerType.TRADE, "TRADE1") == 2
    assert repo.delete_for_owner(ImageOwnerType.TRADE, "TRADE1") == 0
    assert repo.delete_for_owner(ImageOwnerType.REPORT, "TRADE2") == 0
    session.commit()

    assert raw_count(session_factory, "images") == 1
    assert repo.get(kept) is not None


def test_rolled_back_images_leave_nothing(
    repo: SqlAlchemyImageRepository, session: Session, session_factory: sessionmaker[Session]
) -> None:
    repo.save("TRADE1", make_stored_image())
    session.rollback()
    assert raw_count(session_factory, "images") == 0


def test_image_mapping_reads_full_and_listed_rows() -> None:
    values: dict[str, Any] = {
        "id": 7,
        "owner_type": "report",
        "owner_id": "3",
        "mime_type": "image/webp",
        "caption": None,
        "width": 10,
        "height": 20,
        "file_size": 30,
        "created_at": BASE_TIME,
        "thumbnail": b"thumb",
        "data": b"full",
    }
    full_rows = SqlAlchemyImageRepository.rows
    full = full_rows.from_row([values[column.key] for column in full_rows.selected])
    listed_columns = [column.key for column in LISTED_IMAGES.selected]
    assert "data" not in listed_columns
    listed = LISTED_IMAGES.from_row([values[name] for name in listed_columns], data=None)
    assert full.data == b"full"
    assert listed.data is None
    assert full.owner_type is ImageOwnerType.REPORT
    assert listed == ImageAttachment(**{**values, "data": None})
