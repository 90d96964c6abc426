"""Split-conformal prediction sets from held-out labelled cells, with a novelty gate.

A cell's set is built from two scores, each calibrated on the labelled validation cells:

- The class score is ``1 - p(class)`` under the calibrated probabilities, and 0 for the cell's
  predicted (top) class: the set holds the predicted class and every other class whose
  probability reaches ``1 - q``, with ``q`` the conformal quantile of the validation cells'
  scores for their true class at error rate ``alpha * (1 - NOVELTY_SHARE)``.
- The novelty gate empties the set of a cell whose novelty score (`_novelty`) exceeds the
  quantile of the validation cells' scores at error rate ``alpha * NOVELTY_SHARE`` and
  `_novelty.GATE_FLOOR` (most of its neighbours in the annotated batches unlabelled). The
  validation cells are scored against the other batches (`_novelty.novelty_across_batches`),
  but a batch whose labels were all hidden can be farther from the annotated ones than they
  are from each other (the demo's 5' batch: 15% of its cells of labelled types above the
  quantile alone, 1% above the floor too; 56% of its never-labelled NK cells). (Model files
  from before it gate on the cosine distance in z_l to the nearest class prototype instead:
  on pancreas and on a demo whose batches differ in type mix, that distance left almost every
  cell of a never-labelled type a set, 0.02 of NK cells emptied against 0.5 or more by the
  novelty score.)

For a cell exchangeable with the validation cells, each part misses the true class with
probability at most its share of ``alpha``, so the set holds it with probability at least
``1 - alpha`` (Vovk et al. 2005; the union of the two errors, Bonferroni).

Why the predicted class is always in (unless the gate empties the set): with plain scores
``1 - p(true class)`` (Sadinle, Lei and Wasserman 2019), ``alpha`` of the validation cells must
be left uncovered even when the model classifies all of them correctly, so the least confident
correct cells get empty sets. A new batch, less confident than the batches the model learned
from, then loses many correct cells to empty sets. In open-set runs on the shared PBMC files
(``benchmarks/results/open_set.md``: one batch's labels hidden, each type in turn never
labelled, 3 seeds, 20 epochs), the hidden batch's coverage at ``alpha = 0.1`` was 0.885 and
0.906 on average with plain scores, and 0.52 in the worst run; with the predicted class kept and
the gate, 0.956 and 0.938, and 0.886 in the worst run, with sets of about one type (0.96 and
1.07 on average). The price of keeping correct predictions is coverage above ``1 - alpha``
where the model is more accurate than that. The gate's share, 1/5, was chosen from 1/2 and 1/5
on exploratory runs (worst-run coverage 0.74 and 0.89).
"""

from __future__ import annotations

import math

import numpy as np

NOVELTY_SHARE = 0.2  # of alpha, spent on emptying the sets of cells unlike any labelled type
_TOLERANCE = 1e-12  # a score computed in another order still counts as equal


def check_alpha(alpha: float) -> None:
    """Raise a plain-language `ValueError` unless ``alpha`` is an error rate in (0, 1)."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise ValueError(f"alpha is the error rate to allow, between 0 and 1 (e.g. 0.1); "
                         f"got {alpha!r}.")


def threshold(scores: np.ndarray, alpha: float) -> float:
    """The conformal quantile ``q`` of the calibration ``scores`` for error rate ``alpha``:
    the ``ceil((n + 1)(1 - alpha))``-th smallest of the ``n`` scores.

    Returns ``inf`` (nothing excluded) when there are too few scores for that rate,
    i.e. when ``(n + 1)(1 - alpha) > n``.
    """
    check_alpha(alpha)
    scores = np.sort(np.asarray(scores, dtype=np.float64))
    n = len(scores)
    rank = math.ceil(round((n + 1) * (1 - alpha), 9))
    if rank > n:
        return math.inf
    return float(scores[rank - 1])


def class_scores(probabilities: np.ndarray) -> np.ndarray:
    """Non-conformity of every class for every cell ``(n_cells, n_classes)``: ``1 - p``, and 0
    for each cell's predicted class."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    scores = 1.0 - probabilities
    scores[np.arange(len(scores)), probabilities.argmax(axis=1)] = 0.0
    return scores


def true_class_scores(probabilities: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """The class score of each labelled cell's true class ``(n_cells,)``, for calibration."""
    return class_scores(probabilities)[np.arange(len(classes)), classes]


def prediction_sets(probabilities: np.ndarray, gate_scores: np.ndarray, scores: np.ndarray,
                    validation_gate_scores: np.ndarray | None, alpha: float, *,
                    gate_floor: float = 0.0) -> np.ndarray:
    """Boolean ``(n_cells, n_classes)``: True where the class is in the cell's set.

    ``gate_scores`` are the cells' novelty scores (or prototype distances); ``scores`` and
    ``validation_gate_scores`` the validation cells' true-class scores and the same gate score.
    Without ``validation_gate_scores`` (model files from before the gate) the whole ``alpha``
    goes to the class score and no set is emptied. No set is emptied at a gate score of
    ``gate_floor`` or below either (a stricter gate keeps the guarantee).
    """
    gate = validation_gate_scores is not None and len(validation_gate_scores) > 0
    q = threshold(scores, alpha * (1 - NOVELTY_SHARE) if gate else alpha)
    sets = class_scores(probabilities) <= q + _TOLERANCE
    if gate:
        cut = max(threshold(validation_gate_scores, alpha * NOVELTY_SHARE), gate_floor)
        unlike_any = np.asarray(gate_scores) > cut + _TOLERANCE
        sets[unlike_any] = False
    return sets


def describe_sets(sets: np.ndarray, classes: list[str], *, separator: str = " or ") -> np.ndarray:
    """Each cell's set as text (``"T_CD4 or T_CD8"``), classes in order of the columns; an
    empty set is ``""``."""
    names = np.asarray(classes, dtype=object)
    return np.array([separator.join(names[row]) for row in np.asarray(sets, dtype=bool)],
                    dtype=object)
