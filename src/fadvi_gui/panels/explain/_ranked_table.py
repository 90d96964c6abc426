"""Table model of one class's ranked genes (the columns of ``FADVI.get_ranked_features``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from qtpy.QtCore import QAbstractTableModel, QModelIndex, Qt

#: (header, column, tooltip); "rank" is added by the model (1 = strongest).
COLUMNS = (
    ("Rank", "rank", "1 = the gene with the largest mean absolute attribution."),
    ("Gene", "feature", "feature"),
    ("Mean |attribution|", "attribution_abs_mean", "attribution_abs_mean: the ranking score."),
    ("Mean attribution", "attribution_mean",
     "attribution_mean: positive when the gene pushes cells towards the predicted class."),
    ("Std", "attribution_std", "attribution_std over the explained cells."),
    ("Cells", "n_cells", "n_cells: cells explained."),
    ("Gene index", "feature_idx", "feature_idx: the gene's column in the model."),
)


class RankedGenesModel(QAbstractTableModel):
    """Rows of a ranked-gene table, sortable by any column."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._frame = pd.DataFrame(columns=[name for _, name, _ in COLUMNS])
        self._columns: list[np.ndarray] = [np.zeros(0) for _ in COLUMNS]
        self._order = np.zeros(0, dtype=np.int64)

    def set_table(self, table: pd.DataFrame) -> None:
        """Show ``table`` (ranked, strongest first), adding a ``rank`` column."""
        self.beginResetModel()
        frame = table.reset_index(drop=True).copy()
        frame.insert(0, "rank", np.arange(1, len(frame) + 1))
        self._frame = frame
        # Plain arrays: ``data`` runs once per visible cell, and pandas indexing is slow there.
        self._columns = [frame[name].to_numpy() if name in frame else np.full(len(frame), "")
                         for _, name, _ in COLUMNS]
        self._order = np.arange(len(frame))
        self.endResetModel()

    @property
    def table(self) -> pd.DataFrame:
        """The table shown, in rank order, with its ``rank`` column."""
        return self._frame

    def gene(self, row: int) -> str:
        """The gene shown in ``row``."""
        return str(self._columns[1][self._order[row]])

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._order)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation, role: int = Qt.DisplayRole):  # noqa: N802
        if orientation != Qt.Horizontal:
            return None
        if role == Qt.DisplayRole:
            return COLUMNS[section][0]
        if role == Qt.ToolTipRole:
            return COLUMNS[section][2]
        return None

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):
        if not index.isValid():
            return None
        name = COLUMNS[index.column()][1]
        if role == Qt.DisplayRole:
            value = self._columns[index.column()][self._order[index.row()]]
            return f"{value:.4g}" if isinstance(value, (float, np.floating)) else str(value)
        if role == Qt.TextAlignmentRole and name != "feature":
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.AscendingOrder) -> None:
        """Sort rows by ``column``; the ``rank`` column keeps each gene's rank."""
        self.layoutAboutToBeChanged.emit()
        if column < 0:  # no sort column: rank order
            self._order = np.arange(len(self._frame))
            self.layoutChanged.emit()
            return
        keys = self._columns[column]
        keys = keys.astype(str) if keys.dtype == object else keys
        self._order = np.argsort(keys, kind="stable")
        if order == Qt.DescendingOrder:
            self._order = self._order[::-1]
        self.layoutChanged.emit()
