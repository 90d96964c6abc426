"""Opening a second file after a full round (train, predict, explain) starts every panel afresh."""

from __future__ import annotations

import pytest
from conftest import set_fast_model, wait_checked, write_demo_variant
from qtpy.QtCore import Qt

pytestmark = pytest.mark.slow


def _idle(window) -> bool:
    return not window.session.is_busy


def test_second_file_shows_every_panel_empty_and_no_dialog(qtbot, window, tmp_path):
    first = write_demo_variant(tmp_path / "first.h5ad", normalise=False, keep_counts_layer=True,
                               n_cells=300)
    second = write_demo_variant(tmp_path / "second.h5ad", normalise=False, keep_counts_layer=True,
                                n_cells=200)
    dialogs = []
    window.dialog_shown.connect(lambda box: dialogs.append(box.text()))
    window.open_file(first)
    wait_checked(qtbot, window)
    set_fast_model(window.training_panel, epochs=3)
    qtbot.mouseClick(window.training_panel.train_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: window.session.latents is not None and _idle(window), timeout=120_000)
    qtbot.mouseClick(window.predictions_panel.predict_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: _idle(window) and window.predictions_panel.review.rowCount() == 300,
                    timeout=60_000)
    explain = window.explain_panel
    explain.scope_combo.setCurrentIndex(explain.scope_combo.findData("all"))
    explain.max_cells_spin.setValue(explain.max_cells_spin.minimum())
    explain.steps_spin.setValue(explain.steps_spin.minimum())
    qtbot.mouseClick(explain.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: _idle(window) and explain.result is not None, timeout=60_000)
    assert explain.export_table_button.isEnabled()
    assert not dialogs

    window.open_file(second)
    wait_checked(qtbot, window)
    qtbot.wait(200)  # let follow-up signals (embedding requests, job ends) arrive
    qtbot.waitUntil(lambda: _idle(window), timeout=30_000)

    assert dialogs == []
    assert window.session.adata.n_obs == 200
    training = window.training_panel
    assert training.curves.series == {}
    assert training.progress_bar.text() == "" and training.progress_bar.value() <= 0
    assert training.train_button.isEnabled()
    assert training.state_text == "Ready to train."
    predictions = window.predictions_panel
    assert predictions.review.rowCount() == 0
    assert predictions.progress_bar.text() == "" and predictions.progress_bar.value() <= 0
    assert predictions.state_text == "Train or load a model to predict."
    assert explain.result is None
    assert explain.table_view.model().rowCount() == 0
    assert not explain.export_table_button.isEnabled()
    assert not explain.export_figure_button.isEnabled()
    assert explain.progress_bar.text() == "" and explain.progress_bar.value() <= 0
    assert explain.state_text == "Train or load a model to predict."
    assert window.busy_label.text() == ""
    assert window.viewer.shown_embeddings() == []
