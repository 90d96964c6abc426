"""Marker-genes panel: what to compare, run and cancel, the ranked table, a dot plot or heat map.

The panel builds widgets and emits requests; the markers wiring runs the test in a worker
and hands back a :class:`~fadvi_gui.model.markers.MarkerResult`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QAbstractItemView, QComboBox, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QPushButton,
    QRadioButton, QSpinBox, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from fadvi_gui.model.markers import METHODS, MarkerRequest, MarkerResult
from fadvi_gui.panels.common.run_controls import RunControls
from fadvi_gui.panels.markers._marker_plot import MarkerPlot

#: Rows of the table shown per group.
ROWS_PER_GROUP = 50
_HEADERS = ["Gene", "log2 FC", "adj. p", "% in", "% rest"]


class MarkersPanel(QWidget):
    """Differential expression of classes or of the selection against the rest.

    Signals
    -------
    run_requested(object)
        Rank genes for this :class:`~fadvi_gui.model.markers.MarkerRequest` (its
        ``selection`` is filled in by the wiring).
    cancel_requested()
        Stop the run.
    gene_clicked(str)
        Colour the viewer by this gene (a table row or a plot row was clicked).
    export_table_requested(object)
        Write this table (a DataFrame) to CSV.
    export_figure_requested()
        Ask for a file name, then call :meth:`save_figure`.
    """

    run_requested = Signal(object)
    cancel_requested = Signal()
    gene_clicked = Signal(str)
    export_table_requested = Signal(object)
    export_figure_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result: MarkerResult | None = None
        self.classes_radio = QRadioButton("Each class of")
        self.classes_radio.setChecked(True)
        self.selection_radio = QRadioButton("Selected cells (0) against the rest")
        self.classes_radio.setToolTip("Each class of the column against all other cells.")
        self.column_combo = QComboBox()
        self.column_combo.setMinimumContentsLength(10)
        self.column_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.method_combo = QComboBox()
        self.method_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.method_combo.setMinimumContentsLength(10)
        for key, text in METHODS.items():
            self.method_combo.addItem(text, key)
        self.top_spin = QSpinBox()
        self.top_spin.setRange(1, 20)
        self.top_spin.setValue(4)
        self.top_spin.setToolTip("Genes per class in the dot plot and heat map.")
        self.run_controls = RunControls(
            ["Find marker genes"], idle_text="Open data to find marker genes.",
            ready_text="Ready: each group against all other cells (scanpy rank_genes_groups).",
            keep_outcome=True)
        self.run_button = self.run_controls.run_buttons[0]
        self.run_button.clicked.connect(self._on_run_button_clicked)
        self.run_controls.cancel_requested.connect(self.cancel_requested)
        self.group_combo = QComboBox()
        self.group_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.group_combo.setMinimumContentsLength(8)
        self.group_combo.currentIndexChanged.connect(self._fill_table)
        self.table = QTableWidget(0, len(_HEADERS))
        self.table.setHorizontalHeaderLabels(_HEADERS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        self.table.setMinimumHeight(160)
        self.table.cellClicked.connect(self._on_table_cell_clicked)
        self.export_table_button = QPushButton("Export CSV...")
        self.export_table_button.clicked.connect(
            lambda: self.result is not None and self.export_table_requested.emit(self.result.table))
        self.dots_radio = QRadioButton("Dot plot")
        self.dots_radio.setChecked(True)
        self.heatmap_radio = QRadioButton("Heat map")
        self.heatmap_radio.toggled.connect(
            lambda on: self.plot.set_kind("heatmap" if on else "dots"))
        self.export_figure_button = QPushButton("Export figure...")
        self.export_figure_button.clicked.connect(self.export_figure_requested)
        self.plot = MarkerPlot()
        self.plot_label = QLabel()
        self.plot_label.setWordWrap(True)
        self.plot.gene_clicked.connect(self.gene_clicked)
        self._build()
        self.clear()

    def _build(self) -> None:
        ask = QGroupBox("Compare")
        grid = QVBoxLayout(ask)
        row = QHBoxLayout()
        row.addWidget(self.classes_radio)
        row.addWidget(self.column_combo, 1)
        grid.addLayout(row)
        grid.addWidget(self.selection_radio)
        row = QHBoxLayout()
        row.addWidget(QLabel("Test"))
        row.addWidget(self.method_combo, 1)
        row.addWidget(QLabel("Top genes"))
        row.addWidget(self.top_spin)
        grid.addLayout(row)
        grid.addWidget(self.run_controls)
        table_box = QGroupBox("Ranked genes")
        table_layout = QVBoxLayout(table_box)
        row = QHBoxLayout()
        row.addWidget(QLabel("Group"))
        row.addWidget(self.group_combo, 1)
        row.addWidget(self.export_table_button)
        table_layout.addLayout(row)
        table_layout.addWidget(self.table)
        plot_box = QGroupBox("Top genes per group")
        plot_layout = QVBoxLayout(plot_box)
        row = QHBoxLayout()
        row.addWidget(self.dots_radio)
        row.addWidget(self.heatmap_radio)
        row.addStretch(1)
        row.addWidget(self.export_figure_button)
        plot_layout.addLayout(row)
        plot_layout.addWidget(self.plot_label)
        plot_layout.addWidget(self.plot, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(ask)
        layout.addWidget(table_box)
        layout.addWidget(plot_box, 1)

    # ------------------------------------------------------------------ input
    def clear(self) -> None:
        """Back to the empty state (new data)."""
        self.result = None
        self.group_combo.clear()
        self.table.setRowCount(0)
        self.plot.set_data(pd.DataFrame(), pd.DataFrame())
        self.plot_label.setText("")
        self.run_controls.clear()
        self._update_buttons()

    def set_columns(self, columns: list[str], current: str | None = None) -> None:
        """List the class columns to compare (predictions, labels, annotations)."""
        keep = current or self.column_combo.currentText()
        self.column_combo.clear()
        self.column_combo.addItems(columns)
        if keep in columns:
            self.column_combo.setCurrentText(keep)

    def set_selection_count(self, n: int) -> None:
        """The viewer's selection holds ``n`` cells."""
        self.selection_radio.setText(f"Selected cells ({n:,}) against the rest")

    def set_result(self, result: MarkerResult | None) -> None:
        """Show a finished run (None: a cancelled one, nothing changes)."""
        if result is None:
            return
        self.result = result
        self.group_combo.blockSignals(True)
        self.group_combo.clear()
        self.group_combo.addItems(result.groups)
        self.group_combo.blockSignals(False)
        self._fill_table()
        self.plot.set_data(result.mean, result.fraction)
        self.plot_label.setText(f"{result.description}. Dot size: share of cells expressing the "
                                "gene; colour: mean expression, scaled per gene (0 to 1).")
        self._update_buttons()

    def save_figure(self, path: str | os.PathLike, *, width: int = 1200) -> Path:
        """Write the dot plot or heat map to ``path`` (``.png`` or ``.svg``)."""
        return self.plot.save(path, width=width)

    # ----------------------------------------------------------------- slots
    def _on_run_button_clicked(self) -> None:
        by_class = self.classes_radio.isChecked()
        self.run_requested.emit(MarkerRequest(
            groupby=self.column_combo.currentText() if by_class else None,
            method=self.method_combo.currentData(), n_top=self.top_spin.value()))

    def _on_table_cell_clicked(self, row: int, _column: int) -> None:
        item = self.table.item(row, 0)
        if item is not None:
            self.gene_clicked.emit(item.text())

    def _fill_table(self, *_args) -> None:
        result, group = self.result, self.group_combo.currentText()
        if result is None:
            return
        rows = result.table[result.table["group"].astype(str) == group].head(ROWS_PER_GROUP)
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows.itertuples(index=False)):
            texts = [r.gene, f"{r.logfoldchange:.2f}", f"{r.pval_adj:.2g}",
                     f"{r.pct_group:.0%}", f"{r.pct_rest:.0%}"]
            for j, text in enumerate(texts):
                item = QTableWidgetItem(text)
                if j:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.table.setItem(i, j, item)

    def _update_buttons(self) -> None:
        has = self.result is not None
        self.export_table_button.setEnabled(has)
        self.export_figure_button.setEnabled(has)


__all__ = ["MarkersPanel", "ROWS_PER_GROUP"]
