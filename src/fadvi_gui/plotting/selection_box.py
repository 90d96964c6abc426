"""A pyqtgraph ViewBox whose left-button drag draws a lasso or a rectangle.

In ``"pan"`` mode it behaves like any ViewBox (drag pans, wheel zooms). In
``"lasso"`` and ``"rect"`` modes a left-button drag draws the shape and, on
release, :attr:`SelectionViewBox.shape_drawn` carries the polygon in data
coordinates and what to do with it: Shift adds to the selection, Alt removes
from it, no modifier replaces it. The wheel still zooms and the right button
still scales in every mode.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pyqtgraph as pg
from qtpy.QtCore import QPointF, Qt, Signal
from qtpy.QtGui import QColor, QPainterPath, QPen
from qtpy.QtWidgets import QGraphicsPathItem

from fadvi_gui.plotting.lasso import simplify_polygon

Mode = Literal["pan", "lasso", "rect"]
Operation = Literal["replace", "add", "remove"]


class SelectionViewBox(pg.ViewBox):
    """ViewBox with lasso and rectangle selection."""

    #: ``(polygon (k, 2) float64 in data coordinates, operation)`` when a drawn shape is released.
    shape_drawn = Signal(object, str)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._mode: Mode = "pan"
        self._points: list[QPointF] = []
        self._outline = QGraphicsPathItem()
        pen = QPen(QColor(20, 20, 20))
        pen.setCosmetic(True)
        pen.setWidthF(1.5)
        pen.setStyle(Qt.PenStyle.DashLine)
        self._outline.setPen(pen)
        self._outline.setBrush(QColor(0, 0, 0, 25))
        self._outline.setZValue(1e6)
        self._outline.setVisible(False)
        self.addItem(self._outline, ignoreBounds=True)

    def mode(self) -> Mode:
        """``"pan"``, ``"lasso"`` or ``"rect"``."""
        return self._mode

    def set_mode(self, mode: Mode) -> None:
        """Choose what a left-button drag does."""
        if mode not in ("pan", "lasso", "rect"):
            raise ValueError(f"Unknown selection mode {mode!r}; use 'pan', 'lasso' or 'rect'.")
        self._mode = mode

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 (pyqtgraph API)
        if self._mode == "pan" or ev.button() != Qt.MouseButton.LeftButton:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        here = self.mapToView(ev.pos())
        if ev.isStart():
            start = self.mapToView(ev.buttonDownPos())
            self._points = [start, here]
        else:
            self._points.append(here)
        self._update_outline()
        if ev.isFinish():
            polygon = self._polygon()
            self._points = []
            self._outline.setVisible(False)
            self.shape_drawn.emit(polygon, _operation(ev.modifiers()))

    def _polygon(self) -> np.ndarray:
        pts = np.array([[p.x(), p.y()] for p in self._points], dtype=np.float64)
        if self._mode == "rect":
            (x0, y0), (x1, y1) = pts[0], pts[-1]
            return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
        # Keep vertices at least about two screen pixels apart: the exact test costs per vertex.
        pixel = self.viewPixelSize()
        return simplify_polygon(pts, min_step=2.0 * min(abs(pixel[0]), abs(pixel[1])))

    def _update_outline(self) -> None:
        path = QPainterPath()
        if self._mode == "rect":
            a, b = self._points[0], self._points[-1]
            path.addRect(min(a.x(), b.x()), min(a.y(), b.y()), abs(b.x() - a.x()), abs(b.y() - a.y()))
        else:
            path.moveTo(self._points[0])
            for p in self._points[1:]:
                path.lineTo(p)
            path.closeSubpath()
        self._outline.setPath(path)
        self._outline.setVisible(True)


def _operation(modifiers) -> Operation:
    if modifiers & Qt.KeyboardModifier.ShiftModifier:
        return "add"
    if modifiers & Qt.KeyboardModifier.AltModifier:
        return "remove"
    return "replace"
