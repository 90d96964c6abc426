"""The training panel: hyperparameters, Train/Cancel, progress, loss curves."""

from __future__ import annotations

from fadvi_gui.panels.training.panel import TrainingPanel

__all__ = ["TrainingPanel"]
