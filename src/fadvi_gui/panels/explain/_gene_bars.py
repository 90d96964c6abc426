"""Horizontal bar chart of the top genes; clicking a bar names its gene."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike
import qtpy  # noqa: F401 - import before pyqtgraph so both use the same binding
import pyqtgraph as pg
from qtpy.QtCore import Qt, Signal
from qtpy.QtGui import QFontMetrics

from fadvi_gui.panels.common.plot_export import export_plot

_BAR = (86, 180, 233)  # Okabe-Ito sky blue
_ROW_PX = 16


class GeneBarChart(pg.PlotWidget):
    """Top genes as horizontal bars, the strongest on top.

    Signals
    -------
    gene_clicked(str)
        A bar (or its gene name) was clicked.
    """

    gene_clicked = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent, background="w")
        self.genes: list[str] = []
        self.values = np.zeros(0)
        self.bars = pg.BarGraphItem(x0=[], y=[], height=0.7, width=[], brush=_BAR, pen=None)
        self.plotItem.addItem(self.bars)
        self.plotItem.invertY(True)
        self.plotItem.setMouseEnabled(x=False, y=False)
        self.plotItem.hideButtons()
        self.plotItem.showGrid(x=True, y=False, alpha=0.3)
        self.scene().sigMouseClicked.connect(self._on_scene_clicked)

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
        row = int(round(y))
        if 0 <= row < len(self.genes) and abs(y - row) <= 0.45:
            return self.genes[row]
        return None

    def click_gene(self, gene: str) -> None:
        """Act as if the bar of ``gene`` were clicked."""
        if gene in self.genes:
            self.gene_clicked.emit(gene)

    def save(self, path: str | os.PathLike, *, width: int = 1200) -> Path:
        """Write the chart to ``path`` (``.png`` or ``.svg``)."""
        return export_plot(self.plotItem, path, width=width)

    def _on_scene_clicked(self, event) -> None:
        if event.button() != Qt.LeftButton:
            return
        view = self.plotItem.vb
        if not view.sceneBoundingRect().contains(event.scenePos()) and \
                not self.plotItem.getAxis("left").sceneBoundingRect().contains(event.scenePos()):
            return
        point = view.mapSceneToView(event.scenePos())
        gene = self.gene_at(0.0, point.y())
        if gene is not None:
            self.gene_clicked.emit(gene)
