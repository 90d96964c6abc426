"""The workbench end to end on the demo: train on the withheld labels, predict, then annotate a
lasso selection, find marker genes, vote over clusters, and save and reopen the project.

One trained window is shared by the tests of this file, which run in order and build on
each other (predictions, then annotations, then the project that holds them all).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import close_window, set_fast_model, wait_checked
from qtpy.QtCore import Qt

from fadvi_gui.model.keys import (
    LATENT_L, LEIDEN_KEY, MAJORITY_KEY, PREDICTION_KEY,
)

pytestmark = pytest.mark.slow


def idle(window) -> bool:
    return not window.session.is_busy


@pytest.fixture(scope="module")
def flow(qapp, tmp_path_factory):
    """The demo (batch 5p withheld), trained briefly, with its PCA of z_l on screen."""
    from pytestqt.qtbot import QtBot

    from fadvi_gui.main_window import MainWindow

    window = MainWindow()
    window.show()
    bot = QtBot(None)
    window.open_demo()
    wait_checked(bot, window, timeout=60_000)
    set_fast_model(window.training_panel, epochs=12)
    window.training_panel.inputs["n_hidden"].setValue(64)
    window.training_panel.inputs["n_latent_l"].setValue(10)
    window.training_panel.train_button.click()
    bot.waitUntil(lambda: window.session.latents is not None and idle(window)
                  and window.viewer.shown_embeddings()[0][1] != "", timeout=300_000)
    window.viewer.set_method("pca")
    yield window, tmp_path_factory.mktemp("flow")
    close_window(bot, window)
    window.deleteLater()


def test_predict_shows_agreement_with_the_withheld_labels(qtbot, flow):
    window, _ = flow
    qtbot.mouseClick(window.predictions_panel.predict_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: idle(window) and PREDICTION_KEY in window.session.adata.obs, timeout=120_000)
    widget = window.predictions_panel.withheld_agreement
    assert not widget.isHidden()
    assert "agree with the withheld labels on" in widget.text and "430 cells" in widget.text
    assert widget.table.rowCount() >= 5  # per withheld class
    obs = window.session.adata.obs
    hidden = (obs["batch"] == "5p").to_numpy()
    score = np.mean(obs[PREDICTION_KEY].astype(str).to_numpy()[hidden]
                    == obs["cell_type"].astype(str).to_numpy()[hidden])
    assert f"{score:.0%}" in widget.text and score > 0.5


def test_label_a_lasso_selection_and_undo(qtbot, flow):
    window, _ = flow
    box = window.workbench.annotation_panel.annotate
    box.new_name_edit.setText("fadvi_annotation")
    box.start_combo.setCurrentText(PREDICTION_KEY)
    qtbot.mouseClick(box.new_button, Qt.LeftButton)
    coords = window.session.adata.obsm["X_fadvi_l_pca"]
    x0, x1 = np.percentile(coords[:, 0], [0, 30])
    y0, y1 = coords[:, 1].min() - 1, coords[:, 1].max() + 1
    lasso = np.array([[x0 - 1, y0], [x1, y0], [x1, y1], [x0 - 1, y1]])
    window.viewer.select_polygon(lasso)
    chosen = window.viewer.selected_indices()
    assert 300 <= len(chosen) <= 420
    box.name_combo.setCurrentText("Left island")
    qtbot.mouseClick(box.label_button, Qt.LeftButton)
    values = window.session.adata.obs["fadvi_annotation"].astype(str)
    assert (values.iloc[chosen] == "Left island").all()
    assert (values.drop(values.index[chosen]) != "Left island").all()
    window.workbench.undo_action.trigger()
    assert "Left island" not in set(window.session.adata.obs["fadvi_annotation"].astype(str))
    window.workbench.redo_action.trigger()
    assert (window.session.adata.obs["fadvi_annotation"].astype(str).iloc[chosen] == "Left island").all()
    # rows picked in the review table are the selection too
    window.predictions_panel.table_view.selectRow(0)
    assert len(window.viewer.selected_indices()) == 1
    assert box.label_button.text() == "Label 1 cell"


def test_marker_genes_of_a_class_with_dot_plot_export(qtbot, flow):
    window, folder = flow
    panel = window.workbench.markers_panel
    panel.column_combo.setCurrentText(PREDICTION_KEY)
    qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: idle(window) and panel.result is not None, timeout=120_000)
    table = panel.result.table
    assert set(table.columns) >= {"gene", "logfoldchange", "pval_adj", "pct_group"}
    panel.group_combo.setCurrentText("B")
    top = [panel.table.item(i, 0).text() for i in range(5)]
    assert {"CD79A", "MS4A1", "CD79B"} & set(top)  # B cells' textbook markers
    qtbot.mouseClick(panel.table.viewport(), Qt.LeftButton,
                     pos=panel.table.visualItemRect(panel.table.item(0, 0)).center())
    qtbot.waitUntil(lambda: window.viewer.colouring().key == top[0], timeout=30_000)
    for name in ("dots.png", "dots.svg"):
        window.ask_save_path = lambda *_a, n=name: str(folder / n)
        qtbot.mouseClick(panel.export_figure_button, Qt.LeftButton)
        assert (folder / name).stat().st_size > 1000
    assert "CD79A" in (folder / "dots.svg").read_text() or top[0] in (folder / "dots.svg").read_text()
    panel.heatmap_radio.setChecked(True)
    assert panel.plot.image.isVisible()
    window.ask_save_path = lambda *_a: str(folder / "markers.csv")
    qtbot.mouseClick(panel.export_table_button, Qt.LeftButton)
    assert len(pd.read_csv(folder / "markers.csv")) == len(table)


def test_majority_voting_over_leiden_clusters(qtbot, flow):
    window, _ = flow
    box = window.workbench.annotation_panel.clusters
    assert box.run_button.isEnabled()
    box.resolution_spin.setValue(0.8)
    qtbot.mouseClick(box.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: idle(window) and MAJORITY_KEY in window.session.adata.obs, timeout=120_000)
    obs = window.session.adata.obs
    n_clusters = obs[LEIDEN_KEY].nunique()
    assert 3 <= n_clusters and box.table.rowCount() == n_clusters
    for cluster, rows in obs.groupby(LEIDEN_KEY, observed=True):  # one label per cluster
        assert rows[MAJORITY_KEY].nunique() == 1
    shares = [float(box.table.item(i, 3).text().rstrip("%")) for i in range(n_clusters)]
    assert all(0 < s <= 100 for s in shares)
    assert "clusters" in box.run_controls.state_text


def test_save_and_reopen_the_project(qtbot, flow, make_window):
    window, folder = flow
    window.viewer.set_colour_by("fadvi_annotation")
    window.viewer.set_selection(np.arange(100, 150))
    window.predictions_panel.set_threshold(0.7)
    path = folder / "work.fadvi"
    with qtbot.waitSignal(window.session.projects.saved, timeout=60_000):
        window.workbench.project_wiring.save_project(path)
    before = window.session.adata

    other = make_window()
    with qtbot.waitSignal(other.session.projects.opened, timeout=120_000):
        other.workbench.project_wiring.open_project(path)
    qtbot.waitUntil(lambda: idle(other) and other.session.checks_current, timeout=60_000)
    after = other.session.adata
    for column in ("fadvi_annotation", PREDICTION_KEY, MAJORITY_KEY, LEIDEN_KEY, "cell_type_withheld"):
        assert list(after.obs[column].astype(str)) == list(before.obs[column].astype(str)), column
    np.testing.assert_allclose(after.obsm[LATENT_L], before.obsm[LATENT_L])
    np.testing.assert_allclose(after.obsm["X_fadvi_l_pca"], before.obsm["X_fadvi_l_pca"])
    assert other.session.model is not None and other.session.choices == window.session.choices
    assert other.training_panel.settings() == window.session.training_settings
    assert other.session.workbench.withheld == window.session.workbench.withheld
    assert other.session.workbench.columns() == ["fadvi_annotation"]
    assert other.viewer.colouring().key == "fadvi_annotation"
    assert other.viewer.current_method() == "pca"
    np.testing.assert_array_equal(other.viewer.selected_indices(), np.arange(100, 150))
    assert other.predictions_panel.threshold() == pytest.approx(0.7)
    assert "agree with the withheld labels" in other.predictions_panel.withheld_agreement.text
    again = other.session.model.predict()  # the same model: the same predictions
    assert (again == before.obs[PREDICTION_KEY].astype(str).to_numpy()).mean() > 0.99
