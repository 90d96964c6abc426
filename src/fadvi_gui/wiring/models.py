"""Wiring of model files and reference mapping: Save Model, Load Model, Map Data onto Model.

A loaded model is kept as the session's ``reference_model``; mapping the open data onto it (genes
aligned, missing ones padded with zeros if the user agrees, a short training of the new
batch weights) gives the session a model for that data, usable for predictions.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import QObject, Signal

from fadvi_gui.session import JobKind
from fadvi_gui.tasks import model_files

#: File-dialog filter that shows saved models (and only them).
MODEL_FILTER = f"FADVI models (*{model_files.MODEL_FILE});;All files (*)"

if TYPE_CHECKING:
    from anndata import AnnData

    from fadvi_gui.session import Session
    from fadvi_gui.wiring.prompts import Prompts


class ModelWiring(QObject):
    """Runs the model-file and mapping jobs of a session.

    Parameters
    ----------
    session
        The session whose model is saved and onto whose data a loaded model is mapped.
    prompts
        Where errors, questions and status messages go (the main window).

    Signals
    -------
    progress(int, int)
        Epochs done and planned while mapping data onto a model.
    state_changed()
        A model was loaded or a mapping ended: menus may enable differently.
    """

    progress = Signal(int, int)
    state_changed = Signal()

    def __init__(self, session: Session, prompts: Prompts, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.prompts = prompts

    @property
    def can_map(self) -> bool:
        """True when a loaded model and open data exist and nothing blocks mapping."""
        s = self.session
        return (s.reference_model is not None and s.adata is not None
                and s.blocker(JobKind.ALIGN) is None)

    # ------------------------------------------------------------------ public
    def ask_and_save_model(self) -> None:
        """Ask for a model name (a file dialog showing the saved models), then save.

        A typed name gets the engine's ending (``pbmc`` is saved as ``pbmc_fadvi_model.npz``);
        replacing an existing model file is confirmed first.
        """
        if self.session.model is None:
            self.prompts.show_error("There is no model to save yet. Train or load one first.")
            return
        source = self.session.path
        stem = source.name.split(".")[0] if source is not None else ""
        chosen = self.prompts.ask_save_path(
            "Save model: type a name", model_files.model_file_name(stem), MODEL_FILTER)
        if not chosen:
            return
        target = Path(chosen).with_name(model_files.model_file_name(Path(chosen).name))
        # The dialog confirmed replacing the file it returned; a typed name maps to another file.
        if target.exists() and target != Path(chosen) and not self.prompts.ask_yes_no(
                "Replace the model?", f"A model named {target.name} is already in {target.parent}. "
                                      "Replace it?"):
            self.prompts.status("The model was not saved.", 8000)
            return
        self.save_model(target)

    def ask_and_load_model(self) -> None:
        """Ask for a saved model file (the dialog lists ``*fadvi_model.npz``), then load it."""
        chosen = self.prompts.ask_open_path("Load a saved FADVI model", MODEL_FILTER)
        if chosen:
            self.load_model(chosen)

    def save_model(self, path: str | Path) -> None:
        """Write the session's model in a worker: to a model file (``*fadvi_model.npz``) or a folder."""
        model = self.session.model
        if model is None:
            self.prompts.show_error("There is no model to save yet. Train or load one first.")
            return
        job = self.session.run_job(JobKind.MODEL_IO, f"Saving the model to {Path(path).name}",
                                   model_files.save_model, model, path)
        job.succeeded.connect(
            lambda written: self.prompts.status(f"Model saved: {written}", 8000))

    def load_model(self, path: str | Path) -> None:
        """Read a model file (or the folder holding ``fadvi_model.npz``) in a worker; then map the
        open data onto it, if any."""
        job = self.session.run_job(JobKind.MODEL_IO, f"Loading the model from {Path(path).name}",
                                   model_files.load_model, path)
        job.succeeded.connect(self._on_load_job_succeeded)

    def map_data(self) -> None:
        """Map the open data onto the loaded model: align genes in a worker, then map and train."""
        session = self.session
        if session.reference_model is None:
            self.prompts.show_error("Load a model first (File > Load Model...), then map data onto it.")
            return
        if session.adata is None:
            self.prompts.show_error("Open the data to map onto the model first.")
            return
        adata = session.adata
        job = session.run_job(JobKind.ALIGN, "Matching genes to the model", model_files.align_genes,
                              adata, session.reference_model)
        job.succeeded.connect(lambda result: self._on_align_job_succeeded(adata, result))

    # ------------------------------------------------------------------- slots
    def _on_load_job_succeeded(self, model: Any) -> None:
        self.session.set_reference_model(model)
        n_classes = len(getattr(model, "label_classes", []))
        text = f"Model loaded ({n_classes} cell types, {len(model.var_names):,} genes)."
        if self.session.adata is not None:
            self.prompts.status(f"{text} Mapping the open data onto it.", 8000)
            self.map_data()
        else:
            self.prompts.status(
                f"{text} Open data, then choose File > Map Data onto Model.", 15000)
        self.state_changed.emit()

    def _on_align_job_succeeded(self, adata: AnnData, result: tuple) -> None:
        aligned, n_missing, message = result
        if adata is not self.session.adata:
            return
        if aligned is None:
            self.prompts.show_error(message)
            return
        if n_missing and not self.prompts.ask_yes_no("Genes missing", message):
            self.prompts.status("Mapping cancelled: genes were not padded.", 8000)
            return
        job = self.session.create_job(JobKind.MAP, "Mapping the data onto the model",
                                      model_files.map_query, aligned, self.session.reference_model)
        job.progress.connect(self._on_map_job_progress)
        job.succeeded.connect(lambda model: self._on_map_job_succeeded(adata, model))
        job.ended.connect(lambda _outcome: self.state_changed.emit())
        self.session.start_job(job)

    def _on_map_job_progress(self, progress: Any) -> None:
        if getattr(progress, "epoch_end", False):
            self.progress.emit(int(progress.epoch) + 1, int(progress.max_epochs))

    def _on_map_job_succeeded(self, adata: AnnData, model: Any) -> None:
        if adata is not self.session.adata:
            return
        self.session.adopt_model(model)
        self.prompts.status("The data is mapped onto the model: predict labels now.", 8000)
