"""The explanations panel with a real (tiny) model's attributions, driven as a user would."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from prediction_data import trained_model
from qtpy.QtCore import Qt

from fadvi_core import ChunkProgress
from fadvi_gui.model.explain import ALL_CELLS, RANKED_COLUMNS, ExplainSettings, explain
from fadvi_gui.panels.explain.panel import ExplainPanel


@pytest.fixture
def panel(qtbot):
    widget = ExplainPanel()
    qtbot.addWidget(widget)
    widget.resize(900, 700)
    widget.show()
    return widget


@pytest.fixture(scope="module")
def every_class():
    model, adata = trained_model()
    return explain(model, adata.copy(), method="ig", scope="all", max_cells=10, n_steps=4), model


def _cells(panel, column: int) -> list[str]:
    model = panel.table_view.model()
    return [model.data(model.index(row, column)) for row in range(model.rowCount())]


def test_run_request_carries_the_chosen_settings(qtbot, panel):
    assert not panel.run_button.isEnabled()
    panel.set_classes(["label_0", "label_1"])
    panel.set_can_run(True)
    panel.method_combo.setCurrentIndex(panel.method_combo.findData("gs"))
    panel.class_combo.setCurrentText("label_1")
    panel.max_cells_spin.setValue(200)
    panel.steps_spin.setValue(20)
    with qtbot.waitSignal(panel.run_requested) as blocker:
        qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    assert blocker.args[0] == ExplainSettings(method="gs", scope="class", label="label_1",
                                              max_cells=200, n_steps=20)


def test_selection_scope_needs_selected_cells(qtbot, panel):
    panel.set_can_run(True)
    panel.scope_combo.setCurrentIndex(panel.scope_combo.findData("selection"))
    assert not panel.run_button.isEnabled() and not panel.class_combo.isEnabled()
    panel.set_selection(np.array([1, 5, 8]))
    assert "(3)" in panel.scope_combo.currentText()
    with qtbot.waitSignal(panel.run_requested) as blocker:
        qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    assert blocker.args[0].scope == "selection" and blocker.args[0].indices == (1, 5, 8)


def test_progress_and_cancel(qtbot, panel):
    panel.set_classes(["label_0"])
    panel.set_can_run(True)
    panel.show_started()
    assert not panel.run_button.isEnabled()
    panel.show_progress(ChunkProgress(done=3, total=12))
    assert panel.progress_bar.value() == 3 and panel.progress_bar.maximum() == 12
    with qtbot.waitSignal(panel.cancel_requested):
        qtbot.mouseClick(panel.cancel_button, Qt.LeftButton)
    panel.show_ended("cancelled")
    assert panel.run_button.isEnabled() and "Cancelled" in panel.state_text


def test_result_table_ranks_every_gene_per_class(panel, every_class):
    result, model = every_class
    panel.set_result(result)
    classes = [panel.result_class_combo.itemText(i) for i in range(panel.result_class_combo.count())]
    assert classes == list(result.tables)
    for name in classes:
        panel.set_current_class(name)
        assert panel.genes.table.columns.tolist() == ["rank", *RANKED_COLUMNS]
        assert sorted(_cells(panel, 1)) == sorted(model.var_names)
        scores = [float(v) for v in _cells(panel, 2)]
        assert scores == sorted(scores, reverse=True)
        assert panel.chart.genes == _cells(panel, 1)[:panel.top_spin.value()]


def test_top_genes_spin_sets_the_number_of_bars(panel, every_class):
    panel.set_result(every_class[0])
    panel.top_spin.setValue(5)
    assert len(panel.chart.genes) == 5
    np.testing.assert_allclose(panel.chart.values,
                               panel.genes.table["attribution_abs_mean"].head(5).to_numpy())


def test_clicking_a_gene_in_the_table_or_chart(qtbot, panel, every_class):
    panel.set_result(every_class[0])
    view = panel.table_view
    rect = view.visualRect(view.model().index(1, 1))
    with qtbot.waitSignal(panel.gene_clicked) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.LeftButton, pos=rect.center())
    assert blocker.args == [_cells(panel, 1)[1]]
    assert panel.chart.gene_at(0.0, 2.1) == panel.chart.genes[2]
    assert panel.chart.gene_at(0.0, -3.0) is None
    with qtbot.waitSignal(panel.gene_clicked) as blocker:
        panel.chart.click_gene(panel.chart.genes[0])
    assert blocker.args == [panel.chart.genes[0]]


def test_exports(qtbot, panel, every_class, tmp_path):
    assert not panel.export_table_button.isEnabled()
    result = every_class[0]
    panel.set_result(result)
    with qtbot.waitSignal(panel.export_table_requested) as blocker:
        qtbot.mouseClick(panel.export_table_button, Qt.LeftButton)
    table = blocker.args[0]
    assert isinstance(table, pd.DataFrame)
    assert table.columns.tolist() == ["class", *RANKED_COLUMNS]
    assert set(table["class"]) == set(result.tables)
    with qtbot.waitSignal(panel.export_figure_requested):
        qtbot.mouseClick(panel.export_figure_button, Qt.LeftButton)
    png = panel.save_figure(tmp_path / "genes.png")
    svg = panel.save_figure(tmp_path / "genes.svg")
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert panel.chart.genes[0] in svg.read_text()
    with pytest.raises(ValueError, match=".png or .svg"):
        panel.save_figure(tmp_path / "genes.jpg")


def test_selection_result_lists_all_cells_first(panel):
    model, adata = trained_model()
    result = explain(model, adata, method="ig", scope="selection", indices=[0, 1, 2], n_steps=3)
    panel.set_result(result)
    assert panel.current_class() == ALL_CELLS
    assert set(_cells(panel, 5)) == {"3"}
