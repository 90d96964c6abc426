"""Majority voting of predictions within clusters, as CellTypist offers it.

Each cell gets the label most of its cluster's cells were predicted as; the share of the
cluster that agrees with that label says how clean the cluster is.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike


def majority_vote(clusters: ArrayLike, predictions: ArrayLike) -> tuple[pd.Categorical, pd.DataFrame]:
    """Return each cell's cluster majority label, and one row of agreement per cluster.

    Parameters
    ----------
    clusters
        ``(n_cells,)`` cluster of each cell.
    predictions
        ``(n_cells,)`` predicted label of each cell.

    Returns
    -------
    tuple of pandas.Categorical and pandas.DataFrame
        ``(n_cells,)`` majority labels; a table indexed by cluster with ``cells``,
        ``majority`` and ``agreement`` (share of the cluster's cells predicted as the
        majority, 0 to 1), in cluster order. Ties go to the label that sorts first.
    """
    frame = pd.DataFrame({"cluster": pd.Categorical(np.asarray(clusters).astype(str)),
                          "label": pd.Categorical(np.asarray(predictions, dtype=object).astype(str))})
    counts = frame.groupby(["cluster", "label"], observed=True).size().rename("n").reset_index()
    counts["cluster"] = counts["cluster"].astype(str)
    counts["label"] = counts["label"].astype(str)
    counts = counts.sort_values(["cluster", "n", "label"], ascending=[True, False, True])
    top = counts.drop_duplicates("cluster").set_index("cluster")
    sizes = counts.groupby("cluster")["n"].sum()
    table = pd.DataFrame({"cells": sizes, "majority": top["label"].reindex(sizes.index),
                          "agreement": (top["n"].reindex(sizes.index) / sizes).astype(float)})
    table = table.loc[sorted(table.index, key=_cluster_order)]
    voted = frame["cluster"].astype(str).map(table["majority"]).to_numpy(dtype=object)
    return pd.Categorical(voted), table


def _cluster_order(name: str) -> tuple[int, str]:
    return (int(name), "") if name.isdigit() else (10**9, name)


__all__ = ["majority_vote"]
