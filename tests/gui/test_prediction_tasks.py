"""Prediction and explanation functions run through a real worker job: progress, result, cancel."""

from __future__ import annotations

import numpy as np
from prediction_data import trained_model

from fadvi_core import ChunkProgress
from fadvi_gui.model import results
from fadvi_gui.model.explain import ExplainSettings
from fadvi_gui.tasks.predictions import explain_cells, predict_cells
from fadvi_gui.session.workers import Job


def _run(qtbot, job: Job, *, cancel: bool = False):
    progress, outcome = [], {}
    job.progress.connect(progress.append)
    job.succeeded.connect(lambda value: outcome.setdefault("result", value))
    job.failed.connect(lambda message, _details: outcome.setdefault("failed", message))
    with qtbot.waitSignal(job.ended, timeout=60_000) as blocker:
        if cancel:
            job.cancel()
        job.start()
    return blocker.args[0], outcome, progress


def test_predict_in_a_worker_writes_back_on_the_ui_thread(qtbot):
    model, adata = trained_model()
    adata = adata.copy()
    outcome_name, outcome, progress = _run(qtbot, Job("Predicting", predict_cells, model,
                                                      indices=np.arange(10, 30)))
    assert outcome_name == "finished"
    run = outcome["result"]
    assert run.probabilities.shape == (20, len(model.label_classes))
    assert isinstance(progress[-1], ChunkProgress) and progress[-1].done == progress[-1].total == 20
    results.write_predictions(adata, run.probabilities, indices=run.indices, mode=run.mode)
    assert adata.obs[results.PREDICTION_KEY].notna().sum() == 20


def test_batch_prediction_and_cancel(qtbot):
    model, _ = trained_model()
    _, outcome, _ = _run(qtbot, Job("Predicting", predict_cells, model, mode="batch"))
    assert list(outcome["result"].probabilities.columns) == model.batch_categories
    name, outcome, _ = _run(qtbot, Job("Predicting", predict_cells, model), cancel=True)
    assert name == "cancelled" and "result" not in outcome


def test_empty_selection_fails_with_a_message(qtbot):
    model, _ = trained_model()
    name, outcome, _ = _run(qtbot, Job("Predicting", predict_cells, model, indices=[]))
    assert name == "failed" and "No cells are selected" in outcome["failed"]


def test_explain_in_a_worker(qtbot):
    model, adata = trained_model()
    settings = ExplainSettings(method="ig", scope="all", max_cells=5, n_steps=3)
    name, outcome, progress = _run(qtbot, Job("Explaining", explain_cells, model, adata, settings))
    assert name == "finished"
    assert set(outcome["result"].tables) == set(outcome["result"].predictions)
    assert progress and progress[-1].done == progress[-1].total
