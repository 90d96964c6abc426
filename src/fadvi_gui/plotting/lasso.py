"""Which points fall inside a lasso or a rectangle, without Qt.

Both tests first keep only the points inside the shape's bounding box (a few
vectorised comparisons). For a lasso the box is then cut into a grid: cells
that no polygon edge touches form regions lying wholly inside or wholly
outside, so their points take the answer of one cell centre per region, and
only points in cells an edge crosses go through the exact point-in-polygon
test of :class:`matplotlib.path.Path`.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

#: Below this many points in the bounding box, every one is tested exactly.
_GRID_MIN_POINTS = 20_000
#: Cells per side of the grid that spares most points the exact test.
_GRID_SIZE = 512


def simplify_polygon(polygon: np.ndarray, *, min_step: float) -> np.ndarray:
    """Drop lasso vertices closer than ``min_step`` to the previous kept one.

    Parameters
    ----------
    polygon
        ``(k, 2)`` vertices, in drawing order.
    min_step
        Distance in the polygon's units.

    Returns
    -------
    numpy.ndarray
        ``(m, 2)`` float64 with ``m <= k``; the first vertex is always kept.
    """
    poly = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    if len(poly) < 3 or min_step <= 0:
        return poly
    kept = [poly[0]]
    for vertex in poly[1:]:
        if np.hypot(*(vertex - kept[-1])) >= min_step:
            kept.append(vertex)
    return np.array(kept)


def points_in_polygon(x: np.ndarray, y: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Test which points lie inside a closed polygon.

    Parameters
    ----------
    x, y
        ``(n,)`` point coordinates.
    polygon
        ``(k, 2)`` vertices; the last joins the first. Fewer than three
        vertices enclose nothing.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` bool, True inside.
    """
    from matplotlib.path import Path

    poly = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    inside = np.zeros(len(x), dtype=bool)
    if len(poly) < 3:
        return inside
    (x0, y0), (x1, y1) = poly.min(axis=0), poly.max(axis=0)
    candidates = np.flatnonzero(_in_box(x, y, x0, x1, y0, y1))
    if candidates.size == 0:
        return inside
    path = Path(poly)
    cx, cy = x[candidates], y[candidates]
    if candidates.size < _GRID_MIN_POINTS or x1 <= x0 or y1 <= y0:
        inside[candidates] = path.contains_points(np.column_stack([cx, cy]))
        return inside
    inside[candidates] = _grid_contains(path, poly, cx, cy, (x0, x1, y0, y1))
    return inside


def _grid_contains(path, poly: np.ndarray, x: np.ndarray, y: np.ndarray, box: tuple) -> np.ndarray:
    """Exact point-in-polygon for many points, testing exactly only those near an edge."""
    x0, x1, y0, y1 = box
    n = _GRID_SIZE
    sx, sy = n / (x1 - x0), n / (y1 - y0)
    col = np.clip(((x - x0) * sx).astype(np.int32), 0, n - 1)
    row = np.clip(((y - y0) * sy).astype(np.int32), 0, n - 1)
    cell = row * n + col
    # Mark every grid cell an edge passes through, by sampling each edge finer than a cell.
    closed = np.vstack([poly, poly[:1]])
    edges = np.diff(closed, axis=0)
    steps = (np.ceil(np.abs(edges[:, 0] * sx) + np.abs(edges[:, 1] * sy)) * 2 + 2).astype(int)
    edge_of_sample = np.repeat(np.arange(len(edges)), steps)
    first = np.cumsum(steps) - steps
    t = (np.arange(edge_of_sample.size) - first[edge_of_sample]) / (steps[edge_of_sample] - 1)
    samples = closed[:-1][edge_of_sample] + edges[edge_of_sample] * t[:, None]
    border = np.zeros((n, n), dtype=bool)
    border[
        np.clip(((samples[:, 1] - y0) * sy).astype(int), 0, n - 1),
        np.clip(((samples[:, 0] - x0) * sx).astype(int), 0, n - 1),
    ] = True
    # Grow by one cell so an edge that only grazes a cell's corner still counts.
    grown = border.copy()
    grown[1:, :] |= border[:-1, :]
    grown[:-1, :] |= border[1:, :]
    grown[:, 1:] |= border[:, :-1]
    grown[:, :-1] |= border[:, 1:]
    # Cells away from every edge form regions that lie wholly inside or wholly
    # outside: test one centre per region and give the answer to all its cells.
    regions, n_regions = ndimage.label(~grown)
    flat = regions.ravel()
    _labels, first = np.unique(flat, return_index=True)
    rows, cols = np.divmod(first, n)
    centres = np.column_stack([(cols + 0.5) / sx + x0, (rows + 0.5) / sy + y0])
    region_inside = path.contains_points(centres)
    region_inside[_labels == 0] = False  # label 0: cells near an edge, tested one by one below
    cell_inside = np.zeros(n_regions + 1, dtype=bool)
    cell_inside[_labels] = region_inside
    result = cell_inside[flat][cell]
    near_edge = np.flatnonzero(grown.ravel()[cell])
    if near_edge.size:
        result[near_edge] = path.contains_points(np.column_stack([x[near_edge], y[near_edge]]))
    return result


def _in_box(x: np.ndarray, y: np.ndarray, x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
    mask = x >= x0
    mask &= x <= x1
    mask &= y >= y0
    mask &= y <= y1
    return mask
