"""The "Annotate" box: pick an annotation column, label the selection, rename, merge, undo."""

from __future__ import annotations

import pandas as pd
from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QAbstractItemView, QComboBox, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
    QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget,
)

from fadvi_gui.model.keys import ANNOTATION_KEY


class AnnotateBox(QGroupBox):
    """Annotation column, label names and the edits on them; emits requests only.

    Signals
    -------
    column_changed(str)
        Another annotation column was picked.
    new_column_requested(str, str)
        Make a column with this name, starting from this column (or "(empty)").
    label_requested(str, str)
        Label the selected cells with this name in this column (column, name).
    select_requested(str, str)
        Select the cells carrying this label in this column (a label was double-clicked).
    rename_requested(str, str, str)
        In the column, rename the label (column, old, new).
    merge_requested(str, list, str)
        In the column, replace the labels by one name (column, labels, new).
    train_requested(str)
        Use this column as the labels of the next training run.
    import_requested()
        Import a CSV/TSV of annotations.
    export_requested(str)
        Export this column as CSV/TSV.
    """

    column_changed = Signal(str)
    new_column_requested = Signal(str, str)
    label_requested = Signal(str, str)
    select_requested = Signal(str, str)
    rename_requested = Signal(str, str, str)
    merge_requested = Signal(str, list, str)
    train_requested = Signal(str)
    import_requested = Signal()
    export_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Annotate cells", parent)
        self._n_selected = 0
        self.column_combo = QComboBox()
        self.column_combo.currentTextChanged.connect(self._on_column_combo_changed)
        self.new_name_edit = QLineEdit(ANNOTATION_KEY)
        self.start_combo = QComboBox()
        self.start_combo.setToolTip("The new column starts as a copy of this one (or empty).")
        self.new_button = QPushButton("Create")
        self.new_button.clicked.connect(
            lambda: self.new_column_requested.emit(self.new_name_edit.text(), self.start_combo.currentText()))
        self.name_combo = QComboBox()
        self.name_combo.setEditable(True)
        self.name_combo.setInsertPolicy(QComboBox.NoInsert)
        self.name_combo.lineEdit().setPlaceholderText("label name, new or existing")
        self.label_button = QPushButton("Label")
        self.label_button.clicked.connect(
            lambda: self.label_requested.emit(self.column(), self.name_combo.currentText()))
        self.label_list = QListWidget()
        self.label_list.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.label_list.itemSelectionChanged.connect(self._update_buttons)
        self.label_list.setMaximumHeight(160)
        self.label_list.setToolTip("Double-click a label to select its cells in the viewer.")
        self.label_list.itemDoubleClicked.connect(
            lambda item: self.select_requested.emit(self.column(), item.data(Qt.UserRole)))
        self.rename_button = QPushButton("Rename")
        self.rename_button.setToolTip("Rename the label picked in the list to the name typed above.")
        self.rename_button.clicked.connect(self._on_rename_button_clicked)
        self.merge_button = QPushButton("Merge")
        self.merge_button.setToolTip("Replace every label picked in the list by the name typed above.")
        self.merge_button.clicked.connect(
            lambda: self.merge_requested.emit(self.column(), self.picked_labels(), self.name_combo.currentText()))
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Undo the last annotation edit (Ctrl+Z).")
        self.redo_button = QPushButton("Redo")
        self.redo_button.setToolTip("Redo the edit just undone (Ctrl+Shift+Z).")
        self.train_button = QPushButton("Train on it")
        self.train_button.setToolTip("Select this column as the labels column: the next training "
                                     "run learns from your annotation ('Unlabelled' cells are predicted).")
        self.train_button.clicked.connect(lambda: self.train_requested.emit(self.column()))
        self.import_button = QPushButton("Import...")
        self.import_button.setToolTip("Import annotations from a CSV or TSV file: cell name in the "
                                      "first column, labels (and any other values) in the next.")
        self.import_button.clicked.connect(self.import_requested)
        self.export_button = QPushButton("Export...")
        self.export_button.setToolTip("Export this column as CSV or TSV (cell name, label).")
        self.export_button.clicked.connect(lambda: self.export_requested.emit(self.column()))
        self.status_label = QLabel("Make an annotation column, select cells in the viewer, "
                                   "then label them.")
        self.status_label.setWordWrap(True)
        self._build()
        self._update_buttons()

    def _build(self) -> None:
        grid = QGridLayout()
        grid.addWidget(QLabel("Column"), 0, 0)
        grid.addWidget(self.column_combo, 0, 1, 1, 2)
        grid.addWidget(QLabel("New column"), 1, 0)
        grid.addWidget(self.new_name_edit, 1, 1)
        grid.addWidget(self.new_button, 1, 2)
        grid.addWidget(QLabel("from"), 2, 0)
        grid.addWidget(self.start_combo, 2, 1, 1, 2)
        grid.addWidget(QLabel("Name"), 3, 0)
        grid.addWidget(self.name_combo, 3, 1)
        grid.addWidget(self.label_button, 3, 2)
        grid.setColumnStretch(1, 1)
        edits = QHBoxLayout()
        for button in (self.rename_button, self.merge_button, self.undo_button, self.redo_button):
            edits.addWidget(button)
        files = QHBoxLayout()
        for button in (self.train_button, self.import_button, self.export_button):
            files.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.label_list)
        layout.addLayout(edits)
        layout.addLayout(files)
        layout.addWidget(self.status_label)

    # ----------------------------------------------------------------- input
    def set_columns(self, columns: list[str], current: str | None = None) -> None:
        """List the annotation columns; pick ``current`` (else keep the pick)."""
        keep = current or self.column()
        self.column_combo.blockSignals(True)
        self.column_combo.clear()
        self.column_combo.addItems(columns)
        if keep in columns:
            self.column_combo.setCurrentText(keep)
        self.column_combo.blockSignals(False)
        self._update_buttons()

    def set_start_choices(self, columns: list[str]) -> None:
        """List what a new column can start from ("(empty)" first)."""
        keep = self.start_combo.currentText()
        self.start_combo.clear()
        self.start_combo.addItems(columns)
        if keep in columns:
            self.start_combo.setCurrentText(keep)

    def set_labels(self, counts: pd.Series) -> None:
        """Show the labels of the current column with their cell counts."""
        typed = self.name_combo.currentText()
        self.label_list.clear()
        for label, n in counts.items():
            item = QListWidgetItem(f"{label}  ({int(n):,})")
            item.setData(Qt.UserRole, str(label))
            self.label_list.addItem(item)
        self.name_combo.clear()
        self.name_combo.addItems([str(x) for x in counts.index])
        self.name_combo.setCurrentText(typed)
        self._update_buttons()

    def set_selection_count(self, n: int) -> None:
        """The viewer's selection holds ``n`` cells."""
        self._n_selected = int(n)
        self.label_button.setText(f"Label {n:,} cell{'' if n == 1 else 's'}" if n else "Label")
        self._update_buttons()

    def show_message(self, text: str) -> None:
        """Put ``text`` on the status line (what an edit or an import did)."""
        self.status_label.setText(text)

    # ---------------------------------------------------------------- output
    def column(self) -> str:
        """The annotation column picked (empty when there is none)."""
        return self.column_combo.currentText()

    def picked_labels(self) -> list[str]:
        """The labels picked in the list."""
        return [item.data(Qt.UserRole) for item in self.label_list.selectedItems()]

    def _on_column_combo_changed(self, text: str) -> None:
        self._update_buttons()
        if text:
            self.column_changed.emit(text)

    def _on_rename_button_clicked(self) -> None:
        picked = self.picked_labels()
        if len(picked) == 1:
            self.rename_requested.emit(self.column(), picked[0], self.name_combo.currentText())

    def _update_buttons(self) -> None:
        has = bool(self.column())
        picked = len(self.label_list.selectedItems())
        self.label_button.setEnabled(has and self._n_selected > 0)
        self.rename_button.setEnabled(has and picked == 1)
        self.merge_button.setEnabled(has and picked >= 1)
        for button in (self.train_button, self.export_button):
            button.setEnabled(has)


__all__ = ["AnnotateBox"]
