"""How well the three latent spaces keep batch and cell type apart.

For each space (``b``, ``l``, ``r``) a small classifier (multinomial logistic regression on
standardised coordinates) learns the batch, and the cell type of labelled cells, from 70% of
the cells and is scored on the other 30% (balanced accuracy, so that chance is one over the
number of classes whatever their sizes). For each pair of spaces the mean and the largest
absolute Pearson correlation between a coordinate of one and a coordinate of the other measure
what the cross-covariance penalty left. The table states the ideal for each row; it makes no
judgement against a threshold.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SPACES = ("b", "l", "r")
_IDEAL = {("b", "batch"): "high", ("l", "label"): "high"}
COLUMNS = ["space", "measure", "target", "value", "chance", "ideal", "n_cells"]


def held_out_balanced_accuracy(latent: np.ndarray, target: np.ndarray, *, seed: int,
                               test_size: float = 0.3) -> float:
    """Balanced accuracy of a logistic regression predicting ``target`` from ``latent``, trained
    on ``1 - test_size`` of the rows and scored on the rest (stratified, seeded split)."""
    counts = pd.Series(target).value_counts()
    stratify = target if counts.min() >= 2 else None
    train_x, test_x, train_y, test_y = train_test_split(
        latent, target, test_size=test_size, random_state=seed, stratify=stratify)
    if len(np.unique(train_y)) < 2:
        return float("nan")
    classifier = make_pipeline(StandardScaler(),
                               LogisticRegression(max_iter=500, random_state=seed))
    classifier.fit(train_x, train_y)
    return float(balanced_accuracy_score(test_y, classifier.predict(test_x)))


def correlations(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Absolute Pearson correlations ``(n_first_dims, n_second_dims)`` between coordinates."""
    def standardised(z):
        z = z - z.mean(axis=0)
        scale = z.std(axis=0)
        return z / np.where(scale > 0, scale, 1.0)

    return np.abs(standardised(first).T @ standardised(second) / len(first))


def report(latents: dict[str, np.ndarray], batches: np.ndarray, labels: np.ndarray, *,
           seed: int = 0) -> pd.DataFrame:
    """The disentanglement table from latents ``{"b": (n_cells, d_b), "l": ..., "r": ...}``,
    batch names ``(n_cells,)`` and label names ``(n_cells,)`` (None where unlabelled)."""
    rows = []
    labelled = pd.notna(labels)
    for space in SPACES:
        for target, values, mask in (("batch", batches, np.ones(len(batches), bool)),
                                     ("label", labels, labelled)):
            n_classes = len(pd.unique(values[mask]))
            if mask.sum() < 10 or n_classes < 2:
                continue
            value = held_out_balanced_accuracy(latents[space][mask], np.asarray(values[mask]),
                                               seed=seed)
            rows.append({"space": space, "measure": "balanced_accuracy", "target": target,
                         "value": value, "chance": 1.0 / n_classes,
                         "ideal": _IDEAL.get((space, target), "chance"),
                         "n_cells": int(mask.sum())})
    for i, first in enumerate(SPACES):
        for second in SPACES[i + 1:]:
            matrix = correlations(latents[first], latents[second])
            for measure, value in (("mean_abs_correlation", matrix.mean()),
                                   ("max_abs_correlation", matrix.max())):
                rows.append({"space": f"{first}-{second}", "measure": measure, "target": "",
                             "value": float(value), "chance": np.nan, "ideal": "zero",
                             "n_cells": len(batches)})
    return pd.DataFrame(rows, columns=COLUMNS)
