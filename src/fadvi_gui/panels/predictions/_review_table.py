"""The review table's model: predicted cells, sorted and filtered with numpy.

Sorting and filtering happen on whole columns at once (``argsort``, boolean masks), not
row by row through a ``QSortFilterProxyModel``, so they stay quick at a million cells.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
import pandas as pd
from qtpy.QtCore import QAbstractTableModel, QModelIndex, Qt
from qtpy.QtGui import QColor

from fadvi_gui.model.results import UNCERTAIN

#: (header, column of `fadvi_gui.model.results.review_table`); the columns a user acts on
#: come first, so they show in a narrow dock without scrolling sideways.
COLUMNS = (
    ("Prediction", "predicted_label"),
    ("Confidence", "confidence"),
    ("Flag", None),
    ("Existing label", "existing_label"),
    ("Batch", "batch"),
    ("Cell", "cell"),
    ("Set", "prediction_set"),
    ("Novelty", "novelty"),
)
_NUMERIC = frozenset({"confidence", "novelty"})
_GREY = QColor(130, 130, 130)
#: What each column holds, shown when the pointer rests on its header.
HEADER_TIPS = {
    "Prediction": "The predicted cell type.",
    "Confidence": "How sure the model is of the prediction: its probability, 0 to 1.",
    "Flag": "'Uncertain' when the confidence is below the threshold.",
    "Existing label": "The label the cell had in your data ('Unknown' or similar when unlabelled).",
    "Batch": "The cell's batch.",
    "Cell": "The cell's name (obs index).",
    "Set": "Every cell type the cell may be at the Error rate dock's error rate; "
           "empty: like no labelled type.",
    "Novelty": "How unlike every labelled cell type the cell is, 0 to 1.2 (near 1: in the "
               "batches you annotated, nobody labelled any cell like it).",
}
#: The roles ``data`` answers; views ask for several more per cell.
_ROLES = frozenset({Qt.DisplayRole, Qt.ForegroundRole, Qt.TextAlignmentRole})


class ReviewModel(QAbstractTableModel):
    """Rows of a review table (`fadvi_gui.model.results.review_table`) in a chosen order and subset."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._table = pd.DataFrame(columns=[c for _, c in COLUMNS if c] + ["position", "labelled"])
        self._columns: dict[str, np.ndarray] = {}
        self._order = np.zeros(0, dtype=np.int64)  # shown rows, as rows of the table
        self._keep = np.zeros(0, dtype=bool)
        self._sort: tuple[int, Qt.SortOrder] | None = None
        self.threshold = 0.0

    # ------------------------------------------------------------------ data in
    def set_table(self, table: pd.DataFrame) -> None:
        """Show ``table``; the current filter mask is reset to "all rows"."""
        self.beginResetModel()
        self._table = table.reset_index(drop=True)
        self._columns = {name: table[name].to_numpy() for _, name in COLUMNS if name}
        self._keep = np.ones(len(table), dtype=bool)
        self._order = self._ordered(np.arange(len(table)))
        self.endResetModel()

    @property
    def table(self) -> pd.DataFrame:
        """The whole table, whatever is shown."""
        return self._table

    def set_mask(self, keep: np.ndarray) -> None:
        """Show only the rows of the table where ``keep`` is True, in the current sort order."""
        self.beginResetModel()
        self._keep = np.asarray(keep, dtype=bool)
        self._order = self._ordered(np.flatnonzero(self._keep))
        self.endResetModel()

    def set_threshold(self, threshold: float) -> None:
        """Flag rows below ``threshold`` confidence as "Uncertain"."""
        self.threshold = float(threshold)
        if self.rowCount():
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, len(COLUMNS) - 1))

    def flag_column(self) -> int:
        """The column that says "Uncertain"."""
        return [name for _header, name in COLUMNS].index(None)

    def positions(self, rows: ArrayLike) -> np.ndarray:
        """Cell positions (rows of the AnnData) of the shown ``rows``, sorted."""
        rows = np.asarray(list(rows), dtype=np.int64)
        return np.sort(self._table["position"].to_numpy(dtype=np.int64)[self._order[rows]])

    def shown_positions(self) -> np.ndarray:
        """Cell positions of every shown row, in display order."""
        return self._table["position"].to_numpy(dtype=np.int64)[self._order]

    # ---------------------------------------------------------------- Qt model
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._order)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation, role: int = Qt.DisplayRole):  # noqa: N802
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return COLUMNS[section][0]
        if orientation == Qt.Horizontal and role == Qt.ToolTipRole:
            return HEADER_TIPS.get(COLUMNS[section][0])
        return None

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):
        if role not in _ROLES or not index.isValid():
            return None
        row = self._order[index.row()]
        name = COLUMNS[index.column()][1]
        uncertain = float(self._columns["confidence"][row]) < self.threshold
        if role == Qt.DisplayRole:
            if name is None:
                return UNCERTAIN if uncertain else ""
            value = self._columns[name][row]
            if name in _NUMERIC:
                return "" if np.isnan(value) else f"{value:.3f}"
            return str(value)
        if role == Qt.ForegroundRole and uncertain:
            return _GREY
        if role == Qt.TextAlignmentRole and name in _NUMERIC:
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.AscendingOrder) -> None:
        """Sort the shown rows by ``column`` (stable, so earlier sorts break ties)."""
        self.layoutAboutToBeChanged.emit()
        self._sort = (column, order) if column >= 0 else None
        self._order = self._ordered(np.sort(self._order))
        self.layoutChanged.emit()

    def _ordered(self, rows: np.ndarray) -> np.ndarray:
        if self._sort is None or not len(rows):
            return rows
        column, order = self._sort
        name = COLUMNS[column][1]
        keys = (self._columns["confidence"][rows] < self.threshold) if name is None \
            else self._columns[name][rows]
        if name in _NUMERIC:
            keys = keys.astype(np.float64)
        else:
            keys = np.asarray(keys).astype(str)
        ranked = rows[np.argsort(keys, kind="stable")]
        return ranked[::-1] if order == Qt.DescendingOrder else ranked
