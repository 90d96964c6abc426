"""The latent viewer, driven as the app drives it and as a user clicks it."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from qtpy.QtCore import QEvent, QPointF, Qt
from qtpy.QtGui import QHelpEvent, QImage, QMouseEvent
from qtpy.QtWidgets import QApplication, QToolTip

from fadvi_gui.panels.viewer.latent_view import LatentView
from fadvi_gui.plotting.lasso import points_in_polygon
from fadvi_gui.plotting.palettes import OKABE_ITO, categorical_palette, hex_to_rgba

N_PER_TYPE = 60
TYPES = ["B cell", "T cell", "NK cell", "monocyte"]


@pytest.fixture
def cells() -> tuple[pd.DataFrame, np.ndarray]:
    """240 cells of 4 types; in the embedding, type k sits in a 2 x 2 square centred on (10 k, 0)."""
    rng = np.random.default_rng(1)
    n = N_PER_TYPE * len(TYPES)
    code = np.repeat(np.arange(len(TYPES)), N_PER_TYPE)
    coords = np.column_stack([10.0 * code, np.zeros(n)]) + rng.uniform(-1, 1, size=(n, 2))
    obs = pd.DataFrame(
        {
            "batch": pd.Categorical(rng.choice(["donor A", "donor B"], n)),
            "cell_type": pd.Categorical([TYPES[c] for c in code], categories=TYPES),
            "n_counts": rng.gamma(2.0, 1000.0, n),
            "barcode": [f"AAAC{i:06d}" for i in range(n)],  # too many values to colour by
        },
        index=[f"cell_{i}" for i in range(n)],
    )
    return obs, coords.astype(np.float32)


@pytest.fixture
def view(qtbot, cells) -> LatentView:
    """A shown viewer with cells, the three spaces, and a z_l UMAP."""
    obs, coords = cells
    widget = LatentView()
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    widget.show()
    widget.set_cells(obs, batch_key="batch", labels_key="cell_type")
    widget.set_available_spaces(["z_l", "z_b", "z_r"])
    widget.set_embedding("z_l", "umap", coords)
    return widget


def _image_colours(view: LatentView) -> set[tuple[int, int, int]]:
    image = view.canvas().grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    pixels = np.frombuffer(image.constBits().asstring(image.sizeInBytes()), dtype=np.uint8)
    pixels = pixels.reshape(image.height(), image.bytesPerLine() // 4, 4)[:, : image.width(), :3]
    return {tuple(int(v) for v in bgr[::-1]) for bgr in np.unique(pixels.reshape(-1, 3), axis=0)}


def test_needs_a_pca_and_a_umap_per_space(qtbot, cells):
    widget = LatentView()
    qtbot.addWidget(widget)
    requests = []
    widget.embedding_requested.connect(lambda space, method: requests.append((space, method)))
    widget.set_cells(cells[0], batch_key="batch", labels_key="cell_type")
    widget.set_available_spaces(["z_l", "z_b"])
    assert requests == [("z_l", "pca"), ("z_l", "umap")]
    widget.set_space("z_b")
    assert requests[2:] == [("z_b", "pca"), ("z_b", "umap")]


def test_pca_stands_in_until_umap_arrives(view, cells):
    _obs, coords = cells
    view.clear_embeddings()
    view.set_embedding("z_l", "pca", coords[:, ::-1])
    assert view.shown_embeddings() == [("z_l", "pca")]
    view.set_embedding("z_l", "umap", coords)
    assert view.shown_embeddings() == [("z_l", "umap")]
    x, y = view.canvas().cloud(0).coordinates()
    np.testing.assert_array_equal(np.column_stack([x, y]), coords)


def test_switch_space_and_method(view, cells):
    _obs, coords = cells
    view.set_space("z_b")
    assert view.shown_embeddings() == [("z_b", "")]
    assert not view.canvas().has_points(0)
    view.set_embedding("z_b", "pca", coords * 2)
    view.set_method("pca")
    assert view.shown_embeddings() == [("z_b", "pca")]
    x, _y = view.canvas().cloud(0).coordinates()
    np.testing.assert_allclose(x, coords[:, 0] * 2)
    view.set_space("z_l")
    view.set_method("umap")
    assert view.shown_embeddings() == [("z_l", "umap")]


def test_side_by_side_shows_batch_and_label_spaces_coloured_alike(view, cells):
    _obs, coords = cells
    view.set_embedding("z_b", "umap", coords + 100)
    view.set_side_by_side(True)
    assert view.canvas().plot_count() == 2
    assert view.shown_embeddings() == [("z_b", "umap"), ("z_l", "umap")]
    left, right = view.canvas().cloud(0), view.canvas().cloud(1)
    np.testing.assert_array_equal(left.visible_indices(), right.visible_indices())
    view.set_side_by_side(False)
    assert view.canvas().plot_count() == 1


def test_colour_by_category_lists_its_categories(view):
    assert view.colouring().key == "cell_type"
    assert view.legend().labels() == TYPES
    view.set_colour_by("batch")
    assert view.legend().labels() == ["donor A", "donor B"]
    assert not view.legend().showing_colour_bar()


def test_columns_with_too_many_values_are_not_offered(view):
    with pytest.raises(ValueError, match="barcode"):
        view.set_colour_by("barcode")


def test_colour_by_number_shows_a_colour_bar(view, cells):
    obs, _coords = cells
    view.set_colour_by("n_counts")
    assert view.legend().showing_colour_bar()
    low, high = view.legend().colour_bar().scale()
    assert low == pytest.approx(obs["n_counts"].min(), rel=1e-5)
    assert high == pytest.approx(obs["n_counts"].max(), rel=1e-5)


def test_colour_by_gene_asks_for_its_values(qtbot, view):
    view.set_gene_names(["CD3E", "MS4A1"])
    with qtbot.waitSignal(view.gene_requested) as blocker:
        view.controls().gene_edit.setText("ms4a1")
        qtbot.keyClick(view.controls().gene_edit, Qt.Key.Key_Return)
    assert blocker.args == ["MS4A1"]
    values = np.linspace(0, 3, N_PER_TYPE * len(TYPES))
    view.set_gene_values("MS4A1", values)
    assert view.colouring().key == "MS4A1"
    assert view.colouring().kind == "numeric"
    assert view.legend().colour_bar().scale() == pytest.approx((0.0, 3.0))


def test_unticking_a_category_hides_its_cells(qtbot, view, cells):
    obs, _coords = cells
    colours = {t: tuple(int(v) for v in view.colouring().lut[i][:3]) for i, t in enumerate(TYPES)}
    assert colours["T cell"] in _image_colours(view)
    item = view.legend()._list.item(TYPES.index("T cell"))
    item.setCheckState(Qt.CheckState.Unchecked)
    shown = view.canvas().cloud(0).visible_indices()
    np.testing.assert_array_equal(shown, np.flatnonzero(obs["cell_type"] != "T cell"))
    on_screen = _image_colours(view)
    assert colours["T cell"] not in on_screen
    assert colours["B cell"] in on_screen


def test_legend_right_click_selects_a_categorys_cells(qtbot, view, cells):
    obs, _coords = cells
    with qtbot.waitSignal(view.selection_changed) as blocker:
        view.legend().select_requested.emit(TYPES.index("B cell"))  # what the menu action sends
    expected = np.flatnonzero(obs["cell_type"] == "B cell")
    np.testing.assert_array_equal(blocker.args[0], expected)
    view.select_category("T cell")
    np.testing.assert_array_equal(view.selected_indices(),
                                  np.flatnonzero(obs["cell_type"] == "T cell"))
    with pytest.raises(ValueError, match="not a category"):
        view.select_category("Neuron")


def test_lasso_selects_exactly_the_cells_inside(qtbot, view, cells):
    obs, _coords = cells
    square = np.array([[17.5, -2.0], [22.5, -2.0], [22.5, 2.0], [17.5, 2.0]])  # around type 2 only
    with qtbot.waitSignal(view.selection_changed) as blocker:
        view.select_polygon(square)
    expected = np.flatnonzero(obs["cell_type"] == "NK cell")
    np.testing.assert_array_equal(blocker.args[0], expected)
    assert view.controls().selection_label.text() == f"{len(expected)} cells selected"
    view.select_polygon(square - [10.0, 0.0], operation="add")
    assert len(view.selected_indices()) == 2 * N_PER_TYPE


def test_lasso_skips_hidden_cells_and_invert_and_clear(view, cells):
    obs, _coords = cells
    view.set_category_visible("B cell", False)
    view.select_polygon(np.array([[-5.0, -5.0], [15.0, -5.0], [15.0, 5.0], [-5.0, 5.0]]))
    np.testing.assert_array_equal(view.selected_indices(), np.flatnonzero(obs["cell_type"] == "T cell"))
    view.invert_selection()
    np.testing.assert_array_equal(
        view.selected_indices(), np.flatnonzero(obs["cell_type"].isin(["NK cell", "monocyte"]))
    )
    view.clear_selection()
    assert len(view.selected_indices()) == 0


def test_rectangle_drawn_with_the_mouse_selects(qtbot, view, cells):
    obs, _coords = cells
    view.canvas().set_mode("rect")
    box = view.canvas().view_box(0)
    widget = view.canvas().viewport()

    def to_widget(x, y):
        scene = box.mapViewToScene(QPointF(x, y))
        return view.canvas().mapFromScene(scene)

    start, end = to_widget(27.0, 3.0), to_widget(33.0, -3.0)
    with qtbot.waitSignal(view.selection_changed):
        _mouse(widget, QEvent.Type.MouseButtonPress, start, Qt.MouseButton.LeftButton)
        for t in np.linspace(0, 1, 6)[1:]:
            _mouse(widget, QEvent.Type.MouseMove, start + (end - start) * t, Qt.MouseButton.NoButton)
        _mouse(widget, QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.LeftButton)
    np.testing.assert_array_equal(view.selected_indices(), np.flatnonzero(obs["cell_type"] == "monocyte"))


def _mouse(widget, kind, pos, button, *, held: bool = True) -> None:
    """Send a mouse event, by default with the left button held (QTest's mouseMove cannot hold one)."""
    holding = held and kind != QEvent.Type.MouseButtonRelease
    buttons = Qt.MouseButton.LeftButton if holding else Qt.MouseButton.NoButton
    event = QMouseEvent(kind, QPointF(pos), button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def test_hovering_a_cell_names_it(qtbot, view, cells):
    _obs, coords = cells
    box = view.canvas().view_box(0)
    target = view.canvas().mapFromScene(box.mapViewToScene(QPointF(*coords[5])))
    with qtbot.waitSignal(view.canvas().hovered) as blocker:
        _mouse(view.canvas().viewport(), QEvent.Type.MouseMove, target, Qt.MouseButton.NoButton, held=False)
    plot, cell, _screen = blocker.args
    assert (plot, cell) == (0, 5)
    assert "cell_5" in view.hover_text(cell)


def test_hover_tooltip_stays_when_the_mouse_rests(qtbot, view, cells):
    """Qt asks the plot for a tooltip once the mouse rests; the cell's must show, not vanish."""
    _obs, coords = cells
    box = view.canvas().view_box(0)
    target = view.canvas().mapFromScene(box.mapViewToScene(QPointF(*coords[5])))
    viewport = view.canvas().viewport()
    with qtbot.waitSignal(view.canvas().hovered):
        _mouse(viewport, QEvent.Type.MouseMove, target, Qt.MouseButton.NoButton, held=False)
    QApplication.sendEvent(viewport, QHelpEvent(QEvent.Type.ToolTip, target, viewport.mapToGlobal(target)))
    qtbot.wait(600)  # an empty answer would hide the tooltip after a short delay
    assert QToolTip.isVisible()
    assert "cell_5" in QToolTip.text() and "batch:" in QToolTip.text()


def test_gene_colour_bar_names_its_unit(view):
    view.set_gene_values("CD3E", np.linspace(0.0, 3.0, 240))
    view.show_gene("CD3E")
    assert view.legend().showing_colour_bar()
    assert "CD3E (log1p normalised counts" in view.legend().title()
    view.set_colour_by("n_counts")
    assert "log1p" not in view.legend().title()


def test_save_selection_requests_a_new_column(qtbot, view, cells):
    obs, _coords = cells
    view.save_selection()  # nothing selected: a hint, no request
    view.set_selection(np.arange(10))
    with qtbot.waitSignal(view.save_selection_requested) as blocker:
        view.save_selection()
    assert blocker.args == ["selection_1"]
    saved = obs.assign(selection_1=np.isin(np.arange(len(obs)), np.arange(10)))
    view.set_cells(saved, batch_key="batch", labels_key="cell_type")
    assert view.shown_embeddings() == [("z_l", "umap")]  # same cells: embeddings kept
    assert len(view.selected_indices()) == 10
    with qtbot.waitSignal(view.save_selection_requested) as blocker:
        view.save_selection()
    assert blocker.args == ["selection_2"]


def test_predictions_are_offered_and_shown_on_hover(view, cells):
    obs, _coords = cells
    predicted = obs.assign(
        fadvi_prediction=pd.Categorical(obs["cell_type"].astype(str)),
        fadvi_confidence=np.linspace(0.5, 1.0, len(obs)),
    )
    view.set_cells(predicted, batch_key="batch", labels_key="cell_type")
    view.set_colour_by("fadvi_confidence")
    assert view.legend().showing_colour_bar()
    text = view.hover_text(70)
    for part in ("cell_70", obs["batch"].iat[70], "label: T cell", "prediction: T cell", "confidence"):
        assert part in text


def test_new_cells_forget_old_embeddings(view, cells):
    obs, _coords = cells
    view.set_cells(obs.iloc[:100], batch_key="batch", labels_key="cell_type")
    assert view.shown_embeddings() == [("z_l", "")]
    with pytest.raises(ValueError, match=r"\(100, 2\)"):
        view.set_embedding("z_l", "umap", np.zeros((240, 2)))


def test_export_png_and_svg(view, tmp_path):
    png = tmp_path / "view.png"
    view.export_image(str(png), width=640, height=480)
    image = QImage(str(png))
    assert not image.isNull()
    assert (image.width(), image.height()) == (640, 480)
    svg = tmp_path / "view.svg"
    view.export_image(str(svg), width=800, height=500)
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    assert root.get("viewBox") == "0 0 800 500"
    QtSvg = pytest.importorskip("qtpy.QtSvg")
    assert QtSvg.QSvgRenderer(str(svg)).isValid()
    with pytest.raises(ValueError, match=".png or .svg"):
        view.export_image(str(tmp_path / "view.gif"), width=640, height=480)


def test_progress_shows_and_cancel_asks_to_stop(qtbot, view):
    view.set_space("z_b")
    view.set_embedding_progress("z_b", "umap", 0.4, "epoch 80 of 200")
    controls = view.controls()
    assert controls.progress.isVisible()
    assert "epoch 80 of 200" in controls.status.text()
    with qtbot.waitSignal(view.embedding_cancel_requested) as blocker:
        qtbot.mouseClick(controls.cancel_button, Qt.MouseButton.LeftButton)
    assert blocker.args == ["z_b", "umap"]
    assert not controls.progress.isVisible()


def test_missing_numbers_are_grey_and_codes_follow_values():
    from fadvi_gui.plotting.colouring import numeric_colouring
    from fadvi_gui.plotting.palettes import MISSING_RGBA

    colouring = numeric_colouring("score", np.array([0.0, np.nan, 2.0, 1.0]))
    assert tuple(colouring.lut[colouring.codes[1]]) == MISSING_RGBA
    assert colouring.codes[1] < colouring.codes[0] < colouring.codes[3] < colouring.codes[2]
    assert (colouring.vmin, colouring.vmax) == (0.0, 2.0)


def test_palette_starts_with_okabe_ito_and_stays_distinct():
    palette = categorical_palette(40)
    assert [tuple(row) for row in palette[:8]] == [hex_to_rgba(c) for c in OKABE_ITO]
    assert len({tuple(row) for row in palette}) == 40


def test_fast_lasso_agrees_with_the_exact_test():
    from matplotlib.path import Path

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(2, 50_000))
    angle = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    radius = 1.0 + 0.4 * np.sin(5 * angle)
    polygon = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    expected = Path(polygon).contains_points(np.column_stack([x, y]))
    np.testing.assert_array_equal(points_in_polygon(x, y, polygon), expected)
