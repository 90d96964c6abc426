"""The integration-quality panel: a button, and a table with one sentence of help per row."""

from __future__ import annotations

from collections.abc import Sequence

from qtpy.QtCore import Signal
from qtpy.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from fadvi_gui.model.quality import QualityRow
from fadvi_gui.panels.common.run_controls import RunControls

COLUMNS = ("Measure", "Value", "Chance", "What to expect")


class QualityPanel(QWidget):
    """Shows `FADVI.get_disentanglement_report` as a table; asks for it with one button.

    Signals
    -------
    run_requested()
        The user asked to measure the integration quality.
    """

    run_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controls = RunControls(["Measure integration quality"],
                                    idle_text="Train a model to measure its integration quality.",
                                    ready_text="Balanced accuracy of a small classifier per "
                                               "latent space, on held-out cells.")
        self.controls.run_buttons[0].clicked.connect(self.run_requested)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        for column in range(3):
            header.setSectionResizeMode(column, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.Stretch)
        layout = QVBoxLayout(self)
        layout.addWidget(self.controls)
        layout.addWidget(self.table)

    def show_report(self, rows: Sequence[QualityRow]) -> None:
        """Fill the table, one row per measure."""
        self.table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            for j, text in enumerate((row.what, row.value, row.chance, row.help)):
                item = QTableWidgetItem(text)
                item.setToolTip(row.help)
                self.table.setItem(i, j, item)
        self.table.resizeRowsToContents()

    def clear_report(self) -> None:
        """Empty the table (new data or a new model)."""
        self.table.setRowCount(0)


__all__ = ["QualityPanel"]
