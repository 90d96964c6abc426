"""Workbench on the demo, without a model: withheld labels, manual annotation, undo, CSV import."""

from __future__ import annotations

import numpy as np
import pandas as pd
from conftest import wait_checked, write_demo_variant
from qtpy.QtCore import Qt

from fadvi_gui.model.keys import UNANNOTATED


def idle(window) -> bool:
    return not window.session.is_busy


def new_column(qtbot, window, name: str, start: str = "(empty)") -> None:
    box = window.workbench.annotation_panel.annotate
    box.new_name_edit.setText(name)
    box.start_combo.setCurrentText(start)
    qtbot.mouseClick(box.new_button, Qt.LeftButton)
    assert box.column() == name


def test_a_csv_without_known_cells_is_refused_plainly(qtbot, tmp_path, demo_window):
    table = tmp_path / "other.csv"
    table.write_text("cell,label\nAAAC-1,T\n")
    demo_window.ask_open_path = lambda _title, _filters: str(table)
    with qtbot.waitSignal(demo_window.dialog_shown, timeout=30_000) as shown:
        qtbot.mouseClick(demo_window.workbench.annotation_panel.annotate.import_button, Qt.LeftButton)
    assert "No cell name in the file's first column matches this data" in shown.args[0].text()
    assert "label" not in demo_window.session.adata.obs


def test_demo_opens_with_one_batch_withheld(demo_window):
    window = demo_window
    adata, choices = window.session.adata, window.session.choices
    assert choices.labels_key == "cell_type_withheld" and choices.unlabeled_category == "Unknown"
    hidden = adata.obs["batch"] == "5p"
    assert (adata.obs["cell_type_withheld"][hidden] == "Unknown").all()
    kept = adata.obs["cell_type_withheld"].astype(str)[~hidden]
    assert (kept == adata.obs["cell_type"].astype(str)[~hidden]).all()
    assert "batch 5p" in window.workbench.annotation_panel.withhold.status_label.text()
    assert window.predictions_panel.withheld_agreement.isHidden()  # nothing predicted yet


def test_withhold_a_random_share_selects_the_new_column(qtbot, demo_window):
    window = demo_window
    box = window.workbench.annotation_panel.withhold
    box.share_radio.setChecked(True)
    box.share_spin.setValue(20)
    qtbot.mouseClick(box.withhold_button, Qt.LeftButton)
    wait_checked(qtbot, window)
    obs = window.session.adata.obs
    # withheld from the truth ("cell_type"), not from the demo's withheld copy
    hidden = obs["cell_type_withheld"] == "Unknown"
    assert hidden.sum() == 240
    assert window.session.choices.labels_key == "cell_type_withheld"
    assert "random 20%" in box.status_label.text()
    window.session.workbench.undo_stack.undo()  # back to the demo's batch 5p
    assert (window.session.adata.obs["cell_type_withheld"] == "Unknown").sum() == 430


def test_withhold_chosen_batches_of_any_file(qtbot, tmp_path, window):
    window.open_file(write_demo_variant(tmp_path / "mine.h5ad", normalise=False, keep_counts_layer=True))
    wait_checked(qtbot, window)
    assert window.session.choices.labels_key == "cell_type"  # nothing withheld in a user's file
    box = window.workbench.annotation_panel.withhold
    box.check_batch("3pv1")
    qtbot.mouseClick(box.withhold_button, Qt.LeftButton)
    wait_checked(qtbot, window)
    obs = window.session.adata.obs
    assert window.session.choices.labels_key == "cell_type_withheld"
    assert window.session.choices.unlabeled_category == "Unknown"
    hidden = (obs["batch"] == "3pv1").to_numpy()
    assert (obs["cell_type_withheld"].astype(str)[hidden] == "Unknown").all()
    assert "batch 3pv1" in box.status_label.text()


def test_label_selection_then_undo_and_redo(qtbot, demo_window):
    window = demo_window
    box = window.workbench.annotation_panel.annotate
    new_column(qtbot, window, "my_types")
    obs = window.session.adata.obs
    assert (obs["my_types"] == UNANNOTATED).all()
    window.viewer.set_selection(np.arange(10, 60))
    assert box.label_button.isEnabled() and "50" in box.label_button.text()
    box.name_combo.setCurrentText("Odd cells")
    qtbot.mouseClick(box.label_button, Qt.LeftButton)
    obs = window.session.adata.obs
    assert (obs["my_types"].iloc[10:60] == "Odd cells").all()
    assert (obs["my_types"].iloc[60:] == UNANNOTATED).all()
    assert window.viewer.colouring().key == "my_types"
    original = obs["cell_type"].copy()
    # Ctrl+Z through the Edit menu's action, then Ctrl+Shift+Z
    window.workbench.undo_action.trigger()
    assert (window.session.adata.obs["my_types"] == UNANNOTATED).all()
    assert box.redo_button.isEnabled()
    window.workbench.redo_action.trigger()
    assert (window.session.adata.obs["my_types"].iloc[10:60] == "Odd cells").all()
    assert window.workbench.undo_action.shortcut().toString() == "Ctrl+Z"
    assert window.workbench.redo_action.shortcut().toString() == "Ctrl+Shift+Z"
    pd.testing.assert_series_equal(window.session.adata.obs["cell_type"], original)


def test_rename_and_merge_labels(qtbot, demo_window):
    window = demo_window
    box = window.workbench.annotation_panel.annotate
    new_column(qtbot, window, "curated", start="cell_type")
    labels = [box.label_list.item(i).data(Qt.UserRole) for i in range(box.label_list.count())]
    assert "Mono_CD14" in labels
    for item in box.label_list.findItems("Mono_CD1", Qt.MatchStartsWith):
        item.setSelected(True)
    box.name_combo.setCurrentText("Monocyte")
    qtbot.mouseClick(box.merge_button, Qt.LeftButton)
    obs = window.session.adata.obs
    truth = obs["cell_type"].astype(str)
    assert (obs["curated"][truth.str.startswith("Mono")] == "Monocyte").all()
    box.label_list.clearSelection()
    box.label_list.findItems("Monocyte", Qt.MatchStartsWith)[0].setSelected(True)
    box.name_combo.setCurrentText("Myeloid")
    qtbot.mouseClick(box.rename_button, Qt.LeftButton)
    assert "Monocyte" not in set(window.session.adata.obs["curated"].astype(str))
    window.session.workbench.undo_stack.undo()
    assert "Monocyte" in set(window.session.adata.obs["curated"].astype(str))
    # double-clicking a label selects its cells, ready to relabel
    item = box.label_list.findItems("Monocyte", Qt.MatchStartsWith)[0]
    box.label_list.itemDoubleClicked.emit(item)
    expected = np.flatnonzero(truth.str.startswith("Mono").to_numpy())
    np.testing.assert_array_equal(window.viewer.selected_indices(), expected)


def test_use_annotation_as_training_labels(qtbot, demo_window):
    window = demo_window
    new_column(qtbot, window, "for_training", start="cell_type")
    qtbot.mouseClick(window.workbench.annotation_panel.annotate.train_button, Qt.LeftButton)
    wait_checked(qtbot, window)
    assert window.session.choices.labels_key == "for_training"
    assert window.session.choices.unlabeled_category is None or \
        window.session.choices.unlabeled_category == UNANNOTATED


def test_import_csv_reports_unmatched_and_duplicates_then_export(qtbot, tmp_path, demo_window):
    window = demo_window
    names = list(window.session.adata.obs_names[:5])
    table = tmp_path / "labels.csv"
    table.write_text("cell,expert_label,score\n"
                     f"{names[0]},T,1.5\n{names[1]},B,2\n{names[2]},B,3\n"
                     "not_a_cell,NK,4\n"
                     f"{names[0]},NK,9\n")
    window.ask_open_path = lambda _title, _filters: str(table)
    box = window.workbench.annotation_panel.annotate
    qtbot.mouseClick(box.import_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "expert_label" in window.session.adata.obs and idle(window), timeout=30_000)
    obs = window.session.adata.obs
    assert list(obs["expert_label"].iloc[:4].astype(str)) == ["T", "B", "B", UNANNOTATED]
    assert obs["score"].iloc[0] == 1.5 and np.isnan(obs["score"].iloc[4])
    text = box.status_label.text()
    assert "Matched 3 of 1,200 cells" in text and "1 rows name cells that are not in the data" in text
    assert "not_a_cell" in text and "1 cells appear more than once" in text
    assert box.column() == "expert_label"

    out = tmp_path / "out.tsv"
    window.ask_save_path = lambda _title, _suggestion, _filters: str(out)
    qtbot.mouseClick(box.export_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: out.exists() and idle(window), timeout=30_000)
    written = pd.read_csv(out, sep="\t")
    assert list(written.columns) == ["cell", "expert_label"]
    assert written.shape == (1200, 2) and written["expert_label"].iloc[1] == "B"
