"""Application defaults and the MCP guard row that every journal starts with.

`seed_defaults` is idempotent: it adds missing keys and never overwrites an existing
default's value or any user setting. Databases built from the models (`create_all`, as the
contract tests do) are seeded with it; the baseline migration writes the same rows out
itself, frozen (a test checks they are equal). A later revision that adds a default may
call it, so the new default reaches existing journals on upgrade.
"""

from __future__ import annotations

import datetime as dt
from typing import Final, NamedTuple

from sqlalchemy import Connection, insert, select

from zorivest_core.domain.enums import SettingValueType as T
from zorivest_infra.database.models import AppDefaultModel, McpGuardModel


class DefaultRow(NamedTuple):
    key: str
    value: str
    value_type: T
    category: str
    description: str


APP_DEFAULTS: Final[tuple[DefaultRow, ...]] = (
    DefaultRow("dialog.confirm_delete", "true", T.BOOL, "dialog", "Confirm before deleting"),
    DefaultRow("dialog.confirm_restore", "true", T.BOOL, "dialog", "Confirm before restoring"),
    DefaultRow("dialog.confirm_clear_data", "true", T.BOOL, "dialog", "Confirm clearing data"),
    DefaultRow("dialog.confirm_export", "true", T.BOOL, "dialog", "Confirm before exporting"),
    DefaultRow("dialog.confirm_import", "true", T.BOOL, "dialog", "Confirm before importing"),
    DefaultRow(
        "logging.trades.level",
        "INFO",
        T.STR,
        "logging",
        "Trade log level: DEBUG, INFO, WARNING, ERROR, CRITICAL",
    ),
    DefaultRow(
        "logging.api.level",
        "INFO",
        T.STR,
        "logging",
        "API log level: DEBUG, INFO, WARNING, ERROR, CRITICAL",
    ),
    DefaultRow(
        "logging.rotation_mb", "10", T.INT, "logging", "Log file size before rotation (1-500 MB)"
    ),
    DefaultRow("logging.backup_count", "5", T.INT, "logging", "Rotated log files kept (1-50)"),
    DefaultRow("display.hide_dollars", "false", T.BOOL, "display", "Hide dollar amounts"),
    DefaultRow("display.hide_percentages", "false", T.BOOL, "display", "Hide percentages"),
    DefaultRow("display.percent_mode", "daily", T.STR, "display", "Percent mode: daily or total"),
    DefaultRow(
        "backup.auto_interval_seconds",
        "300",
        T.INT,
        "backup",
        "Seconds between automatic backups (60-86400)",
    ),
    DefaultRow(
        "backup.auto_change_threshold",
        "100",
        T.INT,
        "backup",
        "Changes that trigger an automatic backup (1-10000)",
    ),
    DefaultRow("backup.compression_enabled", "true", T.BOOL, "backup", "Compress backups"),
    DefaultRow("backup.max_age_days", "90", T.INT, "backup", "Days backups are kept (1-3650)"),
    DefaultRow("ui.theme", "dark", T.STR, "ui", "Theme: light or dark"),
    DefaultRow("ui.activePage", "/", T.STR, "ui", "Last active page (at most 256 characters)"),
    DefaultRow("ui.sidebar.width", "280", T.INT, "ui", "Sidebar width in pixels (150-600)"),
    DefaultRow(
        "notification.success.enabled", "true", T.BOOL, "notification", "Show success notifications"
    ),
    DefaultRow(
        "notification.info.enabled", "true", T.BOOL, "notification", "Show info notifications"
    ),
    DefaultRow("notification.warning.enabled", "true", T.BOOL, "notification", "Show warnings"),
    DefaultRow(
        "notification.confirmation.enabled",
        "true",
        T.BOOL,
        "notification",
        "Show confirmation notifications",
    ),
)

MCP_GUARD_ID: Final = 1


def seed_defaults(connection: Connection) -> int:
    """Insert missing app defaults and the MCP guard row; return how many rows were added."""
    now = dt.datetime.now(dt.UTC)
    existing = set(connection.scalars(select(AppDefaultModel.key)))
    missing = [
        {
            "key": row.key,
            "value": row.value,
            "value_type": row.value_type.value,
            "category": row.category,
            "description": row.description,
            "updated_at": now,
        }
        for row in APP_DEFAULTS
        if row.key not in existing
    ]
    if missing:
        connection.execute(insert(AppDefaultModel), missing)
    added = len(missing)
    guard = connection.scalar(select(McpGuardModel.id).where(McpGuardModel.id == MCP_GUARD_ID))
    if guard is None:
        connection.execute(
            insert(McpGuardModel).values(
                id=MCP_GUARD_ID,
                is_enabled=False,
                is_locked=False,
                calls_per_minute_limit=60,
                calls_per_hour_limit=500,
                updated_at=now,
            )
        )
        added += 1
    return added
