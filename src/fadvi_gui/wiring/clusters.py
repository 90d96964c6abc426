"""Wiring of the annotation panel's cluster box: Leiden of z_l and majority voting in a worker."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from qtpy.QtCore import QObject

from fadvi_gui.model.clusters import majority_vote
from fadvi_gui.model.keys import LATENT_L, LEIDEN_KEY, MAJORITY_KEY, PREDICTION_KEY
from fadvi_gui.model.steps import StepProgress
from fadvi_gui.session import JobKind
from fadvi_gui.tasks import clustering as cluster_tasks

if TYPE_CHECKING:
    from fadvi_gui.panels.annotation import ClusterBox
    from fadvi_gui.panels.viewer import LatentView
    from fadvi_gui.session import Session

_KIND = JobKind.CLUSTER
_PREDICT_FIRST = "Predict labels first, then smooth them over clusters."


class ClustersWiring(QObject):
    """Connects a :class:`ClusterBox` to a session; results become undoable columns.

    Parameters
    ----------
    session
        Holds z_l and the predictions; its workbench writes ``obs["fadvi_leiden"]`` and
        ``obs["fadvi_majority_vote"]``.
    box
        The annotation panel's cluster box.
    viewer
        Coloured by the majority vote when it is ready.
    """

    def __init__(self, session: Session, box: ClusterBox, viewer: LatentView,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.box, self.viewer = session, box, viewer
        box.run_requested.connect(self._on_box_run_requested)
        box.cancel_requested.connect(lambda: session.cancel(_KIND))
        session.data_loaded.connect(lambda _adata: self._refresh())
        session.predictions_changed.connect(lambda _mode: self._refresh())
        session.busy_changed.connect(lambda _text: self._refresh_can_run())
        session.workbench.annotations_changed.connect(self._refresh)

    def _refresh(self) -> None:
        """The per-cluster table from the columns as they are (also after undo and redo)."""
        adata = self.session.adata
        if adata is not None and {LEIDEN_KEY, MAJORITY_KEY, PREDICTION_KEY} <= set(adata.obs.columns):
            _voted, table = majority_vote(adata.obs[LEIDEN_KEY], adata.obs[PREDICTION_KEY])
            self.box.set_agreement(table)
        else:
            self.box.table.setRowCount(0)
        self._refresh_can_run()

    def _refresh_can_run(self) -> None:
        adata = self.session.adata
        blocked = self.session.blocked_reason(_KIND)
        ready = adata is not None and LATENT_L in adata.obsm and PREDICTION_KEY in adata.obs
        if not self.box.run_controls.is_running:
            self.box.run_controls.set_can_run(ready and not blocked,
                                              blocked or ("" if ready else _PREDICT_FIRST))

    def _on_box_run_requested(self, resolution: float) -> None:
        session, adata = self.session, self.session.adata
        if adata is None or LATENT_L not in adata.obsm or PREDICTION_KEY not in adata.obs:
            return
        seed = session.training_settings.seed if session.training_settings is not None else 0
        job = session.create_job(_KIND, "Clustering z_l", cluster_tasks.cluster_and_vote,
                                 np.asarray(adata.obsm[LATENT_L]), adata.obs[PREDICTION_KEY].to_numpy(),
                                 resolution=resolution, seed=seed)
        job.progress.connect(self._on_job_progress)
        adata_id = id(adata)
        job.succeeded.connect(lambda run: self._on_job_succeeded(adata_id, run))
        job.ended.connect(self._on_job_ended)
        session.start_job(job)
        self.box.run_controls.show_started("Clustering z_l...")

    def _on_job_progress(self, progress: Any) -> None:
        if isinstance(progress, StepProgress):
            controls = self.box.run_controls
            controls.progress_bar.setRange(0, progress.total)
            controls.progress_bar.setValue(progress.done)
            controls.show_message(progress.text)

    def _on_job_succeeded(self, adata_id: int, run: cluster_tasks.ClusterRun | None) -> None:
        adata = self.session.adata
        if run is None or adata is None or id(adata) != adata_id:
            return  # cancelled, or other data was opened meanwhile
        self.session.workbench.set_columns(f"Leiden clusters at resolution {run.resolution:g}",
                                           {LEIDEN_KEY: run.clusters, MAJORITY_KEY: run.voted})
        try:
            self.viewer.set_colour_by(MAJORITY_KEY)
        except ValueError:
            pass  # not listed yet

    def _on_job_ended(self, outcome: str) -> None:
        message = (f"{self.box.table.rowCount()} clusters; each cell's majority label is in "
                   f"'{MAJORITY_KEY}', its cluster in '{LEIDEN_KEY}'." if outcome == "finished" else "")
        self.box.run_controls.show_ended(outcome, message)
        self._refresh_can_run()


__all__ = ["ClustersWiring"]
