"""The session as the only writer: its change signals, and the one table of what blocks what."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO

from fadvi_gui.model.keys import ACCEPTED_KEY, PREDICTION_KEY, THRESHOLDED_KEY, UNCERTAIN
from fadvi_gui.session import JobKind, Session
from fadvi_gui.session.jobs import BLOCKED_BY, blocker, wait_text


def test_every_job_kind_has_a_row_in_the_blocking_table():
    assert set(BLOCKED_BY) == set(JobKind)


@pytest.mark.parametrize(("kind", "running", "expected"), [
    (JobKind.PREDICT, {JobKind.TRAIN}, JobKind.TRAIN),
    (JobKind.EXPLAIN, {JobKind.MAP, JobKind.EMBEDDING}, JobKind.MAP),
    (JobKind.PREDICT, {JobKind.EMBEDDING, JobKind.GENE, JobKind.LATENTS}, None),
    (JobKind.TRAIN, {JobKind.CHECK}, None),
    (JobKind.TRAIN, {JobKind.SAVE}, JobKind.SAVE),
    (JobKind.MAP, {JobKind.ALIGN}, JobKind.ALIGN),
    (JobKind.LOAD, {JobKind.PREDICT}, None),
])
def test_blocker_names_the_running_job_that_blocks(kind, running, expected):
    assert blocker(kind, running) == expected


def test_wait_text_is_plain_language():
    assert wait_text(JobKind.TRAIN) == "Wait for training to finish."
    assert wait_text("load") == "Wait for the data to open."


@pytest.fixture
def session(qtbot):
    import anndata

    session = Session()
    session._set_data(anndata.read_h5ad(DEMO)[:50].copy(), None)
    return session


def _probabilities(n: int) -> pd.DataFrame:
    values = np.tile([0.8, 0.2], (n, 1))
    values[::2] = [0.3, 0.7]
    return pd.DataFrame(values, columns=["B", "T"])


def test_writing_predictions_emits_changes_and_applies_the_threshold(qtbot, session):
    session.set_review_threshold(0.75)
    with qtbot.waitSignals([session.predictions_changed, session.cells_changed]) as signals:
        session.write_predictions(_probabilities(50), indices=None, mode="label")
    assert signals.all_signals_and_args[0].args == ("label",)
    obs = session.adata.obs
    assert obs[PREDICTION_KEY].astype(str).tolist()[:2] == ["T", "B"]
    assert (obs[THRESHOLDED_KEY].astype(str).to_numpy()[::2] == UNCERTAIN).all()
    with qtbot.waitSignal(session.cells_changed):
        session.set_review_threshold(0.5)
    assert (obs[THRESHOLDED_KEY].astype(str) != UNCERTAIN).all()
    assert session.parameters()["review"]["confidence_threshold"] == 0.5


def test_accepting_and_flagging_cells_emit_cells_changed(qtbot, session):
    session.choices = session.choices.__class__(labels_key="cell_type", unlabeled_category="Unknown")
    session.write_predictions(_probabilities(50), indices=None, mode="label")
    with qtbot.waitSignal(session.cells_changed):
        session.accept_predictions(None, 0.5)
    assert ACCEPTED_KEY in session.adata.obs
    with qtbot.waitSignal(session.cells_changed):
        session.flag_cells("picked", [0, 3])
    assert session.adata.obs["picked"].sum() == 2 and session.adata.obs["picked"].iloc[3]


def test_new_data_and_latents_and_reference_model_are_signalled(qtbot, session):
    latents = {key: np.zeros((50, 2), dtype=np.float32) for key in ("X_fadvi_l", "X_fadvi_b", "X_fadvi_r")}
    session.adata.obsm["X_fadvi_l_umap"] = np.zeros((50, 2))
    with qtbot.waitSignal(session.latents_ready):
        session._store_latents(latents)
    assert "X_fadvi_l" in session.adata.obsm and "X_fadvi_l_umap" not in session.adata.obsm
    assert session.set_embedding("z_l", "pca", np.ones((50, 2)))
    assert not session.set_embedding("z_l", "pca", np.ones((49, 2)))
    with qtbot.waitSignal(session.reference_model_changed) as changed:
        session.set_reference_model("model")
    assert changed.args == ["model"] and session.reference_model == "model"
    with qtbot.waitSignal(session.data_loaded):
        session._set_data(session.adata.copy(), None)
    assert session.latents is not None  # the data holds latents, as a saved file does
    assert session.model is None


def test_a_job_end_is_one_signal_with_its_kind(qtbot, session):
    with qtbot.waitSignal(session.job_ended, timeout=10_000) as ended:
        session.run_job(JobKind.GENE, "Adding", lambda _control, a, b: a + b, 1, 2)
    assert ended.args == ["gene", "finished"] and not session.is_busy
