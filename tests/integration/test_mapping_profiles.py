"""Saved mapping profiles through the real unit of work, on every backend.

A profile is a row of `bank_import_configs`, checked here with raw SQL.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from zorivest_core.application.mapping_profile import MappingProfile
from zorivest_core.application.use_cases import profiles
from zorivest_core.domain.errors import DuplicateError, NotFoundError
from zorivest_infra.database.unit_of_work import SqlAlchemyUnitOfWork


def test_profiles_are_stored_loaded_listed_and_deleted(
    session_factory: sessionmaker[Session],
) -> None:
    profile = MappingProfile(
        name="broker-x",
        columns={"time": "Datum", "action": ""},
        date_format="%d.%m.%Y %H:%M",
        delimiter=";",
        decimal=",",
        zone="Europe/Berlin",
        id_strategy="derived",
    )
    with SqlAlchemyUnitOfWork(session_factory) as uow:
        assert profiles.save_profile(uow, profile, description="Broker X", replace=False) is False
        uow.commit()
    with session_factory() as fresh:
        row = fresh.execute(text("SELECT bank_id, name, config FROM bank_import_configs")).one()
    assert (row.bank_id, row.name) == ("broker-x", "Broker X")
    stored = json.loads(row.config) if isinstance(row.config, str) else row.config
    assert stored["kind"] == "trade-csv"
    assert stored["columns"] == {"time": "Datum", "action": ""}
    assert (stored["delimiter"], stored["decimal"], stored["zone"]) == (";", ",", "Europe/Berlin")
    with SqlAlchemyUnitOfWork(session_factory) as uow:
        assert profiles.load_profile(uow, "broker-x").profile == profile
        assert [item.profile.name for item in profiles.list_profiles(uow)] == ["broker-x"]
        with pytest.raises(DuplicateError, match="add --replace"):
            profiles.save_profile(uow, profile, replace=False)
        assert profiles.save_profile(uow, profile, replace=True) is True
        profiles.delete_profile(uow, "broker-x")
        with pytest.raises(NotFoundError, match="no profile is saved yet"):
            profiles.load_profile(uow, "broker-x")
        uow.commit()
