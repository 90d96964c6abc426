"""Confusion-matrix heatmap: existing labels (rows) against predicted labels (columns)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import qtpy  # noqa: F401 - import before pyqtgraph so both use the same binding
import pyqtgraph as pg
from qtpy.QtCore import QPointF, QRectF, Qt
from qtpy.QtGui import QColor

from fadvi_gui.panels.common.plot_export import export_plot

#: Above this many classes per side, the counts are not written into the cells.
MAX_ANNOTATED = 15


class CountLabels(pg.GraphicsObject):
    """Every cell count of the heatmap, drawn in one item at a fixed font size.

    One item instead of a ``pg.TextItem`` per cell: a 9 x 9 matrix made 81 text items,
    each tracking the view's transform, which cost the UI thread ~70 ms per update.
    """

    def __init__(self) -> None:
        super().__init__()
        self._labels: list[tuple[float, float, str, QColor]] = []
        self._rect = QRectF()

    def set_labels(self, counts: np.ndarray, shares: np.ndarray) -> None:
        """Label cell ``(row, column)`` with its count, dark on light cells (share > 0.6)."""
        self.prepareGeometryChange()
        dark, light = QColor(0, 0, 0), QColor(255, 255, 255)
        self._labels = [(column + 0.5, row + 0.5, str(int(value)),
                         dark if shares[row, column] > 0.6 else light)
                        for (row, column), value in np.ndenumerate(counts)]
        self._rect = QRectF(0, 0, counts.shape[1], counts.shape[0]) if counts.size else QRectF()
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._rect

    def paint(self, painter, *_args) -> None:
        transform = painter.transform()
        painter.resetTransform()
        box = QRectF(-40, -10, 80, 20)
        for x, y, text, colour in self._labels:
            centre = transform.map(QPointF(x, y))
            painter.setPen(colour)
            painter.drawText(box.translated(centre), int(Qt.AlignCenter), text)
        painter.setTransform(transform)


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
        self.labels = CountLabels()
        self.plotItem.addItem(self.labels)
        self._empty = pg.TextItem("No labelled cell has a prediction yet.", color=(90, 90, 90),
                                  anchor=(0.5, 0.5))
        self.plotItem.addItem(self._empty)
        self.set_matrix(pd.DataFrame())

    def set_matrix(self, matrix: pd.DataFrame) -> None:
        """Show ``matrix`` (counts, existing x predicted); an empty one shows a note instead."""
        self.matrix = matrix
        self.labels.set_labels(np.zeros((0, 0)), np.zeros((0, 0)))
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
            self.labels.set_labels(counts, shares)
        self.plotItem.setRange(xRange=(0, counts.shape[1]), yRange=(0, counts.shape[0]), padding=0)

    def _set_ticks(self, columns: list[str], rows: list[str]) -> None:
        self.plotItem.getAxis("bottom").setTicks([[(i + 0.5, name) for i, name in enumerate(columns)]])
        self.plotItem.getAxis("left").setTicks([[(i + 0.5, name) for i, name in enumerate(rows)]])

    def save(self, path: str | os.PathLike, *, width: int = 1200) -> Path:
        """Write the heatmap to ``path`` (``.png`` or ``.svg``)."""
        return export_plot(self.plotItem, path, width=width)
