"""Explanations panel: which genes drove the predictions (Integrated Gradients or GradientShap).

The panel builds widgets and emits requests; the main window runs the attribution
(`fadvi_gui.model.explain.explain`) in a worker and hands back an `ExplainResult`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike
from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QAbstractItemView, QComboBox, QDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
    QPushButton, QScrollArea, QSpinBox, QTableView, QTabWidget, QToolButton, QVBoxLayout, QWidget,
)

from fadvi_gui.model.explain import BASELINE_TEXT, METHOD_LABELS, ExplainResult, ExplainSettings
from fadvi_gui.panels.common.larger_view import show_larger
from fadvi_gui.panels.common.run_controls import RunControls
from fadvi_gui.panels.explain._gene_bars import GeneBarChart
from fadvi_gui.panels.explain._ranked_table import RankedGenesModel

if TYPE_CHECKING:
    from fadvi_core import ChunkProgress

#: Rows measured when the ranked table's columns are fitted to their contents.
SIZED_ROWS = 30
_PREDICT_FIRST = "Predict labels first, then explain them."
_SCORE = "Mean |attribution|"
_ENDED = {"finished": "Done.", "cancelled": "Cancelled; earlier results are kept.",
          "failed": "The explanation failed; see the message."}
SCOPE_LABELS = {"selection": "Selected cells", "class": "One predicted class",
                "all": "Every predicted class"}


class ExplainPanel(QWidget):
    """Attribution settings, Run/Cancel with progress, a ranked gene table and a bar chart.

    Signals
    -------
    run_requested(object)
        Carries the `fadvi_gui.model.explain.ExplainSettings` to run.
    cancel_requested()
        The user pressed Cancel.
    gene_clicked(str)
        A gene was clicked in the table or chart: colour the viewer by it.
    export_table_requested(object)
        Carries the ranked genes of every class as one DataFrame (a ``class`` column, then
        the ``get_ranked_features`` columns): ask for a path and write it as CSV.
    export_figure_requested()
        Ask for a ``.png`` or ``.svg`` path and call :meth:`save_figure`.
    """

    run_requested = Signal(object)
    cancel_requested = Signal()
    gene_clicked = Signal(str)
    export_table_requested = Signal(object)
    export_figure_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result: ExplainResult | None = None
        self._selection = np.zeros(0, dtype=np.int64)
        self.genes = RankedGenesModel(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._build_settings_box())
        layout.addWidget(self._build_results_box(), 1)
        self._update_buttons()

    # ------------------------------------------------------------------ build
    def _build_settings_box(self) -> QWidget:
        box = QGroupBox("Explain predictions")
        form = QFormLayout(box)
        self.method_combo = QComboBox()
        for key, text in METHOD_LABELS.items():
            self.method_combo.addItem(text, key)
        self.scope_combo = QComboBox()
        for key, text in SCOPE_LABELS.items():
            self.scope_combo.addItem(text, key)
        self.scope_combo.setCurrentIndex(self.scope_combo.findData("class"))
        self.scope_combo.currentIndexChanged.connect(self._update_buttons)
        self.class_combo = QComboBox()
        _narrow(self.class_combo)
        self.class_combo.setToolTip("Explain the cells predicted as this class.")
        self.max_cells_spin = QSpinBox()
        self.max_cells_spin.setRange(10, 100_000)
        self.max_cells_spin.setSingleStep(100)
        self.max_cells_spin.setValue(500)
        self.max_cells_spin.setToolTip("At most this many cells per class are explained; "
                                       "more are sampled at random (with a fixed seed).")
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(2, 500)
        self.steps_spin.setValue(50)
        self.steps_spin.setToolTip("Integration steps (Integrated Gradients) or baseline samples "
                                   "(GradientShap) per cell: more is slower and more precise.")
        form.addRow("Method", self.method_combo)
        form.addRow("Cells", self.scope_combo)
        form.addRow("Class", self.class_combo)
        form.addRow("Cell cap", self.max_cells_spin)
        form.addRow("Steps", self.steps_spin)
        self.run_controls = RunControls(
            ["Run"], idle_text=_PREDICT_FIRST, ready_text="Ready.", ended_texts=_ENDED,
            cancelling_text="Cancelling after this chunk...", bar_in_row=True)
        self.run_button = self.run_controls.run_buttons[0]
        self.run_button.clicked.connect(self._on_run_button_clicked)
        self.cancel_button = self.run_controls.cancel_button
        self.progress_bar = self.run_controls.progress_bar
        self.state_label = self.run_controls.state_label
        self.run_controls.cancel_requested.connect(self.cancel_requested)
        self.run_controls.running_changed.connect(self._update_buttons)
        form.addRow(self.run_controls)
        return box

    def _build_results_box(self) -> QWidget:
        box = QGroupBox("Genes that drive the prediction")
        layout = QVBoxLayout(box)
        pick = QHBoxLayout()
        self.result_class_combo = QComboBox()
        _narrow(self.result_class_combo)
        self.result_class_combo.currentIndexChanged.connect(self._on_result_class_combo_changed)
        self.top_spin = QSpinBox()
        self.top_spin.setRange(5, 100)
        self.top_spin.setValue(20)
        self.top_spin.valueChanged.connect(self._on_top_spin_changed)
        pick.addWidget(QLabel("Class"))
        pick.addWidget(self.result_class_combo, 1)
        pick.addWidget(QLabel("Top genes"))
        pick.addWidget(self.top_spin)
        layout.addLayout(pick)
        self.baseline_label = QLabel()  # which attribution baseline the result used
        self.baseline_label.setWordWrap(True)
        layout.addWidget(self.baseline_label)
        self.table_view = QTableView()
        self.table_view.setModel(self.genes)
        self.table_view.horizontalHeader().setSortIndicator(-1, Qt.AscendingOrder)
        self.table_view.setSortingEnabled(True)
        self.table_view.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table_view.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table_view.verticalHeader().setVisible(False)
        self.table_view.horizontalHeader().setStretchLastSection(True)
        # Fit columns to the first rows only (the horizontal header sets how many):
        # measuring every gene takes seconds.
        self.table_view.horizontalHeader().setResizeContentsPrecision(SIZED_ROWS)
        self.table_view.clicked.connect(self._on_table_view_clicked)
        self.chart = GeneBarChart()
        self.chart.gene_clicked.connect(self.gene_clicked)
        chart_scroll = QScrollArea()
        chart_scroll.setWidgetResizable(True)
        chart_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        chart_scroll.setWidget(self.chart)
        # Tabs give chart and table the dock's whole width; "Open larger" gives the chart a window.
        self.result_tabs = QTabWidget()
        self.result_tabs.addTab(chart_scroll, "Chart")
        self.result_tabs.addTab(self.table_view, "Table")
        self.larger_button = QToolButton()
        self.larger_button.setText("Open larger...")
        self.larger_button.setToolTip("Show the bar chart in its own window, full size.")
        self.larger_button.clicked.connect(self.open_larger_chart)
        self.result_tabs.setCornerWidget(self.larger_button)
        layout.addWidget(self.result_tabs, 1)
        exports = QHBoxLayout()
        self.export_table_button = QPushButton("Export CSV...")
        self.export_table_button.setToolTip("Every class's ranked genes in one file, with a 'class' column.")
        self.export_table_button.clicked.connect(self._on_export_table_button_clicked)
        self.export_figure_button = QPushButton("Export figure...")
        self.export_figure_button.setToolTip("Save the bar chart as a PNG or SVG picture.")
        self.export_figure_button.clicked.connect(self._on_export_figure_button_clicked)
        exports.addStretch(1)
        exports.addWidget(self.export_table_button)
        exports.addWidget(self.export_figure_button)
        layout.addLayout(exports)
        return box

    # ---------------------------------------------------------------- setters
    def set_classes(self, classes: list[str]) -> None:
        """Offer ``classes`` (predicted class names) in the class picker, keeping the choice."""
        current = self.class_combo.currentText()
        self.class_combo.clear()
        self.class_combo.addItems([str(c) for c in classes])
        if current in classes:
            self.class_combo.setCurrentText(current)
        self._update_buttons()

    def clear(self) -> None:
        """Return to the empty state of newly opened data: no classes, ranking or progress."""
        self.result = None
        self.class_combo.clear()
        self.result_class_combo.blockSignals(True)
        self.result_class_combo.clear()
        self.result_class_combo.blockSignals(False)
        self.genes.set_table(self.genes.table.iloc[:0].drop(columns="rank", errors="ignore"))
        self.chart.set_genes([], [])
        self.baseline_label.clear()
        self.run_controls.clear()
        self._update_buttons()

    def set_selection(self, indices: ArrayLike) -> None:
        """The cells selected in the latent viewer (positions); empty when cleared."""
        self._selection = np.asarray(indices, dtype=np.int64)
        self.scope_combo.setItemText(self.scope_combo.findData("selection"),
                                     f"Selected cells ({len(self._selection):,})")
        self._update_buttons()

    def settings(self) -> ExplainSettings:
        """The run settings as currently shown."""
        scope = self.scope_combo.currentData()
        return ExplainSettings(
            method=self.method_combo.currentData(), scope=scope,
            label=(self.class_combo.currentText() or None) if scope == "class" else None,
            indices=tuple(int(i) for i in self._selection) if scope == "selection" else None,
            max_cells=self.max_cells_spin.value(), n_steps=self.steps_spin.value())

    def set_result(self, result: ExplainResult) -> None:
        """Show ``result``: its classes in the picker, the first class's genes."""
        self.result = result
        self.baseline_label.setText(BASELINE_TEXT.get(result.baseline, ""))
        self.result_class_combo.blockSignals(True)
        self.result_class_combo.clear()
        self.result_class_combo.addItems(list(result.tables))
        self.result_class_combo.blockSignals(False)
        self._on_result_class_combo_changed(0)
        self._update_buttons()

    def current_class(self) -> str:
        """The class whose genes are shown."""
        return self.result_class_combo.currentText()

    def set_current_class(self, name: str) -> None:
        """Show the genes of class ``name``."""
        self.result_class_combo.setCurrentText(name)

    def save_figure(self, path: str | os.PathLike, *, width: int = 1200) -> Path:
        """Write the bar chart to ``path`` (``.png`` or ``.svg``)."""
        return self.chart.save(path, width=width)

    def open_larger_chart(self) -> QDialog:
        """Show the bar chart in its own, resizable window (clicking a gene works there too)."""
        chart = GeneBarChart()
        chart.set_genes(self.chart.genes, self.chart.values, title=self._chart_title(),
                        score=_SCORE)
        chart.gene_clicked.connect(self.gene_clicked)
        return show_larger(self, f"Genes that drive the prediction: {self.current_class()}", chart)

    # -------------------------------------------------------------- run state
    def set_can_run(self, can_run: bool, reason: str = "") -> None:
        """Enable Run (when idle), or disable it with ``reason`` shown."""
        self.run_controls.set_can_run(can_run, reason)

    def show_started(self) -> None:
        """Switch to the running state."""
        self.run_controls.show_started("Computing gene attributions...")

    def show_progress(self, progress: ChunkProgress) -> None:
        """Show a ``fadvi_core.ChunkProgress`` (cells done out of total)."""
        self.run_controls.show_chunk_progress(progress)

    def show_ended(self, outcome: str, message: str = "") -> None:
        """Return to idle; say how the run ended (``"finished"``, ``"cancelled"``, ``"failed"``)."""
        self.run_controls.show_ended(outcome, message)

    @property
    def state_text(self) -> str:
        """The line that says what the panel is doing."""
        return self.state_label.text()

    # ------------------------------------------------------------------ slots
    def _on_run_button_clicked(self) -> None:
        self.run_requested.emit(self.settings())

    def _on_result_class_combo_changed(self, _index: int) -> None:
        name = self.current_class()
        if self.result is None or name not in self.result.tables:
            return
        self.genes.set_table(self.result.tables[name])
        self.table_view.resizeColumnsToContents()
        self._show_chart()

    def _on_top_spin_changed(self, _value: int) -> None:
        self._show_chart()

    def _on_table_view_clicked(self, index) -> None:
        self.gene_clicked.emit(self.genes.gene(index.row()))

    def _on_export_table_button_clicked(self) -> None:
        if self.result is not None:
            self.export_table_requested.emit(self.result.table_for_export())

    def _on_export_figure_button_clicked(self) -> None:
        self.export_figure_requested.emit()

    # ---------------------------------------------------------------- helpers
    def _show_chart(self) -> None:
        table = self.genes.table.head(self.top_spin.value())
        self.chart.set_genes(list(table["feature"]), table["attribution_abs_mean"].to_numpy(),
                             title=self._chart_title(), score=_SCORE)

    def _chart_title(self) -> str:
        method = METHOD_LABELS.get(self.result.method, "") if self.result else ""
        return f"{self.current_class()} ({method})" if method else self.current_class()

    def _update_buttons(self, *_args: object) -> None:
        running = self.run_controls.is_running
        scope = self.scope_combo.currentData()
        self.class_combo.setEnabled(scope == "class" and not running)
        self.run_controls.set_ready({"selection": bool(len(self._selection)),
                                     "class": self.class_combo.count() > 0, "all": True}[scope])
        has_result = self.result is not None and not running
        self.export_table_button.setEnabled(has_result)
        self.export_figure_button.setEnabled(has_result)


def _narrow(combo: QComboBox) -> None:
    """Keep ``combo`` narrow whatever its class names: a long name is elided, not widening the dock."""
    combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(10)
