"""Confusion-matrix heatmap: existing labels (rows) against predicted labels (columns)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import qtpy  # noqa: F401 - import before pyqtgraph so both use the same binding
import pyqtgraph as pg
from qtpy.QtCore import QEvent, QObject, QPointF, QRectF, Qt
from qtpy.QtGui import QColor, QFontMetrics
from qtpy.QtWidgets import QToolTip

from fadvi_gui.panels.common.plot_export import export_plot

#: Above this many classes per side, the counts are not written into the cells.
MAX_ANNOTATED = 15
#: In a dock, class names longer than this many characters are shortened with "...".
MAX_NAME_CHARS = 24


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
        cell = transform.map(QPointF(1, 1)) - transform.map(QPointF(0, 0))
        metrics = painter.fontMetrics()
        widest = max((metrics.horizontalAdvance(text) for _x, _y, text, _c in self._labels), default=0)
        if abs(cell.x()) < widest + 4 or abs(cell.y()) < metrics.height() * 0.8:
            return  # counts that do not fit their cells would only blur it ("Open larger" shows them)
        painter.resetTransform()
        box = QRectF(-40, -10, 80, 20)
        for x, y, text, colour in self._labels:
            centre = transform.map(QPointF(x, y))
            painter.setPen(colour)
            painter.drawText(box.translated(centre), int(Qt.AlignCenter), text)
        painter.setTransform(transform)


class UpwardNamesAxis(pg.AxisItem):
    """A bottom axis whose tick names read upwards, so long class names fit side by side."""

    def __init__(self) -> None:
        super().__init__("bottom")
        self._names: list[tuple[float, str]] = []

    def set_names(self, names: list[tuple[float, str]]) -> None:
        """Write ``(position, name)`` pairs; the axis grows tall enough for the longest name."""
        self._names = names
        metrics = QFontMetrics(self.style.get("tickFont") or self.font())
        self.setHeight(max([metrics.horizontalAdvance(n) for _x, n in names] + [10]) + 24)
        self.setTicks([[(x, "") for x, _n in names]])
        self.picture = None
        self.update()

    def drawPicture(self, p, axisSpec, tickSpecs, textSpecs) -> None:  # noqa: N802 - pyqtgraph API
        super().drawPicture(p, axisSpec, tickSpecs, [])
        if not self._names or self.linkedView() is None:
            return
        low, high = self.range
        bounds = self.boundingRect()
        scale = bounds.width() / (high - low) if high > low else 0.0
        if self.style["tickFont"] is not None:
            p.setFont(self.style["tickFont"])
        p.setPen(self.textPen())
        line = p.fontMetrics().height()
        top = max(0, self.style["tickLength"]) + 4
        for x, name in self._names:
            p.save()
            p.translate(bounds.left() + (x - low) * scale, top)
            p.rotate(-90)
            p.drawText(QRectF(-bounds.height(), -line / 2, bounds.height(), line),
                       int(Qt.AlignRight | Qt.AlignVCenter), name)
            p.restore()


class ConfusionView(pg.PlotWidget):
    """Heatmap of a confusion matrix, coloured by the share of each existing label's cells.

    Each cell of the heatmap is coloured by row share (0 to 1) and, for small matrices,
    shows its cell count where it fits; hovering a cell tells its labels and count.

    Parameters
    ----------
    compact
        Class names in a smaller font, for a dock; the "Open larger" window uses the normal one.
    """

    def __init__(self, parent=None, *, compact: bool = True) -> None:
        super().__init__(parent, background="w", axisItems={"bottom": UpwardNamesAxis()})
        self._max_chars = MAX_NAME_CHARS if compact else 80
        if compact:
            font = self.font()
            font.setPointSizeF(max(font.pointSizeF() - 2, 7))
            for side in ("left", "bottom"):
                self.plotItem.getAxis(side).setStyle(tickFont=font)
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
        self._hovered: tuple[int, int] | None = None
        self.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        self.viewport().installEventFilter(self)

    def cell_text(self, row: int, column: int) -> str:
        """What hovering cell ``(row, column)`` says: both labels, the count and its row share."""
        counts = self.matrix.to_numpy(dtype=np.float64)
        total = counts[row].sum()
        share = counts[row, column] / total if total else 0.0
        return (f"Existing label: {self.matrix.index[row]}\n"
                f"Predicted label: {self.matrix.columns[column]}\n"
                f"{int(counts[row, column]):,} cells ({share:.0%} of this label's cells)")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """Show the hovered cell's counts when Qt asks for a tooltip (the plot's scene has none)."""
        if event.type() == QEvent.Type.ToolTip and watched is self.viewport():
            if self._hovered is not None:
                QToolTip.showText(event.globalPos(), self.cell_text(*self._hovered), self)
            else:
                QToolTip.hideText()
            return True
        return super().eventFilter(watched, event)

    def _on_scene_mouse_moved(self, scene_pos) -> None:
        self._hovered = None
        if self.matrix.empty or not self.plotItem.vb.sceneBoundingRect().contains(scene_pos):
            return
        point = self.plotItem.vb.mapSceneToView(scene_pos)
        row, column = int(np.floor(point.y())), int(np.floor(point.x()))
        if 0 <= row < self.matrix.shape[0] and 0 <= column < self.matrix.shape[1]:
            self._hovered = (row, column)

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
        short = self._short
        self.plotItem.getAxis("bottom").set_names([(i + 0.5, short(n)) for i, n in enumerate(columns)])
        left = self.plotItem.getAxis("left")
        rows = [short(name) for name in rows]
        left.setTicks([[(i + 0.5, name) for i, name in enumerate(rows)]])
        metrics = QFontMetrics(left.style.get("tickFont") or self.font())
        left.setWidth(max([metrics.horizontalAdvance(n) for n in rows] + [10]) + 28)

    def save(self, path: str | os.PathLike, *, width: int = 1200) -> Path:
        """Write the heatmap to ``path`` (``.png`` or ``.svg``)."""
        return export_plot(self.plotItem, path, width=width)

    def _short(self, name: str) -> str:
        return name if len(name) <= self._max_chars else f"{name[:self._max_chars - 3]}..."
