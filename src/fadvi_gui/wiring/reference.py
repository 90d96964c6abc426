"""Wiring of File > Annotate with Reference...: pick a reference, say what is what, join or map.

The user picks a labelled ``.h5ad`` (or a saved reference model's ``reference_card.json``); it is
read in a worker, a :class:`~fadvi_gui.dialogs_reference.ReferenceDialog` asks for its columns
(or shows the model card), and the session joins it with the open data (or maps the data onto
the model) in another worker. The data panel and the viewer then show both.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import QObject, Signal
from qtpy.QtWidgets import QWidget

from fadvi_gui.dialogs_reference import ReferenceDialog
from fadvi_gui.model.reference import COARSE_KEY
from fadvi_gui.session import JobKind

if TYPE_CHECKING:
    from fadvi_gui.panels.viewer import LatentView
    from fadvi_gui.session import Session
    from fadvi_gui.tasks.reference import ReadReference
    from fadvi_gui.wiring.prompts import Prompts

#: File-dialog filter: labelled references, and the card file that marks a reference model folder.
REFERENCE_FILTER = ("Labelled references (*.h5ad reference_card.json);;"
                    "AnnData (*.h5ad);;Reference model card (reference_card.json);;All files (*)")


class ReferenceWiring(QObject):
    """Runs the reference annotation of a session and shows its result in the viewer.

    Parameters
    ----------
    session
        Holds the open data; its ``reference`` does the work.
    viewer
        Offers "Query cells only" while a reference is joined.
    prompts
        Errors, file names and status messages (the main window).
    dialog_parent
        The window the column dialog belongs to.

    Attributes
    ----------
    dialog
        The latest column dialog (open while the user answers; tests fill it in).

    Signals
    -------
    progress(int, int)
        Epochs done and planned while mapping onto a reference model.
    """

    progress = Signal(int, int)

    def __init__(self, session: Session, viewer: LatentView, prompts: Prompts,
                 dialog_parent: QWidget | None = None) -> None:
        super().__init__(dialog_parent)
        self.session = session
        self.viewer = viewer
        self.prompts = prompts
        self.dialog_parent = dialog_parent
        self.dialog: ReferenceDialog | None = None
        session.data_loaded.connect(self._on_session_data_loaded)

    @property
    def can_annotate(self) -> bool:
        """True when data is open and nothing that replaces or rewrites it runs (as for mapping)."""
        return self.session.adata is not None and self.session.blocker(JobKind.MAP) is None

    def ask_and_annotate(self) -> None:
        """Ask for a reference (a labelled .h5ad, or a reference model's card), then read it."""
        path = self.prompts.ask_open_path(
            "Annotate with a reference: a labelled .h5ad, or a reference model's reference_card.json",
            REFERENCE_FILTER)
        if path:
            self.annotate_from(path)

    def annotate_from(self, path: str | Path) -> None:
        """Read the reference at ``path`` in a worker, then ask what is what."""
        if self.session.adata is None:
            self.prompts.show_error("Open your data first, then annotate it with a reference.")
            return
        if not self.can_annotate:
            self.prompts.show_error(f"{self.session.blocked_reason(JobKind.MAP)} Then annotate "
                                    "with the reference.")
            return
        job = self.session.reference.read(path)
        job.succeeded.connect(self._on_read_job_succeeded)

    @property
    def can_save_reference(self) -> bool:
        """True when the session's model has labels and nothing rewrites it."""
        model = self.session.model
        return (model is not None and bool(getattr(model, "label_classes", None))
                and self.session.blocker(JobKind.MODEL_IO) is None)

    def ask_and_save_reference(self) -> None:
        """Ask for a folder name, then save the session's model there as a reference model."""
        if not self.can_save_reference:
            self.prompts.show_error("Train a model with cell-type labels first; it then becomes "
                                    "a reference that other files can be annotated from.")
            return
        source = self.session.path
        stem = source.name.split(".")[0] if source is not None else "fadvi"
        chosen = self.prompts.ask_save_path("Save as reference model: name its folder",
                                            f"{stem}_reference", "Folder (*)")
        if chosen:
            self.save_reference(chosen)

    def save_reference(self, folder: str | Path) -> None:
        """Write the session's model, its card and its reference cells into ``folder``."""
        from fadvi_gui.tasks.reference import save_reference_model

        session = self.session
        coarse = self._coarse_column()
        job = session.run_job(JobKind.MODEL_IO, f"Saving the reference model {Path(folder).name}",
                              save_reference_model, session.model, folder, source=session.path,
                              coarse_labels_key=coarse)
        job.succeeded.connect(lambda written: self.prompts.status(
            f"Reference model saved: {written}. Annotate other files from it with File > "
            "Annotate with Reference... (pick its reference_card.json).", 12000))

    def _coarse_column(self) -> str | None:
        """The coarse label column to record: the joined reference's, or none."""
        adata = self.session.adata
        return COARSE_KEY if adata is not None and COARSE_KEY in adata.obs else None

    # ------------------------------------------------------------------- slots
    def _on_read_job_succeeded(self, read: ReadReference) -> None:
        reference = self.session.reference
        state = reference.state
        query_batch = state.query_batch_key if state is not None else self.session.choices.batch_key
        dialog = ReferenceDialog(read, reference.query().obs, query_batch, self.dialog_parent)
        dialog.accepted.connect(lambda: self._on_dialog_accepted(read, dialog))
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()

    def _on_dialog_accepted(self, read: ReadReference, dialog: ReferenceDialog) -> None:
        keys = dialog.keys()
        if not self.can_annotate:
            self.prompts.show_error(f"{self.session.blocked_reason(JobKind.MAP)} Then annotate "
                                    "with the reference.")
            return
        if dialog.is_model:
            self.session.reference.map(read, batch_key=keys["batch_key"], on_progress=self._on_progress)
            self.prompts.status(f"Mapping your data onto {read.path.name}...", 8000)
        else:
            self.session.reference.join(read, **keys)
            self.prompts.status(f"Matching the genes of {read.path.name} and your data...", 8000)

    def _on_progress(self, progress: Any) -> None:
        if getattr(progress, "epoch_end", False):
            self.progress.emit(int(progress.epoch) + 1, int(progress.max_epochs))

    def _on_session_data_loaded(self, _adata: Any) -> None:
        state = self.session.reference.state
        if state is None:
            self.viewer.set_query_cells(None)
            return
        self.viewer.set_query_cells(state.query_mask() if state.joint is not None else None)
        how = "joined with" if state.joint is not None else "mapped onto"
        self.prompts.status(f"Your data is {how} {state.reference_name}: "
                            f"{state.n_shared:,} shared genes.", 15000)


__all__ = ["REFERENCE_FILTER", "ReferenceWiring"]
