"""Commands of napari's File menu: save the annotated data, save, load or map onto a model.

napari calls each with the current viewer (injected by its type annotation); each asks the
viewer's :class:`~fadvi_napari._bridge.FadviBridge` to do what the app's File menu does.
"""

from __future__ import annotations

from napari.viewer import Viewer

from fadvi_napari._bridge import bridge_for


def save_annotated(viewer: Viewer) -> None:
    """File > Save annotated data... (FADVI): latents, predictions and settings in a new .h5ad."""
    bridge_for(viewer).save_annotated()


def save_model(viewer: Viewer) -> None:
    """File > Save model... (FADVI): the trained model, in the engine's safe format."""
    bridge_for(viewer).save_model()


def load_model(viewer: Viewer) -> None:
    """File > Load model... (FADVI): a saved model; the open data is mapped onto it."""
    bridge_for(viewer).load_model()


def map_data(viewer: Viewer) -> None:
    """File > Map data onto model... (FADVI): the open data onto the loaded model."""
    bridge_for(viewer).model_wiring.map_data()


__all__ = ["load_model", "map_data", "save_annotated", "save_model"]
