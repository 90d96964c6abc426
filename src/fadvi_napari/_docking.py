"""Show the plugin's docks in a viewer, registering the manifest first if napari lacks it.

napari finds the plugin through the ``napari.manifest`` entry point of the installed
distribution; from a source checkout that is not installed (``PYTHONPATH=src``) the
manifest is registered here from the package, so the same docks and menu entries appear.
"""

from __future__ import annotations

from importlib.resources import files
from typing import TYPE_CHECKING

from qtpy.QtCore import Qt, QTimer
from qtpy.QtWidgets import QMainWindow

from fadvi_napari import PLUGIN_NAME

if TYPE_CHECKING:
    from napari.viewer import Viewer

#: The app's panels as dock widgets, by their display names in the manifest, in the app's order.
DOCK_NAMES: tuple[str, ...] = ("Data", "Training", "Predictions", "Explanations")
#: The plugin's own dock: latent space, colouring and legend of the cells' layer.
CELLS_DOCK = "Cells"
#: Height (px) the "Cells" dock starts with: a legend of about a dozen categories.
CELLS_HEIGHT = 320


def ensure_registered() -> None:
    """Register the package's ``napari.yaml`` with npe2 unless an installed copy already is."""
    from npe2 import PluginManager, PluginManifest

    manager = PluginManager.instance()
    if PLUGIN_NAME in manager:
        return
    manifest = PluginManifest.from_file(str(files("fadvi_napari") / "napari.yaml"))
    manager.register(manifest)


def show_docks(viewer: Viewer) -> None:
    """Dock the data, training, predictions and explanations panels (each once) in ``viewer``.

    They share one tabbed dock on the right, in the order of the work, so each panel gets
    the full height beside napari's canvas; the data panel is in front. The "Cells" dock
    (latent space, colouring, legend) goes on the left, under napari's layer list.
    """
    ensure_registered()
    docks = [viewer.window.add_plugin_dock_widget(PLUGIN_NAME, name, tabify=i > 0)[0]
             for i, name in enumerate(DOCK_NAMES)]
    QTimer.singleShot(0, docks[0].raise_)  # once napari has made the tabs
    cells, _widget = viewer.window.add_plugin_dock_widget(PLUGIN_NAME, CELLS_DOCK)
    window = cells.parentWidget()
    if isinstance(window, QMainWindow):
        window.addDockWidget(Qt.LeftDockWidgetArea, cells)
        QTimer.singleShot(0, lambda: window.resizeDocks([cells], [CELLS_HEIGHT], Qt.Vertical))


__all__ = ["CELLS_DOCK", "DOCK_NAMES", "ensure_registered", "show_docks"]
