"""Prediction sets and novelty as ``obs`` columns, and a sentence that sums them up. No Qt."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fadvi_gui.model.keys import (AT_ERROR_RATE_KEY, NOVELTY_KEY, PREDICTION_SET_KEY, SET_SIZE_KEY,
                                  UNKNOWN)


def trust_columns(sets: pd.DataFrame, novelty: pd.Series) -> pd.DataFrame:
    """``obs`` columns from boolean prediction sets ``(n_cells, n_classes)`` and novelty scores.

    Returns
    -------
    DataFrame indexed like ``sets`` with the set as text (``"T_CD4 or T_CD8"``, ``""`` when
    empty), its size, the novelty score, and the single type of a one-type set or ``"Unknown"``.
    """
    members = sets.to_numpy(dtype=bool)
    names = np.asarray(sets.columns, dtype=object)
    text = np.array([" or ".join(names[row]) for row in members], dtype=object)
    size = members.sum(axis=1)
    single = np.where(size == 1, names[members.argmax(axis=1)], UNKNOWN)
    return pd.DataFrame({PREDICTION_SET_KEY: text, SET_SIZE_KEY: size,
                         NOVELTY_KEY: novelty.reindex(sets.index).to_numpy(),
                         AT_ERROR_RATE_KEY: pd.Categorical(single)}, index=sets.index)


def summary(columns: pd.DataFrame, alpha: float) -> str:
    """One sentence: how many cells have one type, several, or none at error rate ``alpha``."""
    size = columns[SET_SIZE_KEY].to_numpy()
    n_one, n_many, n_none = (size == 1).sum(), (size > 1).sum(), (size == 0).sum()
    return (f"At a {alpha:.0%} error rate: {n_one} cells have one type, {n_many} could be "
            f"several (shown as 'A or B'), {n_none} match no labelled type. Cells without "
            f"exactly one type are '{UNKNOWN}' in {AT_ERROR_RATE_KEY}.")


__all__ = ["summary", "trust_columns"]
