"""Issue 5 end to end on the demo: predict, review, accept, explain, save, export, map.

The window comes from the session-wide ``trained_window`` fixture (batch "5p" has its
labels hidden, then a model is trained); tests run in file order and build on each other.
"""

from __future__ import annotations

import anndata
import numpy as np
import pandas as pd
import pytest
from conftest import DEMO, HIDDEN_BATCH, wait_checked
from qtpy.QtCore import Qt

from fadvi_gui.explain import RANKED_COLUMNS
from fadvi_gui.results import ACCEPTED_KEY, CONFIDENCE_KEY, PREDICTION_KEY, UNCERTAIN

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def truth() -> pd.Series:
    return anndata.read_h5ad(DEMO).obs["cell_type"].astype(str)


def idle(window) -> bool:
    return not window.session.is_busy


def test_predict_from_the_button(qtbot, trained_window, truth):
    window = trained_window
    panel = window.predictions_panel
    assert panel.predict_button.isEnabled()
    with qtbot.waitSignal(window.session.busy_changed, timeout=10_000):
        qtbot.mouseClick(panel.predict_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: idle(window) and PREDICTION_KEY in window.session.adata.obs,
                    timeout=120_000)
    obs = window.session.adata.obs
    assert obs[PREDICTION_KEY].notna().all()
    confidence = obs[CONFIDENCE_KEY].to_numpy()
    assert np.all((confidence >= 0) & (confidence <= 1))
    probabilities = window.session.adata.obsm["fadvi_probabilities"]
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-4)
    hidden = (obs["batch"] == HIDDEN_BATCH).to_numpy()
    accuracy = np.mean(obs[PREDICTION_KEY].astype(str).to_numpy()[hidden] == truth.to_numpy()[hidden])
    assert accuracy > 0.5, accuracy  # nine classes: chance is far below
    assert panel.review.rowCount() == 1200
    assert panel.state_text == "Predictions are ready."
    assert window.explain_panel.run_button.isEnabled()
    assert PREDICTION_KEY in [window.viewer.controls().colour_combo.itemData(i)
                              for i in range(window.viewer.controls().colour_combo.count())]


def test_threshold_marks_uncertain(qtbot, trained_window):
    window = trained_window
    window.predictions_panel.set_threshold(0.9)
    obs = window.session.adata.obs
    low = obs[CONFIDENCE_KEY].to_numpy() < 0.9
    marked = obs["fadvi_prediction_thresholded"].astype(str).to_numpy() == UNCERTAIN
    assert low.any() and np.array_equal(marked, low)
    window.predictions_panel.set_filter("low_confidence")
    assert len(window.predictions_panel.shown_positions()) == low.sum()
    window.predictions_panel.set_filter("all")
    window.predictions_panel.set_threshold(0.5)
    assert window.session.review_threshold == 0.5


def test_accept_predictions_keeps_the_original_labels(qtbot, trained_window):
    window = trained_window
    obs = window.session.adata.obs
    before = obs["cell_type"].astype(str).copy()
    qtbot.mouseClick(window.predictions_panel.accept_all_button, Qt.LeftButton)
    accepted = obs[ACCEPTED_KEY].astype(str)
    assert obs["cell_type"].astype(str).equals(before)
    unlabelled = (before == "Unknown").to_numpy()
    confident = obs[CONFIDENCE_KEY].to_numpy() >= 0.5
    predicted = obs[PREDICTION_KEY].astype(str).to_numpy()
    assert np.array_equal(accepted.to_numpy()[unlabelled & confident], predicted[unlabelled & confident])
    assert np.array_equal(accepted.to_numpy()[~unlabelled], before.to_numpy()[~unlabelled])
    assert "Accepted" in window.predictions_panel.state_text


def test_integrated_gradients_for_one_class(qtbot, trained_window):
    window = trained_window
    panel = window.explain_panel
    panel.class_combo.setCurrentText("B")
    panel.max_cells_spin.setValue(40)
    panel.steps_spin.setValue(8)
    with qtbot.waitSignal(window.session.busy_changed, timeout=10_000):
        qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: idle(window) and panel.result is not None, timeout=120_000)
    table = panel.result.tables["B"]
    assert tuple(table.columns[:len(RANKED_COLUMNS)]) == RANKED_COLUMNS
    assert len(table) == window.session.model.adata.n_vars
    assert table["feature"].is_unique
    assert np.all(np.diff(table["attribution_abs_mean"].to_numpy()) <= 1e-12)
    gene = str(table["feature"].iloc[0])
    panel.gene_clicked.emit(gene)
    qtbot.waitUntil(lambda: window.viewer.colouring().key == gene, timeout=30_000)
