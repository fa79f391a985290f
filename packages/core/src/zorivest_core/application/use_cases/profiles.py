"""Saved CSV mapping profiles: add, list, show, delete (one unit of work each).

A profile is stored as a `bank_import_configs` row: `bank_id` is the profile's name,
`name` its description, `config` the mapping (`MappingProfile.to_config`, with
`kind: "trade-csv"`). Rows of another kind (bank CSV mappings) are never listed or touched
as profiles. The caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from zorivest_core.application.mapping_profile import PROFILE_KIND, MappingProfile
from zorivest_core.application.ports import UnitOfWork
from zorivest_core.domain.entities import BankImportConfig
from zorivest_core.domain.errors import DuplicateError, NotFoundError


@dataclass(frozen=True, slots=True)
class StoredProfile:
    profile: MappingProfile
    description: str


def _is_profile(config: BankImportConfig) -> bool:
    return config.config.get("kind") == PROFILE_KIND


def save_profile(
    uow: UnitOfWork, profile: MappingProfile, *, description: str | None = None, replace: bool
) -> bool:
    """Store `profile` under its name; returns True when it replaced a stored one.

    Raises:
        DuplicateError: The name is taken (and `replace` is False), or names a stored bank
            mapping that is not a trade CSV profile.
    """
    stored = uow.bank_import_configs.get(profile.name)
    config = BankImportConfig(
        bank_id=profile.name, name=description or profile.name, config=profile.to_config()
    )
    if stored is None:
        uow.bank_import_configs.save(config)
        return False
    if not _is_profile(stored):
        raise DuplicateError(
            f"{profile.name!r} is already the name of a bank import mapping; choose another name"
        )
    if not replace:
        raise DuplicateError(
            f"profile {profile.name!r} already exists (add --replace to overwrite it)"
        )
    uow.bank_import_configs.update(config)
    return True


def load_profile(uow: UnitOfWork, name: str) -> StoredProfile:
    """The profile saved as `name`.

    Raises:
        NotFoundError: No such profile (the message lists the saved ones).
    """
    stored = uow.bank_import_configs.get(name)
    if stored is None or not _is_profile(stored):
        names = [item.profile.name for item in list_profiles(uow)]
        saved = f"saved profiles: {', '.join(names)}" if names else "no profile is saved yet"
        raise NotFoundError(f"no profile {name!r} ({saved}; add one with zorivest profile add)")
    return StoredProfile(MappingProfile.from_config(name, stored.config), stored.name)


def list_profiles(uow: UnitOfWork) -> list[StoredProfile]:
    """Every saved profile, by name."""
    return [
        StoredProfile(MappingProfile.from_config(item.bank_id, item.config), item.name)
        for item in uow.bank_import_configs.list_all()
        if _is_profile(item)
    ]


def delete_profile(uow: UnitOfWork, name: str) -> None:
    """Delete the profile saved as `name` (NotFoundError when there is none)."""
    load_profile(uow, name)
    uow.bank_import_configs.delete(name)
