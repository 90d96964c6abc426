"""The window's wiring, one area per module: panels' requests to session jobs, results back.

Each wiring object knows one panel (or two that share results) and the session; panels
never call each other, they only meet here.
"""

from __future__ import annotations

from fadvi_gui.wiring.models import ModelWiring
from fadvi_gui.wiring.predictions import PredictionsWiring
from fadvi_gui.wiring.viewer import ViewerWiring

__all__ = ["ModelWiring", "PredictionsWiring", "ViewerWiring"]
