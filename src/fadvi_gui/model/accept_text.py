"""What "Accept" did, in words: how many predictions were accepted, and why not more.

Accepting copies confident predictions into ``obs["fadvi_accepted_label"]``
(`fadvi_gui.model.results.accept_predictions`). When nothing, or not everything, was accepted,
the user needs the reason: no unlabelled cells, none above the threshold, or accepted already.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from fadvi_gui.model.keys import ACCEPTED_KEY, CONFIDENCE_KEY, PREDICTION_KEY

if TYPE_CHECKING:
    from anndata import AnnData


def accept_message(adata: AnnData, n_accepted: int, *, threshold: float, indices: ArrayLike | None,
                   labels_key: str | None, unlabeled_category: str | None) -> str:
    """Say what an accept did, read from ``adata`` just after it.

    Parameters
    ----------
    adata
        The data after `fadvi_gui.model.results.accept_predictions` ran on it.
    n_accepted
        What that call returned.
    threshold
        The confidence threshold it used.
    indices
        The cell positions it was given (a selection), or None for "Accept above threshold".
    labels_key, unlabeled_category
        The labels column and its "unlabelled" value, as set up for training.

    Returns
    -------
    str
        One or two sentences for the panel's status line.
    """
    scope = np.zeros(adata.n_obs, dtype=bool)
    scope[np.arange(adata.n_obs) if indices is None else np.asarray(indices, dtype=np.int64)] = True
    if PREDICTION_KEY in adata.obs:
        scope &= adata.obs[PREDICTION_KEY].notna().to_numpy()
    confidence = adata.obs[CONFIDENCE_KEY].to_numpy(dtype=np.float64) if CONFIDENCE_KEY in adata.obs \
        else np.zeros(adata.n_obs)
    if indices is None:  # bulk accepting keeps every original label
        scope &= _originally_unlabelled(adata, labels_key, unlabeled_category)
    confident = scope & (confidence >= threshold)
    n_below = int((scope & ~confident).sum())
    words = "the selected cells" if indices is not None else "the unlabelled cells"
    if n_accepted:
        text = f"Accepted {n_accepted:,} predictions into '{ACCEPTED_KEY}'; the original labels are unchanged."
        if n_below:
            text += f" {n_below:,} of {words} are below the threshold {threshold:.2f} and were left out."
        return text
    if not scope.any():
        if indices is not None:
            return "Accepted no predictions: the selected cells have no prediction yet. Predict labels first."
        where = f"'{labels_key}'" if labels_key else "the data"
        return (f"Accepted no predictions: every predicted cell already has a label in {where}, and "
                "'Accept above threshold' never overwrites a label. To relabel cells, select them "
                "and press 'Accept selection'.")
    if not confident.any():
        best = float(confidence[scope].max())
        return (f"Accepted no predictions: none of {words} ({int(scope.sum()):,}) reaches the "
                f"confidence threshold {threshold:.2f} (the highest is {best:.2f}). "
                "Lower the threshold to accept more.")
    return (f"Accepted no new predictions: the {int(confident.sum()):,} confident predictions of "
            f"{words} are in '{ACCEPTED_KEY}' already.")


def _originally_unlabelled(adata: AnnData, labels_key: str | None, unlabeled_category: str | None
                           ) -> np.ndarray:
    if labels_key is None or labels_key not in adata.obs:
        return np.ones(adata.n_obs, dtype=bool)
    labels = adata.obs[labels_key]
    missing = labels.isna().to_numpy()
    if unlabeled_category is None:
        return missing
    return missing | (labels.astype(str).to_numpy() == str(unlabeled_category))


__all__ = ["accept_message"]
