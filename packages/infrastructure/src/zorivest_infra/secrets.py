"""Encryption of market-data provider API keys (`market_provider_settings.encrypted_api_key`).

API keys are Fernet tokens stored with an ``ENC:`` prefix. The Fernet key is derived with
HKDF-SHA256 from the journal's 256-bit key under its own label, so the API keys are
encrypted twice at rest in an encrypted journal (SQLCipher page encryption, then Fernet),
and a leak of one key says nothing about the other. For backends without a journal key
(a plain SQLite URL, PostgreSQL) the caller supplies a 32-byte key of its own.

Changing the journal key (a passphrase change) changes the derived key: the stored API
keys must be re-encrypted under the new cipher in the same transaction
(`SqlAlchemyMarketProviderRepository.reencrypt_api_keys`).
"""

from __future__ import annotations

import base64
from typing import Final, NoReturn, Protocol

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from zorivest_core.domain.errors import ValidationError, ZorivestError

ENCRYPTED_PREFIX: Final = "ENC:"
API_KEY_LABEL: Final = b"zorivest/market-provider-api-keys/v1"
KEY_LENGTH: Final = 32


class ApiKeyDecryptionError(ZorivestError):
    """A stored API key cannot be decrypted with this journal's key (wrong key or damaged)."""


class ApiKeyCipherUnavailableError(ZorivestError):
    """An API key was to be stored or read, but no API-key cipher was configured."""


class SupportsDeriveSubkey(Protocol):
    """What the cipher needs from a journal key (`connection.JournalKey`)."""

    def derive_subkey(self, label: bytes, length: int = 32) -> bytes: ...


def _fernet_key(raw: bytes) -> bytes:
    return base64.urlsafe_b64encode(raw)


class ApiKeyCipher:
    """Encrypts and decrypts API keys; never shows its key material.

    Args:
        key: A 32-byte secret: the journal's raw key, or one the caller keeps for a backend
            without a journal key. It is not used directly: HKDF-SHA256 with the label
            `API_KEY_LABEL` (and `salt`, if given) derives the Fernet key from it.
        salt: Optional HKDF salt.

    Raises:
        ValidationError: The key is not 32 bytes.
    """

    __slots__ = ("_fernet",)

    def __init__(self, key: bytes | bytearray, *, salt: bytes | None = None) -> None:
        if not isinstance(key, bytes | bytearray) or len(key) != KEY_LENGTH:
            # The value itself is never echoed: it is a secret.
            raise ValidationError(f"key: an API-key cipher needs {KEY_LENGTH} bytes", field="key")
        derived = HKDF(
            algorithm=hashes.SHA256(), length=KEY_LENGTH, salt=salt, info=API_KEY_LABEL
        ).derive(bytes(key))
        self._fernet = Fernet(_fernet_key(derived))

    @classmethod
    def from_journal_key(cls, journal_key: SupportsDeriveSubkey) -> ApiKeyCipher:
        """The cipher of an encrypted journal, derived from its key under `API_KEY_LABEL`.

        Uses the journal key's own HKDF (`JournalKey.derive_subkey`, salted with the
        journal's salt), so the raw journal key never leaves its object.
        """
        cipher = cls.__new__(cls)
        cipher._fernet = Fernet(_fernet_key(journal_key.derive_subkey(API_KEY_LABEL, KEY_LENGTH)))
        return cipher

    @staticmethod
    def is_encrypted(value: str | None) -> bool:
        """Whether a stored value carries the ``ENC:`` prefix."""
        return value is not None and value.startswith(ENCRYPTED_PREFIX)

    def encrypt(self, api_key: str) -> str:
        """``"ENC:" + Fernet token`` of the key.

        Raises:
            ValidationError: The key is not a non-empty string.
        """
        if not isinstance(api_key, str) or not api_key.strip():
            raise ValidationError("api_key: must be a non-empty string", field="api_key")
        token = self._fernet.encrypt(api_key.encode("utf-8"))
        return ENCRYPTED_PREFIX + token.decode("ascii")

    def decrypt(self, stored: str) -> str:
        """The API key inside an ``ENC:`` value.

        Raises:
            ApiKeyDecryptionError: The value has no ``ENC:`` prefix (it would be plaintext,
                which is never stored), or its token was made under another key or damaged.
                The message never contains the stored value.
        """
        if not self.is_encrypted(stored):
            raise ApiKeyDecryptionError(
                "stored API key is not an encrypted value (missing 'ENC:' prefix); refusing it"
            )
        try:
            plain = self._fernet.decrypt(stored[len(ENCRYPTED_PREFIX) :].encode("ascii"))
            return plain.decode("utf-8")
        except (InvalidToken, UnicodeError) as error:
            raise ApiKeyDecryptionError(
                "stored API key cannot be decrypted: it was encrypted under another key "
                "(another journal or passphrase) or is damaged"
            ) from error

    def __repr__(self) -> str:
        return "ApiKeyCipher(<redacted>)"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("ApiKeyCipher cannot be pickled or copied")
