"""Market-data provider settings, with their API keys stored only encrypted."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from zorivest_core.domain.entities import MarketProviderSetting
from zorivest_infra.database.models import MarketProviderSettingModel
from zorivest_infra.database.repositories._base import not_found, table_of, utc_now
from zorivest_infra.database.repositories._core import CoreRepository
from zorivest_infra.secrets import ApiKeyCipher, ApiKeyCipherUnavailableError

_PROVIDERS = table_of(MarketProviderSettingModel)
_P = _PROVIDERS.c
_HAS_KEY = _P.encrypted_api_key.is_not(None).label("has_api_key")


class SqlAlchemyMarketProviderRepository(CoreRepository[MarketProviderSetting, str]):
    """Provider settings; API keys go in and out only through explicit, encrypted calls.

    API keys are stored as ``ENC:`` Fernet tokens made by `cipher`; plaintext is never
    stored. The entity says only whether a key is stored (`has_api_key`, derived from the
    row and ignored on writes); `get_api_key` is the one way to read a key. NULL limits and
    flags read as the defaults.

    Args:
        session: The session to work in.
        cipher: Encrypts and decrypts API keys (a journal's unit of work passes the
            journal's). Without a cipher the settings themselves work, but storing or
            reading an API key raises `ApiKeyCipherUnavailableError`.
    """

    __slots__ = ("_cipher",)
    table = _PROVIDERS
    entity = MarketProviderSetting
    key = "provider_name"
    noun = "market provider"
    stamps_updated_at = True
    null_reads_default = ("rate_limit", "timeout", "is_enabled")
    # Every column but the encrypted API key, which only `get_api_key` reads, and whether
    # one is stored.
    selected = (*(column for column in _P if column.name != "encrypted_api_key"), _HAS_KEY)

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
        if api_key is None:
            self._save(setting)
        else:
            cipher = self._require_cipher("store an API key")
            self._save(setting, encrypted_api_key=cipher.encrypt(api_key))

    def get(self, provider_name: str) -> MarketProviderSetting | None:
        return self._get(provider_name)

    def update(self, setting: MarketProviderSetting) -> None:
        """Replace a provider's settings; the stored API key is left as it is.

        `updated_at` becomes the current time.

        Raises:
            NotFoundError: The provider does not exist.
        """
        self._update(setting)

    def delete(self, provider_name: str) -> None:
        """Delete a provider and its API key.

        Raises:
            NotFoundError: The provider does not exist.
        """
        self._delete(provider_name)

    def list_all(self) -> list[MarketProviderSetting]:
        """Every provider, by name."""
        return self._list()

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
        self._set(
            provider_name,
            {"encrypted_api_key": stored, "updated_at": utc_now()},
            f"setting the API key of market provider {provider_name!r}",
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
            .execute(select(_P.encrypted_api_key).where(_P.provider_name == provider_name))
            .one_or_none()
        )
        if row is None:
            raise not_found(self.noun, provider_name)
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
                select(_P.provider_name, _P.encrypted_api_key).where(
                    _P.encrypted_api_key.is_not(None)
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
                    .where(_P.provider_name == name)
                    .values(encrypted_api_key=stored)
                )
        return len(renewed)
