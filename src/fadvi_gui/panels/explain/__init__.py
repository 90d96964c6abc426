"""The explanations panel: gene attributions per class."""

from __future__ import annotations

from fadvi_gui.panels.explain.panel import ExplainPanel

__all__ = ["ExplainPanel"]
