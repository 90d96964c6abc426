"""A plot with one gene per row (rows at y = 0, 1, ...): clicking a row or its name names the gene."""

from __future__ import annotations

import os
from pathlib import Path

import qtpy  # noqa: F401 - import before pyqtgraph so both use the same binding
import pyqtgraph as pg
from qtpy.QtCore import Qt, Signal

from fadvi_gui.panels.common.plot_export import export_plot


class GeneRowsPlot(pg.PlotWidget):
    """Base of the gene bar chart and the marker plot: `genes` down the side, one per row.

    Signals
    -------
    gene_clicked(str)
        A gene's row (or its name on the left axis) was clicked.
    """

    gene_clicked = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent, background="w")
        self.genes: list[str] = []
        self.scene().sigMouseClicked.connect(self._on_scene_clicked)

    def gene_of_row(self, y: float) -> str | None:
        """The gene whose row contains plot height ``y``, or None."""
        row = int(round(y))
        return self.genes[row] if 0 <= row < len(self.genes) and abs(y - row) <= 0.45 else None

    def click_gene(self, gene: str) -> None:
        """Act as if the row of ``gene`` were clicked."""
        if gene in self.genes:
            self.gene_clicked.emit(gene)

    def save(self, path: str | os.PathLike, *, width: int = 1200) -> Path:
        """Write the plot to ``path`` (``.png`` or ``.svg``)."""
        return export_plot(self.plotItem, path, width=width)

    def _on_scene_clicked(self, event) -> None:
        if event.button() != Qt.LeftButton:
            return
        position = event.scenePos()
        if not (self.plotItem.vb.sceneBoundingRect().contains(position)
                or self.plotItem.getAxis("left").sceneBoundingRect().contains(position)):
            return
        gene = self.gene_of_row(self.plotItem.vb.mapSceneToView(position).y())
        if gene is not None:
            self.gene_clicked.emit(gene)


__all__ = ["GeneRowsPlot"]
