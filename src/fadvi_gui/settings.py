"""QSettings helpers: one place that knows where settings live and how values round-trip.

Settings go to the platform's usual place under organisation ``FADVI`` and
application ``fadvi-gui``. Setting the environment variable
``FADVI_GUI_SETTINGS`` to a file path stores them in that INI file instead,
which keeps tests and benchmarks away from the user's real settings.
"""

from __future__ import annotations

import json
import os
from typing import Any

from qtpy.QtCore import QSettings

ORGANIZATION = "FADVI"
APPLICATION = "fadvi-gui"
SETTINGS_ENV = "FADVI_GUI_SETTINGS"
MAX_RECENT = 10


def open_settings() -> QSettings:
    """Return the app's settings store.

    Returns
    -------
    QSettings
        An INI file at ``$FADVI_GUI_SETTINGS`` when that variable is set, else
        the native store for ``FADVI/fadvi-gui``.
    """
    path = os.environ.get(SETTINGS_ENV)
    if path:
        return QSettings(path, QSettings.IniFormat)
    return QSettings(ORGANIZATION, APPLICATION)


def keep_settings_in(folder: str | os.PathLike) -> str:
    """Point every QSettings store of this process at ``folder``; return the INI file path to
    put in ``$FADVI_GUI_SETTINGS``, so that nothing reaches the user's real settings (tests)."""
    for fmt in (QSettings.NativeFormat, QSettings.IniFormat):
        QSettings.setPath(fmt, QSettings.UserScope, str(folder))
    return os.path.join(str(folder), f"{APPLICATION}.ini")


def read_json(settings: QSettings, key: str, default: Any = None) -> Any:
    """Return the JSON value stored under ``key``, or ``default`` if absent or unreadable."""
    raw = settings.value(key, None)
    if raw is None:
        return default
    try:
        return json.loads(str(raw))
    except (TypeError, ValueError):
        return default


def write_json(settings: QSettings, key: str, value: Any) -> None:
    """Store ``value`` under ``key`` as JSON text (round-trips lists, dicts, None and bools)."""
    settings.setValue(key, json.dumps(value))


def recent_files(settings: QSettings) -> list[str]:
    """Return the recently opened paths, newest first."""
    value = read_json(settings, "recent_files", [])
    return [str(p) for p in value] if isinstance(value, list) else []


def add_recent_file(settings: QSettings, path: str) -> list[str]:
    """Put ``path`` at the front of the recent-files list and return the new list."""
    paths = [p for p in recent_files(settings) if p != path]
    paths.insert(0, path)
    del paths[MAX_RECENT:]
    write_json(settings, "recent_files", paths)
    return paths


def clear_recent_files(settings: QSettings) -> None:
    """Forget every recently opened path."""
    write_json(settings, "recent_files", [])
