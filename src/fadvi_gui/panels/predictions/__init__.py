"""The predictions panel: predict, review, accept, export."""

from __future__ import annotations

from fadvi_gui.panels.predictions.panel import PredictionsPanel

__all__ = ["PredictionsPanel"]
