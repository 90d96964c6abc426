"""Novelty: how unlike every labelled cell type a cell is, from its place in z_l.

The score has two parts:

- the share of unlabelled cells among the cell's `NEIGHBOURS` nearest reference cells, by
  Euclidean distance in z_l and z_b side by side: the reference is the training cells of the
  batches where someone labelled cells, labelled or not (at most `MAX_NEIGHBOUR_REFERENCE` of
  them, drawn at random once, stored in the model file);
- a tenth of the cosine distance from the cell to the nearest class prototype (the mean z_l of a
  class's labelled training cells), which orders cells with equal shares and is the whole score
  when every training cell of those batches is labelled.

So the score runs from 0 to 1.2: about 0 among labelled types, towards 1 where, in the batches
that were annotated, nobody labelled any cell nearby.

Why: a type that nobody labelled is unlabelled in every batch, so in the annotated batches its
neighbourhood is all unlabelled cells, while a cell of a labelled type (in any batch, if the
batches are integrated) lands among labelled cells. The label head cannot see this: it draws the
new type towards the nearest labelled one, T_CD8 towards T_CD4. z_b joins z_l for the search
because it measured better (below): it keeps type structure of its own, and its label
adversary sees only the labelled types (a linear probe tells T_CD8 from T_CD4 in z_b at AUROC
0.76-0.87, in z_l at 0.91-0.97). In open-set runs on the three shared files
(``benchmarks/results/open_set.md``: each type in turn never labelled and one batch's labels
hidden, the pancreas in both directions, 3 seeds, 20 epochs), the mean (min) AUROC for "cell of
the unlabelled type" among the unlabelled cells was 0.963 (0.907) on ``pbmc_symphony``, 0.999
(0.996) on ``pbmc3tech_savercat`` and 0.994 (0.983) / 0.974 (0.889) on the pancreas, against
0.733, 0.987, 0.929 and 0.888 for the best 1 - max probability of fadvi_core, the reference and
SCANVI. Over 12 PBMC runs of the previous round's engine with the hidden batch rotating
(``benchmarks/results/novelty_candidates.txt``): 0.982 (0.881) with neighbours in z_l and z_b,
0.976 (0.858) in z_l alone, the share alone and weights of 1 or 0.01 on the distance within
0.005; sub-class prototypes (k-means), Mahalanobis distances, the label head's energy and the
distance to the nearest labelled cells all did worse (0.78-0.84). The score depends only on the
model and the cell (no sampling), so it is deterministic and scores of files mapped onto the
same model compare.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ._calibration import Calibration

NEIGHBOURS = 30
PROTOTYPE_WEIGHT = 0.1
MAX_NEIGHBOUR_REFERENCE = 5_000
GATE_FLOOR = 0.5  # prediction sets are emptied only above this score (`_conformal`)
MAX_NOVELTY = 1.0 + 2.0 * PROTOTYPE_WEIGHT  # all neighbours unlabelled, the farthest prototype


@dataclass(frozen=True)
class NeighbourReference:
    """The reference cells of the neighbour share: their `neighbour_space` ``(n, n_dims)``
    float32 and whether each is unlabelled ``(n,)``."""

    latent: np.ndarray
    unlabelled: np.ndarray

    @classmethod
    def from_cells(cls, latent: np.ndarray, unlabelled: np.ndarray) -> NeighbourReference:
        """The reference of these cells (at most `MAX_NEIGHBOUR_REFERENCE`)."""
        if len(latent) > MAX_NEIGHBOUR_REFERENCE:
            raise ValueError(f"At most {MAX_NEIGHBOUR_REFERENCE} reference cells, got "
                             f"{len(latent)}.")
        return cls(np.ascontiguousarray(latent, dtype="<f4"), np.asarray(unlabelled, dtype=bool))

    def to_json(self) -> dict:
        """Little-endian float32 and uint8 bytes as base64 text: exact and compact."""
        return {"n_cells": len(self.unlabelled),
                "latent": base64.b64encode(self.latent.astype("<f4").tobytes()).decode(),
                "unlabelled": base64.b64encode(self.unlabelled.astype(np.uint8).tobytes()).decode()}

    @classmethod
    def from_json(cls, value, *, n_dims: int) -> NeighbourReference:
        """Read and check a stored reference; `ValueError` names what does not fit."""
        if not isinstance(value, dict) or set(value) != {"n_cells", "latent", "unlabelled"}:
            raise ValueError("has a neighbour reference with the wrong entries")
        n_cells = value["n_cells"]
        if not isinstance(n_cells, int) or isinstance(n_cells, bool) or not (
                0 < n_cells <= MAX_NEIGHBOUR_REFERENCE):
            raise ValueError("has a neighbour reference of an impossible size")
        try:
            latent = np.frombuffer(base64.b64decode(value["latent"], validate=True), dtype="<f4")
            flags = np.frombuffer(base64.b64decode(value["unlabelled"], validate=True),
                                  dtype=np.uint8)
        except (binascii.Error, TypeError, ValueError):
            raise ValueError("has a neighbour reference that is not base64 data") from None
        if latent.size != n_cells * n_dims or flags.size != n_cells:
            raise ValueError("has a neighbour reference that does not match its size")
        if not np.isfinite(latent).all() or (flags > 1).any():
            raise ValueError("has a neighbour reference with values that are not finite or "
                             "not 0/1")
        return cls(latent.reshape(n_cells, n_dims).copy(), flags.astype(bool))


def class_statistics(latent: np.ndarray, classes: np.ndarray, n_classes: int) -> np.ndarray:
    """Class prototypes ``(n_classes, n_latent_l)``: the mean z_l of each class's cells.

    A class without cells gets a zero prototype, which no cell is near in direction.
    """
    means = np.zeros((n_classes, latent.shape[1]))
    for k in range(n_classes):
        members = classes == k
        if members.any():
            means[k] = latent[members].mean(axis=0)
    return means


def _unit_rows(values: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(values, axis=1, keepdims=True)
    return values / np.where(norms > 0, norms, 1.0)


def distance_to_prototypes(latent: np.ndarray, class_means: np.ndarray) -> np.ndarray:
    """``(n_cells,)`` cosine distance from each row of ``latent`` to the nearest of
    ``class_means`` (0 to 2)."""
    similarity = _unit_rows(np.asarray(latent, dtype=np.float64)) @ _unit_rows(class_means).T
    return 1.0 - similarity.max(axis=1)


def neighbour_space(z_l: np.ndarray, z_b: np.ndarray) -> np.ndarray:
    """Where neighbours are looked for: z_l and z_b side by side ``(n_cells, n_l + n_b)``."""
    return np.hstack([np.asarray(z_l, dtype=np.float64), np.asarray(z_b, dtype=np.float64)])


def unlabelled_neighbour_share(latent: np.ndarray, reference: NeighbourReference) -> np.ndarray:
    """``(n_cells,)`` share of unlabelled cells among each cell's nearest reference cells."""
    from sklearn.neighbors import NearestNeighbors

    k = min(NEIGHBOURS, len(reference.unlabelled))
    search = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(
        reference.latent.astype(np.float64))
    _, nearest = search.kneighbors(np.asarray(latent, dtype=np.float64))
    return reference.unlabelled[nearest].mean(axis=1)


def novelty_scores(z_l: np.ndarray, z_b: np.ndarray | None,
                   calibration: Calibration) -> np.ndarray:
    """``(n_cells,)`` novelty of each cell from its z_l and z_b (see the module's docstring);
    ``z_b`` is needed only when the calibration has a neighbour reference."""
    score = PROTOTYPE_WEIGHT * distance_to_prototypes(z_l, calibration.class_means)
    if calibration.neighbours is not None:
        score += unlabelled_neighbour_share(neighbour_space(z_l, z_b), calibration.neighbours)
    return score


def novelty_across_batches(z_l: np.ndarray, z_b: np.ndarray, batches: np.ndarray,
                           calibration: Calibration, reference_batches: np.ndarray) -> np.ndarray:
    """Novelty of held-out labelled cells as a cell of a new batch would see it: each cell's
    neighbours are looked for among the reference cells of the other batches.

    The prediction-set gate compares a cell's score with these. Scored against their own batch,
    held-out cells sit among labelled cells they share every batch effect with, scores far lower
    than a new batch's cells of the same types get (demo, 5' batch hidden: 98% quantile 0.09
    against 0.44), and the gate would empty the sets of correct cells. With one annotated batch
    the reference is all there is.
    """
    reference = calibration.neighbours
    scores = PROTOTYPE_WEIGHT * distance_to_prototypes(z_l, calibration.class_means)
    space = neighbour_space(z_l, z_b)
    for batch in np.unique(batches):
        cells = batches == batch
        others = reference_batches != batch
        if others.any():
            reference_here = NeighbourReference(reference.latent[others],
                                                reference.unlabelled[others])
        else:
            reference_here = reference
        scores[cells] += unlabelled_neighbour_share(space[cells], reference_here)
    return scores
