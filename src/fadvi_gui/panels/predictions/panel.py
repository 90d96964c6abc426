"""Predictions panel: predict, review (sort, filter, threshold), accept, summarise, export.

The panel builds widgets and emits requests; it gets the review table
(`fadvi_gui.model.results.review_table`) and the run state through the methods the main
window calls, and never holds the AnnData or the model.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike
import pandas as pd
from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QAbstractItemView, QComboBox, QDialog, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QPushButton,
    QRadioButton, QSlider, QTableView, QTableWidget, QTableWidgetItem, QTabWidget,
    QVBoxLayout, QWidget,
)

from fadvi_gui.model.results import (
    REVIEW_FILTERS, UNCERTAIN, class_counts, confusion_matrix, filter_review,
)
from fadvi_gui.panels.common.larger_view import show_larger
from fadvi_gui.panels.common.run_controls import RunControls
from fadvi_gui.panels.predictions._confusion_view import ConfusionView
from fadvi_gui.panels.predictions._review_table import ReviewModel
from fadvi_gui.panels.predictions._withheld_agreement import WithheldAgreement

if TYPE_CHECKING:
    from fadvi_core import ChunkProgress

#: Rows measured when the review table's columns are fitted to their contents.
SIZED_ROWS = 30
#: Widest a review column is made when fitted to its contents (px); wider text is elided.
MAX_COLUMN_PX = 170
_MODE_WORDS = {"label": "labels", "batch": "batches"}
_NO_MODEL = "Train or load a model to predict."
_ENDED = {"finished": "Predictions are ready.",
          "cancelled": "Prediction cancelled; earlier predictions are kept.",
          "failed": "Prediction failed; see the message."}


class PredictionsPanel(QWidget):
    """Predict buttons, progress, the review table with threshold and filters, and a summary.

    Signals
    -------
    predict_requested(str, object)
        ``"label"`` or ``"batch"``, and the cell positions to predict (None for all cells).
    cancel_requested()
        The user pressed Cancel.
    accept_requested(object, float)
        Accept predictions at or above the threshold (the float) into a new label column:
        for every predicted cell (None) or for these cell positions.
    threshold_changed(float)
        The confidence threshold moved (0 to 1).
    export_requested()
        The user wants the predictions CSV: ask for a path and write it.
    cells_selected(object)
        Sorted positions of the cells whose rows are selected in the review table.
    """

    predict_requested = Signal(str, object)
    cancel_requested = Signal()
    accept_requested = Signal(object, float)
    threshold_changed = Signal(float)
    export_requested = Signal()
    cells_selected = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._selection = np.zeros(0, dtype=np.int64)
        self._can_accept = True
        self.review = ReviewModel(self)
        # Tabs, not a split: the review table and the matrix each get the dock's whole height.
        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_review_box(), "Review")
        self.tabs.addTab(self._build_confusion_tab(), "Confusion matrix")
        self.tabs.addTab(self._build_counts_tab(), "Per class")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._build_run_box())
        layout.addWidget(self.tabs, 1)
        self._update_buttons()

    # ------------------------------------------------------------------ build
    def _build_run_box(self) -> QWidget:
        box = QGroupBox("Predict")
        layout = QVBoxLayout(box)
        scope = QHBoxLayout()
        self.all_cells_radio = QRadioButton("All cells")
        self.all_cells_radio.setChecked(True)
        self.selection_radio = QRadioButton("Selected cells (0)")
        self.selection_radio.setToolTip("Cells selected in the latent viewer.")
        self.selection_radio.toggled.connect(self._update_buttons)
        scope.addWidget(self.all_cells_radio)
        scope.addWidget(self.selection_radio)
        scope.addStretch(1)
        layout.addLayout(scope)
        self.run_controls = RunControls(
            ["Predict labels", "Predict batches"], idle_text=_NO_MODEL,
            ready_text="Ready to predict.", ended_texts=_ENDED)
        self.predict_button, self.batch_button = self.run_controls.run_buttons
        self.predict_button.setToolTip(
            "Predict the cell type of each cell, with a confidence, from its cell-type space (z_l).")
        self.predict_button.clicked.connect(lambda: self._on_predict_button_clicked("label"))
        self.batch_button.setToolTip(
            "A check of the integration, not an annotation: predicts each cell's batch from its "
            "batch space (z_b). If batches are predicted well, batch effects were captured there "
            "and kept out of the cell-type space. Results go to 'fadvi_batch_prediction'.")
        self.batch_button.clicked.connect(lambda: self._on_predict_button_clicked("batch"))
        self.cancel_button = self.run_controls.cancel_button
        self.progress_bar = self.run_controls.progress_bar
        self.state_label = self.run_controls.state_label
        self.run_controls.cancel_requested.connect(self.cancel_requested)
        self.run_controls.running_changed.connect(self._update_buttons)
        layout.addWidget(self.run_controls)
        return box

    def _build_review_box(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        controls = QHBoxLayout()
        self.filter_combo = QComboBox()
        for key, text in REVIEW_FILTERS.items():
            self.filter_combo.addItem(text, key)
        self.filter_combo.currentIndexChanged.connect(self._on_filter_combo_changed)
        self.threshold_slider = QSlider(Qt.Horizontal)
        self.threshold_slider.setRange(0, 100)
        self.threshold_slider.setValue(50)
        self.threshold_slider.setToolTip("Predictions below this confidence are marked 'Uncertain'.")
        self.threshold_slider.valueChanged.connect(self._on_threshold_slider_changed)
        self.threshold_label = QLabel()
        controls.addWidget(QLabel("Show"))
        controls.addWidget(self.filter_combo, 1)
        layout.addLayout(controls)
        threshold_row = QHBoxLayout()  # its own row keeps the dock narrow
        threshold_row.addWidget(QLabel("Confidence threshold"))
        threshold_row.addWidget(self.threshold_slider, 1)
        threshold_row.addWidget(self.threshold_label)
        layout.addLayout(threshold_row)
        self.table_view = QTableView()
        self.table_view.setModel(self.review)
        self.table_view.horizontalHeader().setSortIndicator(-1, Qt.AscendingOrder)
        self.table_view.setSortingEnabled(True)
        self.table_view.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table_view.verticalHeader().setVisible(False)
        self.table_view.horizontalHeader().setSectionResizeMode(QHeaderView.Interactive)
        self.table_view.horizontalHeader().setStretchLastSection(True)
        # Fit columns to the first rows only (the horizontal header sets how many):
        # measuring 1,000 rows blocks the UI for a quarter second.
        self.table_view.horizontalHeader().setResizeContentsPrecision(SIZED_ROWS)
        self.table_view.selectionModel().selectionChanged.connect(self._on_table_selection_changed)
        self.table_view.resizeColumnsToContents()  # headers whole before the first predictions
        layout.addWidget(self.table_view, 1)
        self.shown_label = QLabel("No predictions yet.")
        self.shown_label.setWordWrap(True)
        shown_row = QHBoxLayout()
        shown_row.addWidget(self.shown_label, 1)
        layout.addLayout(shown_row)
        self.withheld_agreement = WithheldAgreement()  # filled by the annotation wiring
        layout.addWidget(self.withheld_agreement)
        actions = QHBoxLayout()
        self.accept_all_button = QPushButton("Accept above threshold")
        self.accept_all_button.setToolTip(
            "Copy confident predictions of unlabelled cells into the column 'fadvi_accepted_label'. "
            "The original labels are never changed.")
        self.accept_all_button.clicked.connect(self._on_accept_all_button_clicked)
        self.accept_selection_button = QPushButton("Accept selection")
        self.accept_selection_button.setToolTip(
            "Accept the predictions of the rows selected in the table (or, with no rows selected, "
            "of the cells selected in the viewer) that reach the threshold.")
        self.accept_selection_button.clicked.connect(self._on_accept_selection_button_clicked)
        self.export_button = QPushButton("Export CSV...")
        self.export_button.setToolTip(
            "Write every predicted cell's label, confidence and class probabilities to a CSV file.")
        self.export_button.clicked.connect(self._on_export_button_clicked)
        shown_row.addWidget(self.export_button)
        for button in (self.accept_all_button, self.accept_selection_button):
            actions.addWidget(button)
        actions.addStretch(1)
        layout.addLayout(actions)
        self.threshold_label.setText(f"{self.threshold():.2f}")
        self.review.set_threshold(self.threshold())
        return box

    def _build_confusion_tab(self) -> QWidget:
        self.confusion_view = ConfusionView()
        self.confusion_view.setToolTip(
            "Existing labels (rows) against predicted labels (columns), coloured by the share of "
            "each existing label's cells.")
        self.larger_button = QPushButton("Open larger...")
        self.larger_button.setToolTip("Show the confusion matrix in its own window, full size.")
        self.larger_button.clicked.connect(self.open_larger_confusion)
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addWidget(self.confusion_view, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.larger_button)
        layout.addLayout(row)
        return tab

    def _build_counts_tab(self) -> QWidget:
        self.counts_table = QTableWidget(0, 2)
        self.counts_table.setHorizontalHeaderLabels(["Predicted class", "Cells"])
        self.counts_table.verticalHeader().setVisible(False)
        self.counts_table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.counts_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        return self.counts_table

    def open_larger_confusion(self) -> QDialog:
        """Show the confusion matrix in its own, resizable window; return that window."""
        view = ConfusionView(compact=False)
        view.set_matrix(self.confusion_view.matrix)
        return show_larger(self, "Confusion matrix: existing against predicted labels", view)

    # ------------------------------------------------------------ data setters
    def set_review(self, table: pd.DataFrame) -> None:
        """Show predicted cells (`fadvi_gui.model.results.review_table`); the summary follows."""
        self.review.set_table(table)
        self.table_view.resizeColumnsToContents()  # looks at the first SIZED_ROWS rows only
        for column in range(self.review.columnCount()):  # long cell names are elided instead
            if self.table_view.columnWidth(column) > MAX_COLUMN_PX:
                self.table_view.setColumnWidth(column, MAX_COLUMN_PX)
        # The first rows may hold no "Uncertain": keep room for the word anyway.
        flag = self.review.flag_column()
        needed = self.table_view.fontMetrics().horizontalAdvance(UNCERTAIN) + 16
        self.table_view.setColumnWidth(flag, max(self.table_view.columnWidth(flag), needed))
        self.confusion_view.set_matrix(confusion_matrix(table) if len(table) else pd.DataFrame())
        self._apply_filter()
        self._update_counts()
        self._update_buttons()

    def clear(self) -> None:
        """Return to the empty state of newly opened data: no progress (rows follow in `set_review`)."""
        self.run_controls.clear()

    def set_selection(self, indices: ArrayLike) -> None:
        """The cells selected in the latent viewer (positions); empty when cleared."""
        self._selection = np.asarray(indices, dtype=np.int64)
        self.selection_radio.setText(f"Selected cells ({len(self._selection):,})")
        if not len(self._selection):
            self.all_cells_radio.setChecked(True)
        self._update_buttons()

    def threshold(self) -> float:
        """The confidence threshold, 0 to 1."""
        return self.threshold_slider.value() / 100

    def set_threshold(self, value: float) -> None:
        """Move the threshold slider to ``value`` (0 to 1)."""
        self.threshold_slider.setValue(int(round(float(value) * 100)))

    def set_filter(self, key: str) -> None:
        """Show the rows of one filter: ``"all"``, ``"unlabelled"``, ``"disagreements"``, ``"low_confidence"``."""
        self.filter_combo.setCurrentIndex(self.filter_combo.findData(key))

    def shown_positions(self) -> np.ndarray:
        """Cell positions of the rows the table shows, in display order."""
        return self.review.shown_positions()

    def save_confusion_figure(self, path: str | os.PathLike, *, width: int = 1200) -> Path:
        """Write the confusion heatmap to ``path`` (``.png`` or ``.svg``)."""
        return self.confusion_view.save(path, width=width)

    # -------------------------------------------------------------- run state
    def set_can_predict(self, can_predict: bool, reason: str = "") -> None:
        """Enable the predict buttons (when not running), or disable them with ``reason`` shown."""
        self.run_controls.set_can_run(can_predict, reason)

    def set_can_accept(self, can_accept: bool) -> None:
        """Enable the accept buttons (when there are predictions), e.g. not while the data is saved."""
        self._can_accept = can_accept
        self._update_buttons()

    def show_started(self, mode: str) -> None:
        """Switch to the running state for ``mode`` (``"label"`` or ``"batch"``)."""
        self.run_controls.show_started(f"Predicting {_MODE_WORDS.get(mode, mode)}...")

    def show_progress(self, progress: ChunkProgress) -> None:
        """Show a ``fadvi_core.ChunkProgress`` (cells done out of total)."""
        self.run_controls.show_chunk_progress(progress)

    def show_ended(self, outcome: str, message: str = "") -> None:
        """Return to idle; say how the run ended (``"finished"``, ``"cancelled"``, ``"failed"``)."""
        self.run_controls.show_ended(outcome, message)

    def show_message(self, text: str) -> None:
        """Show ``text`` on the state line (e.g. how many predictions were accepted)."""
        self.run_controls.show_message(text)

    @property
    def state_text(self) -> str:
        """The line that says what the panel is doing."""
        return self.state_label.text()

    # ------------------------------------------------------------------ slots
    def _on_predict_button_clicked(self, mode: str) -> None:
        indices = self._selection.copy() if self.selection_radio.isChecked() else None
        self.predict_requested.emit(mode, indices)

    def _on_export_button_clicked(self) -> None:
        self.export_requested.emit()

    def _on_threshold_slider_changed(self, value: int) -> None:
        self.threshold_label.setText(f"{value / 100:.2f}")
        self.review.set_threshold(value / 100)
        if self.filter_combo.currentData() == "low_confidence":
            self._apply_filter()
        self._update_counts()
        self.threshold_changed.emit(value / 100)

    def _on_filter_combo_changed(self, _index: int) -> None:
        self._apply_filter()

    def _on_table_selection_changed(self, *_args) -> None:
        self.cells_selected.emit(self._table_selection())

    def _on_accept_all_button_clicked(self) -> None:
        self.accept_requested.emit(None, self.threshold())

    def _on_accept_selection_button_clicked(self) -> None:
        positions = self._table_selection()
        if not len(positions):
            positions = self._selection.copy()
        if not len(positions):
            self.state_label.setText("Select rows in the table, or cells in the viewer, first.")
            return
        self.accept_requested.emit(positions, self.threshold())

    # ---------------------------------------------------------------- helpers
    def _table_selection(self) -> np.ndarray:
        rows = {index.row() for index in self.table_view.selectionModel().selectedRows()}
        return self.review.positions(sorted(rows))

    def _apply_filter(self) -> None:
        table = self.review.table
        how = self.filter_combo.currentData()
        self.review.set_mask(filter_review(table, how, self.threshold()) if len(table) else [])
        if len(table):
            self.shown_label.setText(f"Showing {self.review.rowCount():,} of {len(table):,} predicted cells.")
        else:
            self.shown_label.setText("No predictions yet.")

    def _update_counts(self) -> None:
        table = self.review.table
        counts = class_counts(table, self.threshold()) if len(table) else pd.Series(dtype=int)
        self.counts_table.setRowCount(len(counts))
        for row, (name, n) in enumerate(counts.items()):
            self.counts_table.setItem(row, 0, QTableWidgetItem(str(name)))
            item = QTableWidgetItem(f"{int(n):,}")
            item.setTextAlignment(int(Qt.AlignRight | Qt.AlignVCenter))
            self.counts_table.setItem(row, 1, item)

    def _update_buttons(self, *_args: object) -> None:
        idle = not self.run_controls.is_running
        has_selection = bool(len(self._selection))
        self.selection_radio.setEnabled(has_selection)
        self.run_controls.set_ready(has_selection or not self.selection_radio.isChecked())
        has_rows = bool(len(self.review.table))
        for button in (self.accept_all_button, self.accept_selection_button):
            button.setEnabled(has_rows and idle and self._can_accept)
        self.export_button.setEnabled(has_rows and idle)
