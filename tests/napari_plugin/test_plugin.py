"""The plugin in a napari viewer: the app's panels as docks, the cells as Points, the jobs."""

from __future__ import annotations

import threading

import numpy as np
import pytest

napari = pytest.importorskip("napari")

from conftest import N_CELLS, annotated_data  # noqa: E402

from fadvi_core import ChunkProgress  # noqa: E402
from fadvi_gui.panels import DataPanel, ExplainPanel, PredictionsPanel, TrainingPanel  # noqa: E402
from fadvi_gui.session import JobKind  # noqa: E402
from fadvi_napari import PLUGIN_NAME, bridge_for  # noqa: E402
from fadvi_napari._docking import DOCK_NAMES  # noqa: E402
from fadvi_napari._jobs import NapariJob, NapariSession  # noqa: E402
from fadvi_napari._reader import get_reader, read_h5ad  # noqa: E402

PANELS = (DataPanel, TrainingPanel, PredictionsPanel, ExplainPanel)


def open_saved(qtbot, viewer, path):
    """Open ``path`` with the plugin's reader and wait for its cells' layer and checks."""
    viewer.open(str(path), plugin=PLUGIN_NAME)
    bridge = bridge_for(viewer)
    qtbot.waitUntil(lambda: bridge.cells.layer is not None and bridge.session.checks_current
                    and not bridge.session.is_busy, timeout=60_000)
    return bridge


def test_docks_are_the_apps_panels_sharing_one_session(viewer):
    widgets = [viewer.window.add_plugin_dock_widget(PLUGIN_NAME, name)[1] for name in DOCK_NAMES]
    assert [type(w.panel) for w in widgets] == list(PANELS)
    assert len({id(w.bridge) for w in widgets}) == 1
    bridge = widgets[0].bridge
    assert isinstance(bridge.session, NapariSession)
    assert bridge is bridge_for(viewer)


def test_a_saved_file_opens_as_points_with_the_cells_features(qtbot, viewer, saved_file):
    bridge = open_saved(qtbot, viewer, saved_file)
    layer = bridge.cells.layer
    assert layer in viewer.layers and layer.name == "FADVI cells (z_l, UMAP)"
    assert layer.data.shape == (N_CELLS, 2)
    assert list(layer.features.columns) == ["batch", "label", "prediction", "confidence", "novelty"]
    # Coloured by the prediction, one colour per predicted class, through napari's own colouring.
    assert bridge.cells.coloured_by == "prediction"
    assert len(np.unique(layer.face_color, axis=0)) == 3
    # The reader docked the four panels and filled the data panel.
    docked = set(viewer.window.dock_widgets)
    assert {f"{name} ({PLUGIN_NAME})" for name in (*DOCK_NAMES, "Cells")} <= docked
    assert bridge.session.choices.labels_key == "cell_type"


def test_a_napari_selection_feeds_predictions_and_explanations(qtbot, viewer, saved_file):
    bridge = open_saved(qtbot, viewer, saved_file)
    layer = bridge.cells.layer
    layer.selected_data = {0, 1, 2}
    predictions, explain = bridge.panels["predictions"], bridge.panels["explain"]
    assert predictions.selection_radio.text() == "Selected cells (3)"
    combo = explain.scope_combo
    assert combo.itemText(combo.findData("selection")) == "Selected cells (3)"
    # The other way: cells picked in the review table are selected in the layer.
    bridge.predictions_wiring.cells_selected.emit(np.array([5, 6]))
    assert set(layer.selected_data) == {5, 6}
    assert predictions.selection_radio.text() == "Selected cells (2)"


def test_new_predictions_recolour_the_layer(qtbot, viewer, saved_file):
    bridge = open_saved(qtbot, viewer, saved_file)
    adata = bridge.session.adata
    adata.obs["fadvi_prediction"] = adata.obs["cell_type"].astype(str).replace("NK", "T")
    bridge.session.cells_changed.emit()
    assert len(np.unique(bridge.cells.layer.face_color, axis=0)) == 2


def test_a_broken_file_gets_a_plain_error(qtbot, viewer, tmp_path):
    path = tmp_path / "broken.h5ad"
    path.write_bytes(b"not an hdf5 file")
    viewer.open(str(path), plugin=PLUGIN_NAME)
    bridge = bridge_for(viewer)
    qtbot.waitUntil(lambda: bridge.prompts.last_dialog is not None, timeout=30_000)
    text = bridge.prompts.last_dialog.text()
    assert "Could not read broken.h5ad" in text and "Traceback" not in text
    assert bridge.session.adata is None


def test_jobs_run_on_napari_workers_with_a_bar_in_the_activity_dock(qtbot, viewer):
    from napari.utils import progress

    session = bridge_for(viewer).session
    release = threading.Event()

    def count(control, event):
        control.report(ChunkProgress(3, 4), force=True)
        event.wait(30)
        return 4

    job = session.run_job(JobKind.PREDICT, "Counting cells", count, release)
    assert isinstance(job, NapariJob)
    qtbot.waitUntil(lambda: job.pbar.n == 75, timeout=30_000)
    assert job.pbar in progress._all_instances and job.pbar.desc.startswith("Counting cells")
    with qtbot.waitSignal(job.succeeded, timeout=30_000) as result:
        release.set()
    assert result.args == [4]
    qtbot.waitUntil(lambda: job.pbar not in progress._all_instances, timeout=30_000)


def test_reader_without_a_viewer_returns_the_cells_layer(saved_file):
    assert napari.current_viewer() is None
    assert get_reader(str(saved_file)) is read_h5ad
    assert get_reader(str(saved_file.with_suffix(".csv"))) is None
    ((data, kwargs, kind),) = read_h5ad(str(saved_file))
    assert kind == "points" and data.shape == (N_CELLS, 2)
    assert "novelty" in kwargs["features"] and kwargs["face_color"] == "prediction"


@pytest.mark.slow
def test_training_in_napari_adds_the_latent_space_layer(qtbot, viewer, tmp_path):
    adata = annotated_data(novelty=False)
    for key in list(adata.obsm):
        del adata.obsm[key]
    adata.obs = adata.obs[["batch", "cell_type"]]
    path = tmp_path / "raw.h5ad"
    adata.write_h5ad(path)
    viewer.open(str(path), plugin=PLUGIN_NAME)
    bridge = bridge_for(viewer)
    session = bridge.session
    qtbot.waitUntil(lambda: session.checks_current and not session.is_busy, timeout=60_000)
    assert bridge.cells.layer is None  # no latent space before a model exists
    panel = bridge.panels["training"]
    panel.inputs["n_hidden"].setValue(16)
    panel.inputs["n_layers"].setValue(1)
    panel.epochs_spin.setValue(2)
    panel.train_button.click()
    qtbot.waitUntil(lambda: bridge.cells.layer is not None, timeout=300_000)
    assert bridge.cells.layer.name.startswith("FADVI cells (z_l, ")
    assert list(bridge.cells.layer.features.columns) == ["batch", "label"]
    qtbot.waitUntil(lambda: "UMAP" in bridge.cells.layer.name and not session.is_busy,
                    timeout=300_000)
    assert session.adata.obsm["X_fadvi_l_umap"].shape == (N_CELLS, 2)


def test_cells_dock_switches_colouring_names_colours_and_selects_a_category(qtbot, viewer,
                                                                           saved_file):
    bridge = open_saved(qtbot, viewer, saved_file)
    widget = viewer.window.add_plugin_dock_widget(PLUGIN_NAME, "Cells")[1]  # docked by the reader
    assert widget.colour_combo.currentText() == "prediction"
    legend = [widget.legend.item(i).text() for i in range(widget.legend.count())]
    assert legend == ["B", "NK", "T"]
    widget.colour_combo.setCurrentText("novelty")
    widget.colour_combo.activated.emit(widget.colour_combo.currentIndex())
    assert bridge.cells.coloured_by == "novelty" and widget.legend.count() == 0
    widget.colour_combo.setCurrentText("batch")
    widget.colour_combo.activated.emit(widget.colour_combo.currentIndex())
    widget.legend.itemClicked.emit(widget.legend.item(0))  # "b1": the first half of the cells
    assert bridge.panels["predictions"].selection_radio.text() == f"Selected cells ({N_CELLS // 2})"


def test_a_gene_clicked_in_the_explanations_colours_the_cells(qtbot, viewer, saved_file):
    bridge = open_saved(qtbot, viewer, saved_file)
    bridge.panels["explain"].gene_clicked.emit("gene3")
    qtbot.waitUntil(lambda: bridge.cells.coloured_by == "gene", timeout=30_000)
    counts = bridge.session.adata.X
    expected = np.log1p(counts[:, 3] / counts.sum(axis=1) * 1e4)
    np.testing.assert_allclose(bridge.cells.layer.features["gene"], expected, rtol=1e-5)


def test_the_data_panels_open_button_and_another_space(qtbot, viewer, saved_file):
    from fadvi_napari._docking import show_docks

    show_docks(viewer)
    bridge = bridge_for(viewer)
    bridge.prompts.ask_open_path = lambda *_args: str(saved_file)
    bridge.panels["data"].open_requested.emit()
    qtbot.waitUntil(lambda: bridge.cells.layer is not None, timeout=60_000)
    cells_dock = viewer.window.add_plugin_dock_widget(PLUGIN_NAME, "Cells")[1]
    cells_dock.space_combo.setCurrentText("z_b")
    # z_b has no stored embedding: PCA at once, then UMAP, each kept in obsm.
    qtbot.waitUntil(lambda: bridge.cells.layer.name.startswith("FADVI cells (z_b, "),
                    timeout=60_000)
    qtbot.waitUntil(lambda: not bridge.session.is_busy, timeout=300_000)
    assert "X_fadvi_b_pca" in bridge.session.adata.obsm
    assert bridge.cells.layer.data.shape == (N_CELLS, 2)


def test_file_menu_saves_the_annotated_data_to_a_new_file(qtbot, viewer, saved_file, tmp_path):
    from fadvi_napari._menus import save_annotated

    bridge = open_saved(qtbot, viewer, saved_file)
    before = saved_file.read_bytes()
    target = tmp_path / "out"
    bridge.prompts.ask_save_path = lambda *_args: str(target)
    with qtbot.waitSignal(bridge.session.saved, timeout=60_000):
        save_annotated(viewer)
    import anndata

    written = anndata.read_h5ad(tmp_path / "out.h5ad")
    assert list(written.obs["fadvi_prediction"]) == list(bridge.session.adata.obs["fadvi_prediction"])
    assert "X_fadvi_l_umap" in written.obsm
    assert saved_file.read_bytes() == before  # the opened file is never written


def test_file_menu_without_data_or_model_says_what_to_do(viewer):
    from fadvi_napari._menus import save_annotated, save_model

    bridge = bridge_for(viewer)
    save_annotated(viewer)
    assert "Open a file first" in bridge.prompts.last_dialog.text()
    save_model(viewer)
    assert "Train or load one first" in bridge.prompts.last_dialog.text()


def test_mapping_without_a_loaded_model_says_what_to_do(viewer):
    from fadvi_napari._menus import map_data

    bridge = bridge_for(viewer)
    map_data(viewer)
    assert "Load a model first" in bridge.prompts.last_dialog.text()
