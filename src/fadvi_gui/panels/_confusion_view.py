"""Confusion-matrix heatmap: existing labels (rows) against predicted labels (columns)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import qtpy  # noqa: F401 - import before pyqtgraph so both use the same binding
import pyqtgraph as pg

from fadvi_gui.panels._plot_export import export_plot

#: Above this many classes per side, the counts are not written into the cells.
MAX_ANNOTATED = 15


class ConfusionView(pg.PlotWidget):
    """Heatmap of a confusion matrix, coloured by the share of each existing label's cells.

    Each cell of the heatmap is coloured by row share (0 to 1) and, for small matrices,
    shows its cell count.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent, background="w")
        self.matrix = pd.DataFrame()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.plotItem.addItem(self.image)
        self.plotItem.invertY(True)
        self.plotItem.setMouseEnabled(x=False, y=False)
        self.plotItem.hideButtons()
        self.plotItem.setLabel("left", "Existing label")
        self.plotItem.setLabel("bottom", "Predicted label")
        self._texts: list[pg.TextItem] = []
        self._empty = pg.TextItem("No labelled cell has a prediction yet.", color=(90, 90, 90),
                                  anchor=(0.5, 0.5))
        self.plotItem.addItem(self._empty)
        self.set_matrix(pd.DataFrame())

    def set_matrix(self, matrix: pd.DataFrame) -> None:
        """Show ``matrix`` (counts, existing x predicted); an empty one shows a note instead."""
        self.matrix = matrix
        for text in self._texts:
            self.plotItem.removeItem(text)
        self._texts = []
        empty = matrix.empty
        self._empty.setVisible(empty)
        self.image.setVisible(not empty)
        if empty:
            self._set_ticks([], [])
            self._empty.setPos(0.5, 0.5)
            self.plotItem.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            return
        counts = matrix.to_numpy(dtype=np.float64)
        totals = counts.sum(axis=1, keepdims=True)
        shares = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
        self.image.setImage(shares, levels=(0.0, 1.0))
        self.image.setRect(0, 0, counts.shape[1], counts.shape[0])
        self._set_ticks([str(c) for c in matrix.columns], [str(r) for r in matrix.index])
        if max(counts.shape) <= MAX_ANNOTATED:
            for (row, column), value in np.ndenumerate(counts):
                colour = (0, 0, 0) if shares[row, column] > 0.6 else (255, 255, 255)
                text = pg.TextItem(str(int(value)), color=colour, anchor=(0.5, 0.5))
                text.setPos(column + 0.5, row + 0.5)
                self.plotItem.addItem(text)
                self._texts.append(text)
        self.plotItem.setRange(xRange=(0, counts.shape[1]), yRange=(0, counts.shape[0]), padding=0)

    def _set_ticks(self, columns: list[str], rows: list[str]) -> None:
        self.plotItem.getAxis("bottom").setTicks([[(i + 0.5, name) for i, name in enumerate(columns)]])
        self.plotItem.getAxis("left").setTicks([[(i + 0.5, name) for i, name in enumerate(rows)]])

    def save(self, path: str | os.PathLike, *, width: int = 1200) -> Path:
        """Write the heatmap to ``path`` (``.png`` or ``.svg``)."""
        return export_plot(self.plotItem, path, width=width)
