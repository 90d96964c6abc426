"""File > Annotate with Reference... end to end: the demo's batch "5p", without its labels,
annotated from a reference made of its two other batches (3pv1, 3pv2).

The module's window is shared: tests run in file order and build on each other (joined, trained,
predicted, shown, saved, then another file opened).
"""

from __future__ import annotations

import anndata
import numpy as np
import pandas as pd
import pytest
from conftest import DEMO, SETTINGS_ENV, close_window, set_fast_model, wait_checked
from qtpy.QtCore import Qt

from fadvi_gui.model import reference as keys
from fadvi_gui.model.keys import AGREEMENT_KEY, PREDICTION_KEY, RESOLVED_KEY

QUERY_BATCH = "5p"
N_QUERY = 430


def _split(folder):
    """Write the reference (3pv1 + 3pv2, labelled) and the query (5p, no labels) into ``folder``."""
    demo = anndata.read_h5ad(DEMO)
    reference = demo[demo.obs["batch"] != QUERY_BATCH].copy()
    query = demo[demo.obs["batch"] == QUERY_BATCH].copy()
    truth = query.obs.pop("cell_type").astype(str)
    del query.obs["cell_type_broad"]
    reference.write_h5ad(folder / "reference.h5ad")
    query.write_h5ad(folder / "query_5p.h5ad")
    return folder / "reference.h5ad", folder / "query_5p.h5ad", truth


def _idle(window) -> bool:
    return not window.session.is_busy


def _open_and_join(bot, window, reference_path):
    """Run File > Annotate with Reference... on ``reference_path`` through the real action and dialog."""
    window.ask_open_path = lambda _title, _filters: str(reference_path)
    action = window.reference_ui.action
    assert action.isEnabled() and action.text() == "Annotate with &Reference..."
    assert action in window.file_menu.actions()
    action.trigger()
    wiring = window.reference_ui.wiring
    bot.waitUntil(lambda: wiring.dialog is not None and wiring.dialog.isVisible(), timeout=120_000)
    return wiring.dialog


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    return _split(tmp_path_factory.mktemp("reference"))


@pytest.fixture(scope="module")
def joined(qapp, tmp_path_factory, request, split):
    """A window with the query open and joined with the reference (dialog answered as guessed)."""
    from pytestqt.qtbot import QtBot
    from qtpy.QtCore import QSettings

    from fadvi_gui.main_window import MainWindow

    folder = tmp_path_factory.mktemp("reference_settings")
    bot = QtBot(request)
    with pytest.MonkeyPatch.context() as patch:
        for fmt in (QSettings.NativeFormat, QSettings.IniFormat):
            QSettings.setPath(fmt, QSettings.UserScope, str(folder))
        patch.setenv(SETTINGS_ENV, str(folder / "fadvi-gui.ini"))
        window = MainWindow()
        window.show()
        reference_path, query_path, _truth = split
        window.open_file(query_path)
        wait_checked(bot, window)
        dialog = _open_and_join(bot, window, reference_path)
        assert dialog.labels_combo.currentText() == "cell_type"
        assert dialog.batch_combo.currentText() == "batch"
        assert dialog.coarse_combo.currentText() == "cell_type_broad"
        assert dialog.layer_combo.currentText() == "counts"
        assert dialog.query_batch_combo.currentText() == "batch"
        dialog.ok_button.click()
        bot.waitUntil(lambda: window.session.reference.active, timeout=120_000)
        wait_checked(bot, window, timeout=60_000)
        yield window
        close_window(bot, window)
        window.deleteLater()


def test_the_app_names_the_engines_joint_columns():
    from fadvi_core import _reference as engine

    assert (keys.SOURCE_KEY, keys.BATCH_KEY, keys.LABELS_KEY, keys.COARSE_KEY, keys.UNLABELLED) == (
        engine.SOURCE_KEY, engine.BATCH_KEY, engine.LABELS_KEY, engine.COARSE_KEY, engine.UNLABELLED)


def test_the_data_panel_shows_the_reference_and_the_query(joined, split):
    window, session = joined, joined.session
    state = session.reference.state
    adata = session.adata
    assert adata is state.data and adata.n_obs == 1200 and state.query.n_obs == N_QUERY
    assert session.path == split[1]  # the opened file stays the opened file
    choices = session.choices
    assert (choices.batch_key, choices.labels_key, choices.unlabeled_category) == (
        keys.BATCH_KEY, keys.LABELS_KEY, keys.UNLABELLED)
    assert not any(p.severity == "error" for p in session.problems)
    panel = window.data_panel
    assert panel.reference_box.isVisibleTo(panel)
    text = panel.reference_label.text()
    assert f"{state.n_shared} shared genes" in text and "reference.h5ad" in text
    assert "5p (430)" in text
    table = panel.count_table
    columns = [table.horizontalHeaderItem(i).text() for i in range(table.columnCount())]
    assert {"reference: 3pv1", "reference: 3pv2", "query: 5p"} <= set(columns)
    rows = [table.verticalHeaderItem(i).text() for i in range(table.rowCount())]
    assert keys.UNLABELLED in rows and "B" in rows


def test_training_and_predictions_label_the_query_cells(qtbot, joined, split):
    window, session = joined, joined.session
    truth = split[2]
    panel = window.training_panel
    set_fast_model(panel, epochs=20)
    panel.inputs["n_hidden"].setValue(64)
    panel.inputs["n_latent_l"].setValue(10)
    panel.train_button.click()
    qtbot.waitUntil(lambda: session.latents is not None and _idle(window), timeout=300_000)
    with qtbot.waitSignal(session.busy_changed, timeout=10_000):
        qtbot.mouseClick(window.predictions_panel.predict_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: _idle(window) and PREDICTION_KEY in session.adata.obs, timeout=120_000)
    positions = session.reference.state.query_positions()
    predicted = session.adata.obs[PREDICTION_KEY].astype(str).to_numpy()[positions]
    accuracy = float(np.mean(predicted == truth.to_numpy()))
    assert accuracy > 0.85, accuracy


def test_the_reference_gives_a_second_opinion_the_review_can_filter(qtbot, joined):
    window, session = joined, joined.session  # predicted by the test above
    qtbot.waitUntil(lambda: _idle(window) and AGREEMENT_KEY in session.adata.obs, timeout=120_000)
    obs = session.adata.obs
    query = session.reference.state.query_mask()
    agreement = pd.array(obs[AGREEMENT_KEY], dtype="boolean")
    assert agreement[~query].isna().all() and not agreement[query].isna().any()
    assert agreement[query].mean() > 0.8
    assert obs[RESOLVED_KEY][query].notna().all() and obs[RESOLVED_KEY][~query].isna().all()
    panel = window.predictions_panel
    panel.set_filter("disagreements")  # reference cells against their label, query cells the vote
    predicted = obs[PREDICTION_KEY].astype(str).to_numpy()
    labels = obs[keys.LABELS_KEY].astype(str).to_numpy()
    expected = int((labels != predicted)[~query].sum() + (~agreement[query]).sum())
    assert panel.review.rowCount() == expected
    panel.set_filter("all")


def test_the_viewer_hides_the_reference_cells_on_request(qtbot, joined):
    window = joined
    viewer = window.viewer
    box = viewer.controls().query_only
    assert box.isVisibleTo(viewer) and not box.isChecked()
    qtbot.waitUntil(lambda: viewer.canvas().has_points(0), timeout=120_000)
    cloud = viewer.canvas().cloud(0)
    assert cloud.visible_mask().sum() == 1200
    viewer.set_query_only(True)
    shown = cloud.visible_mask()
    assert shown.sum() == N_QUERY
    sources = window.session.adata.obs[keys.SOURCE_KEY].astype(str).to_numpy()
    assert set(sources[shown]) == {"query"}
    viewer.set_query_only(False)
    assert cloud.visible_mask().sum() == 1200


def test_save_as_writes_the_query_cells_only_in_their_order(qtbot, joined, split, tmp_path):
    window = joined
    truth = split[2]
    qtbot.mouseClick(window.predictions_panel.accept_all_button, Qt.LeftButton)
    out = tmp_path / "query_annotated.h5ad"
    window.ask_save_path = lambda *_args: str(out)
    with qtbot.waitSignal(window.session.saved, timeout=120_000):
        window.save_action.trigger()
    written = anndata.read_h5ad(out)
    query = anndata.read_h5ad(split[1])
    assert written.n_obs == N_QUERY and list(written.obs_names) == list(query.obs_names)
    assert written.n_vars == query.n_vars
    for key in ("fadvi_prediction", "fadvi_confidence", "fadvi_novelty", "fadvi_agreement",
                "fadvi_accepted_label"):
        assert key in written.obs, key
    assert not set(keys.JOINT_COLUMNS) & set(written.obs.columns)
    accuracy = float(np.mean(written.obs["fadvi_prediction"].astype(str).to_numpy() == truth.to_numpy()))
    assert accuracy > 0.85, accuracy
    assert written.obsm["X_fadvi_l"].shape[0] == N_QUERY
    assert written.uns["fadvi"]["reference"]["name"] == "reference.h5ad"


def test_prediction_export_writes_the_query_cells_only(joined, split, tmp_path):
    window = joined
    out = tmp_path / "predictions.csv"
    window.ask_save_path = lambda *_args: str(out)
    window.predictions_panel.export_button.click()
    frame = pd.read_csv(out)
    assert len(frame) == N_QUERY
    assert list(frame["cell"]) == list(anndata.read_h5ad(split[1]).obs_names)


def test_opening_another_file_forgets_the_reference(qtbot, joined, split):
    window = joined
    window.open_file(split[1])
    qtbot.waitUntil(lambda: not window.session.reference.active and _idle(window)
                    and window.session.checks_current, timeout=60_000)
    assert window.session.adata.n_obs == N_QUERY
    assert not window.data_panel.reference_box.isVisibleTo(window.data_panel)
    assert not window.viewer.controls().query_only.isVisibleTo(window.viewer)


def test_too_few_shared_genes_is_refused_with_the_count(qtbot, window, split, tmp_path):
    reference = anndata.read_h5ad(split[0])[:, :40].copy()
    path = tmp_path / "small_reference.h5ad"
    reference.write_h5ad(path)
    window.open_file(split[1])
    wait_checked(qtbot, window)
    dialog = _open_and_join(qtbot, window, path)
    with qtbot.waitSignal(window.dialog_shown, timeout=60_000) as shown:
        dialog.ok_button.click()
    text = shown.args[0].text()
    assert "Only 40 genes match" in text, text
    assert not window.session.reference.active and window.session.adata.n_obs == N_QUERY


def test_a_reference_model_folder_shows_its_card_and_maps_the_query(qtbot, window, split, tmp_path):
    from fadvi_core import ReferenceModel

    reference_path, query_path, truth = split
    built = ReferenceModel.train(anndata.read_h5ad(reference_path), labels_key="cell_type",
                                 reference_batch_key="batch", reference_layer="counts",
                                 coarse_labels_key="cell_type_broad", max_epochs=15,
                                 source=reference_path)
    built.save(tmp_path / "pbmc_reference")
    window.open_file(query_path)
    wait_checked(qtbot, window)
    dialog = _open_and_join(qtbot, window, tmp_path / "pbmc_reference" / keys.CARD_FILE)
    assert dialog.is_model and dialog.labels_combo is None
    assert "Validation accuracy" in dialog.intro.text() and "pbmc_reference" in dialog.intro.text()
    dialog.ok_button.click()
    session = window.session
    qtbot.waitUntil(lambda: session.reference.active and session.latents is not None
                    and _idle(window), timeout=120_000)
    assert session.adata.n_obs == N_QUERY and session.model is not None
    assert "shared genes" in window.data_panel.reference_label.text()
    assert any("nothing to train: press Predict labels" in p.message for p in session.problems)
    assert not any(p.code == "single_class" for p in session.problems)
    qtbot.mouseClick(window.predictions_panel.predict_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: _idle(window) and PREDICTION_KEY in session.adata.obs, timeout=120_000)
    predicted = session.adata.obs[PREDICTION_KEY].astype(str).to_numpy()
    assert np.mean(predicted == truth.to_numpy()) > 0.7
    out = tmp_path / "mapped.h5ad"
    window.ask_save_path = lambda *_args: str(out)
    with qtbot.waitSignal(session.saved, timeout=120_000):
        window.save_action.trigger()
    written = anndata.read_h5ad(out)
    assert list(written.obs_names) == list(anndata.read_h5ad(query_path).obs_names)
    assert {"fadvi_prediction", "fadvi_agreement", "fadvi_prediction_resolved"} <= set(written.obs)
    assert np.mean(written.obs["fadvi_prediction"].astype(str).to_numpy() == truth.to_numpy()) > 0.7


def test_a_model_trained_in_the_app_is_saved_as_a_reference_and_annotates(qtbot, window, split,
                                                                          tmp_path):
    from fadvi_core import ReferenceModel

    reference_path, query_path, truth = split
    session = window.session
    window.open_file(reference_path)
    wait_checked(qtbot, window)
    assert session.choices.labels_key == "cell_type"
    save = window.reference_ui.save_action
    assert not save.isEnabled()  # no model yet
    panel = window.training_panel
    set_fast_model(panel, epochs=30)
    panel.inputs["n_hidden"].setValue(64)
    panel.inputs["n_latent_l"].setValue(10)
    panel.batch_spin.setValue(128)
    panel.train_button.click()
    qtbot.waitUntil(lambda: session.model is not None and _idle(window), timeout=300_000)
    assert save.isEnabled() and save in window.file_menu.actions()
    folder = tmp_path / "app_reference"
    window.ask_save_path = lambda *_args: str(folder)
    save.trigger()
    qtbot.waitUntil(lambda: (folder / keys.CARD_FILE).is_file() and _idle(window), timeout=120_000)
    card = ReferenceModel.load(folder).card
    assert card["labels_key"] == "cell_type" and card["data"]["name"] == reference_path.name
    assert sum(card["classes"].values()) == anndata.read_h5ad(reference_path).n_obs
    window.open_file(query_path)
    wait_checked(qtbot, window)
    _open_and_join(qtbot, window, folder / keys.CARD_FILE).ok_button.click()
    qtbot.waitUntil(lambda: session.reference.active and session.latents is not None
                    and _idle(window), timeout=120_000)
    qtbot.mouseClick(window.predictions_panel.predict_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: _idle(window) and PREDICTION_KEY in session.adata.obs, timeout=120_000)
    predicted = session.adata.obs[PREDICTION_KEY].astype(str).to_numpy()
    assert np.mean(predicted == truth.to_numpy()) > 0.7
