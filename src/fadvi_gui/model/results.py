"""Predictions in AnnData: write them, mark uncertain ones, accept them, review and summarise them.

No Qt here: plain pandas, numpy and AnnData, so every rule can be tested on its own
and reused from a script. Saving and CSV export live in :mod:`fadvi_gui.model.results_io`.

Fields written
--------------
``obs["fadvi_prediction"]``
    Predicted class name (categorical; missing for cells never predicted).
``obs["fadvi_confidence"]``
    Highest class probability, in [0, 1] (NaN for cells never predicted).
``obsm["fadvi_probabilities"]`` with ``uns["fadvi_probability_classes"]``
    ``(n_cells, n_classes)`` probabilities and the class of each column.
``obs["fadvi_accepted_label"]``
    The original labels with accepted predictions filled in; the original column is never changed.
Batch predictions (a diagnostic) use ``fadvi_batch_prediction``, ``fadvi_batch_confidence``,
``obsm["fadvi_batch_probabilities"]`` and ``uns["fadvi_batch_probability_classes"]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import ArrayLike
import pandas as pd

from fadvi_gui.model.keys import (
    ACCEPTED_KEY, AGREEMENT_KEY, BATCH_CONFIDENCE_KEY, BATCH_PREDICTION_KEY, BATCH_PROBABILITIES_KEY,
    BATCH_PROBABILITY_CLASSES_KEY, CONFIDENCE_KEY, NOVELTY_KEY, PREDICTION_KEY,
    PREDICTION_SET_KEY, PROBABILITIES_KEY, PROBABILITY_CLASSES_KEY, UNCERTAIN,
)

if TYPE_CHECKING:
    from anndata import AnnData

REVIEW_FILTERS = {
    "all": "All",
    "unlabelled": "Unlabelled only",
    "disagreements": "Disagreements",
    "low_confidence": "Confidence < threshold",
}
ReviewFilter = Literal["all", "unlabelled", "disagreements", "low_confidence"]
Mode = Literal["label", "batch"]


@dataclass(frozen=True)
class PredictionKeys:
    """Where one prediction mode's results live in the AnnData."""

    prediction: str
    confidence: str
    probabilities: str
    classes: str


def keys_for(mode: Mode) -> PredictionKeys:
    """Return the obs/obsm/uns keys of ``mode`` (``"label"`` or ``"batch"``)."""
    if mode == "label":
        return PredictionKeys(PREDICTION_KEY, CONFIDENCE_KEY, PROBABILITIES_KEY,
                              PROBABILITY_CLASSES_KEY)
    if mode == "batch":
        return PredictionKeys(BATCH_PREDICTION_KEY, BATCH_CONFIDENCE_KEY,
                              BATCH_PROBABILITIES_KEY, BATCH_PROBABILITY_CLASSES_KEY)
    raise ValueError(f"mode={mode!r} is not supported; use 'label' or 'batch'.")


def write_predictions(adata: AnnData, probabilities: pd.DataFrame, *, indices: ArrayLike | None = None,
                      mode: Mode = "label") -> None:
    """Store soft predictions in ``adata``; only the predicted cells change.

    Parameters
    ----------
    adata
        The data the app holds; modified in place.
    probabilities
        ``(n_predicted, n_classes)`` probabilities, one column per class (``model.predict(soft=True)``).
    indices
        Positions of the predicted cells in ``adata``; all cells when None.
    mode
        ``"label"`` writes ``obs["fadvi_prediction"]``, ``obs["fadvi_confidence"]`` and
        ``obsm["fadvi_probabilities"]``; ``"batch"`` the ``fadvi_batch_*`` fields.
    """
    keys = keys_for(mode)
    rows = np.arange(adata.n_obs) if indices is None else np.asarray(indices, dtype=np.int64)
    if len(rows) != len(probabilities):
        raise ValueError(f"Got {len(probabilities)} rows of probabilities for {len(rows)} cells.")
    classes = [str(c) for c in probabilities.columns]
    values = probabilities.to_numpy(dtype=np.float64)
    known = [str(c) for c in adata.uns.get(keys.classes, [])]
    if known != classes or keys.probabilities not in adata.obsm:
        # A new model (or first run): earlier results use other classes, so start over.
        adata.obsm[keys.probabilities] = np.full((adata.n_obs, len(classes)), np.nan)
        adata.obs[keys.prediction] = pd.Categorical([None] * adata.n_obs, categories=classes)
        adata.obs[keys.confidence] = np.full(adata.n_obs, np.nan)
        adata.uns[keys.classes] = np.asarray(classes, dtype=object)
    matrix = np.array(adata.obsm[keys.probabilities], dtype=np.float64)
    matrix[rows] = values
    adata.obsm[keys.probabilities] = matrix
    predicted = pd.Categorical(adata.obs[keys.prediction], categories=classes)
    codes = predicted.codes.copy()
    codes[rows] = values.argmax(axis=1) if len(values) else codes[rows]
    adata.obs[keys.prediction] = pd.Categorical.from_codes(codes, categories=classes)
    confidence = adata.obs[keys.confidence].to_numpy(dtype=np.float64, copy=True)
    confidence[rows] = values.max(axis=1) if len(values) else confidence[rows]
    adata.obs[keys.confidence] = confidence


def thresholded(predictions: pd.Series, confidence: pd.Series, threshold: float) -> pd.Series:
    """Return the predictions with those below ``threshold`` confidence replaced by "Uncertain".

    Cells without a prediction stay missing.
    """
    out = predictions.astype(object).where(predictions.notna(), None)
    low = confidence.to_numpy(dtype=np.float64) < threshold
    out[low & predictions.notna().to_numpy()] = UNCERTAIN
    return out


def accept_predictions(adata: AnnData, *, labels_key: str | None, unlabeled_category: str | None,
                       threshold: float = 0.0, indices: ArrayLike | None = None, replace_labelled: bool = False,
                       key: str = ACCEPTED_KEY) -> int:
    """Copy predictions into the accepted-label column ``obs[key]``.

    The column starts as a copy of ``obs[labels_key]`` (or all ``unlabeled_category`` without
    labels); ``obs[labels_key]`` itself is never changed.

    Parameters
    ----------
    threshold
        Only predictions with at least this confidence are accepted.
    indices
        Positions of the cells to accept; every predicted cell when None.
    replace_labelled
        Also overwrite cells that carry an original label (bulk accepting keeps them by default).

    Returns
    -------
    int
        Number of cells whose accepted label was set.
    """
    if PREDICTION_KEY not in adata.obs:
        raise ValueError("There are no predictions to accept yet. Press 'Predict labels' first.")
    predicted = adata.obs[PREDICTION_KEY]
    confidence = adata.obs[CONFIDENCE_KEY].to_numpy(dtype=np.float64)
    chosen = np.zeros(adata.n_obs, dtype=bool)
    chosen[np.arange(adata.n_obs) if indices is None else np.asarray(indices, dtype=np.int64)] = True
    chosen &= predicted.notna().to_numpy() & (confidence >= threshold)
    current = _accepted_start(adata, labels_key, unlabeled_category, key)
    if not replace_labelled:
        chosen &= _unlabelled_mask(current, unlabeled_category)
    values = current.astype(object).to_numpy(copy=True)
    values[chosen] = predicted.astype(object).to_numpy()[chosen]
    categories = list(dict.fromkeys([*_categories(current), *map(str, predicted.cat.categories)]))
    adata.obs[key] = pd.Categorical(values, categories=categories)
    return int(chosen.sum())


def _accepted_start(adata: AnnData, labels_key: str | None, unlabeled_category: str | None,
                    key: str) -> pd.Series:
    if key in adata.obs:
        return adata.obs[key]
    if labels_key is not None and labels_key in adata.obs:
        return adata.obs[labels_key].astype(str).astype("category")
    filler = unlabeled_category if unlabeled_category is not None else "Unknown"
    return pd.Series(pd.Categorical([filler] * adata.n_obs), index=adata.obs_names)


def _categories(values: pd.Series) -> list[str]:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return [str(c) for c in values.cat.categories]
    return sorted(map(str, values.dropna().unique()))


def _unlabelled_mask(values: pd.Series, unlabeled_category: str | None) -> np.ndarray:
    missing = values.isna().to_numpy()
    if unlabeled_category is None:
        return missing
    return missing | (values.astype(str).to_numpy() == str(unlabeled_category))


def review_table(adata: AnnData, *, batch_key: str | None, labels_key: str | None,
                 unlabeled_category: str | None) -> pd.DataFrame:
    """One row per predicted cell, for the review table.

    Returns
    -------
    pandas.DataFrame
        Columns ``position`` (row in ``adata``), ``cell``, ``batch``, ``existing_label``,
        ``predicted_label``, ``confidence``, ``labelled`` (the cell had an original label), and
        ``prediction_set`` ("T_CD4 or T_CD8"; "" before sets were made) and ``novelty`` (NaN
        before novelty was scored), from the Error rate dock's columns, and ``knn_disagrees``
        (annotating from a reference: the reference's kNN vote differs from the prediction).
        Empty when nothing was predicted.
    """
    columns = ["position", "cell", "batch", "existing_label", "predicted_label", "confidence",
               "labelled", "prediction_set", "novelty", "knn_disagrees"]
    if PREDICTION_KEY not in adata.obs:
        return pd.DataFrame(columns=columns)
    obs = adata.obs
    rows = np.flatnonzero(obs[PREDICTION_KEY].notna().to_numpy())
    if labels_key is not None and labels_key in obs:
        existing = obs[labels_key].iloc[rows]
        labelled = ~_unlabelled_mask(existing, unlabeled_category)
        existing = existing.astype(str).to_numpy()
    else:
        existing = np.full(len(rows), "", dtype=object)
        labelled = np.zeros(len(rows), dtype=bool)
    batch = (obs[batch_key].iloc[rows].astype(str).to_numpy() if batch_key and batch_key in obs
             else np.full(len(rows), "", dtype=object))
    return pd.DataFrame({
        "position": rows,
        "cell": np.asarray(adata.obs_names[rows], dtype=object),
        "batch": batch,
        "existing_label": existing,
        "predicted_label": obs[PREDICTION_KEY].iloc[rows].astype(str).to_numpy(),
        "confidence": obs[CONFIDENCE_KEY].iloc[rows].to_numpy(dtype=np.float64),
        "labelled": labelled,
        "prediction_set": (obs[PREDICTION_SET_KEY].iloc[rows].astype(str).to_numpy()
                           if PREDICTION_SET_KEY in obs else np.full(len(rows), "", dtype=object)),
        "novelty": (obs[NOVELTY_KEY].iloc[rows].to_numpy(dtype=np.float64)
                    if NOVELTY_KEY in obs else np.full(len(rows), np.nan)),
        "knn_disagrees": (~pd.array(obs[AGREEMENT_KEY].iloc[rows], dtype="boolean")).fillna(False)
                         .to_numpy(dtype=bool) if AGREEMENT_KEY in obs else np.zeros(len(rows), bool),
    }, columns=columns).reset_index(drop=True)


def filter_review(table: pd.DataFrame, how: ReviewFilter, threshold: float) -> np.ndarray:
    """Return a boolean mask over ``table`` rows (from `review_table`) that ``how`` keeps."""
    if how == "all":
        return np.ones(len(table), dtype=bool)
    if how == "unlabelled":
        return ~table["labelled"].to_numpy(dtype=bool)
    if how == "disagreements":  # with the cell's label, or with the reference's kNN vote
        return (table["labelled"].to_numpy(dtype=bool) & (
            table["existing_label"].to_numpy() != table["predicted_label"].to_numpy())) | (
            table["knn_disagrees"].to_numpy(dtype=bool))
    if how == "low_confidence":
        return table["confidence"].to_numpy(dtype=np.float64) < threshold
    raise ValueError(f"Unknown filter {how!r}; use one of {list(REVIEW_FILTERS)}.")


def class_counts(table: pd.DataFrame, threshold: float = 0.0) -> pd.Series:
    """Cells per predicted class (from `review_table`), "Uncertain" counted apart, largest first."""
    shown = thresholded(table["predicted_label"], table["confidence"], threshold)
    return shown.value_counts().rename("cells")


def confusion_matrix(table: pd.DataFrame) -> pd.DataFrame:
    """Existing (rows) versus predicted (columns) labels over labelled, predicted cells.

    Returns
    -------
    pandas.DataFrame
        ``(n_existing, n_predicted)`` cell counts; empty when no predicted cell has a label.
    """
    keep = table["labelled"].to_numpy(dtype=bool)
    if not keep.any():
        return pd.DataFrame(dtype=np.int64)
    # numpy, not pd.crosstab: this runs on the UI thread after every prediction.
    existing = table["existing_label"].to_numpy()[keep].astype(str)
    predicted = table["predicted_label"].to_numpy()[keep].astype(str)
    classes, codes = np.unique(np.concatenate([existing, predicted]), return_inverse=True)
    counts = np.zeros((len(classes), len(classes)), dtype=np.int64)
    np.add.at(counts, (codes[:len(existing)], codes[len(existing):]), 1)
    rows = np.flatnonzero(np.isin(classes, existing))
    return pd.DataFrame(counts[rows], index=pd.Index(classes[rows].tolist(), name="existing_label"),
                        columns=pd.Index(classes.tolist(), name="predicted_label"))


def accuracy(existing: ArrayLike, predicted: ArrayLike, *, unlabeled_category: str | None = None) -> float:
    """Share of labelled cells whose prediction equals their label (NaN when none is labelled)."""
    existing = pd.Series(np.asarray(existing, dtype=object))
    predicted = np.asarray(predicted, dtype=object)
    labelled = ~_unlabelled_mask(existing, unlabeled_category)
    if not labelled.any():
        return float("nan")
    return float(np.mean(existing.to_numpy()[labelled].astype(str) == predicted[labelled].astype(str)))
