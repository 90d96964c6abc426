"""Horizontal bar chart of the top genes; clicking a bar names its gene."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
import qtpy  # noqa: F401 - import before pyqtgraph so both use the same binding
import pyqtgraph as pg
from qtpy.QtGui import QFontMetrics

from fadvi_gui.panels.common.gene_rows import GeneRowsPlot

_BAR = (86, 180, 233)  # Okabe-Ito sky blue
_ROW_PX = 16


class GeneBarChart(GeneRowsPlot):
    """Top genes as horizontal bars, the strongest on top.

    Signals
    -------
    gene_clicked(str)
        A bar (or its gene name) was clicked.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.values = np.zeros(0)
        self.bars = pg.BarGraphItem(x0=[], y=[], height=0.7, width=[], brush=_BAR, pen=None)
        self.plotItem.addItem(self.bars)
        self.plotItem.invertY(True)
        self.plotItem.setMouseEnabled(x=False, y=False)
        self.plotItem.hideButtons()
        self.plotItem.showGrid(x=True, y=False, alpha=0.3)

    def set_genes(self, genes: list[str], values: ArrayLike, *, title: str = "", score: str = "") -> None:
        """Show one bar per gene, ``values`` long, in the given order from the top."""
        self.genes = [str(g) for g in genes]
        self.values = np.asarray(values, dtype=np.float64)
        positions = np.arange(len(self.genes))
        self.bars.setOpts(x0=np.zeros(len(positions)), y=positions, width=self.values, height=0.7)
        axis = self.plotItem.getAxis("left")
        axis.setTicks([[(float(i), g) for i, g in zip(positions, self.genes)]])
        metrics = QFontMetrics(axis.style.get("tickFont") or self.font())
        axis.setWidth(max([metrics.horizontalAdvance(g) for g in self.genes] + [20]) + 16)
        # pyqtgraph skips tick labels that would overlap: keep a row tall enough for its name.
        self.setMinimumHeight(_ROW_PX * len(self.genes) + 70)
        self.plotItem.setTitle(title)
        self.plotItem.setLabel("bottom", score)
        if len(self.genes):
            right = float(max(self.values.max(), 0.0)) or 1.0
            left = float(min(self.values.min(), 0.0))
            self.plotItem.setRange(xRange=(left, right), yRange=(-0.5, len(self.genes) - 0.5))

    def gene_at(self, x: float, y: float) -> str | None:
        """The gene whose bar row contains the plot point ``(x, y)``, or None."""
        return self.gene_of_row(y)
