"""The predictions panel, driven as a user would: buttons, slider, filters, table, summary."""

from __future__ import annotations

import numpy as np
import pytest
from prediction_data import fake_probabilities, make_adata
from qtpy.QtCore import QItemSelectionModel, Qt

from fadvi_core import ChunkProgress
from fadvi_gui.model import results
from fadvi_gui.panels.predictions.panel import PredictionsPanel


@pytest.fixture
def adata():
    data = make_adata()
    results.write_predictions(data, fake_probabilities(data.n_obs))
    return data


@pytest.fixture
def panel(qtbot):
    widget = PredictionsPanel()
    qtbot.addWidget(widget)
    widget.show()
    return widget


def _review(adata):
    return results.review_table(adata, batch_key="batch", labels_key="labels",
                                unlabeled_category="Unknown")


def _column(panel, header: str) -> list[str]:
    model = panel.table_view.model()
    column = _header_index(panel, header)
    return [model.data(model.index(row, column)) for row in range(model.rowCount())]


def _header_index(panel, header: str) -> int:
    model = panel.table_view.model()
    headers = [model.headerData(c, Qt.Horizontal) for c in range(model.columnCount())]
    return headers.index(header)


def test_predict_buttons_request_all_cells_or_the_selection(qtbot, panel):
    assert not panel.predict_button.isEnabled()
    panel.set_can_predict(True)
    with qtbot.waitSignal(panel.predict_requested) as blocker:
        qtbot.mouseClick(panel.predict_button, Qt.LeftButton)
    assert blocker.args == ["label", None]
    panel.set_selection(np.array([4, 2, 9]))
    panel.selection_radio.setChecked(True)
    with qtbot.waitSignal(panel.predict_requested) as blocker:
        qtbot.mouseClick(panel.batch_button, Qt.LeftButton)
    assert blocker.args[0] == "batch"
    assert list(blocker.args[1]) == [4, 2, 9]
    panel.set_selection(np.array([], dtype=np.int64))
    assert panel.all_cells_radio.isChecked()


def test_progress_and_cancel(qtbot, panel):
    panel.set_can_predict(True)
    panel.show_started("label")
    assert not panel.predict_button.isEnabled() and panel.cancel_button.isEnabled()
    panel.show_progress(ChunkProgress(done=50, total=200))
    assert panel.progress_bar.value() == 50 and panel.progress_bar.maximum() == 200
    with qtbot.waitSignal(panel.cancel_requested):
        qtbot.mouseClick(panel.cancel_button, Qt.LeftButton)
    panel.show_ended("cancelled")
    assert "cancelled" in panel.state_text.lower()
    assert panel.predict_button.isEnabled()


def test_review_table_shows_each_predicted_cell(panel, adata):
    panel.set_review(_review(adata))
    model = panel.table_view.model()
    headers = [model.headerData(c, Qt.Horizontal) for c in range(model.columnCount())]
    assert headers[:6] == ["Prediction", "Confidence", "Flag", "Existing label", "Batch", "Cell"]
    assert model.rowCount() == adata.n_obs
    assert _column(panel, "Prediction") == list(adata.obs[results.PREDICTION_KEY].astype(str))
    assert "120 of 120" in panel.shown_label.text()


def test_sorting_by_confidence(panel, adata):
    panel.set_review(_review(adata))
    panel.table_view.sortByColumn(_header_index(panel, "Confidence"), Qt.DescendingOrder)
    shown = [float(v) for v in _column(panel, "Confidence")]
    assert shown == sorted(shown, reverse=True)
    assert shown[0] == pytest.approx(adata.obs[results.CONFIDENCE_KEY].max(), abs=1e-3)


def test_threshold_slider_marks_uncertain_and_updates_counts(qtbot, panel, adata):
    panel.set_review(_review(adata))
    with qtbot.waitSignal(panel.threshold_changed) as blocker:
        panel.threshold_slider.setValue(60)
    assert blocker.args == [pytest.approx(0.6)]
    n_low = int((adata.obs[results.CONFIDENCE_KEY] < 0.6).sum())
    assert _column(panel, "Flag").count(results.UNCERTAIN) == n_low
    counts = {panel.counts_table.item(r, 0).text(): panel.counts_table.item(r, 1).text()
              for r in range(panel.counts_table.rowCount())}
    assert counts[results.UNCERTAIN] == str(n_low)


def test_filters(qtbot, panel, adata):
    panel.set_review(_review(adata))
    panel.set_threshold(0.5)
    panel.filter_combo.setCurrentIndex(panel.filter_combo.findText("Unlabelled only"))
    assert set(_column(panel, "Existing label")) == {"Unknown"}
    panel.filter_combo.setCurrentIndex(panel.filter_combo.findText("Disagreements"))
    existing, predicted = _column(panel, "Existing label"), _column(panel, "Prediction")
    assert existing and all(e != p and e != "Unknown" for e, p in zip(existing, predicted))
    panel.filter_combo.setCurrentIndex(panel.filter_combo.findText("Confidence < threshold"))
    assert all(float(v) < 0.5 for v in _column(panel, "Confidence"))
    before = panel.table_view.model().rowCount()
    panel.threshold_slider.setValue(80)
    assert panel.table_view.model().rowCount() > before


def test_accept_buttons(qtbot, panel, adata):
    panel.set_review(_review(adata))
    panel.set_threshold(0.7)
    with qtbot.waitSignal(panel.accept_requested) as blocker:
        qtbot.mouseClick(panel.accept_all_button, Qt.LeftButton)
    assert blocker.args == [None, pytest.approx(0.7)]
    view = panel.table_view
    for row in (0, 2):
        view.selectionModel().select(view.model().index(row, 0),
                                     QItemSelectionModel.Select | QItemSelectionModel.Rows)
    with qtbot.waitSignal(panel.accept_requested) as blocker:
        qtbot.mouseClick(panel.accept_selection_button, Qt.LeftButton)
    assert list(blocker.args[0]) == [0, 2]


def test_accept_selection_falls_back_to_viewer_selection(qtbot, panel, adata):
    panel.set_review(_review(adata))
    with qtbot.assertNotEmitted(panel.accept_requested):
        qtbot.mouseClick(panel.accept_selection_button, Qt.LeftButton)
    assert "Select rows" in panel.state_text
    panel.set_selection(np.array([7, 8]))
    with qtbot.waitSignal(panel.accept_requested) as blocker:
        qtbot.mouseClick(panel.accept_selection_button, Qt.LeftButton)
    assert list(blocker.args[0]) == [7, 8]


def test_confusion_matrix_and_export(qtbot, panel, adata, tmp_path):
    assert not panel.export_button.isEnabled()
    panel.set_review(_review(adata))
    matrix = panel.confusion_view.matrix
    assert list(matrix.index) == ["label_0", "label_1", "label_2"]
    assert matrix.to_numpy().sum() == adata.n_obs - 20
    with qtbot.waitSignal(panel.export_requested):
        qtbot.mouseClick(panel.export_button, Qt.LeftButton)
    for name in ("confusion.png", "confusion.svg"):
        path = panel.save_confusion_figure(tmp_path / name)
        assert path.stat().st_size > 0
    assert "<svg" in (tmp_path / "confusion.svg").read_text()


def test_no_labels_shows_an_empty_confusion_note(panel, adata):
    table = results.review_table(adata, batch_key="batch", labels_key=None,
                                 unlabeled_category=None)
    panel.set_review(table)
    assert panel.confusion_view.matrix.empty
    assert panel.confusion_view._empty.isVisible()
