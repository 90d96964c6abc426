"""Wiring of the predictions and explanations panels: predict, accept, explain, export.

Predictions are written into the session's AnnData on the UI thread
(:func:`fadvi_gui.results.write_predictions`); the viewer is told through ``cells_changed``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
from qtpy.QtCore import QObject, Signal

from fadvi_gui import prediction_tasks, results, results_io

if TYPE_CHECKING:
    from fadvi_gui.main_window import MainWindow
    from fadvi_gui.panels.explain_panel import ExplainPanel
    from fadvi_gui.panels.predictions_panel import PredictionsPanel

_PREDICT = "predict"
_EXPLAIN = "explain"
#: Jobs during which predictions must not be written (the data is being read or replaced).
_BLOCKING = {"load": "Wait for the data to open.", "train": "Wait for training to finish.",
             "save": "Wait for saving to finish.", "map": "Wait for the mapping to finish."}
_NO_MODEL = "Train or load a model to predict."
_PREDICT_FIRST = "Predict labels first, then explain them."


class PredictionsWiring(QObject):
    """Connects a :class:`PredictionsPanel` and an :class:`ExplainPanel` to the window's session.

    Signals
    -------
    cells_changed()
        obs gained or changed columns (predictions, accepted labels): show them again.
    gene_requested(str)
        Colour the viewer by this gene.
    cells_selected(object)
        Select these cell positions in the viewer.
    """

    cells_changed = Signal()
    gene_requested = Signal(str)
    cells_selected = Signal(object)

    def __init__(self, window: MainWindow, predictions: PredictionsPanel, explain: ExplainPanel
                 ) -> None:
        super().__init__(window)
        self.window = window
        self.session = session = window.session
        self.predictions = predictions
        self.explain = explain
        #: The confidence threshold, stored in ``uns["fadvi"]`` on save.
        self.threshold = predictions.threshold()
        session.review_threshold = self.threshold
        self._batch_message = ""
        self._state: tuple = (None, None)
        predictions.predict_requested.connect(self._on_predictions_predict_requested)
        predictions.cancel_requested.connect(lambda: session.cancel(_PREDICT))
        predictions.accept_requested.connect(self._on_predictions_accept_requested)
        predictions.threshold_changed.connect(self._on_predictions_threshold_changed)
        predictions.export_requested.connect(self._on_predictions_export_requested)
        predictions.cells_selected.connect(self.cells_selected)
        explain.run_requested.connect(self._on_explain_run_requested)
        explain.cancel_requested.connect(lambda: session.cancel(_EXPLAIN))
        explain.gene_clicked.connect(self.gene_requested)
        explain.export_table_requested.connect(self._on_explain_export_table_requested)
        explain.export_figure_requested.connect(self._on_explain_export_figure_requested)
        session.data_loaded.connect(self._on_session_data_loaded)
        session.model_trained.connect(self._on_session_model_trained)
        session.busy_changed.connect(self._on_session_busy_changed)

    # ------------------------------------------------------------------ public
    def set_selection(self, indices) -> None:
        """The viewer's selection changed."""
        self.predictions.set_selection(indices)
        self.explain.set_selection(indices)

    def review(self) -> pd.DataFrame:
        """The review table of the session's data (`fadvi_gui.results.review_table`)."""
        c = self.session.choices
        return results.review_table(self.session.adata, batch_key=c.batch_key,
                                    labels_key=c.labels_key, unlabeled_category=c.unlabeled_category)

    # ------------------------------------------------------------ session slots
    def _on_session_data_loaded(self, _adata) -> None:
        self._state = (None, None)
        self.predictions.set_review(self.review())
        self.explain.set_classes([])
        self._refresh_state()

    def _on_session_model_trained(self, model) -> None:
        self.explain.set_classes([str(c) for c in getattr(model, "label_classes", [])])
        self._refresh_state()

    def _on_session_busy_changed(self, _text: str) -> None:
        self._refresh_state()

    def _refresh_state(self) -> None:
        session = self.session
        blocked = next((why for kind, why in _BLOCKING.items() if session.is_running(kind)), "")
        predict = (False, blocked or _NO_MODEL) if session.model is None else (not blocked, blocked)
        has_labels = session.adata is not None and results.PREDICTION_KEY in session.adata.obs
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
    def _on_predictions_predict_requested(self, mode: str, indices) -> None:
        session = self.session
        if session.model is None or session.adata is None:
            return
        job = session.create_job(_PREDICT, f"Predicting {mode}s", prediction_tasks.predict_cells,
                                 session.model, indices=indices, mode=mode)
        job.progress.connect(self.predictions.show_progress)
        job.succeeded.connect(self._on_predict_job_succeeded)
        job.ended.connect(self._on_predict_job_ended)
        session.start_job(job)
        self.predictions.show_started(mode)

    def _on_predict_job_succeeded(self, run: prediction_tasks.PredictionRun) -> None:
        session, c = self.session, self.session.choices
        adata = session.adata
        if adata is None:
            return
        results.write_predictions(adata, run.probabilities, indices=run.indices, mode=run.mode)
        self._batch_message = ""
        if run.mode == "label":
            self._write_thresholded()
            self.predictions.set_review(self.review())
            self.explain.set_classes([str(x) for x in session.model.label_classes])
        elif c.batch_key in adata.obs:
            score = results.accuracy(adata.obs[c.batch_key], adata.obs["fadvi_batch_prediction"])
            self._batch_message = (f"Batch predicted from z_b for {score:.0%} of cells. High values "
                                   "mean z_b holds the batch, as it should.")
        self.cells_changed.emit()

    def _on_predict_job_ended(self, outcome: str) -> None:
        self.predictions.show_ended(outcome, self._batch_message if outcome == "finished" else "")
        self._refresh_state()

    def _on_predictions_threshold_changed(self, threshold: float) -> None:
        self.threshold = self.session.review_threshold = float(threshold)
        if self._write_thresholded():
            self.cells_changed.emit()

    def _write_thresholded(self) -> bool:
        """Write ``obs["fadvi_prediction_thresholded"]``; True if there were predictions."""
        adata = self.session.adata
        if adata is None or results.PREDICTION_KEY not in adata.obs:
            return False
        shown = results.thresholded(adata.obs[results.PREDICTION_KEY],
                                    adata.obs[results.CONFIDENCE_KEY], self.threshold)
        adata.obs["fadvi_prediction_thresholded"] = pd.Categorical(shown.to_numpy(dtype=object))
        return True

    def _on_predictions_accept_requested(self, indices, threshold: float) -> None:
        session, c = self.session, self.session.choices
        if session.adata is None or session.is_running("save"):
            return
        try:
            n = results.accept_predictions(
                session.adata, labels_key=c.labels_key, unlabeled_category=c.unlabeled_category,
                threshold=threshold, indices=indices, replace_labelled=indices is not None)
        except ValueError as exc:
            self.window.show_error(str(exc))
            return
        self.predictions.show_message(
            f"Accepted {n:,} predictions into '{results.ACCEPTED_KEY}'; "
            f"the original labels are unchanged.")
        self.cells_changed.emit()

    def _on_predictions_export_requested(self) -> None:
        session, c = self.session, self.session.choices
        path = self.window.ask_save_path("Export predictions", "fadvi_predictions.csv",
                                         "CSV files (*.csv)")
        if not path or session.adata is None:
            return
        try:
            results_io.export_predictions_csv(session.adata, _with_suffix(path, ".csv"),
                                              batch_key=c.batch_key, labels_key=c.labels_key)
        except (OSError, ValueError) as exc:
            self.window.show_error(f"The predictions could not be exported: {exc}")

    # -------------------------------------------------------------- explaining
    def _on_explain_run_requested(self, settings) -> None:
        session = self.session
        if session.model is None:
            return
        job = session.create_job(_EXPLAIN, "Explaining predictions", prediction_tasks.explain_cells,
                                 session.model, session.adata, settings)
        job.progress.connect(self.explain.show_progress)
        job.succeeded.connect(self.explain.set_result)
        job.ended.connect(self._on_explain_job_ended)
        session.start_job(job)
        self.explain.show_started()

    def _on_explain_job_ended(self, outcome: str) -> None:
        self.explain.show_ended(outcome)
        self._refresh_state()

    def _on_explain_export_table_requested(self, table) -> None:
        path = self.window.ask_save_path("Export ranked genes", "fadvi_ranked_genes.csv",
                                         "CSV files (*.csv)")
        if not path:
            return
        try:
            results_io.export_ranked_genes_csv(table, _with_suffix(path, ".csv"))
        except (OSError, ValueError) as exc:
            self.window.show_error(f"The gene table could not be exported: {exc}")

    def _on_explain_export_figure_requested(self) -> None:
        path = self.window.ask_save_path("Export figure", "fadvi_genes.png",
                                         "PNG image (*.png);;SVG image (*.svg)")
        if not path:
            return
        try:
            self.explain.save_figure(path if path.endswith((".png", ".svg")) else f"{path}.png")
        except (OSError, ValueError) as exc:
            self.window.show_error(f"The figure could not be saved: {exc}")


def _with_suffix(path: str, suffix: str) -> str:
    return path if path.lower().endswith(suffix) else f"{path}{suffix}"


__all__ = ["PredictionsWiring"]
