"""The window's wiring, one area per module: panels' requests to session jobs, results back.

Each wiring object takes the session, its panels and a small :class:`Prompts` (errors,
questions, status messages) instead of the window; panels never call each other, they
only meet here.
"""

from __future__ import annotations

from fadvi_gui.wiring.data import DataWiring
from fadvi_gui.wiring.models import ModelWiring
from fadvi_gui.wiring.predictions import PredictionsWiring
from fadvi_gui.wiring.prompts import Prompts
from fadvi_gui.wiring.training import TrainingWiring
from fadvi_gui.wiring.viewer import ViewerWiring

__all__ = ["DataWiring", "ModelWiring", "PredictionsWiring", "Prompts", "TrainingWiring",
           "ViewerWiring"]
