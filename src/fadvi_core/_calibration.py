"""Calibrated confidence: a temperature fitted on held-out labelled cells after training.

The label head's softmax is mis-calibrated (its logits grow while the supervised loss is driven
down on the training cells). Temperature scaling (Guo et al. 2017, "On calibration of modern
neural networks") divides the logits by one number ``T``: it leaves every prediction (the arg
max) unchanged, has a single parameter that a hundred cells determine well, and cannot overfit
the way a per-class or histogram method can on the small validation sets of a desktop run.

``T`` is the maximum a posteriori estimate under a standard normal prior on ``log T``. The plain
maximum-likelihood ``T`` runs to its bound (``T -> 0``, every probability 0 or 1) when the
validation cells happen to be all correct, as the 90-120 labelled validation cells of the
shared PBMC files often are: on ``pbmc3tech_savercat`` open-set runs (20 epochs, 3 seeds, 3
held-out types) it gave a mean T of 0.36 and a hidden batch's log loss of 0.116; with the prior,
T 0.88 and 0.024, with the same calibration error (0.009). With a few hundred cells or more the
prior's pull is negligible.

`Calibration` holds everything fitted after training (the temperature, the conformal scores of
`_conformal` and the prototypes and reference cells of `_novelty`); it is saved in the
model file as JSON and checked with `Calibration.from_json` on load.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from scipy.optimize import minimize_scalar
from scvi import REGISTRY_KEYS

from ._data import CellData, iterate_chunks
from ._novelty import MAX_NOVELTY, NeighbourReference

MIN_CALIBRATION_CELLS = 10
MAX_REFERENCE_CELLS = 20_000  # labelled training cells behind the class prototypes
_LOG_T_BOUNDS = (-4.0, 4.0)  # temperatures from 0.02 to 55
_LOG_T_PRIOR_SD = 1.0  # log T ~ N(0, 1): T within 0.37-2.7 a priori, at one standard deviation


class CalibrationError(ValueError):
    """The model has no calibration for what was asked."""


@dataclass(frozen=True)
class Calibration:
    """What the model learned about its own reliability after training.

    Attributes
    ----------
    temperature
        Divides the label head's logits; 1 means the raw softmax.
    conformal_scores
        ``(n_calibration_cells,)`` sorted class scores of the held-out labelled cells for their
        true class (`_conformal.true_class_scores`), under the temperature.
    class_means
        ``(n_classes, n_latent_l)`` mean of z_l per class over labelled training cells.
    n_reference_cells
        Labelled training cells behind ``class_means``.
    prototype_distances
        ``(n_calibration_cells,)`` sorted distances of the held-out labelled cells to the
        nearest prototype, for the gate of `_conformal.prediction_sets`; None in files written
        before the gate.
    neighbours
        The reference cells of the novelty score's neighbour share; None in files written
        before it (the score is then the prototype part alone).
    validation_novelty
        ``(n_calibration_cells,)`` sorted novelty scores of the held-out labelled cells, the
        gate of `_conformal.prediction_sets` where present (files from before it gate on
        ``prototype_distances``).
    """

    temperature: float
    conformal_scores: np.ndarray
    class_means: np.ndarray
    n_reference_cells: int
    prototype_distances: np.ndarray | None = None
    neighbours: NeighbourReference | None = None
    validation_novelty: np.ndarray | None = None

    def to_json(self) -> dict:
        """Plain JSON values for the model file."""
        value = {"temperature": float(self.temperature),
                 "conformal_scores": [float(v) for v in self.conformal_scores],
                 "class_means": self.class_means.astype(float).tolist(),
                 "n_reference_cells": int(self.n_reference_cells)}
        if self.prototype_distances is not None:
            value["prototype_distances"] = [float(v) for v in self.prototype_distances]
        if self.neighbours is not None:
            value["neighbours"] = self.neighbours.to_json()
        if self.validation_novelty is not None:
            value["validation_novelty"] = [float(v) for v in self.validation_novelty]
        return value

    @classmethod
    def from_json(cls, value, *, n_classes: int, n_latent_l: int,
                  n_latent_b: int) -> Calibration:
        """Read and check a stored calibration; `ValueError` names what does not fit."""
        required = {"temperature", "conformal_scores", "class_means", "n_reference_cells"}
        if not isinstance(value, dict) or not required <= set(value) <= required | {
                "prototype_distances", "neighbours", "validation_novelty"}:
            raise ValueError("has the wrong entries")
        temperature = value["temperature"]
        low, high = (math.exp(bound) for bound in _LOG_T_BOUNDS)
        if not isinstance(temperature, (int, float)) or isinstance(temperature, bool) or not (
                low - 1e-9 <= temperature <= high + 1e-9):
            raise ValueError("has a temperature outside the range a fit can give")
        scores = _numbers(value["conformal_scores"], "conformal scores", ndim=1)
        if ((scores < 0) | (scores > 1)).any():
            raise ValueError("has conformal scores outside [0, 1]")
        means = _numbers(value["class_means"], "class means", ndim=2)
        if means.shape != (n_classes, n_latent_l):
            raise ValueError("does not match the model's classes and latent size")
        n_reference = value["n_reference_cells"]
        if not isinstance(n_reference, int) or isinstance(n_reference, bool) or n_reference < 0:
            raise ValueError("has a negative or non-integer cell count")
        distances = None
        if "prototype_distances" in value:
            distances = _numbers(value["prototype_distances"], "prototype distances", ndim=1)
            if len(distances) != len(scores) or ((distances < 0) | (distances > 2)).any():
                raise ValueError("has prototype distances outside [0, 2] or not one per "
                                 "conformal score")
            distances = np.sort(distances)
        neighbours = None
        if "neighbours" in value:
            neighbours = NeighbourReference.from_json(value["neighbours"],
                                                      n_dims=n_latent_l + n_latent_b)
        novelty = None
        if "validation_novelty" in value:
            novelty = _numbers(value["validation_novelty"], "validation novelty", ndim=1)
            if neighbours is None or len(novelty) != len(scores) or (
                    (novelty < 0) | (novelty > MAX_NOVELTY)).any():
                raise ValueError("has validation novelty scores without a neighbour reference, "
                                 "outside the score's range or not one per conformal score")
            novelty = np.sort(novelty)
        return cls(float(temperature), np.sort(scores), means, n_reference, distances,
                   neighbours, novelty)


def _numbers(value, what: str, *, ndim: int) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"has {what} that are not numbers") from None
    if array.ndim != ndim and not (array.size == 0 and ndim == 1):
        raise ValueError(f"has {what} of the wrong shape")
    if not np.isfinite(array).all():
        raise ValueError(f"has {what} that are not finite")
    return array


class CellSpaces(NamedTuple):
    """What the trust methods read from a cell: z_l means ``(n_cells, n_latent_l)``, z_b means
    ``(n_cells, n_latent_b)`` (None unless asked for), label-head logits
    ``(n_cells, n_classes)`` and the class index of each cell's label ``(n_cells,)`` (-1 where
    unlabelled)."""

    z_l: np.ndarray
    z_b: np.ndarray | None
    logits: np.ndarray
    classes: np.ndarray


@torch.no_grad()
def label_space(module, data: CellData, batch_size: int, device, progress_callback=None,
                should_stop=None, *, with_batch_space: bool = False) -> CellSpaces:
    """z_l, logits and label classes of the cells in ``data`` (and z_b ``with_batch_space``)."""
    module.eval()
    parts: dict[str, list] = {"l": [], "b": [], "logits": [], "classes": []}
    for tensors in iterate_chunks(data, batch_size, device, progress_callback, should_stop):
        x = module.encoder_input(tensors[REGISTRY_KEYS.X_KEY])
        loc, _ = module.encoder.forward_one(x, "l")
        parts["l"].append(loc.cpu())
        if with_batch_space:
            parts["b"].append(module.encoder.forward_one(x, "b")[0].cpu())
        parts["logits"].append(module.label_head(loc).cpu())
        parts["classes"].append(module.label_classes_of(tensors[REGISTRY_KEYS.LABELS_KEY]).cpu())

    def joined(name: str) -> np.ndarray:
        return torch.cat(parts[name]).numpy()

    return CellSpaces(joined("l").astype(np.float64),
                      joined("b").astype(np.float64) if with_batch_space else None,
                      joined("logits").astype(np.float64), joined("classes"))


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature`` in float64."""
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    weights = np.exp(scaled)
    return weights / weights.sum(axis=1, keepdims=True)


def rescale(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities as if the logits had been divided by ``temperature``."""
    if temperature == 1.0:
        return probabilities
    return softmax(np.log(np.clip(probabilities, 1e-300, None)), temperature)


def fit_temperature(logits: np.ndarray, classes: np.ndarray) -> float:
    """The most probable temperature for ``classes`` under ``logits / T``, with a standard
    normal prior on ``log T`` (see the module's docstring)."""
    logits = np.asarray(logits, dtype=np.float64)
    rows = np.arange(len(classes))

    def negative_log_posterior(log_t: float) -> float:
        scaled = logits / math.exp(log_t)
        top = scaled.max(axis=1)
        log_norm = top + np.log(np.exp(scaled - top[:, None]).sum(axis=1))
        prior = 0.5 * (log_t / _LOG_T_PRIOR_SD) ** 2
        return float((log_norm - scaled[rows, classes]).sum() + prior)

    result = minimize_scalar(negative_log_posterior, bounds=_LOG_T_BOUNDS, method="bounded",
                             options={"xatol": 1e-4})
    return float(math.exp(result.x))


def expected_calibration_error(probabilities: np.ndarray, classes: np.ndarray,
                               n_bins: int = 15) -> float:
    """Expected calibration error: the cell-weighted mean gap between confidence and accuracy
    over ``n_bins`` equal-width confidence bins (Guo et al. 2017)."""
    probabilities = np.asarray(probabilities)
    classes = np.asarray(classes)
    if len(classes) == 0:
        raise ValueError("No labelled cells to measure calibration on.")
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == classes
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    error = 0.0
    for b in np.unique(bins):
        members = bins == b
        error += members.sum() * abs(correct[members].mean() - confidence[members].mean())
    return float(error / len(classes))


def fit(module, data: CellData, train_indices: np.ndarray, validation_indices: np.ndarray,
        batch_size: int, device, seed: int,
        previous: Calibration | None = None) -> Calibration | None:
    """Fit the temperature, conformal scores and novelty statistics after training.

    Uses the labelled cells among ``validation_indices`` for the temperature, the conformal
    scores and the prototype distances, up to `MAX_REFERENCE_CELLS` labelled training cells for
    the class prototypes, and up to `_novelty.MAX_NEIGHBOUR_REFERENCE` training cells of the
    batches with labelled cells for the novelty's neighbour reference (each drawn at random
    with ``seed`` when there are more). Classes without labelled training cells here (e.g. in
    a query) keep the ``previous`` calibration's prototype. Returns None when fewer than
    `MIN_CALIBRATION_CELLS` validation cells are labelled.
    """
    from . import _conformal, _novelty

    if len(validation_indices) == 0:
        return None
    validation = data.subset(validation_indices)
    latent, latent_b, logits, classes = label_space(module, validation, batch_size, device,
                                                    with_batch_space=True)
    labelled = classes >= 0
    if labelled.sum() < MIN_CALIBRATION_CELLS:
        return None
    latent, latent_b = latent[labelled], latent_b[labelled]
    logits, classes = logits[labelled], classes[labelled]
    validation_batches = _batches_of(validation)[labelled]
    temperature = fit_temperature(logits, classes)
    scores = np.sort(_conformal.true_class_scores(softmax(logits, temperature), classes))
    reference = data.subset(train_indices)
    annotated, labelled = _annotated_batch_cells(module, reference)
    rng = np.random.default_rng(seed)
    for_prototypes = _at_most(labelled, MAX_REFERENCE_CELLS, rng)
    for_neighbours = _at_most(annotated, _novelty.MAX_NEIGHBOUR_REFERENCE, rng)
    chosen = np.union1d(for_prototypes, for_neighbours)
    spaces = label_space(module, reference.subset(chosen), batch_size, device,
                         with_batch_space=True)
    in_prototypes, in_neighbours = np.isin(chosen, for_prototypes), np.isin(chosen, for_neighbours)
    means = _novelty.class_statistics(spaces.z_l[in_prototypes], spaces.classes[in_prototypes],
                                      logits.shape[1])
    if previous is not None and previous.class_means.shape == means.shape:
        missing = ~means.any(axis=1)
        means[missing] = previous.class_means[missing]
    distances = np.sort(_novelty.distance_to_prototypes(latent, means))
    neighbours = NeighbourReference.from_cells(
        _novelty.neighbour_space(spaces.z_l[in_neighbours], spaces.z_b[in_neighbours]),
        spaces.classes[in_neighbours] < 0)
    calibration = Calibration(temperature, scores, means, len(for_prototypes), distances,
                              neighbours)
    novelty = _novelty.novelty_across_batches(
        latent, latent_b, validation_batches, calibration,
        _batches_of(reference.subset(chosen))[in_neighbours])
    return dataclasses.replace(calibration, validation_novelty=np.sort(novelty))


def _at_most(positions: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``positions``, or ``n`` of them drawn with ``rng`` (sorted)."""
    if len(positions) <= n:
        return positions
    return np.sort(rng.choice(positions, n, replace=False))


def _batches_of(data: CellData) -> np.ndarray:
    """The batch code of each cell in ``data``."""
    return data.fields[REGISTRY_KEYS.BATCH_KEY][data.indices].reshape(-1).cpu().numpy()


def _annotated_batch_cells(module, data: CellData) -> tuple[np.ndarray, np.ndarray]:
    """Positions within ``data`` of its cells from batches where some cell is labelled, and of
    its labelled cells."""
    rows = data.indices
    classes = module.label_classes_of(data.fields[REGISTRY_KEYS.LABELS_KEY][rows]).cpu().numpy()
    batches = _batches_of(data)
    return (np.flatnonzero(np.isin(batches, batches[classes >= 0])),
            np.flatnonzero(classes >= 0))
