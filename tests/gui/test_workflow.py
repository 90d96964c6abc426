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

from fadvi_gui.model.explain import RANKED_COLUMNS
from fadvi_gui.model.results import ACCEPTED_KEY, CONFIDENCE_KEY, PREDICTION_KEY, UNCERTAIN

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


def test_exports_predictions_genes_and_figures(qtbot, trained_window, tmp_path):
    window = trained_window
    paths = iter([tmp_path / "predictions.csv", tmp_path / "genes.csv", tmp_path / "genes.png",
                  tmp_path / "genes.svg"])
    window.ask_save_path = lambda *_args: str(next(paths))
    qtbot.mouseClick(window.predictions_panel.export_button, Qt.LeftButton)
    frame = pd.read_csv(tmp_path / "predictions.csv")
    classes = list(window.session.adata.uns["fadvi_probability_classes"])
    assert list(frame.columns[:7]) == ["cell", "batch", "existing_label", "prediction", "confidence",
                                       "accepted_label", f"probability_{classes[0]}"]
    assert len(frame) == 1200 and frame["cell"].tolist() == list(window.session.adata.obs_names)
    assert np.allclose(frame[[f"probability_{c}" for c in classes]].sum(axis=1), 1, atol=1e-4)
    panel = window.explain_panel
    qtbot.mouseClick(panel.export_table_button, Qt.LeftButton)
    genes = pd.read_csv(tmp_path / "genes.csv")
    assert set(RANKED_COLUMNS) <= set(genes.columns) and (genes["class"] == "B").all()
    qtbot.mouseClick(panel.export_figure_button, Qt.LeftButton)
    qtbot.mouseClick(panel.export_figure_button, Qt.LeftButton)
    assert (tmp_path / "genes.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (tmp_path / "genes.svg").read_bytes()[:2000]
    window.ask_save_path = lambda *_args: str(tmp_path / "missing_folder" / "x.csv")
    with qtbot.waitSignal(window.dialog_shown, timeout=5_000) as shown:
        qtbot.mouseClick(window.predictions_panel.export_button, Qt.LeftButton)
    assert "could not be exported" in shown.args[0].text()


def test_save_as_and_reopen(qtbot, trained_window, make_window, tmp_path):
    window = trained_window
    target = tmp_path / "annotated.h5ad"
    with qtbot.waitSignal(window.session.saved, timeout=60_000):
        window.save_as(target)
    saved = anndata.read_h5ad(target)
    adata = window.session.adata
    for key in ("X_fadvi_b", "X_fadvi_l", "X_fadvi_r", "X_fadvi_l_pca", "fadvi_probabilities"):
        assert np.allclose(saved.obsm[key], adata.obsm[key]), key
    assert saved.obsm["X_fadvi_l"].shape == (1200, 10)
    assert saved.obsm["X_fadvi_b"].shape == (1200, 4)
    for key in (PREDICTION_KEY, ACCEPTED_KEY, "cell_type"):
        assert saved.obs[key].astype(str).tolist() == adata.obs[key].astype(str).tolist(), key
    assert np.allclose(saved.obs[CONFIDENCE_KEY], adata.obs[CONFIDENCE_KEY])
    fadvi = saved.uns["fadvi"]
    assert fadvi["seed"] == 0
    assert fadvi["settings"]["setup"]["labels_key"] == "cell_type"
    assert fadvi["settings"]["training"]["max_epochs"] == 15
    assert fadvi["settings"]["review"]["confidence_threshold"] == 0.5
    assert {"scvi-tools", "torch", "anndata"} <= set(fadvi["versions"])
    assert not any(str(c).startswith("_scvi") for c in saved.obs.columns)

    fresh = make_window()
    fresh.open_file(target)
    wait_checked(qtbot, fresh)
    assert fresh.viewer.controls().space_combo.count() == 5
    assert ("z_l", "pca") in fresh.viewer._embeddings


def test_save_model_load_it_and_map_new_cells(qtbot, trained_window, make_window, tmp_path, truth):
    model_dir = tmp_path / "model"
    trained_window.save_model(model_dir)
    qtbot.waitUntil(lambda: idle(trained_window) and (model_dir / "fadvi_model.npz").exists(),
                    timeout=30_000)
    demo = anndata.read_h5ad(DEMO)
    query = demo[demo.obs["batch"] == "3pv1"].copy()
    query.obs["batch"] = pd.Categorical(["new_lab"] * query.n_obs)
    query.obs["cell_type"] = pd.Categorical(["Unknown"] * query.n_obs)
    query.write_h5ad(tmp_path / "query.h5ad")

    window = make_window()
    window.load_model(model_dir)
    qtbot.waitUntil(lambda: window.session.reference_model is not None and idle(window),
                    timeout=30_000)
    window.open_file(tmp_path / "query.h5ad")
    wait_checked(qtbot, window)
    assert window.map_action.isEnabled()
    window.map_action.trigger()
    qtbot.waitUntil(lambda: window.session.model is not None and idle(window)
                    and window.session.latents is not None, timeout=120_000)
    assert window.predictions_panel.predict_button.isEnabled()
    qtbot.mouseClick(window.predictions_panel.predict_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: idle(window) and PREDICTION_KEY in window.session.adata.obs,
                    timeout=60_000)
    predicted = window.session.adata.obs[PREDICTION_KEY].astype(str).to_numpy()
    expected = truth[demo.obs["batch"].to_numpy() == "3pv1"].to_numpy()
    assert np.mean(predicted == expected) > 0.5


def test_gene_mismatch_is_explained(qtbot, trained_window, make_window, tmp_path):
    model_dir = tmp_path / "model"
    trained_window.save_model(model_dir)
    qtbot.waitUntil(lambda: idle(trained_window) and (model_dir / "fadvi_model.npz").exists(),
                    timeout=30_000)
    demo = anndata.read_h5ad(DEMO)[:200].copy()
    renamed = demo.copy()
    renamed.var_names = [f"other_{g}" for g in demo.var_names]
    renamed.write_h5ad(tmp_path / "renamed.h5ad")
    demo[:, 5:].copy().write_h5ad(tmp_path / "fewer.h5ad")

    window = make_window()
    window.load_model(model_dir)
    qtbot.waitUntil(lambda: window.session.reference_model is not None and idle(window),
                    timeout=30_000)
    window.open_file(tmp_path / "renamed.h5ad")
    wait_checked(qtbot, window)
    with qtbot.waitSignal(window.dialog_shown, timeout=30_000) as shown:
        window.map_action.trigger()
    assert "None of the model's" in shown.args[0].text()

    asked = []
    window.ask_yes_no = lambda title, text: asked.append(text) or False
    window.open_file(tmp_path / "fewer.h5ad")
    wait_checked(qtbot, window)
    window.map_action.trigger()
    qtbot.waitUntil(lambda: bool(asked), timeout=30_000)
    assert asked[0].startswith("5 of the model's")
    assert "pad" in asked[0].lower()
    qtbot.waitUntil(lambda: idle(window), timeout=10_000)
    assert window.session.model is None
