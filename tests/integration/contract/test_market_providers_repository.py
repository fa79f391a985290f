"""Market provider repository contract (API keys encrypted at rest), on every backend."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import BASE_TIME
from tests.integration.contract._rows import raw_count
from zorivest_core.domain.entities import MarketProviderSetting
from zorivest_core.domain.errors import DuplicateError, NotFoundError, ValidationError
from zorivest_infra.database.repositories.market_providers import (
    SqlAlchemyMarketProviderRepository,
)
from zorivest_infra.database.unit_of_work import SqlAlchemyUnitOfWork
from zorivest_infra.secrets import (
    ApiKeyCipher,
    ApiKeyCipherUnavailableError,
    ApiKeyDecryptionError,
)

API_KEY = "pk_live_SECRET_4f9a2b7c"
CIPHER = ApiKeyCipher(b"\x01" * 32)
HST = dt.timezone(dt.timedelta(hours=-10))


@pytest.fixture
def repo(backend_session: Session) -> SqlAlchemyMarketProviderRepository:
    return SqlAlchemyMarketProviderRepository(backend_session, CIPHER)


def full_setting(name: str = "polygon") -> MarketProviderSetting:
    return MarketProviderSetting(
        provider_name=name,
        rate_limit=120,
        timeout=3600,
        is_enabled=True,
        last_tested_at=dt.datetime(2024, 3, 8, 6, 0, 0, 11, tzinfo=HST),
        last_test_status="ok",
        created_at=BASE_TIME,
        updated_at=dt.datetime(2024, 3, 9, tzinfo=HST),
    )


def stored_key(session: Session, name: str) -> str | None:
    value: str | None = session.execute(
        text("SELECT encrypted_api_key FROM market_provider_settings WHERE provider_name = :n"),
        {"n": name},
    ).scalar_one()
    return value


def test_round_trip_with_the_key_encrypted_at_rest(
    repo: SqlAlchemyMarketProviderRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    setting = full_setting()
    repo.save(setting, api_key=API_KEY)
    repo.save(MarketProviderSetting(provider_name="alpaca", created_at=BASE_TIME))
    backend_session.commit()
    with session_factory() as fresh:
        fresh_repo = SqlAlchemyMarketProviderRepository(fresh, ApiKeyCipher(b"\x01" * 32))
        stored = fresh_repo.get("polygon")
        assert fresh_repo.get_api_key("polygon") == API_KEY
        assert fresh_repo.get_api_key("alpaca") is None
        raw = stored_key(fresh, "polygon")
        listed = fresh_repo.list_all()
    assert stored == dataclasses.replace(setting, has_api_key=True)
    assert stored.last_tested_at is not None
    assert stored.last_tested_at.tzinfo == dt.UTC
    assert raw is not None
    assert raw.startswith("ENC:")
    assert API_KEY not in raw
    assert "SECRET" not in raw
    assert [(p.provider_name, p.has_api_key) for p in listed] == [
        ("alpaca", False),
        ("polygon", True),
    ]
    assert API_KEY not in repr(stored)


def test_missing_rows_and_duplicates(repo: SqlAlchemyMarketProviderRepository) -> None:
    assert repo.get("nope") is None
    with pytest.raises(NotFoundError):
        repo.get_api_key("nope")
    with pytest.raises(NotFoundError):
        repo.set_api_key("nope", API_KEY)
    with pytest.raises(NotFoundError):
        repo.update(full_setting("nope"))
    with pytest.raises(NotFoundError):
        repo.delete("nope")
    repo.save(full_setting())
    with pytest.raises(DuplicateError) as raised:
        repo.save(full_setting(), api_key=API_KEY)
    assert API_KEY not in str(raised.value)
    assert len(repo.list_all()) == 1


def test_set_replace_and_clear_the_key(
    repo: SqlAlchemyMarketProviderRepository, backend_session: Session
) -> None:
    repo.save(full_setting())
    repo.set_api_key("polygon", API_KEY)
    first = stored_key(backend_session, "polygon")
    repo.set_api_key("polygon", "second-key")
    assert repo.get_api_key("polygon") == "second-key"
    assert stored_key(backend_session, "polygon") != first
    with pytest.raises(ValidationError):
        repo.set_api_key("polygon", "")
    repo.set_api_key("polygon", None)
    assert repo.get_api_key("polygon") is None
    assert stored_key(backend_session, "polygon") is None
    provider = repo.get("polygon")
    assert provider is not None
    assert not provider.has_api_key


def test_update_leaves_the_key_alone(repo: SqlAlchemyMarketProviderRepository) -> None:
    repo.save(full_setting(), api_key=API_KEY)
    changed = dataclasses.replace(full_setting(), is_enabled=False, has_api_key=False)
    repo.update(changed)
    stored = repo.get("polygon")
    assert stored is not None
    assert stored.has_api_key
    assert not stored.is_enabled
    assert stored.updated_at is not None
    assert stored.updated_at > BASE_TIME + dt.timedelta(days=1)
    assert repo.get_api_key("polygon") == API_KEY
    repo.delete("polygon")
    assert repo.get("polygon") is None


def test_without_a_cipher_keys_are_refused_never_stored_plain(
    backend_session: Session,
) -> None:
    plain = SqlAlchemyMarketProviderRepository(backend_session)
    with pytest.raises(ApiKeyCipherUnavailableError):
        plain.save(full_setting(), api_key=API_KEY)
    assert plain.get("polygon") is None
    plain.save(full_setting())
    with pytest.raises(ApiKeyCipherUnavailableError):
        plain.set_api_key("polygon", API_KEY)
    assert plain.get_api_key("polygon") is None
    SqlAlchemyMarketProviderRepository(backend_session, CIPHER).set_api_key("polygon", API_KEY)
    with pytest.raises(ApiKeyCipherUnavailableError):
        plain.get_api_key("polygon")
    plain.set_api_key("polygon", None)  # clearing needs no cipher
    assert stored_key(backend_session, "polygon") is None


def test_a_unit_of_work_passes_its_cipher_explicitly(
    session_factory: sessionmaker[Session],
) -> None:
    with SqlAlchemyUnitOfWork(session_factory, api_key_cipher=lambda: CIPHER) as uow:
        uow.market_providers.save(full_setting(), api_key=API_KEY)
        uow.commit()
    with session_factory() as fresh:
        assert SqlAlchemyMarketProviderRepository(fresh, CIPHER).get_api_key("polygon") == API_KEY
    with SqlAlchemyUnitOfWork(session_factory) as uow, pytest.raises(ApiKeyCipherUnavailableError):
        uow.market_providers.get_api_key("polygon")


def test_a_wrong_key_or_a_plaintext_value_is_refused_cleanly(
    repo: SqlAlchemyMarketProviderRepository, backend_session: Session
) -> None:
    repo.save(full_setting(), api_key=API_KEY)
    other = SqlAlchemyMarketProviderRepository(backend_session, ApiKeyCipher(b"\x02" * 32))
    with pytest.raises(ApiKeyDecryptionError) as raised:
        other.get_api_key("polygon")
    assert API_KEY not in str(raised.value)
    backend_session.execute(
        text("UPDATE market_provider_settings SET encrypted_api_key = :k"), {"k": API_KEY}
    )
    with pytest.raises(ApiKeyDecryptionError) as raised:
        repo.get_api_key("polygon")
    assert API_KEY not in str(raised.value)


def test_reencrypt_api_keys_under_a_new_cipher(
    repo: SqlAlchemyMarketProviderRepository, backend_session: Session
) -> None:
    repo.save(full_setting("a"), api_key="key-a")
    repo.save(full_setting("b"))
    repo.save(full_setting("c"), api_key="key-c")
    new_cipher = ApiKeyCipher(b"\x03" * 32)
    assert repo.reencrypt_api_keys(new_cipher) == 2
    renewed = SqlAlchemyMarketProviderRepository(backend_session, new_cipher)
    assert [renewed.get_api_key(name) for name in "abc"] == ["key-a", None, "key-c"]
    with pytest.raises(ApiKeyDecryptionError):
        repo.get_api_key("a")


def test_rollback_leaves_nothing(
    repo: SqlAlchemyMarketProviderRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    backend_session.commit()
    repo.save(full_setting(), api_key=API_KEY)
    backend_session.rollback()
    assert raw_count(session_factory, "market_provider_settings") == 0
