"""API-key encryption: ENC:-prefixed Fernet tokens under an HKDF-derived key."""

from __future__ import annotations

import copy
import os
import pickle

import pytest

from zorivest_core.domain.errors import ValidationError, ZorivestError
from zorivest_infra.secrets import (
    API_KEY_LABEL,
    ApiKeyCipher,
    ApiKeyDecryptionError,
)

SECRET = "sk-live-0123456789abcdef"


class _FakeJournalKey:
    def __init__(self, key: bytes) -> None:
        self.key = key
        self.labels: list[bytes] = []

    def derive_subkey(self, label: bytes, length: int = 32) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        self.labels.append(label)
        return HKDF(algorithm=hashes.SHA256(), length=length, salt=b"s" * 16, info=label).derive(
            self.key
        )


def test_round_trip_has_the_enc_prefix_and_hides_the_key() -> None:
    cipher = ApiKeyCipher(os.urandom(32))
    stored = cipher.encrypt(SECRET)
    assert stored.startswith("ENC:")
    assert SECRET not in stored
    assert cipher.decrypt(stored) == SECRET
    assert ApiKeyCipher.is_encrypted(stored)
    assert not ApiKeyCipher.is_encrypted(SECRET)
    assert not ApiKeyCipher.is_encrypted(None)


def test_unicode_keys_round_trip() -> None:
    cipher = ApiKeyCipher(b"k" * 32)
    assert cipher.decrypt(cipher.encrypt("clé-🔑")) == "clé-🔑"


def test_each_encryption_uses_a_fresh_token() -> None:
    cipher = ApiKeyCipher(b"k" * 32)
    assert cipher.encrypt(SECRET) != cipher.encrypt(SECRET)


def test_the_same_key_decrypts_across_instances() -> None:
    stored = ApiKeyCipher(b"k" * 32).encrypt(SECRET)
    assert ApiKeyCipher(bytearray(b"k" * 32)).decrypt(stored) == SECRET


def test_a_different_key_or_salt_cannot_decrypt_and_the_error_is_clean() -> None:
    stored = ApiKeyCipher(b"k" * 32).encrypt(SECRET)
    for other in (ApiKeyCipher(b"j" * 32), ApiKeyCipher(b"k" * 32, salt=b"other")):
        with pytest.raises(ApiKeyDecryptionError) as raised:
            other.decrypt(stored)
        assert isinstance(raised.value, ZorivestError)
        assert SECRET not in str(raised.value)
        assert stored[4:20] not in str(raised.value)


def test_the_fernet_key_is_not_the_raw_key() -> None:
    """HKDF with a label: a Fernet built directly on the raw key cannot read the tokens."""
    import base64

    from cryptography.fernet import Fernet, InvalidToken

    raw = b"r" * 32
    stored = ApiKeyCipher(raw).encrypt(SECRET)
    with pytest.raises(InvalidToken):
        Fernet(base64.urlsafe_b64encode(raw)).decrypt(stored[4:].encode())


@pytest.mark.parametrize("stored", [SECRET, "ENC:", "ENC:not-a-token", "ENC:ü", ""])
def test_plaintext_or_damaged_values_are_refused(stored: str) -> None:
    cipher = ApiKeyCipher(b"k" * 32)
    with pytest.raises(ApiKeyDecryptionError) as raised:
        cipher.decrypt(stored)
    assert SECRET not in str(raised.value)


def test_a_tampered_token_is_refused() -> None:
    cipher = ApiKeyCipher(b"k" * 32)
    stored = cipher.encrypt(SECRET)
    flipped = stored[:-6] + ("A" if stored[-6] != "A" else "B") + stored[-5:]
    with pytest.raises(ApiKeyDecryptionError):
        cipher.decrypt(flipped)


@pytest.mark.parametrize("key", [b"", b"short", b"x" * 31, b"x" * 33, "x" * 32])
def test_the_key_must_be_32_bytes_and_is_not_echoed(key: object) -> None:
    with pytest.raises(ValidationError) as raised:
        ApiKeyCipher(key)  # type: ignore[arg-type]
    assert "xxxx" not in str(raised.value)


@pytest.mark.parametrize("api_key", ["", "   ", None, 123])
def test_empty_or_non_text_api_keys_are_refused(api_key: object) -> None:
    with pytest.raises(ValidationError):
        ApiKeyCipher(b"k" * 32).encrypt(api_key)  # type: ignore[arg-type]


def test_repr_str_and_pickle_show_no_key_material() -> None:
    raw = bytes(range(32))
    cipher = ApiKeyCipher(raw)
    for text in (repr(cipher), str(cipher)):
        assert text == "ApiKeyCipher(<redacted>)"
        assert raw.hex() not in text
    with pytest.raises(TypeError):
        pickle.dumps(cipher)
    with pytest.raises(TypeError):
        copy.copy(cipher)
    assert not hasattr(cipher, "__dict__")


def test_from_journal_key_uses_the_distinct_label() -> None:
    journal_key = _FakeJournalKey(b"j" * 32)
    cipher = ApiKeyCipher.from_journal_key(journal_key)
    assert journal_key.labels == [API_KEY_LABEL]
    assert (
        ApiKeyCipher.from_journal_key(_FakeJournalKey(b"j" * 32)).decrypt(cipher.encrypt(SECRET))
        == SECRET
    )
    with pytest.raises(ApiKeyDecryptionError):
        ApiKeyCipher.from_journal_key(_FakeJournalKey(b"i" * 32)).decrypt(cipher.encrypt(SECRET))


def test_from_a_real_journal_key() -> None:
    from zorivest_infra.database.connection import JournalKey

    key = JournalKey(b"q" * 32, b"s" * 16)
    stored = ApiKeyCipher.from_journal_key(key).encrypt(SECRET)
    assert ApiKeyCipher.from_journal_key(JournalKey(b"q" * 32, b"s" * 16)).decrypt(stored) == SECRET
    with pytest.raises(ApiKeyDecryptionError):
        ApiKeyCipher.from_journal_key(JournalKey(b"q" * 32, b"t" * 16)).decrypt(stored)
