"""Dot plot and heat map of the top marker genes per group; clicking a gene names it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import qtpy  # noqa: F401 - import before pyqtgraph so both use the same binding
import pyqtgraph as pg
from qtpy.QtCore import QRectF
from qtpy.QtGui import QFontMetrics

from fadvi_gui.panels.common.gene_rows import GeneRowsPlot
from fadvi_gui.plotting.palettes import viridis_lut

#: Largest dot (px), for a gene every cell of the group expresses.
MAX_DOT_PX = 18
_ROW_PX = 18
_LUT = viridis_lut(256)


class MarkerPlot(GeneRowsPlot):
    """Genes down the side, groups across; a dot plot (size: share of expressing cells,
    colour: mean expression scaled per gene) or a heat map of the same scaled means.

    Signals
    -------
    gene_clicked(str)
        A gene's row (or its name) was clicked.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.groups: list[str] = []
        self.kind = "dots"
        self._mean = pd.DataFrame()
        self._fraction = pd.DataFrame()
        self._labels: list[pg.TextItem] = []
        self.dots = pg.ScatterPlotItem(pxMode=True, pen=pg.mkPen(80, 80, 80, 120))
        self.image = pg.ImageItem()
        self.image.setLookupTable(_LUT)
        self.plotItem.addItem(self.image)
        self.plotItem.addItem(self.dots)
        self.plotItem.invertY(True)
        self.plotItem.setMouseEnabled(x=False, y=False)
        self.plotItem.hideButtons()
        self.plotItem.getAxis("bottom").setTicks([[]])

    def set_data(self, mean: pd.DataFrame, fraction: pd.DataFrame, *, title: str = "") -> None:
        """Show ``(n_groups, n_genes)`` mean expression and share of expressing cells."""
        self._mean, self._fraction = mean, fraction
        self.groups = [str(g) for g in mean.index]
        self.genes = [str(g) for g in mean.columns]
        self.plotItem.setTitle(title, size="9pt")
        axis = self.plotItem.getAxis("left")
        axis.setTicks([[(float(i), g) for i, g in enumerate(self.genes)]])
        metrics = QFontMetrics(axis.style.get("tickFont") or self.font())
        axis.setWidth(max([metrics.horizontalAdvance(g) for g in self.genes] + [20]) + 16)
        self.setMinimumHeight(_ROW_PX * len(self.genes) + 130)
        for label in self._labels:
            self.plotItem.removeItem(label)
        self._labels = []
        for i, group in enumerate(self.groups):  # slanted, so long class names never collide
            label = pg.TextItem(group, color=(40, 40, 40), anchor=(0, 0.5), angle=45)
            label.setPos(i, -0.7)
            self.plotItem.addItem(label)
            self._labels.append(label)
        self.set_kind(self.kind)

    def set_kind(self, kind: str) -> None:
        """Draw ``"dots"`` (dot plot) or ``"heatmap"``."""
        self.kind = kind
        scaled = _scaled(self._mean)
        n_groups, n_genes = scaled.shape
        if kind == "heatmap" and n_genes:
            self.dots.setData([], [])
            self.image.setImage(scaled, levels=(0.0, 1.0), autoLevels=False)
            self.image.setRect(QRectF(-0.5, -0.5, n_groups, n_genes))
            self.image.setVisible(True)
        else:
            self.image.setVisible(False)
            gx, gy = np.meshgrid(np.arange(n_groups), np.arange(n_genes), indexing="ij")
            sizes = 3 + (MAX_DOT_PX - 3) * self._fraction.to_numpy().ravel() if n_genes else []
            colours = _LUT[np.clip((scaled.ravel() * 255).astype(int), 0, 255)] if n_genes else []
            brushes = [pg.mkBrush(*c) for c in colours]
            self.dots.setData(x=gx.ravel(), y=gy.ravel(), size=sizes, brush=brushes)
        if n_genes:
            self.plotItem.setRange(xRange=(-0.6, n_groups + 1.6), yRange=(-6.0, n_genes - 0.4),
                                   padding=0)

    def gene_at(self, y: float) -> str | None:
        """The gene of the row at plot height ``y``, or None."""
        return self.gene_of_row(y)


def _scaled(mean: pd.DataFrame) -> np.ndarray:
    """``(n_groups, n_genes)`` means scaled to 0-1 per gene (scanpy's ``standard_scale="var"``)."""
    values = mean.to_numpy(dtype=np.float64)
    if values.size == 0:
        return values
    low, high = values.min(axis=0), values.max(axis=0)
    return (values - low) / np.where(high > low, high - low, 1.0)


__all__ = ["MAX_DOT_PX", "MarkerPlot"]
