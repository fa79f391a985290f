"""Market-data provider settings, with their API keys stored only encrypted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping, delete, insert, select, update
from sqlalchemy.orm import Session

from zorivest_core.domain.entities import MarketProviderSetting
from zorivest_infra.database.models import MarketProviderSettingModel
from zorivest_infra.database.repositories._base import (
    SqlAlchemyRepository,
    not_found,
    table_of,
    utc_now,
)
from zorivest_infra.secrets import ApiKeyCipher, ApiKeyCipherUnavailableError

_PROVIDERS = table_of(MarketProviderSettingModel)
# Every column except the key itself: entities are built from these, so the encrypted key
# is not even read unless `get_api_key` asks for it.
_SETTING_COLUMNS = [column for column in _PROVIDERS.c if column.name != "encrypted_api_key"]
_HAS_KEY = _PROVIDERS.c.encrypted_api_key.is_not(None).label("has_api_key")


def provider_to_row(setting: MarketProviderSetting) -> dict[str, Any]:
    """Column values of a provider's settings (never the API key)."""
    return {
        "provider_name": setting.provider_name,
        "rate_limit": setting.rate_limit,
        "timeout": setting.timeout,
        "is_enabled": setting.is_enabled,
        "last_tested_at": setting.last_tested_at,
        "last_test_status": setting.last_test_status,
        "created_at": setting.created_at,
        "updated_at": setting.updated_at,
    }


def row_to_provider(row: RowMapping) -> MarketProviderSetting:
    """The settings in a `market_provider_settings` row (NULLs read as the defaults)."""
    return MarketProviderSetting(
        provider_name=row["provider_name"],
        rate_limit=5 if row["rate_limit"] is None else row["rate_limit"],
        timeout=30 if row["timeout"] is None else row["timeout"],
        is_enabled=bool(row["is_enabled"]),
        last_tested_at=row["last_tested_at"],
        last_test_status=row["last_test_status"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        has_api_key=bool(row["has_api_key"]),
    )


class SqlAlchemyMarketProviderRepository(SqlAlchemyRepository):
    """Provider settings; API keys go in and out only through explicit, encrypted calls.

    API keys are stored as ``ENC:`` Fernet tokens made by `cipher`; plaintext is never
    stored. The entity says only whether a key is stored (`has_api_key`, derived from the
    row and ignored on writes); `get_api_key` is the one way to read a key.

    Args:
        session: The session to work in.
        cipher: Encrypts and decrypts API keys (a journal's unit of work passes the
            journal's). Without a cipher the settings themselves work, but storing or
            reading an API key raises `ApiKeyCipherUnavailableError`.
    """

    __slots__ = ("_cipher",)

    def __init__(self, session: Session, cipher: ApiKeyCipher | None = None) -> None:
        super().__init__(session)
        self._cipher = cipher

    def _require_cipher(self, action: str) -> ApiKeyCipher:
        cipher = self._cipher
        if cipher is None:
            raise ApiKeyCipherUnavailableError(
                f"cannot {action}: no API-key cipher is configured for this journal "
                "(API keys are never stored unencrypted)"
            )
        return cipher

    def save(self, setting: MarketProviderSetting, *, api_key: str | None = None) -> None:
        """Store a new provider, optionally with its API key (encrypted).

        Raises:
            DuplicateError: The provider already exists.
            ApiKeyCipherUnavailableError: An API key was given but there is no cipher.
            ValidationError: The API key is empty.
        """
        row = provider_to_row(setting)
        if api_key is not None:
            row["encrypted_api_key"] = self._require_cipher("store an API key").encrypt(api_key)
        with self._atomic(f"saving market provider {setting.provider_name!r}") as conn:
            conn.execute(insert(_PROVIDERS).values(row))

    def get(self, provider_name: str) -> MarketProviderSetting | None:
        row = (
            self._connection()
            .execute(
                select(*_SETTING_COLUMNS, _HAS_KEY).where(
                    _PROVIDERS.c.provider_name == provider_name
                )
            )
            .mappings()
            .one_or_none()
        )
        return None if row is None else row_to_provider(row)

    def update(self, setting: MarketProviderSetting) -> None:
        """Replace a provider's settings; the stored API key is left as it is.

        `updated_at` becomes the current time.

        Raises:
            NotFoundError: The provider does not exist.
        """
        values = provider_to_row(setting)
        values["updated_at"] = utc_now()
        self._update(setting.provider_name, values, "updating")

    def delete(self, provider_name: str) -> None:
        """Delete a provider and its API key.

        Raises:
            NotFoundError: The provider does not exist.
        """
        with self._atomic(f"deleting market provider {provider_name!r}") as conn:
            result = conn.execute(
                delete(_PROVIDERS).where(_PROVIDERS.c.provider_name == provider_name)
            )
        if result.rowcount == 0:
            raise not_found("market provider", provider_name)

    def list_all(self) -> list[MarketProviderSetting]:
        """Every provider, by name."""
        rows = self._connection().execute(
            select(*_SETTING_COLUMNS, _HAS_KEY).order_by(_PROVIDERS.c.provider_name)
        )
        return [row_to_provider(row) for row in rows.mappings()]

    def set_api_key(self, provider_name: str, api_key: str | None) -> None:
        """Store (encrypted) or, with None, remove a provider's API key.

        Raises:
            NotFoundError: The provider does not exist.
            ApiKeyCipherUnavailableError: A key was given but there is no cipher.
            ValidationError: The key is empty.
        """
        stored = (
            None if api_key is None else self._require_cipher("store an API key").encrypt(api_key)
        )
        self._update(
            provider_name,
            {"encrypted_api_key": stored, "updated_at": utc_now()},
            "setting the API key of",
        )

    def get_api_key(self, provider_name: str) -> str | None:
        """The provider's API key in clear, or None when none is stored.

        Raises:
            NotFoundError: The provider does not exist.
            ApiKeyCipherUnavailableError: A key is stored but there is no cipher.
            ApiKeyDecryptionError: The stored key was encrypted under another key, is
                damaged, or is not an ``ENC:`` value.
        """
        row = (
            self._connection()
            .execute(
                select(_PROVIDERS.c.encrypted_api_key).where(
                    _PROVIDERS.c.provider_name == provider_name
                )
            )
            .one_or_none()
        )
        if row is None:
            raise not_found("market provider", provider_name)
        stored: str | None = row[0]
        if stored is None:
            return None
        return self._require_cipher("read an API key").decrypt(stored)

    def reencrypt_api_keys(self, new_cipher: ApiKeyCipher) -> int:
        """Re-encrypt every stored API key under `new_cipher`; return how many.

        For a journal key change (passphrase change): run it in the same transaction as the
        re-key, with this repository holding the old cipher, then use the new cipher.

        Raises:
            ApiKeyCipherUnavailableError: This repository has no (old) cipher.
            ApiKeyDecryptionError: A stored key cannot be decrypted with the old cipher
                (nothing is changed).
        """
        rows = (
            self._connection()
            .execute(
                select(_PROVIDERS.c.provider_name, _PROVIDERS.c.encrypted_api_key).where(
                    _PROVIDERS.c.encrypted_api_key.is_not(None)
                )
            )
            .all()
        )
        if not rows:
            return 0
        old = self._require_cipher("re-encrypt API keys")
        renewed = [(name, new_cipher.encrypt(old.decrypt(stored))) for name, stored in rows]
        with self._atomic(f"re-encrypting {len(renewed)} API keys") as conn:
            for name, stored in renewed:
                conn.execute(
                    update(_PROVIDERS)
                    .where(_PROVIDERS.c.provider_name == name)
                    .values(encrypted_api_key=stored)
                )
        return len(renewed)

    def _update(self, provider_name: str, values: dict[str, Any], action: str) -> None:
        with self._atomic(f"{action} market provider {provider_name!r}") as conn:
            result = conn.execute(
                update(_PROVIDERS).where(_PROVIDERS.c.provider_name == provider_name).values(values)
            )
        if result.rowcount == 0:
            raise not_found("market provider", provider_name)
