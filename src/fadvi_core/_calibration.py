"""Calibrated confidence: a temperature fitted on held-out labelled cells after training.

The label head's softmax is over-confident (its logits grow while the supervised loss is
driven down on the training cells). Temperature scaling (Guo et al. 2017, "On calibration of
modern neural networks") divides the logits by one number ``T`` fitted by maximum likelihood on
labelled validation cells: it leaves every prediction (the arg max) unchanged, has a single
parameter that a hundred cells determine well, and cannot overfit the way a per-class or
histogram method can on the small validation sets of a desktop run.

`Calibration` holds everything fitted after training (the temperature, the conformal scores of
`_conformal` and the class statistics of `_novelty`); it is saved in the model file as JSON and
checked with `Calibration.from_json` on load.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import minimize_scalar
from scvi import REGISTRY_KEYS

from ._data import CellData, iterate_chunks

MIN_CALIBRATION_CELLS = 10
MAX_REFERENCE_CELLS = 20_000  # labelled training cells used for the novelty statistics
_LOG_T_BOUNDS = (-4.0, 4.0)  # temperatures from 0.02 to 55


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
        ``(n_calibration_cells,)`` sorted non-conformity scores ``1 - p(true class)`` of the
        held-out labelled cells, under the temperature.
    class_means
        ``(n_classes, n_latent_l)`` mean of z_l per class over labelled training cells.
    n_reference_cells
        Labelled training cells behind ``class_means``.
    """

    temperature: float
    conformal_scores: np.ndarray
    class_means: np.ndarray
    n_reference_cells: int

    def to_json(self) -> dict:
        """Plain JSON values for the model file."""
        return {"temperature": float(self.temperature),
                "conformal_scores": [float(v) for v in self.conformal_scores],
                "class_means": self.class_means.astype(float).tolist(),
                "n_reference_cells": int(self.n_reference_cells)}

    @classmethod
    def from_json(cls, value, *, n_classes: int, n_latent_l: int) -> Calibration:
        """Read and check a stored calibration; `ValueError` names what does not fit."""
        if not isinstance(value, dict) or set(value) != {
                "temperature", "conformal_scores", "class_means", "n_reference_cells"}:
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
        return cls(float(temperature), np.sort(scores), means, n_reference)


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


@torch.no_grad()
def label_space(module, data: CellData, batch_size: int, device, progress_callback=None,
                should_stop=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """z_l means ``(n_cells, n_latent_l)``, label-head logits ``(n_cells, n_classes)`` and the
    class index of each cell's label ``(n_cells,)`` (-1 where unlabelled)."""
    module.eval()
    latents, logits, classes = [], [], []
    for tensors in iterate_chunks(data, batch_size, device, progress_callback, should_stop):
        loc, _ = module.encoder.forward_one(module.encoder_input(tensors[REGISTRY_KEYS.X_KEY]),
                                            "l")
        latents.append(loc.cpu())
        logits.append(module.label_head(loc).cpu())
        classes.append(module.label_classes_of(tensors[REGISTRY_KEYS.LABELS_KEY]).cpu())
    return (torch.cat(latents).numpy().astype(np.float64),
            torch.cat(logits).numpy().astype(np.float64), torch.cat(classes).numpy())


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
    """The temperature that maximises the likelihood of ``classes`` under ``logits / T``."""
    logits = np.asarray(logits, dtype=np.float64)
    rows = np.arange(len(classes))

    def negative_log_likelihood(log_t: float) -> float:
        scaled = logits / math.exp(log_t)
        top = scaled.max(axis=1)
        log_norm = top + np.log(np.exp(scaled - top[:, None]).sum(axis=1))
        return float((log_norm - scaled[rows, classes]).mean())

    result = minimize_scalar(negative_log_likelihood, bounds=_LOG_T_BOUNDS, method="bounded",
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
        batch_size: int, device, seed: int) -> Calibration | None:
    """Fit the temperature, conformal scores and novelty statistics after training.

    Uses the labelled cells among ``validation_indices`` for the temperature and the conformal
    scores, and up to `MAX_REFERENCE_CELLS` labelled training cells for the novelty statistics.
    Returns None when fewer than `MIN_CALIBRATION_CELLS` validation cells are labelled.
    """
    from . import _novelty

    if len(validation_indices) == 0:
        return None
    _, logits, classes = label_space(module, data.subset(validation_indices), batch_size, device)
    labelled = classes >= 0
    if labelled.sum() < MIN_CALIBRATION_CELLS:
        return None
    logits, classes = logits[labelled], classes[labelled]
    temperature = fit_temperature(logits, classes)
    probabilities = softmax(logits, temperature)
    scores = np.sort(1.0 - probabilities[np.arange(len(classes)), classes])
    reference = data.subset(train_indices)
    train_classes = module.label_classes_of(
        reference.fields[REGISTRY_KEYS.LABELS_KEY][reference.indices]).cpu().numpy()
    chosen = np.flatnonzero(train_classes >= 0)
    if len(chosen) > MAX_REFERENCE_CELLS:
        chosen = np.sort(np.random.default_rng(seed).choice(chosen, MAX_REFERENCE_CELLS,
                                                            replace=False))
    latent, _, reference_classes = label_space(module, reference.subset(chosen), batch_size,
                                               device)
    means = _novelty.class_statistics(latent, reference_classes, logits.shape[1])
    return Calibration(temperature, scores, means, len(chosen))
