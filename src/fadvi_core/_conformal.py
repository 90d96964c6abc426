"""Split-conformal prediction sets from held-out labelled cells.

The non-conformity score of a cell with true class ``y`` is ``s = 1 - p(y)`` under the
calibrated probabilities (the "least ambiguous set-valued classifier", Sadinle, Lei and
Wasserman 2019). With ``n`` held-out labelled cells and their scores, ``q`` is the
``ceil((n + 1)(1 - alpha)) / n`` empirical quantile; a cell's set is every class with
``1 - p(class) <= q``. For a new cell exchangeable with the held-out ones, the true class is in
the set with probability at least ``1 - alpha``. Sets are smallest on average among
set-valued classifiers with that coverage, and a cell whose every class is improbable gets an
empty set: a cell unlike any labelled type.
"""

from __future__ import annotations

import math

import numpy as np


def threshold(scores: np.ndarray, alpha: float) -> float:
    """The conformal quantile ``q`` of the calibration ``scores`` for error rate ``alpha``.

    Returns ``inf`` (every class in every set) when there are too few scores for that rate,
    i.e. when ``(n + 1)(1 - alpha) > n``.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha is the error rate to allow, between 0 and 1 (e.g. 0.1); "
                         f"got {alpha!r}.")
    scores = np.sort(np.asarray(scores, dtype=np.float64))
    n = len(scores)
    rank = math.ceil(round((n + 1) * (1 - alpha), 9))
    if rank > n:
        return math.inf
    return float(scores[rank - 1])


def prediction_sets(probabilities: np.ndarray, scores: np.ndarray, alpha: float) -> np.ndarray:
    """Boolean ``(n_cells, n_classes)``: True where the class is in the cell's set."""
    q = threshold(scores, alpha)
    # A small tolerance so a score computed in another order still counts as equal.
    return (1.0 - np.asarray(probabilities)) <= q + 1e-12


def describe_sets(sets: np.ndarray, classes: list[str], *, separator: str = " or ") -> np.ndarray:
    """Each cell's set as text (``"T_CD4 or T_CD8"``), classes in order of the columns; an
    empty set is ``""``."""
    names = np.asarray(classes, dtype=object)
    return np.array([separator.join(names[row]) for row in np.asarray(sets, dtype=bool)],
                    dtype=object)
