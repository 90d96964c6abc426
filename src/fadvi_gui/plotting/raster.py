"""Rasterise many coloured points into an ARGB image with numpy, without Qt.

Each point is a small disc of ``radius`` device pixels. Points are painted in
order, so a later point covers an earlier one exactly as a painter would:
first every point writes its draw position into the single pixel under its
centre (the last write wins), then a maximum filter over a disc of the given
radius spreads each position over its disc (the highest, i.e. latest, position
wins), and finally positions are looked up in the colour table. The cost is
one pass over the points plus a few passes over the pixels, whatever the
number of points.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


def argb32(rgba: np.ndarray) -> np.ndarray:
    """Pack ``(n, 4)`` uint8 RGBA into ``(n,)`` uint32 premultiplied ARGB (``QImage.Format_ARGB32_Premultiplied``)."""
    c = np.asarray(rgba, dtype=np.uint32)
    alpha = c[:, 3]
    r, g, b = (c[:, i] * alpha // 255 for i in range(3))
    return (alpha << 24) | (r << 16) | (g << 8) | b


@lru_cache(maxsize=8)
def disc_offsets(radius: int) -> tuple[tuple[int, int], ...]:
    """Return the ``(dx, dy)`` pixel offsets that make a disc of ``radius`` (excluding the centre)."""
    r = int(radius)
    return tuple(
        (dx, dy)
        for dy in range(-r, r + 1)
        for dx in range(-r, r + 1)
        if (dx or dy) and dx * dx + dy * dy <= r * r + r
    )


def _pixel(v: np.ndarray, scale: float, offset: float) -> np.ndarray:
    """Map coordinates to integer pixels, flooring correctly just left of zero."""
    f = v * np.float32(scale)
    f += np.float32(offset + 1.0)
    i = f.astype(np.int32)
    i -= 1
    return i


def rasterize(
    x: np.ndarray,
    y: np.ndarray,
    colours: np.ndarray,
    *,
    width: int,
    height: int,
    sx: float,
    ox: float,
    sy: float,
    oy: float,
    radius: int,
) -> np.ndarray:
    """Paint points into a transparent image.

    Parameters
    ----------
    x, y
        ``(n,)`` float32 data coordinates, in drawing order (later on top).
    colours
        ``(n + 1,)`` uint32 premultiplied ARGB; ``colours[0]`` is the
        background (0 for transparent) and ``colours[i + 1]`` the colour of point ``i``.
    width, height
        Image size in pixels.
    sx, ox, sy, oy
        Pixel column ``= x * sx + ox``, pixel row ``= y * sy + oy``.
    radius
        Disc radius in pixels; 0 draws single pixels.

    Returns
    -------
    numpy.ndarray
        ``(height, width)`` uint32 premultiplied ARGB.
    """
    n = len(x)
    index = np.zeros(width * height, dtype=np.int32)
    if n:
        col = _pixel(x, sx, ox)
        row = _pixel(y, sy, oy)
        inside = col.view(np.uint32) < width
        inside &= row.view(np.uint32) < height
        if inside.all():
            row *= width
            row += col
            index[row] = np.arange(1, n + 1, dtype=np.int32)
        else:
            keep = np.flatnonzero(inside)
            index[row[keep] * width + col[keep]] = (keep + 1).astype(np.int32)
    image = index.reshape(height, width)
    if radius > 0 and n:
        image = _max_filter_disc(image, radius)
    return colours[image]


def _max_filter_disc(image: np.ndarray, radius: int) -> np.ndarray:
    out = image.copy()
    h, w = image.shape
    for dx, dy in disc_offsets(radius):
        if abs(dx) >= w or abs(dy) >= h:
            continue
        dst = out[max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)]
        src = image[max(dy, 0) : h - max(-dy, 0), max(dx, 0) : w - max(-dx, 0)]
        np.maximum(dst, src, out=dst)
    return out
