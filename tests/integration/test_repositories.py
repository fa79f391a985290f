"""The build plan's Step 2.2 repository tests, on the seed's own in-memory SQLite session.

Adapted where the project is stricter than the seed: the account is created first (foreign
keys are part of the schema), and every stored image is a real image (the seed's fake
`RIFF...WEBP_data` bytes are refused by validation). The seed's assertions are kept: the
WebP screenshots used here really start with `RIFF`, come back byte for byte, and their
thumbnails are smaller than the originals.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy.orm import Session

from tests.factories import make_account, make_stored_image, make_trade, png_bytes
from zorivest_infra.database.repositories import (
    SqlAlchemyAccountRepository,
    SqlAlchemyImageRepository,
    SqlAlchemyTradeRepository,
)


def webp_screenshot(seed: int = 0, width: int = 1280, height: int = 720) -> bytes:
    """A real WebP chart screenshot (WebP, as the seed's data was meant to be)."""
    image = Image.open(io.BytesIO(png_bytes(width, height, seed=seed)))
    buffer = io.BytesIO()
    image.save(buffer, format="WEBP", quality=90)
    return buffer.getvalue()


@pytest.fixture
def session(seed_session: Session) -> Session:
    """The seed's `session`: plain in-memory SQLite, with the trades' account present."""
    SqlAlchemyAccountRepository(seed_session).save(make_account("ACC1"))
    seed_session.commit()
    return seed_session


class TestTradeRepository:
    def test_save_and_get(self, session: Session) -> None:
        repo = SqlAlchemyTradeRepository(session)
        trade = make_trade(exec_id="TEST001")
        repo.save(trade)
        session.commit()

        found = repo.get("TEST001")
        assert found is not None
        assert found.exec_id == "TEST001"
        assert found == trade

    def test_duplicate_exec_id_detected(self, session: Session) -> None:
        repo = SqlAlchemyTradeRepository(session)
        assert not repo.exists("TEST001")
        repo.save(make_trade(exec_id="TEST001"))
        session.commit()
        assert repo.exists("TEST001")


class TestImageRepository:
    def test_save_and_retrieve_image(self, session: Session) -> None:
        trade_repo = SqlAlchemyTradeRepository(session)
        trade_repo.save(make_trade(exec_id="TRADE1"))

        img_repo = SqlAlchemyImageRepository(session)
        original = webp_screenshot()
        image_id = img_repo.save("TRADE1", make_stored_image(original))
        session.commit()

        retrieved = img_repo.get(image_id)
        assert retrieved is not None
        assert retrieved.data == original
        assert retrieved.data[:4] == b"RIFF"  # WebP magic bytes
        assert retrieved.mime_type == "image/webp"

    def test_get_images_for_trade(self, session: Session) -> None:
        trade_repo = SqlAlchemyTradeRepository(session)
        trade_repo.save(make_trade(exec_id="TRADE1"))
        img_repo = SqlAlchemyImageRepository(session)
        img_repo.save("TRADE1", make_stored_image(webp_screenshot(seed=1)))
        img_repo.save("TRADE1", make_stored_image(webp_screenshot(seed=2)))
        img_repo.save("TRADE1", make_stored_image(webp_screenshot(seed=3)))
        session.commit()

        images = img_repo.get_for_trade("TRADE1")
        assert len(images) == 3

    def test_thumbnail_generation(self, session: Session) -> None:
        trade_repo = SqlAlchemyTradeRepository(session)
        trade_repo.save(make_trade(exec_id="TRADE1"))
        img_repo = SqlAlchemyImageRepository(session)
        original_data = webp_screenshot()
        image_id = img_repo.save("TRADE1", make_stored_image(original_data))
        session.commit()
        # get thumbnail
        thumbnail = img_repo.get_thumbnail(image_id, max_size=200)
        assert len(thumbnail) > 0
        assert len(thumbnail) < len(original_data)  # smaller than original
        with Image.open(io.BytesIO(thumbnail)) as decoded:
            assert decoded.format == "WEBP"
            assert max(decoded.size) <= 200
