"""Wiring of the predictions and explanations panels: predict, accept, explain, export.

Predictions are written into the data by the session (:meth:`Session.write_predictions`),
which tells everyone through ``cells_changed``; this module only starts jobs and fills panels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
from qtpy.QtCore import QObject, Signal

from fadvi_gui.model import results, results_io
from fadvi_gui.model.accept_text import accept_message
from fadvi_gui.model.keys import ACCEPTED_KEY, BATCH_PREDICTION_KEY, PREDICTION_KEY
from fadvi_gui.session import JobKind
from fadvi_gui.tasks import predictions as prediction_tasks

if TYPE_CHECKING:
    from fadvi_gui.model.explain import ExplainSettings
    from fadvi_gui.panels.explain import ExplainPanel
    from fadvi_gui.panels.predictions import PredictionsPanel
    from fadvi_gui.session import Session
    from fadvi_gui.wiring.prompts import Prompts

_NO_MODEL = "Train or load a model to predict."
_PREDICT_FIRST = "Predict labels first, then explain them."


class PredictionsWiring(QObject):
    """Connects a :class:`PredictionsPanel` and an :class:`ExplainPanel` to a session.

    Parameters
    ----------
    session
        Holds the data, the model and the predictions.
    predictions, explain
        The two panels.
    prompts
        Where errors and file-name questions go (the main window).

    Signals
    -------
    gene_requested(str)
        Colour the viewer by this gene.
    cells_selected(object)
        Select these cell positions in the viewer.
    """

    gene_requested = Signal(str)
    cells_selected = Signal(object)

    def __init__(self, session: Session, predictions: PredictionsPanel, explain: ExplainPanel,
                 prompts: Prompts, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.prompts = prompts
        self.predictions = predictions
        self.explain = explain
        session.set_review_threshold(predictions.threshold())
        self._batch_message = ""
        self._state: tuple = (None, None)
        predictions.predict_requested.connect(self._on_predictions_predict_requested)
        predictions.cancel_requested.connect(lambda: session.cancel(JobKind.PREDICT))
        predictions.accept_requested.connect(self._on_predictions_accept_requested)
        predictions.threshold_changed.connect(session.set_review_threshold)
        predictions.export_requested.connect(self._on_predictions_export_requested)
        predictions.cells_selected.connect(self.cells_selected)
        explain.run_requested.connect(self._on_explain_run_requested)
        explain.cancel_requested.connect(lambda: session.cancel(JobKind.EXPLAIN))
        explain.gene_clicked.connect(self.gene_requested)
        explain.export_table_requested.connect(self._on_explain_export_table_requested)
        explain.export_figure_requested.connect(self._on_explain_export_figure_requested)
        session.data_loaded.connect(self._on_session_data_loaded)
        session.model_trained.connect(self._on_session_model_trained)
        session.predictions_changed.connect(self._on_session_predictions_changed)
        session.busy_changed.connect(self._on_session_busy_changed)

    # ------------------------------------------------------------------ public
    @property
    def threshold(self) -> float:
        """The review's confidence threshold, stored in ``uns["fadvi"]`` on save."""
        return float(self.session.review_threshold or 0.0)

    def set_selection(self, indices: Any) -> None:
        """The viewer's selection changed."""
        self.predictions.set_selection(indices)
        self.explain.set_selection(indices)

    def review(self) -> pd.DataFrame:
        """The review table of the session's data (`fadvi_gui.model.results.review_table`)."""
        c = self.session.choices
        return results.review_table(self.session.adata, batch_key=c.batch_key,
                                    labels_key=c.labels_key, unlabeled_category=c.unlabeled_category)

    # ------------------------------------------------------------ session slots
    def _on_session_data_loaded(self, _adata: Any) -> None:
        self._state = (None, None)
        self.predictions.clear()
        self.explain.clear()
        self.predictions.set_review(self.review())
        self._refresh_state()

    def _on_session_model_trained(self, model: Any) -> None:
        self.explain.set_classes([str(c) for c in getattr(model, "label_classes", [])])
        self._refresh_state()

    def _on_session_busy_changed(self, _text: str) -> None:
        self._refresh_state()

    def _refresh_state(self) -> None:
        session = self.session
        blocked = session.blocked_reason(JobKind.PREDICT)
        predict = (False, blocked or _NO_MODEL) if session.model is None else (not blocked, blocked)
        has_labels = session.adata is not None and PREDICTION_KEY in session.adata.obs
        if session.model is None or not has_labels:
            run = (False, _PREDICT_FIRST if session.model is not None else _NO_MODEL)
        else:
            run = (not blocked, blocked)
        # Only on change, so the panels' "Predictions are ready." lines stay until something happens.
        if predict != self._state[0]:
            self.predictions.set_can_predict(*predict)
        if run != self._state[1]:
            self.explain.set_can_run(*run)
        self._state = (predict, run)
        self.predictions.set_can_accept(not blocked)

    # -------------------------------------------------------------- predicting
    def _on_predictions_predict_requested(self, mode: str, indices: Any) -> None:
        session = self.session
        if session.model is None or session.adata is None:
            return
        job = session.create_job(JobKind.PREDICT, f"Predicting {mode}s",
                                 prediction_tasks.predict_cells, session.model, indices=indices,
                                 mode=mode)
        job.progress.connect(self.predictions.show_progress)
        job.succeeded.connect(self._on_predict_job_succeeded)
        job.ended.connect(self._on_predict_job_ended)
        session.start_job(job)
        self.predictions.show_started(mode)

    def _on_predict_job_succeeded(self, run: prediction_tasks.PredictionRun) -> None:
        self._batch_message = ""
        self.session.write_predictions(run.probabilities, indices=run.indices, mode=run.mode)
        adata, c = self.session.adata, self.session.choices
        if run.mode == "batch" and adata is not None and c.batch_key in adata.obs:
            score = results.accuracy(adata.obs[c.batch_key], adata.obs[BATCH_PREDICTION_KEY])
            self._batch_message = (f"Batch predicted from z_b for {score:.0%} of cells. High values "
                                   "mean z_b holds the batch, as it should.")

    def _on_session_predictions_changed(self, mode: str) -> None:
        if mode == "label" and self.session.model is not None:
            self.predictions.set_review(self.review())
            self.explain.set_classes([str(x) for x in self.session.model.label_classes])

    def _on_predict_job_ended(self, outcome: str) -> None:
        self.predictions.show_ended(outcome, self._batch_message if outcome == "finished" else "")
        self._refresh_state()

    def _on_predictions_accept_requested(self, indices: Any, threshold: float) -> None:
        session = self.session
        if session.adata is None or session.is_running(JobKind.SAVE):
            return
        try:
            n = session.accept_predictions(indices, threshold)
        except ValueError as exc:
            self.prompts.show_error(str(exc))
            return
        c = session.choices
        self.predictions.show_message(accept_message(
            session.adata, n, threshold=threshold, indices=indices, labels_key=c.labels_key,
            unlabeled_category=c.unlabeled_category))

    def _on_predictions_export_requested(self) -> None:
        session, c = self.session, self.session.choices
        path = self.prompts.ask_save_path("Export predictions", "fadvi_predictions.csv",
                                         "CSV files (*.csv)")
        if not path or session.adata is None:
            return
        try:
            cells = session.reference.cells_for_export(session.adata)  # a reference's: the query's only
            results_io.export_predictions_csv(cells, _with_suffix(path, ".csv"),
                                              batch_key=c.batch_key, labels_key=c.labels_key)
        except (OSError, ValueError) as exc:
            self.prompts.show_error(f"The predictions could not be exported: {exc}")

    # -------------------------------------------------------------- explaining
    def _on_explain_run_requested(self, settings: ExplainSettings) -> None:
        session = self.session
        if session.model is None:
            return
        job = session.create_job(JobKind.EXPLAIN, "Explaining predictions", prediction_tasks.explain_cells,
                                 session.model, session.adata, settings)
        job.progress.connect(self.explain.show_progress)
        job.succeeded.connect(self.explain.set_result)
        job.ended.connect(self._on_explain_job_ended)
        session.start_job(job)
        self.explain.show_started()

    def _on_explain_job_ended(self, outcome: str) -> None:
        self.explain.show_ended(outcome)
        self._refresh_state()

    def _on_explain_export_table_requested(self, table: pd.DataFrame) -> None:
        path = self.prompts.ask_save_path("Export ranked genes", "fadvi_ranked_genes.csv",
                                         "CSV files (*.csv)")
        if not path:
            return
        try:
            results_io.export_ranked_genes_csv(table, _with_suffix(path, ".csv"))
        except (OSError, ValueError) as exc:
            self.prompts.show_error(f"The gene table could not be exported: {exc}")

    def _on_explain_export_figure_requested(self) -> None:
        path = self.prompts.ask_save_path("Export figure", "fadvi_genes.png",
                                         "PNG image (*.png);;SVG image (*.svg)")
        if not path:
            return
        try:
            self.explain.save_figure(path if path.endswith((".png", ".svg")) else f"{path}.png")
        except (OSError, ValueError) as exc:
            self.prompts.show_error(f"The figure could not be saved: {exc}")


def _with_suffix(path: str, suffix: str) -> str:
    return path if path.lower().endswith(suffix) else f"{path}{suffix}"


__all__ = ["PredictionsWiring"]
