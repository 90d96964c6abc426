"""The session's reference annotation: the open data annotated from a labelled reference.

:class:`ReferenceAnnotation` belongs to a :class:`~fadvi_gui.session.Session`. It reads a
reference, joins it with the open data (or maps the data onto a reference model) in workers, and
hands the result to the session as its data, keeping the data as it was opened in a
:class:`~fadvi_gui.model.reference.ReferenceState`. Saving then writes the query's cells only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import QObject, Signal

from fadvi_gui.model.keys import PREDICTION_KEY
from fadvi_gui.model.reference import MAPPED, ReferenceState, query_view
from fadvi_gui.session.jobs import JobKind
from fadvi_gui.tasks import reference as reference_tasks

if TYPE_CHECKING:
    from anndata import AnnData

    from fadvi_gui.session.session import Session
    from fadvi_gui.session.workers import Job
    from fadvi_gui.tasks.reference import ReadReference


class ReferenceAnnotation(QObject):
    """Annotate the open data from a reference; kept until other data is opened.

    Signals
    -------
    changed(object)
        The reference state was set (before the session's ``data_loaded``) or cleared (None).
    """

    changed = Signal(object)

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self._session = session
        self.state: ReferenceState | None = None
        self._opinion_of: tuple | None = None  # the model and predictions last given a second opinion
        session.predictions_changed.connect(self._on_session_predictions_changed)

    @property
    def active(self) -> bool:
        """True while the session's data is the open data joined with (or mapped onto) a reference."""
        return self.state is not None

    def read(self, path: str | Path) -> Job:
        """Read the reference at ``path`` (a labelled ``.h5ad``, or a reference model folder)."""
        path = Path(path)
        return self._session.run_job(JobKind.LOAD, f"Reading the reference {path.name}",
                                     reference_tasks.read_reference, path)

    def join(self, read: ReadReference, *, labels_key: str, reference_batch_key: str | None = None,
             coarse_labels_key: str | None = None, batch_key: str | None = None,
             reference_layer: str | None = None) -> Job:
        """Join the reference's labelled cells with the open data's cells, in a worker; the
        session then holds the joint data (:meth:`adopt`)."""
        query = self.query()
        job = self._session.run_job(
            JobKind.LOAD, "Matching the genes of the reference and your data",
            reference_tasks.join_reference, query, read, labels_key=labels_key,
            reference_batch_key=reference_batch_key, coarse_labels_key=coarse_labels_key,
            batch_key=batch_key, layer=self._session.choices.layer, reference_layer=reference_layer)
        job.succeeded.connect(self.adopt)
        return job

    def map(self, read: ReadReference, *, batch_key: str | None = None,
            on_progress: Callable[[Any], None] | None = None) -> Job:
        """Map the open data onto a reference model in a worker; ``on_progress`` gets each
        ``fadvi_core.TrainingProgress``. The session then holds the mapped data and model."""
        query = self.query()
        job = self._session.create_job(
            JobKind.MAP, "Mapping your data onto the reference", reference_tasks.map_onto_reference,
            query, read, batch_key=batch_key, layer=self._session.choices.layer)
        if on_progress is not None:
            job.progress.connect(on_progress)
        job.succeeded.connect(lambda result: self.adopt(result[0], model=result[1]))
        self._session.start_job(job)
        return job

    def _on_session_predictions_changed(self, mode: str) -> None:
        """After label predictions, add the reference's second opinion (resolved prediction,
        kNN vote, agreement) in a worker; skipped when model and predictions are unchanged."""
        session = self._session
        adata = session.adata
        if mode != "label" or self.state is None or session.model is None or adata is None \
                or PREDICTION_KEY not in adata.obs or session.blocked_reason(JobKind.TRUST):
            return
        signature = (id(session.model), hash(adata.obs[PREDICTION_KEY].cat.codes.to_numpy().tobytes()))
        if signature == self._opinion_of:
            return
        self._opinion_of = signature
        job = session.run_job(JobKind.TRUST, "Asking the reference's nearest cells",
                              reference_tasks.second_opinion, self.state, session.model, adata)
        job.succeeded.connect(session.write_obs_columns)

    def explain_problems(self, problems: list) -> list:
        """With data mapped onto a reference model, say why training is off: the data's cells
        are unlabelled by design, and predictions need no training."""
        if self.state is None or self.state.mode != MAPPED:
            return problems
        from fadvi_core import InputProblem

        return [InputProblem(
            "mapped_no_training", "error",
            "Your cells are mapped onto the reference model, so there is nothing to train: "
            "press Predict labels.",
            "To train a new model on your data and the reference together, annotate from the "
            "labelled .h5ad instead.", dict(p.detail)) if p.code == "single_class" else p
            for p in problems]

    def query(self) -> AnnData:
        """The data as it was opened (not the joint data of an earlier reference)."""
        if self.state is not None:
            return self.state.query
        if self._session.adata is None:
            raise ValueError("Open your data first, then annotate it with a reference.")
        return self._session.adata

    def adopt(self, state: ReferenceState, *, model: Any = None) -> None:
        """Make ``state``'s data the session's data (every panel resets), with ``model`` if mapped."""
        session = self._session
        self.state = state
        self.changed.emit(state)
        session._set_data(state.data, session.path)
        if model is not None:
            session.adopt_model(model)

    def data_replaced(self, adata: AnnData) -> None:
        """Forget the reference when the session's data is no longer its data (another file)."""
        if self.state is not None and adata is not self.state.data:
            self.state = None
            self.changed.emit(None)

    def cells_for_export(self, adata: AnnData) -> AnnData:
        """``adata`` itself, or with a reference the query's cells only, in their own order."""
        return query_view(self.state, adata) if self.state is not None else adata

    def save_as(self, path: Path, *, params: dict, seed: int | None) -> Job:
        """Write the query's cells annotated (all their genes, their order) to ``path``."""
        session = self._session
        return session.run_job(
            JobKind.SAVE, f"Saving {path.name}", reference_tasks.save_query_annotation, self.state,
            session.adata, path, model=session.model, params=params, seed=seed, source=session.path)


__all__ = ["ReferenceAnnotation"]
