"""One FADVI session per napari viewer, with the app's panels and wiring around it.

:func:`bridge_for` returns the viewer's :class:`FadviBridge`, made on first use by whichever
comes first: a dock widget or the ``.h5ad`` reader. The bridge builds the app's panels and
the app's wiring objects (:mod:`fadvi_gui.wiring`) exactly as the main window does, with
napari standing in for the window: napari's canvas shows the cells (:class:`CellsLayer`),
napari's selection tools select them, napari's activity dock shows the jobs.
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import QObject, QSettings
from qtpy.QtWidgets import QApplication, QWidget

from fadvi_gui import settings as stored
from fadvi_gui.main_window import demo_path
from fadvi_gui.panels import DataPanel, ExplainPanel, PredictionsPanel, TrainingPanel
from fadvi_gui.tasks.devices import available_devices
from fadvi_gui.wiring import DataWiring, ModelWiring, PredictionsWiring, TrainingWiring
from fadvi_napari._jobs import NapariSession
from fadvi_napari._layer import CellsLayer
from fadvi_napari._prompts import NapariPrompts

if TYPE_CHECKING:
    from napari.viewer import Viewer

#: The panels a bridge offers as dock widgets, by the manifest's short names.
AREAS: tuple[str, ...] = ("data", "training", "predictions", "explain")
_OPEN_FILTER = "Single-cell data (*.h5ad *.h5 *.mtx *.mtx.gz);;All files (*)"
_BRIDGES: dict[int, FadviBridge] = {}


def bridge_for(viewer: Any) -> FadviBridge:
    """Return the :class:`FadviBridge` of ``viewer`` (a napari Viewer or its proxy), made once."""
    viewer = getattr(viewer, "__wrapped__", viewer)  # napari hands widgets a PublicOnlyProxy
    for key, bridge in list(_BRIDGES.items()):
        if bridge.viewer is None:
            del _BRIDGES[key]
    bridge = _BRIDGES.get(id(viewer))
    if bridge is None or bridge.viewer is not viewer:
        bridge = _BRIDGES[id(viewer)] = FadviBridge(viewer)
    return bridge


class FadviBridge(QObject):
    """The app's session, panels and wiring for one napari viewer.

    Parameters
    ----------
    viewer
        The napari viewer (held weakly: closing it ends the bridge).

    Attributes
    ----------
    session
        A :class:`~fadvi_napari._jobs.NapariSession` (jobs on napari's worker threads).
    panels
        The app's panels by area (``"data"``, ``"training"``, ``"predictions"``, ``"explain"``).
    cells
        The Points layer of the cells (:class:`~fadvi_napari._layer.CellsLayer`).
    prompts
        Messages and questions (:class:`~fadvi_napari._prompts.NapariPrompts`).
    """

    def __init__(self, viewer: Viewer) -> None:
        super().__init__()
        self._viewer = weakref.ref(viewer)
        self._docks: dict[int, QWidget] = {}
        self.settings: QSettings = stored.open_settings()
        self.session = NapariSession(self)
        self.prompts = NapariPrompts(self._dialog_parent)
        self.panels: dict[str, QWidget] = {
            "data": DataPanel(),
            "training": TrainingPanel(devices=available_devices()),
            "predictions": PredictionsPanel(),
            "explain": ExplainPanel(),
        }
        self.cells = CellsLayer(viewer, self.session, self)
        p, session = self.panels, self.session
        # The same wiring objects as the main window, in the same order.
        self.predictions_wiring = PredictionsWiring(session, p["predictions"], p["explain"],
                                                    self.prompts, self)
        self.model_wiring = ModelWiring(session, self.prompts, self)
        self.data_wiring = DataWiring(session, p["data"], self.settings, self)
        self.training_wiring = TrainingWiring(session, p["training"], self.settings,
                                              self.prompts, self)
        p["data"].open_requested.connect(self._on_data_open_requested)
        p["data"].open_demo_requested.connect(self.open_demo)
        # The docks close with napari's window, whose panels are gone by then: remember now.
        p["training"].settings_changed.connect(self.training_wiring.remember_settings)
        session.error.connect(self.prompts.show_error)
        session.saved.connect(lambda path: self.prompts.status(f"Saved {path}"))
        self.cells.selection_changed.connect(self.predictions_wiring.set_selection)
        self.predictions_wiring.cells_selected.connect(self.cells.set_selection)
        self.predictions_wiring.gene_requested.connect(self.cells.show_gene)

    @property
    def viewer(self) -> Viewer | None:
        """The napari viewer, or None once it is gone."""
        return self._viewer()

    # ------------------------------------------------------------------ public
    def open(self, path: str | Path) -> None:
        """Open ``path`` (.h5ad, 10x .h5 or 10x folder) in a job, as the app's File > Open does."""
        self.session.open(path)

    def open_demo(self) -> None:
        """Open the app's built-in demo dataset."""
        self.open(demo_path())

    def save_annotated(self) -> None:
        """Ask for a file name and write the annotated ``.h5ad`` there, as the app's Save As does."""
        session = self.session
        if session.adata is None:
            self.prompts.show_error("There is no data to save yet. Open a file first.")
            return
        source = session.path
        stem = source.stem.removesuffix(".h5") if source else "fadvi"
        path = self.prompts.ask_save_path("Save annotated data", f"{stem}_fadvi.h5ad",
                                          "AnnData (*.h5ad)")
        if path:
            session.save_as(path if path.endswith(".h5ad") else f"{path}.h5ad")

    def save_model(self) -> None:
        """Ask for a folder and write the model there (the app's Save Model)."""
        if self.session.model is None:
            self.prompts.show_error("There is no model to save yet. Train or load one first.")
            return
        folder = self.prompts.ask_folder("Choose a folder for the model")
        if folder:
            self.model_wiring.save_model(folder)

    def load_model(self) -> None:
        """Ask for a saved model's folder and load it; open data is then mapped onto it."""
        folder = self.prompts.ask_folder("Choose the folder of a saved FADVI model")
        if folder:
            self.model_wiring.load_model(folder)

    def panel(self, area: str) -> QWidget:
        """Return the app's panel of ``area`` (one of :data:`AREAS`)."""
        if area not in self.panels:
            raise ValueError(f"Unknown FADVI panel {area!r}. Choose one of {', '.join(AREAS)}.")
        return self.panels[area]

    def add_dock(self, dock: QWidget) -> None:
        """Remember ``dock`` (a plugin dock widget); the session stops once every dock is gone."""
        key = id(dock)
        self._docks[key] = dock
        dock.destroyed.connect(lambda _obj=None: self._on_dock_destroyed(key))

    def shut_down(self) -> None:
        """Stop every job and start no more (the viewer is closing)."""
        try:
            self.training_wiring.close()
        except RuntimeError:  # Qt deleted the timer already (the application is ending)
            pass
        self.session.shut_down()
        _BRIDGES.pop(next((k for k, b in _BRIDGES.items() if b is self), -1), None)

    # ------------------------------------------------------------------- slots
    def _dialog_parent(self) -> QWidget | None:
        for dock in self._docks.values():
            try:
                if dock.isVisible():  # a dock closed in napari lives on, hidden
                    return dock.window()
            except RuntimeError:  # deleted by Qt
                continue
        return QApplication.activeWindow()

    def _on_data_open_requested(self) -> None:
        path = self.prompts.ask_open_path("Open single-cell data", _OPEN_FILTER)
        if path:
            self.open(path)

    def _on_dock_destroyed(self, key: int) -> None:
        self._docks.pop(key, None)
        if not self._docks:
            self.shut_down()


__all__ = ["AREAS", "FadviBridge", "bridge_for"]
