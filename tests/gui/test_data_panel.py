"""The data panel as a user meets it: open, read the summary, pick columns, see checks."""

from __future__ import annotations

from conftest import DEMO, wait_checked, write_demo_variant

from fadvi_gui.model.choices import NO_UNLABELLED


def _problem_codes(window) -> list[str]:
    return [p.code for p in window.session.problems]


def test_demo_opens_with_summary_and_guessed_columns(demo_window):
    panel = demo_window.data_panel
    assert "1,200 cells x 1,767 genes" in panel.summary_label.text()
    assert panel.layer_combo.currentText() == "counts"
    assert panel.batch_combo.currentText() == "batch"
    # The demo opens ready for label transfer: batch 5p's labels withheld into a new column.
    assert panel.labels_combo.currentText() == "cell_type_withheld"
    assert panel.unlabelled_combo.currentText() == "Unknown"
    # nine cell types, "Unknown" and the total row; three batches plus the total column
    assert panel.count_table.rowCount() == 11
    assert panel.count_table.columnCount() == 4
    assert "rare_classes" in _problem_codes(demo_window)
    assert demo_window.training_panel.train_button.isEnabled()


def test_picking_columns_through_combo_boxes_updates_table_and_checks(qtbot, demo_window):
    panel = demo_window.data_panel
    panel.labels_combo.setCurrentText("cell_type_broad")
    wait_checked(qtbot, demo_window)
    assert demo_window.session.choices.labels_key == "cell_type_broad"
    assert panel.count_table.rowCount() == 7 + 1
    values = [panel.unlabelled_combo.itemText(i) for i in range(panel.unlabelled_combo.count())]
    assert values[0] == NO_UNLABELLED and len(values) == 1 + 7

    panel.unlabelled_combo.setCurrentText(values[1])
    panel.batch_combo.setCurrentText("(none)")
    wait_checked(qtbot, demo_window)
    choices = demo_window.session.choices
    assert choices.unlabeled_category == values[1]
    assert choices.batch_key is None
    assert panel.count_table.columnCount() == 2


def test_covariates_are_offered_from_the_data(demo_window):
    panel = demo_window.data_panel
    continuous = [panel.continuous_list.item(i).text() for i in range(panel.continuous_list.count())]
    categorical = [panel.categorical_list.item(i).text() for i in range(panel.categorical_list.count())]
    assert "percent_mito" in continuous
    assert "cell_type_broad" in categorical and "batch" not in categorical


def test_normalised_file_is_flagged_and_training_disabled(qtbot, tmp_path, window):
    path = write_demo_variant(tmp_path / "normalised.h5ad", normalise=True, keep_counts_layer=False)
    window.open_file(path)
    wait_checked(qtbot, window)
    assert window.data_panel.layer_combo.currentText() == "X"
    assert "not_counts" in _problem_codes(window)
    assert any("not raw counts" in m for m in window.data_panel.problem_list.messages)
    assert not window.training_panel.train_button.isEnabled()
    assert "problems" in window.training_panel.state_text


def test_counts_layer_is_suggested_and_applied(qtbot, tmp_path, window):
    path = write_demo_variant(tmp_path / "mixed.h5ad", normalise=True, keep_counts_layer=True)
    window.open_file(path)
    wait_checked(qtbot, window)
    window.data_panel.layer_combo.setCurrentText("X")
    wait_checked(qtbot, window)
    assert not window.training_panel.train_button.isEnabled()
    button = next(b for b in window.data_panel.problem_list.findChildren(type(window.training_panel.train_button))
                  if b.text() == "Use layer 'counts'")
    qtbot.mouseClick(button, 1)
    wait_checked(qtbot, window)
    assert window.data_panel.layer_combo.currentText() == "counts"
    assert "not_counts" not in _problem_codes(window)
    assert window.training_panel.train_button.isEnabled()


def test_empty_cells_can_be_dropped_without_touching_the_file(qtbot, tmp_path, window):
    path = write_demo_variant(tmp_path / "empty.h5ad", normalise=False, keep_counts_layer=True, empty_cells=5)
    before = path.read_bytes()
    window.open_file(path)
    wait_checked(qtbot, window)
    assert "empty_cells" in _problem_codes(window)
    assert not window.training_panel.train_button.isEnabled()
    button = window.data_panel.findChild(type(window.training_panel.train_button), "dropEmptyCellsButton")
    assert button.text() == "Drop 5 empty cells"
    qtbot.mouseClick(button, 1)
    wait_checked(qtbot, window)
    assert window.session.adata.n_obs == 300 - 5
    assert "empty_cells" not in _problem_codes(window)
    assert path.read_bytes() == before


def test_unreadable_file_shows_a_plain_error(qtbot, tmp_path, window):
    path = tmp_path / "broken.h5ad"
    path.write_text("not an h5ad file")
    with qtbot.waitSignal(window.dialog_shown, timeout=30_000) as shown:
        window.open_file(path)
    assert "broken.h5ad" in shown.args[0].text()
    assert window.session.adata is None
    assert DEMO.exists()


def test_batch_aware_gene_selection_trains_on_fewer_genes(qtbot, demo_window):
    from fadvi_gui.tasks.training import prepare_training_data

    panel = demo_window.data_panel
    panel.hvg_box.setChecked(True)
    panel.hvg_spin.setValue(800)
    panel.hvg_spin.editingFinished.emit()
    choices = panel.choices()
    assert choices.n_top_genes == 800 and choices.hvg_batch_aware
    train_adata = prepare_training_data(demo_window.session.adata, choices)
    assert train_adata.shape == (1200, 800)
    assert "_scvi_uuid" not in demo_window.session.adata.uns
    wait_checked(qtbot, demo_window)
    assert demo_window.session.choices.n_top_genes == 800
