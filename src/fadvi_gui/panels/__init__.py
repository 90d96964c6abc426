"""The window's panels: plain widgets that show state and emit request signals.

One subpackage per panel, with its private helpers; panels never import each other, the
wiring, the session or the tasks (enforced by import-linter, see ``pyproject.toml``).
Shared widgets live in :mod:`fadvi_gui.panels.common`.
"""

from __future__ import annotations

from fadvi_gui.panels.data import DataPanel
from fadvi_gui.panels.explain import ExplainPanel
from fadvi_gui.panels.predictions import PredictionsPanel
from fadvi_gui.panels.training import TrainingPanel
from fadvi_gui.panels.viewer import LatentView

__all__ = ["DataPanel", "ExplainPanel", "LatentView", "PredictionsPanel", "TrainingPanel"]
