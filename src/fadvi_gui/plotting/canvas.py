"""One or two scatter plots of the same cells, sharing colours and selection.

:class:`EmbeddingCanvas` is the drawing surface of the latent viewer: a
pyqtgraph layout holding one plot per shown embedding (two in side-by-side
mode), each a :class:`~fadvi_gui.plotting.selection_box.SelectionViewBox`
with a :class:`~fadvi_gui.plotting.scatter_item.PointCloudItem`. It knows
nothing about obs columns or latent spaces: it takes coordinates, colour
codes, a visibility per code and a selection mask, and reports drawn shapes
and the cell under the mouse.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from qtpy.QtCore import QPoint, QPointF, QRectF, QSizeF, QTimer, Signal
from qtpy.QtGui import QPainter

from fadvi_gui.plotting.locate import PointLocator
from fadvi_gui.plotting.scatter_item import PointCloudItem
from fadvi_gui.plotting.selection_box import Mode, SelectionViewBox

#: How long the view must be still before the full picture replaces the moving preview (ms).
SETTLE_MS = 150
#: Hover finds cells within this many pixels of the cursor.
HOVER_PIXELS = 6.0


class _Plot:
    """One plot of the canvas: its PlotItem, ViewBox, point cloud and hover locator."""

    def __init__(self, index: int) -> None:
        self.view = SelectionViewBox(enableMenu=False)
        self.plot = pg.PlotItem(viewBox=self.view, enableMenu=False)
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.hideButtons()
        self.plot.setAspectLocked(True)
        self.cloud = PointCloudItem(seed=index)
        self.plot.addItem(self.cloud)
        self.locator: PointLocator | None = None


class EmbeddingCanvas(pg.GraphicsLayoutWidget):
    """Draws one or two embeddings of the same ``n_cells`` cells."""

    #: ``(plot index, polygon (k, 2) in that plot's data coordinates, "replace" | "add" | "remove")``.
    shape_drawn = Signal(int, object, str)
    #: ``(plot index, cell index or -1, global screen position)`` as the mouse moves.
    hovered = Signal(int, int, QPoint)

    def __init__(self, parent=None) -> None:
        super().__init__(parent=parent)
        self.setBackground("w")
        self._plots: list[_Plot] = []
        self._mode: Mode = "pan"
        self._codes: np.ndarray | None = None
        self._lut: np.ndarray | None = None
        self._code_visible: np.ndarray | None = None
        self._point_shown: np.ndarray | None = None
        self._higher_on_top = False
        self._selected: np.ndarray | None = None
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._on_settle_timeout)
        self.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        self.set_plot_count(1)

    # ------------------------------------------------------------ building
    def set_plot_count(self, count: int) -> None:
        """Show ``count`` (1 or 2) plots side by side; existing plots keep their points."""
        while len(self._plots) > count:
            self.ci.removeItem(self._plots.pop().plot)
        while len(self._plots) < count:
            plot = _Plot(len(self._plots))
            plot.view.set_mode(self._mode)
            index = len(self._plots)
            plot.view.shape_drawn.connect(lambda poly, op, i=index: self.shape_drawn.emit(i, poly, op))
            plot.view.sigRangeChangedManually.connect(self._on_view_range_changed_manually)
            self.ci.addItem(plot.plot, row=0, col=index)
            self._plots.append(plot)

    def plot_count(self) -> int:
        """Number of plots shown."""
        return len(self._plots)

    def cloud(self, index: int = 0) -> PointCloudItem:
        """The point cloud of plot ``index``."""
        return self._plots[index].cloud

    def view_box(self, index: int = 0) -> SelectionViewBox:
        """The ViewBox of plot ``index``."""
        return self._plots[index].view

    def set_points(self, index: int, coords: np.ndarray | None, title: str) -> None:
        """Show ``(n, 2)`` coordinates (or nothing) in plot ``index`` under ``title``, with current colours."""
        plot = self._plots[index]
        plot.plot.setTitle(title, color="#333333", size="11pt")
        if coords is None:
            plot.cloud.set_points(np.zeros((0, 2), dtype=np.float32))
            plot.locator = None
            return
        plot.cloud.set_points(coords)
        plot.locator = None
        if self._codes is not None and len(self._codes) == len(coords):
            plot.cloud.set_colours(self._codes, self._lut, higher_on_top=self._higher_on_top)
            if self._code_visible is not None:
                plot.cloud.set_code_visible(self._code_visible)
        if self._point_shown is not None and len(self._point_shown) == len(coords):
            plot.cloud.set_point_mask(self._point_shown)
        if self._selected is not None and len(self._selected) == len(coords):
            plot.cloud.set_selected(self._selected)
        plot.view.autoRange(padding=0.02)

    def has_points(self, index: int) -> bool:
        """True when plot ``index`` shows an embedding."""
        return self._plots[index].cloud.n_points > 0

    # ----------------------------------------------------------- appearance
    def set_colours(self, codes: np.ndarray, lut: np.ndarray, *, higher_on_top: bool = False) -> None:
        """Colour cell ``i`` with ``lut[codes[i]]`` in every plot; every code becomes visible.

        ``higher_on_top`` draws higher codes over lower ones (numbers), otherwise the order is random.
        """
        self._codes, self._lut, self._code_visible = codes, lut, None
        self._higher_on_top = higher_on_top
        for plot in self._plots:
            if plot.cloud.n_points == len(codes):
                plot.cloud.set_colours(codes, lut, higher_on_top=higher_on_top)

    def set_code_visible(self, visible: np.ndarray) -> None:
        """Show only cells whose code is True in ``visible``."""
        self._code_visible = visible
        for plot in self._plots:
            if plot.cloud.n_points:
                plot.cloud.set_code_visible(visible)

    def set_point_mask(self, shown: np.ndarray | None) -> None:
        """Draw only the cells where ``shown`` is True, in every plot (``None``: every cell)."""
        self._point_shown = shown
        for plot in self._plots:
            if plot.cloud.n_points and (shown is None or len(shown) == plot.cloud.n_points):
                plot.cloud.set_point_mask(shown)

    def set_selected(self, mask: np.ndarray | None) -> None:
        """Highlight the cells where ``mask`` is True, in every plot."""
        self._selected = mask
        for plot in self._plots:
            if plot.cloud.n_points:
                plot.cloud.set_selected(mask)

    def set_mode(self, mode: Mode) -> None:
        """``"pan"``, ``"lasso"`` or ``"rect"``: what a left-button drag does."""
        self._mode = mode
        for plot in self._plots:
            plot.view.set_mode(mode)

    def reset_views(self) -> None:
        """Fit every plot to its points."""
        for plot in self._plots:
            if plot.cloud.n_points:
                plot.view.autoRange(padding=0.02)

    # -------------------------------------------------------------- export
    def render_plots(self, painter: QPainter, target: QRectF) -> None:
        """Paint the plots into ``target`` of ``painter``, laid out at that size, then restore the screen layout."""
        self._settle.stop()
        self._on_settle_timeout()  # never export the moving preview
        ranges = [plot.view.viewRange() for plot in self._plots]
        old_size = self.ci.size()
        self.ci.resize(QSizeF(target.width(), target.height()))
        self.ci.layout.activate()
        try:
            for plot, (xr, yr) in zip(self._plots, ranges):
                plot.view.setRange(xRange=xr, yRange=yr, padding=0)
            self.scene().render(painter, target, QRectF(QPointF(0, 0), target.size()))
        finally:
            self.ci.resize(old_size)
            self.ci.layout.activate()
            for plot, (xr, yr) in zip(self._plots, ranges):
                plot.view.setRange(xRange=xr, yRange=yr, padding=0)

    # ---------------------------------------------------------------- slots
    def _on_view_range_changed_manually(self, *_args) -> None:
        for plot in self._plots:
            plot.cloud.set_moving(True)
        self._settle.start()

    def _on_settle_timeout(self) -> None:
        for plot in self._plots:
            plot.cloud.set_moving(False)

    def _on_scene_mouse_moved(self, scene_pos: QPointF) -> None:
        for index, plot in enumerate(self._plots):
            if not plot.cloud.n_points or not plot.view.sceneBoundingRect().contains(scene_pos):
                continue
            data = plot.view.mapSceneToView(scene_pos)
            px, py = plot.view.viewPixelSize()
            if plot.locator is None:
                plot.locator = PointLocator(*plot.cloud.coordinates())
            cell = plot.locator.nearest(
                data.x(), data.y(), rx=HOVER_PIXELS * px, ry=HOVER_PIXELS * py,
                shown=plot.cloud.visible_mask(),
            )
            screen = self.mapToGlobal(self.mapFromScene(scene_pos))
            self.hovered.emit(index, cell, screen)
            return
