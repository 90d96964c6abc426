"""Issue 4 in the window: the latent viewer on real FADVI latents of the demo, through its controls.

Uses the session-wide ``trained_window`` (see conftest); each test leaves the viewer as it found it
apart from what it adds (a saved selection column).
"""

from __future__ import annotations

import numpy as np
import pytest
from qtpy.QtCore import Qt
from qtpy.QtGui import QImage

from fadvi_gui.tasks.viewer import log1p_normalised

pytestmark = pytest.mark.slow


def _pick(combo, data) -> None:
    index = combo.findData(data)
    assert index >= 0, data
    combo.setCurrentIndex(index)


def test_viewer_is_the_central_widget_with_every_space(trained_window):
    window = trained_window
    assert window.centralWidget() is window.viewer
    adata = window.session.adata
    assert {"X_fadvi_b", "X_fadvi_l", "X_fadvi_r"} <= set(adata.obsm)
    spaces = [window.viewer.controls().space_combo.itemData(i)
              for i in range(window.viewer.controls().space_combo.count())]
    assert spaces == ["z_l", "z_b", "z_r", "z_l+z_r", "all"]


def test_switch_spaces_and_embeddings_through_the_controls(qtbot, trained_window):
    view = trained_window.viewer
    controls = view.controls()
    _pick(controls.method_combo, "pca")
    _pick(controls.space_combo, "z_b")
    qtbot.waitUntil(lambda: view.shown_embeddings() == [("z_b", "pca")], timeout=60_000)
    x, y = view.canvas().cloud(0).coordinates()
    np.testing.assert_allclose(np.c_[x, y], trained_window.session.adata.obsm["X_fadvi_b_pca"], rtol=1e-5)
    _pick(controls.space_combo, "z_l+z_r")
    qtbot.waitUntil(lambda: view.shown_embeddings() == [("z_l+z_r", "pca")], timeout=60_000)
    _pick(controls.method_combo, "umap")
    _pick(controls.space_combo, "z_l")
    qtbot.waitUntil(lambda: view.shown_embeddings() == [("z_l", "umap")], timeout=180_000)
    assert trained_window.session.adata.obsm["X_fadvi_l_umap"].shape == (1200, 2)
    controls.side_by_side.setChecked(True)
    qtbot.waitUntil(lambda: [s for s, _m in view.shown_embeddings()] == ["z_b", "z_l"], timeout=180_000)
    assert view.canvas().plot_count() == 2
    controls.side_by_side.setChecked(False)
    assert view.canvas().plot_count() == 1


def test_colour_by_category_number_and_gene(qtbot, trained_window):
    view, adata = trained_window.viewer, trained_window.session.adata
    controls = view.controls()
    _pick(controls.colour_combo, "cell_type")
    assert view.legend().labels() == [str(c) for c in adata.obs["cell_type"].cat.categories]
    _pick(controls.colour_combo, "batch")
    assert view.legend().labels() == ["3pv1", "3pv2", "5p"]
    _pick(controls.colour_combo, "percent_mito")
    assert view.legend().showing_colour_bar()
    gene = "MS4A1"
    controls.gene_edit.setText(gene.lower())
    qtbot.keyClick(controls.gene_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.colouring().key == gene, timeout=30_000)
    counts = adata.layers["counts"]
    expected = log1p_normalised(counts[:, adata.var_names.get_loc(gene)].toarray().ravel(),
                                np.asarray(counts.sum(axis=1)).ravel())
    assert view.colouring().kind == "numeric"
    np.testing.assert_allclose(view._gene_values[gene], expected, rtol=1e-5)


def test_unticking_a_category_hides_its_cells(trained_window):
    view, obs = trained_window.viewer, trained_window.session.adata.obs
    _pick(view.controls().colour_combo, "cell_type")
    row = view.legend().labels().index("B")
    view.legend()._list.item(row).setCheckState(Qt.CheckState.Unchecked)
    np.testing.assert_array_equal(view.canvas().cloud(0).visible_indices(),
                                  np.flatnonzero(obs["cell_type"] != "B"))
    view.legend()._list.item(row).setCheckState(Qt.CheckState.Checked)
    assert len(view.canvas().cloud(0).visible_indices()) == 1200


def test_lasso_selects_the_cells_inside_and_saves_them(qtbot, trained_window):
    window = trained_window
    view = window.viewer
    x, y = view.canvas().cloud(0).coordinates()
    x0, x1 = np.quantile(x, [0.2, 0.6])
    y0, y1 = np.quantile(y, [0.2, 0.7])
    square = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    expected = np.flatnonzero((x > x0) & (x < x1) & (y > y0) & (y < y1))
    with qtbot.waitSignal(view.selection_changed):
        view.select_polygon(square)
    np.testing.assert_array_equal(view.selected_indices(), expected)
    assert window.predictions_panel.selection_radio.text() == f"Selected cells ({len(expected):,})"
    qtbot.mouseClick(view.controls().save_button, Qt.LeftButton)
    saved = window.session.adata.obs["selection_1"].to_numpy()
    np.testing.assert_array_equal(np.flatnonzero(saved), expected)
    assert view.controls().colour_combo.findData("selection_1") >= 0
    view.clear_selection()


def test_export_png_and_svg(trained_window, tmp_path):
    view = trained_window.viewer
    view.export_image(str(tmp_path / "view.png"), width=900, height=600)
    view.export_image(str(tmp_path / "view.svg"), width=900, height=600)
    image = QImage(str(tmp_path / "view.png"))
    assert (image.width(), image.height()) == (900, 600)
    assert b"<svg" in (tmp_path / "view.svg").read_bytes()[:2000]
    assert trained_window.export_view_action.isEnabled()
