"""The data panel: file, setup choices, checks."""

from __future__ import annotations

from fadvi_gui.panels.data.panel import DataPanel

__all__ = ["DataPanel"]
