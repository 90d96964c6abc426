"""The window's panels: plain widgets that show state and emit request signals."""

from __future__ import annotations

from fadvi_gui.panels.data_panel import DataPanel
from fadvi_gui.panels.explain_panel import ExplainPanel
from fadvi_gui.panels.latent_view import LatentView
from fadvi_gui.panels.predictions_panel import PredictionsPanel
from fadvi_gui.panels.training_panel import TrainingPanel

__all__ = ["DataPanel", "ExplainPanel", "LatentView", "PredictionsPanel", "TrainingPanel"]
