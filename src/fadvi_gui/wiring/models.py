"""Wiring of model files and reference mapping: Save Model, Load Model, Map Data onto Model.

A loaded model is kept as ``session.reference_model``; mapping the open data onto it (genes
aligned, missing ones padded with zeros if the user agrees, a short training of the new
batch weights) gives the session a model for that data, usable for predictions.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from qtpy.QtCore import QObject, Signal

from fadvi_gui import model_tasks

if TYPE_CHECKING:
    from fadvi_gui.main_window import MainWindow


class ModelWiring(QObject):
    """Runs the model-file and mapping jobs of a window's session.

    Signals
    -------
    progress(int, int)
        Epochs done and planned while mapping data onto a model.
    state_changed()
        A model was loaded or a mapping ended: menus may enable differently.
    """

    progress = Signal(int, int)
    state_changed = Signal()

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.session = window.session

    @property
    def can_map(self) -> bool:
        """True when a loaded model and open data exist and nothing blocks mapping."""
        s = self.session
        return (s.reference_model is not None and s.adata is not None
                and not any(s.is_running(k) for k in ("load", "train", "map", "align", "save")))

    # ------------------------------------------------------------------ public
    def save_model(self, folder: str | Path) -> None:
        """Write the session's model into ``folder`` in a worker."""
        model = self.session.model
        if model is None:
            self.window.show_error("There is no model to save yet. Train or load one first.")
            return
        job = self.session.run_job("model_io", f"Saving the model to {Path(folder).name}",
                                   model_tasks.save_model, model, folder)
        job.succeeded.connect(
            lambda path: self.window.statusBar().showMessage(f"Model saved in {path}", 8000))

    def load_model(self, folder: str | Path) -> None:
        """Read a model from ``folder`` in a worker; then map the open data onto it, if any."""
        job = self.session.run_job("model_io", f"Loading the model from {Path(folder).name}",
                                   model_tasks.load_model, folder)
        job.succeeded.connect(self._on_load_job_succeeded)

    def map_data(self) -> None:
        """Map the open data onto the loaded model: align genes in a worker, then map and train."""
        session = self.session
        if session.reference_model is None:
            self.window.show_error("Load a model first (File > Load Model...), then map data onto it.")
            return
        if session.adata is None:
            self.window.show_error("Open the data to map onto the model first.")
            return
        adata = session.adata
        job = session.run_job("align", "Matching genes to the model", model_tasks.align_genes,
                              adata, session.reference_model)
        job.succeeded.connect(lambda result: self._on_align_job_succeeded(adata, result))

    # ------------------------------------------------------------------- slots
    def _on_load_job_succeeded(self, model) -> None:
        self.session.reference_model = model
        n_classes = len(getattr(model, "label_classes", []))
        text = f"Model loaded ({n_classes} cell types, {len(model.var_names):,} genes)."
        if self.session.adata is not None:
            self.window.statusBar().showMessage(f"{text} Mapping the open data onto it.", 8000)
            self.map_data()
        else:
            self.window.statusBar().showMessage(
                f"{text} Open data, then choose File > Map Data onto Model.", 15000)
        self.state_changed.emit()

    def _on_align_job_succeeded(self, adata, result) -> None:
        aligned, n_missing, message = result
        if adata is not self.session.adata:
            return
        if aligned is None:
            self.window.show_error(message)
            return
        if n_missing and not self.window.ask_yes_no("Genes missing", message):
            self.window.statusBar().showMessage("Mapping cancelled: genes were not padded.", 8000)
            return
        job = self.session.create_job("map", "Mapping the data onto the model",
                                      model_tasks.map_query, aligned, self.session.reference_model)
        job.progress.connect(self._on_map_job_progress)
        job.succeeded.connect(lambda model: self._on_map_job_succeeded(adata, model))
        job.ended.connect(lambda _outcome: self.state_changed.emit())
        self.session.start_job(job)

    def _on_map_job_progress(self, progress) -> None:
        if getattr(progress, "epoch_end", False):
            self.progress.emit(int(progress.epoch) + 1, int(progress.max_epochs))

    def _on_map_job_succeeded(self, adata, model) -> None:
        if adata is not self.session.adata:
            return
        self.session.adopt_model(model)
        self.window.statusBar().showMessage("The data is mapped onto the model: predict labels now.", 8000)
