"""A pyqtgraph item that draws up to millions of points as one rasterised image.

:class:`PointCloudItem` keeps coordinates and per-cell colour codes in numpy
arrays. Each frame it rasterises the visible points at the device's own
resolution (:mod:`fadvi_gui.plotting.raster`) and draws one image, so a frame
costs tens of milliseconds at a million points and exports (PNG, SVG) get
pixels at the export's size. Points are drawn in a fixed random order, so no
category hides another just by coming last (numbers: highest on top);
selected cells are drawn last, in full colour, over the rest dimmed.

While the user pans or zooms a large cloud, :meth:`set_moving` switches to a
preview that draws an even subsample and says so in the lower left corner; the full
picture returns as soon as the view is still.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from pyqtgraph import functions as fn
from qtpy.QtCore import QPointF, QRectF, Qt
from qtpy.QtGui import QColor, QImage, QPainter

from fadvi_gui.plotting.palettes import DIMMED_RGBA
from fadvi_gui.plotting.raster import argb32, rasterize

#: While moving, clouds larger than this are previewed with about this many points.
PREVIEW_POINTS = 250_000
#: Refuse to rasterise images larger than this many pixels on a side.
_MAX_IMAGE_SIDE = 20_000


def auto_radius(n_points: int) -> int:
    """Return a disc radius in pixels that keeps ``n_points`` readable: 3 for a few thousand, 0 past 300k."""
    if n_points <= 3_000:
        return 3
    if n_points <= 30_000:
        return 2
    if n_points <= 300_000:
        return 1
    return 0


class PointCloudItem(pg.GraphicsObject):
    """Scatter of ``n`` points coloured by integer codes.

    Parameters
    ----------
    seed
        Seed of the random drawing order.
    """

    def __init__(self, *, seed: int = 0) -> None:
        super().__init__()
        self._seed = seed
        self._x = np.zeros(0, dtype=np.float32)
        self._y = np.zeros(0, dtype=np.float32)
        self._order = np.zeros(0, dtype=np.int64)
        self._random_order = self._order
        self._codes = np.zeros(0, dtype=np.int32)
        self._x_drawn, self._y_drawn, self._codes_drawn = self._x, self._y, self._codes
        self._lut = np.zeros((1, 4), dtype=np.uint8)
        self._code_visible = np.ones(1, dtype=bool)
        self._point_shown: np.ndarray | None = None
        self._selected: np.ndarray | None = None
        self._radius: int | None = None
        self._moving = False
        self._drawn: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._bounds = QRectF()
        self._bounding_rect: QRectF | None = None
        self._cache_key: tuple | None = None
        self._cache_image: QImage | None = None

    # ----------------------------------------------------------------- data
    def set_points(self, coords: np.ndarray) -> None:
        """Show ``(n, 2)`` coordinates; codes reset to 0 and the selection is cleared."""
        xy = np.asarray(coords, dtype=np.float32).reshape(-1, 2)
        self._x = np.ascontiguousarray(xy[:, 0])
        self._y = np.ascontiguousarray(xy[:, 1])
        self._random_order = np.random.default_rng(self._seed).permutation(len(xy))
        self._order = self._random_order
        self._x_drawn = self._x[self._order]
        self._y_drawn = self._y[self._order]
        self._codes = np.zeros(len(xy), dtype=np.int32)
        self._codes_drawn = self._codes
        self._selected = None
        self._point_shown = None
        finite = np.isfinite(self._x) & np.isfinite(self._y)
        if finite.any():
            x0, x1 = float(self._x[finite].min()), float(self._x[finite].max())
            y0, y1 = float(self._y[finite].min()), float(self._y[finite].max())
            self._bounds = QRectF(x0, y0, x1 - x0, y1 - y0)
        else:
            self._bounds = QRectF()
        self._changed(geometry=True)

    def set_colours(self, codes: np.ndarray, lut: np.ndarray, *, higher_on_top: bool = False) -> None:
        """Colour point ``i`` with ``lut[codes[i]]`` (``lut`` is ``(k, 4)`` uint8 RGBA); every code visible.

        With ``higher_on_top`` points with higher codes are drawn over lower ones
        (for expression: the cells that express a gene stay visible); otherwise
        the drawing order is random.
        """
        codes = np.asarray(codes, dtype=np.int32)
        if codes.shape != self._x.shape:
            raise ValueError(f"Expected {len(self._x)} colour codes, got {codes.shape[0]}.")
        order = self._random_order
        if higher_on_top:
            key = codes[order].astype(np.int16 if len(lut) < 2**15 else np.int32)
            order = order[np.argsort(key, kind="stable")]
        if order is not self._order:
            self._order = order
            self._x_drawn = self._x[order]
            self._y_drawn = self._y[order]
        self._codes = codes
        self._codes_drawn = codes[order]
        self._lut = np.asarray(lut, dtype=np.uint8).reshape(-1, 4)
        self._code_visible = np.ones(len(self._lut), dtype=bool)
        self._changed()

    def set_code_visible(self, visible: np.ndarray) -> None:
        """Show only points whose code is True in ``visible`` (``(k,)`` bool)."""
        self._code_visible = np.asarray(visible, dtype=bool).copy()
        self._changed()

    def set_point_mask(self, shown: np.ndarray | None) -> None:
        """Draw only the points where ``shown`` (``(n,)`` bool) is True, whatever their code;
        ``None`` draws every point of a shown code."""
        self._point_shown = None if shown is None else np.asarray(shown, dtype=bool).copy()
        self._changed()

    def set_selected(self, mask: np.ndarray | None) -> None:
        """Highlight points where ``mask`` (``(n,)`` bool) is True; ``None`` or no True highlights nothing."""
        if mask is not None and not mask.any():
            mask = None
        self._selected = mask
        self._changed()

    def set_moving(self, moving: bool) -> None:
        """Preview a subsample (large clouds only) while ``moving``; draw everything otherwise."""
        if moving != self._moving:
            self._moving = moving
            self.update()

    # -------------------------------------------------------------- queries
    @property
    def n_points(self) -> int:
        """Number of points, shown or not."""
        return len(self._x)

    def coordinates(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the ``(n,)`` x and y arrays (not copies)."""
        return self._x, self._y

    def visible_mask(self) -> np.ndarray:
        """Return ``(n,)`` bool, True for points whose code is shown."""
        if self._codes.size == 0:
            return np.zeros(0, dtype=bool)
        shown = self._code_visible[self._codes]
        return shown if self._point_shown is None else shown & self._point_shown

    def visible_indices(self) -> np.ndarray:
        """Return the sorted indices of the points drawn."""
        return np.flatnonzero(self.visible_mask())

    def radius(self) -> int:
        """The disc radius in use, in device pixels."""
        return auto_radius(len(self._x)) if self._radius is None else int(self._radius)

    # ------------------------------------------------------- pyqtgraph hooks
    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):  # noqa: N802 (pyqtgraph API)
        """Data range along axis ``ax`` (0 = x, 1 = y), for the view's auto-range."""
        if not len(self._x):
            return (None, None)
        if ax == 0:
            return (self._bounds.left(), self._bounds.right())
        return (self._bounds.top(), self._bounds.bottom())

    def pixelPadding(self) -> float:  # noqa: N802 (pyqtgraph API)
        """Pixels the discs reach beyond the data range."""
        return float(self.radius() + 1)

    def viewTransformChanged(self) -> None:  # noqa: N802 (pyqtgraph API)
        self.prepareGeometryChange()
        self._bounding_rect = None

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt API)
        if self._bounding_rect is None:
            rect = QRectF(self._bounds)
            px, py = self.pixelVectors()
            if px is not None and py is not None:
                pad = self.pixelPadding()
                dx, dy = pad * px.length(), pad * py.length()
                rect.adjust(-dx, -dy, dx, dy)
            self._bounding_rect = rect
        return self._bounding_rect

    def paint(self, painter: QPainter, option, widget=None) -> None:
        """Rasterise the visible points at the painter's device resolution and draw the image."""
        if not len(self._x):
            return
        target = self._device_target(painter)
        if target is None:
            return
        left, top, width, height, dpr, sx, ox, sy, oy, corner = target
        drawn = self._drawn_arrays()
        preview = self._moving and len(drawn[0]) > PREVIEW_POINTS
        key = (left, top, width, height, dpr, sx, ox, sy, oy, preview, self.radius())
        if key != self._cache_key or self._cache_image is None:
            self._cache_image = self._render(drawn, target, preview)
            self._cache_key = key
        painter.save()
        painter.resetTransform()
        painter.drawImage(QPointF(left / dpr, top / dpr), self._cache_image)
        if preview:
            self._paint_preview_note(painter, corner, len(drawn[0]))
        painter.restore()

    # ------------------------------------------------------------ internals
    def _changed(self, *, geometry: bool = False) -> None:
        self._drawn = None
        self._cache_key = None
        if geometry:
            self.prepareGeometryChange()
            self._bounding_rect = None
            self.informViewBoundsChanged()
        self.update()

    def _drawn_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """x, y and ARGB colours (background first) of the shown points, in drawing order.

        Coordinates and codes are kept in drawing order already, so recolouring,
        hiding and selecting only gather from small tables or compress in order.
        """
        if self._drawn is None:
            codes = self._codes_drawn
            colours = argb32(self._lut)[codes]
            x, y = self._x_drawn, self._y_drawn
            keep = None if self._code_visible.all() else self._code_visible[codes]
            if self._point_shown is not None:
                points = self._point_shown[self._order]
                keep = points if keep is None else keep & points
            if self._selected is not None:
                chosen = self._selected[self._order]
                dim = argb32(np.array([DIMMED_RGBA], dtype=np.uint8))[0]
                colours = np.where(chosen, colours, dim)
                # Selected cells last, so they sit on top of the dimmed rest.
                rest, top = (~chosen, chosen) if keep is None else (keep & ~chosen, keep & chosen)
                keep = np.concatenate([np.flatnonzero(rest), np.flatnonzero(top)])
            if keep is not None:
                x, y, colours = x[keep], y[keep], colours[keep]
            colours = np.concatenate([np.zeros(1, dtype=np.uint32), colours])
            self._drawn = (x, y, colours)
        return self._drawn

    def _device_target(self, painter: QPainter):
        """Pixel rectangle of the visible view on the device and the data-to-pixel mapping."""
        tr = painter.transform()
        if abs(tr.m12()) > 1e-9 or abs(tr.m21()) > 1e-9:
            return None  # rotated views are not used by the viewer
        view = self.getViewBox()
        visible = view.viewRect() if view is not None else self.boundingRect()
        device = painter.device()
        dpr = float(device.devicePixelRatioF()) if device is not None else 1.0
        rect = tr.mapRect(visible.intersected(self.boundingRect()))
        if rect.isEmpty() or max(rect.width(), rect.height()) * dpr > _MAX_IMAGE_SIDE:
            return None
        left = math.floor(rect.left() * dpr)
        top = math.floor(rect.top() * dpr)
        width = math.ceil(rect.right() * dpr) - left
        height = math.ceil(rect.bottom() * dpr) - top
        if width <= 0 or height <= 0:
            return None
        sx, sy = tr.m11() * dpr, tr.m22() * dpr
        ox, oy = tr.dx() * dpr - left, tr.dy() * dpr - top
        corner = tr.mapRect(visible).bottomLeft()
        return left, top, width, height, dpr, sx, ox, sy, oy, corner

    def _render(self, drawn, target, preview: bool) -> QImage:
        x, y, colours = drawn
        _left, _top, width, height, dpr, sx, ox, sy, oy, _corner = target
        if preview:
            step = math.ceil(len(x) / PREVIEW_POINTS)
            x, y = x[::step], y[::step]
            colours = np.concatenate([colours[:1], colours[1::step]])
        pixels = rasterize(
            x, y, colours, width=width, height=height, sx=sx, ox=ox, sy=sy, oy=oy,
            radius=round(self.radius() * dpr),
        )
        image = fn.ndarray_to_qimage(pixels, QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(dpr)
        return image

    def _paint_preview_note(self, painter: QPainter, corner: QPointF, n_shown: int) -> None:
        step = math.ceil(n_shown / PREVIEW_POINTS)
        text = f"Moving: showing 1 in {step} points; full view when still"
        painter.setPen(QColor(60, 60, 60))
        box = QRectF(corner.x() + 6, corner.y() - 24, 600, 20)
        painter.drawText(box, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom), text)
