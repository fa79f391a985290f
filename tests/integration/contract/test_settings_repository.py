"""Settings and app-default repository contract, on every backend."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.contract._rows import count_rows, raw_count
from zorivest_core.domain.entities import AppDefault, Setting
from zorivest_core.domain.enums import SettingValueType as T
from zorivest_core.domain.errors import DuplicateError, NotFoundError, ValidationError
from zorivest_infra.database.repositories.settings import (
    SqlAlchemyAppDefaultRepository,
    SqlAlchemySettingsRepository,
)
from zorivest_infra.database.seed import APP_DEFAULTS

NPT = dt.timezone(dt.timedelta(hours=5, minutes=45))


@pytest.fixture
def settings(backend_session: Session) -> SqlAlchemySettingsRepository:
    return SqlAlchemySettingsRepository(backend_session)


@pytest.fixture
def defaults(backend_session: Session) -> SqlAlchemyAppDefaultRepository:
    return SqlAlchemyAppDefaultRepository(backend_session)


def test_seeded_defaults_resolve_typed(settings: SqlAlchemySettingsRepository) -> None:
    assert settings.resolve("ui.theme") == "dark"
    assert settings.resolve("ui.sidebar.width") == 280
    assert settings.resolve("dialog.confirm_delete") is True
    assert settings.resolve("display.hide_dollars") is False
    assert settings.resolve("ui.activePage") == "/"
    everything = settings.resolve_all()
    assert len(everything) == len(APP_DEFAULTS)
    assert everything["logging.rotation_mb"] == 10
    assert everything["backup.compression_enabled"] is True


def test_resolution_order_user_then_default_then_pattern_then_not_found(
    settings: SqlAlchemySettingsRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    stored = settings.set("ui.theme", "light")
    assert stored.value == "light"
    assert stored.value_type is T.STR
    assert settings.resolve("ui.theme") == "light"
    backend_session.commit()
    with session_factory() as fresh:
        raw = fresh.execute(
            text("SELECT value, value_type FROM settings WHERE key = 'ui.theme'")
        ).one()
        assert tuple(raw) == ("light", "str")
        # The default row is untouched.
        assert (
            fresh.execute(
                text("SELECT value FROM app_defaults WHERE key = 'ui.theme'")
            ).scalar_one()
            == "dark"
        )
        assert SqlAlchemySettingsRepository(fresh).resolve("ui.theme") == "light"

    settings.delete("ui.theme")
    assert settings.resolve("ui.theme") == "dark"
    assert settings.get("ui.theme") is None
    with pytest.raises(NotFoundError):
        settings.delete("ui.theme")

    assert settings.resolve("ui.panel.trades.collapsed") is False
    settings.set("ui.panel.trades.collapsed", True)
    assert settings.resolve("ui.panel.trades.collapsed") is True
    assert settings.resolve_all()["ui.panel.trades.collapsed"] is True
    with pytest.raises(NotFoundError):
        settings.resolve("no.such.key")
    with pytest.raises(NotFoundError):
        settings.resolve("ui.panel.collapsed")


WRONG_VALUES: list[tuple[str, object]] = [
    ("ui.theme", 5),
    ("ui.theme", "blue"),
    ("ui.sidebar.width", "wide"),
    ("ui.sidebar.width", 280.5),
    ("ui.sidebar.width", True),
    ("ui.sidebar.width", 10_000),
    ("dialog.confirm_delete", "yes"),
    ("dialog.confirm_delete", 1),
    ("logging.api.level", "verbose"),
    ("ui.panel.chart.collapsed", "no"),
    ("custom.key", None),
    ("custom.key", {"nan": float("nan")}),
    ("", "x"),
    ("k" * 201, "x"),
]


def test_values_of_the_wrong_type_are_refused_and_nothing_is_stored(
    settings: SqlAlchemySettingsRepository, backend_session: Session
) -> None:
    for key, value in WRONG_VALUES:
        with pytest.raises(ValidationError):
            settings.set(key, value)
    assert count_rows(backend_session, "settings") == 0


def test_values_of_every_type_round_trip(
    settings: SqlAlchemySettingsRepository, backend_session: Session
) -> None:
    values: dict[str, object] = {
        "custom.flag": False,
        "custom.count": -(2**40),
        "custom.ratio": 0.1,
        "custom.name": "ünïcode \"quoted\" 'text'",
        "custom.layout": {"columns": ["time", "pnl"], "widths": [80, 120], "dense": True},
        "custom.recent": ["AAPL", "MSFT"],
        "ui.sidebar.width": 600,
        "display.percent_mode": "total",
    }
    for key, value in values.items():
        settings.set(key, value)
    for key, value in values.items():
        resolved = settings.resolve(key)
        assert resolved == value
        assert type(resolved) is type(value)
    raw: dict[str, str] = dict(
        backend_session.execute(
            text("SELECT key, value FROM settings WHERE key IN ('custom.flag', 'custom.layout')")
        ).all()
    )
    assert raw["custom.flag"] == "false"
    assert raw["custom.layout"] == '{"columns":["time","pnl"],"widths":[80,120],"dense":true}'
    # Re-setting replaces the row instead of adding one.
    settings.set("custom.count", 7)
    assert settings.resolve("custom.count") == 7
    assert [s.key for s in settings.list_all()] == sorted(values)


def test_an_int_is_stored_as_float_for_a_float_default(
    settings: SqlAlchemySettingsRepository, defaults: SqlAlchemyAppDefaultRepository
) -> None:
    defaults.save(AppDefault(key="chart.zoom", value="1.5", value_type=T.FLOAT, category="ui"))
    assert settings.resolve("chart.zoom") == 1.5
    settings.set("chart.zoom", 2)
    assert settings.resolve("chart.zoom") == 2.0
    assert isinstance(settings.resolve("chart.zoom"), float)


def test_a_corrupt_stored_value_names_the_key(
    settings: SqlAlchemySettingsRepository, backend_session: Session
) -> None:
    backend_session.execute(
        text(
            "INSERT INTO settings (key, value, value_type) "
            "VALUES ('ui.sidebar.width', 'wide', 'int'), ('legacy.untyped', 'x', NULL), "
            "('dialog.confirm_delete', 'false', NULL)"
        )
    )
    with pytest.raises(ValidationError, match=r"ui\.sidebar\.width.*'wide'"):
        settings.resolve("ui.sidebar.width")
    assert settings.resolve("legacy.untyped") == "x"
    # An untyped row reads as its default's type.
    assert settings.resolve("dialog.confirm_delete") is False
    stored = settings.get("legacy.untyped")
    assert stored == Setting(key="legacy.untyped", value="x")


def test_app_defaults_round_trip_and_upsert_missing(
    defaults: SqlAlchemyAppDefaultRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    when = dt.datetime(2024, 3, 8, 12, 0, 0, 7, tzinfo=NPT)
    new = AppDefault(
        key="chart.style",
        value='{"candles":"hollow"}',
        value_type=T.JSON,
        category="chart",
        description="Chart style",
        updated_at=when,
    )
    defaults.save(new)
    with pytest.raises(DuplicateError):
        defaults.save(new)
    with pytest.raises(ValidationError):
        defaults.save(AppDefault(key="bad.int", value="1.5", value_type=T.INT, category="x"))
    with pytest.raises(NotFoundError):
        defaults.update(AppDefault(key="nope", value="1", value_type=T.INT, category="x"))

    theme = defaults.get("ui.theme")
    assert theme is not None
    changed_theme = AppDefault(key="ui.theme", value="light", value_type=T.STR, category="ui")
    added = defaults.upsert_missing(
        [
            changed_theme,
            AppDefault(key="chart.grid", value="true", value_type=T.BOOL, category="chart"),
            AppDefault(key="chart.grid", value="false", value_type=T.BOOL, category="chart"),
        ]
    )
    assert added == 1
    assert defaults.upsert_missing([]) == 0
    backend_session.commit()
    with session_factory() as fresh:
        fresh_defaults = SqlAlchemyAppDefaultRepository(fresh)
        assert fresh_defaults.get("chart.style") == new
        assert fresh_defaults.get("ui.theme") == theme  # never overwritten
        assert [d.key for d in fresh_defaults.list_by_category("chart")] == [
            "chart.grid",
            "chart.style",
        ]
        assert len(fresh_defaults.list_all()) == len(APP_DEFAULTS) + 2
        grid = fresh.execute(
            text("SELECT value FROM app_defaults WHERE key = 'chart.grid'")
        ).scalar_one()
        assert grid == "true"
    defaults.update(changed_theme)
    assert SqlAlchemySettingsRepository(backend_session).resolve("ui.theme") == "light"
    assert defaults.get("missing") is None


def test_rollback_leaves_nothing(
    settings: SqlAlchemySettingsRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    backend_session.commit()
    settings.set("ui.theme", "light")
    backend_session.rollback()
    assert raw_count(session_factory, "settings") == 0
    with session_factory() as fresh:
        assert SqlAlchemySettingsRepository(fresh).resolve("ui.theme") == "dark"
