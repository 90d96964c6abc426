"""A line and a small per-class table: how often predictions match the withheld labels."""

from __future__ import annotations

import pandas as pd
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QAbstractItemView, QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

#: Most class rows shown before the table scrolls.
_VISIBLE_ROWS = 3


class WithheldAgreement(QWidget):
    """Agreement of predictions with withheld labels, overall and per class; hidden when unused.

    Attributes
    ----------
    label, table
        The sentence ("agrees with the withheld labels on 95% of 430 cells") and the
        per-class table (label, cells, agreement).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Withheld label", "Cells", "Agree"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.table)
        self.clear()

    def clear(self) -> None:
        """Hide the widget (no withheld labels, or no predictions yet)."""
        self.set_agreement("", None)

    def set_agreement(self, sentence: str, per_class: pd.DataFrame | None) -> None:
        """Show ``sentence`` and ``per_class`` (index: label; columns ``cells``, ``agree`` 0-1)."""
        self.label.setText(sentence)
        rows = per_class if per_class is not None else pd.DataFrame(columns=["cells", "agree"])
        self.table.setRowCount(len(rows))
        for i, (name, row) in enumerate(rows.iterrows()):
            cells = QTableWidgetItem(f"{int(row['cells']):,}")
            agree = QTableWidgetItem(f"{float(row['agree']):.0%}")
            for item in (cells, agree):
                item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
            self.table.setItem(i, 0, QTableWidgetItem(str(name)))
            self.table.setItem(i, 1, cells)
            self.table.setItem(i, 2, agree)
        header = self.table.horizontalHeader().height()
        height = header + self.table.verticalHeader().defaultSectionSize() * min(len(rows), _VISIBLE_ROWS)
        self.table.setFixedHeight(height + 2 * self.table.frameWidth())
        self.table.setVisible(len(rows) > 0)
        self.setVisible(bool(sentence))

    @property
    def text(self) -> str:
        """The sentence shown."""
        return self.label.text()


__all__ = ["WithheldAgreement"]
