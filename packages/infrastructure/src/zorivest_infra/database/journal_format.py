"""The journal file format: what the first 16 bytes of an encrypted journal say.

Those 16 bytes are SQLCipher's salt, stored in clear at the start of the file, and also the
Argon2id salt of the passphrase. Format v1 makes them describe how to derive the key, so a
journal opens in any process whatever that process's defaults
(docs/decisions/0006-journal-format-v1.md has the byte layout):

    offset  size  field
    0       3     magic "ZVJ" (0x5A 0x56 0x4A)
    3       1     format version, 0x01
    4       1     KDF algorithm, 0x01 = Argon2id (version 0x13, 32-byte output)
    5       1     time cost t
    6       1     log2 of the memory cost in KiB
    7       1     parallelism p
    8       8     random bytes

The whole 16 bytes are the Argon2id salt, so the parameters are bound into the key.

A file without the magic is a format v0 journal (made before v1 existed): 16 random bytes,
derived with the v0 parameters (`V0_KDF_PARAMETERS`), whatever the process's defaults.

A header with the magic but an unknown version, algorithm or out-of-range parameters is
refused with `UnknownKdfProfileError`; no key derivation ever runs with guessed values.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Final

from zorivest_core.domain.errors import UnknownKdfProfileError, ValidationError

__all__ = [
    "FORMAT_MAGIC",
    "FORMAT_VERSION",
    "KDF_ARGON2ID",
    "MAX_MEMORY_EXPONENT",
    "MAX_PARALLELISM",
    "MAX_TIME_COST",
    "SALT_RANDOM_LEN",
    "V0_KDF_PARAMETERS",
    "JournalFormat",
    "KdfParameters",
    "encode_salt",
    "format_of_salt",
]

KEY_LEN: Final = 32
SALT_LEN: Final = 16

FORMAT_MAGIC: Final = b"ZVJ"
FORMAT_VERSION: Final = 1
KDF_ARGON2ID: Final = 0x01
SALT_RANDOM_LEN: Final = 8
"""Random bytes in a v1 salt: 64 bits, RFC 9106's minimum salt length (section 3.1)."""

# Bounds a header may ask for. A hostile or damaged file must not make an open allocate
# more than 4 GiB or run for hours; anything outside is an unknown profile.
MAX_TIME_COST: Final = 64
MAX_MEMORY_EXPONENT: Final = 22  # 2**22 KiB = 4 GiB
MAX_PARALLELISM: Final = 64


@dataclass(frozen=True, slots=True)
class KdfParameters:
    """Argon2id cost parameters.

    A journal records the parameters it was created with in its header (format v1), so
    changing the defaults never locks an existing journal; `Journal.change_passphrase`
    re-derives under the current defaults.

    Attributes:
        time_cost: Number of passes over memory (Argon2 ``t``).
        memory_cost_kib: Memory in KiB (Argon2 ``m``); a journal header records powers of
            two only.
        parallelism: Lanes (Argon2 ``p``).
        hash_len: Output length in bytes; always 32.
    """

    time_cost: int = 3
    memory_cost_kib: int = 65_536
    parallelism: int = 4
    hash_len: int = KEY_LEN

    def __post_init__(self) -> None:
        if self.time_cost < 1:
            raise ValidationError("Argon2 time_cost must be >= 1", field="time_cost")
        if self.parallelism < 1:
            raise ValidationError("Argon2 parallelism must be >= 1", field="parallelism")
        if self.memory_cost_kib < 8 * self.parallelism:
            raise ValidationError(
                "Argon2 memory_cost_kib must be >= 8 * parallelism",
                field="memory_cost_kib",
                value=self.memory_cost_kib,
            )
        if self.hash_len != KEY_LEN:
            raise ValidationError(
                f"hash_len must be {KEY_LEN} (SQLCipher takes a 256-bit key)",
                field="hash_len",
                value=self.hash_len,
            )


V0_KDF_PARAMETERS: Final = KdfParameters(time_cost=3, memory_cost_kib=65_536, parallelism=4)
"""The parameters every format v0 journal was created with (fixed forever)."""


@dataclass(frozen=True, slots=True)
class JournalFormat:
    """What a journal's header says: its format version and its key-derivation parameters."""

    version: int
    kdf: KdfParameters


def encode_salt(kdf: KdfParameters, random_part: bytes | None = None) -> bytes:
    """A new format v1 salt (16 bytes) recording `kdf`, with fresh random bytes.

    Args:
        kdf: The parameters to record; each must fit the header's bounds and the memory
            cost must be a power of two KiB.
        random_part: The 8 random bytes (tests only); fresh ones from ``os.urandom`` when
            omitted.

    Raises:
        ValidationError: `kdf` cannot be recorded in a v1 header.
    """
    memory = kdf.memory_cost_kib
    exponent = memory.bit_length() - 1
    if memory != 1 << exponent or exponent > MAX_MEMORY_EXPONENT:
        raise ValidationError(
            "memory_cost_kib: a journal records a power of two KiB up to "
            f"{1 << MAX_MEMORY_EXPONENT} (4 GiB)",
            field="memory_cost_kib",
            value=memory,
        )
    if kdf.time_cost > MAX_TIME_COST:
        raise ValidationError(
            f"time_cost: at most {MAX_TIME_COST}", field="time_cost", value=kdf.time_cost
        )
    if kdf.parallelism > MAX_PARALLELISM:
        raise ValidationError(
            f"parallelism: at most {MAX_PARALLELISM}", field="parallelism", value=kdf.parallelism
        )
    tail = os.urandom(SALT_RANDOM_LEN) if random_part is None else bytes(random_part)
    if len(tail) != SALT_RANDOM_LEN:
        raise ValidationError(
            f"random_part must be {SALT_RANDOM_LEN} bytes", field="random_part", value=len(tail)
        )
    profile = bytes((KDF_ARGON2ID, kdf.time_cost, exponent, kdf.parallelism))
    return FORMAT_MAGIC + bytes((FORMAT_VERSION,)) + profile + tail


def format_of_salt(salt: bytes) -> JournalFormat:
    """Read the format and key-derivation parameters from a journal's first 16 bytes.

    Raises:
        UnknownKdfProfileError: The header has the v1 magic but a version, algorithm or
            parameters this code does not know or accept.
    """
    head = bytes(salt[:SALT_LEN])
    if not head.startswith(FORMAT_MAGIC):
        return JournalFormat(version=0, kdf=V0_KDF_PARAMETERS)
    version = head[3]
    if version != FORMAT_VERSION:
        raise UnknownKdfProfileError(
            f"the journal is in format version {version}, which this version of Zorivest "
            f"does not know (it reads versions 0 and {FORMAT_VERSION}); it was written by a "
            "newer Zorivest: upgrade Zorivest to open it"
        )
    algorithm, time_cost, exponent, parallelism = head[4], head[5], head[6], head[7]
    profile = f"algorithm {algorithm:#04x}, t={time_cost}, m=2^{exponent} KiB, p={parallelism}"
    if (
        algorithm != KDF_ARGON2ID
        or not 1 <= time_cost <= MAX_TIME_COST
        or not 1 <= parallelism <= MAX_PARALLELISM
        or exponent > MAX_MEMORY_EXPONENT
        or (1 << exponent) < 8 * parallelism
    ):
        raise UnknownKdfProfileError(
            f"the journal's key-derivation profile ({profile}) is unknown to this version "
            "of Zorivest; it was written by a newer Zorivest (or its header is damaged): "
            "upgrade Zorivest to open it"
        )
    kdf = KdfParameters(time_cost=time_cost, memory_cost_kib=1 << exponent, parallelism=parallelism)
    return JournalFormat(version=FORMAT_VERSION, kdf=kdf)
