"""Find the point under the mouse among a million, without Qt.

:class:`PointLocator` sorts the points by x once; a query then looks only at
the thin vertical strip around the cursor (two binary searches) and picks the
nearest point in screen units among those currently shown.
"""

from __future__ import annotations

import numpy as np


class PointLocator:
    """Nearest-point queries on fixed coordinates.

    Parameters
    ----------
    x, y
        ``(n,)`` coordinates; the locator keeps references, not copies.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self._x = x
        self._y = y
        self._by_x: np.ndarray | None = None
        self._sorted_x: np.ndarray | None = None

    def nearest(
        self,
        px: float,
        py: float,
        *,
        rx: float,
        ry: float,
        shown: np.ndarray | None = None,
    ) -> int:
        """Return the index of the shown point nearest ``(px, py)`` within the ellipse ``rx`` x ``ry``.

        Parameters
        ----------
        px, py
            Query position in data coordinates.
        rx, ry
            Search radius along x and y in data units (e.g. a few pixels'
            worth), which also scales the distance so it is measured on screen.
        shown
            ``(n,)`` bool; points that are False are ignored.

        Returns
        -------
        int
            Point index, or -1 when no shown point is close enough.
        """
        if len(self._x) == 0 or rx <= 0 or ry <= 0:
            return -1
        if self._by_x is None:
            self._by_x = np.argsort(self._x, kind="stable")
            self._sorted_x = self._x[self._by_x]
        lo, hi = np.searchsorted(self._sorted_x, [px - rx, px + rx])
        candidates = self._by_x[lo:hi]
        if shown is not None:
            candidates = candidates[shown[candidates]]
        if candidates.size == 0:
            return -1
        d2 = ((self._x[candidates] - px) / rx) ** 2 + ((self._y[candidates] - py) / ry) ** 2
        best = int(np.argmin(d2))
        return int(candidates[best]) if d2[best] <= 1.0 else -1
