"""Worker function: Leiden clustering of z_l and majority voting of the predictions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from fadvi_gui.model.clusters import majority_vote
from fadvi_gui.model.steps import StepProgress
from fadvi_gui.tasks.devices import reserve_core_for_ui

if TYPE_CHECKING:
    from fadvi_gui.tasks._control import Control

#: Neighbours per cell of the graph Leiden clusters.
N_NEIGHBORS = 15


@dataclass(frozen=True)
class ClusterRun:
    """The outcome of :func:`cluster_and_vote`.

    Attributes
    ----------
    clusters
        ``(n_cells,)`` Leiden cluster of each cell ("0", "1", ...).
    voted
        ``(n_cells,)`` the majority prediction of each cell's cluster.
    table
        Per cluster: ``cells``, ``majority``, ``agreement`` (0 to 1).
    resolution
        The Leiden resolution used.
    """

    clusters: pd.Categorical
    voted: pd.Categorical
    table: pd.DataFrame
    resolution: float


def cluster_and_vote(control: Control, latent: ArrayLike, predictions: ArrayLike, *,
                     resolution: float = 1.0, seed: int = 0) -> ClusterRun | None:
    """Cluster cells by ``latent`` (z_l) with Leiden, then vote ``predictions`` in each cluster.

    Parameters
    ----------
    latent
        ``(n_cells, n_latent_l)`` z_l.
    predictions
        ``(n_cells,)`` predicted labels.
    resolution
        Leiden resolution; higher gives more, smaller clusters.
    seed
        Seed of the neighbour search and of Leiden.

    Returns
    -------
    ClusterRun or None
        None when a stop was requested.
    """
    import anndata
    import scanpy as sc

    reserve_core_for_ui()
    z = np.asarray(latent, dtype=np.float32)
    if len(z) != len(predictions):
        raise ValueError("The predictions do not belong to these latents. Predict labels again.")
    adata = anndata.AnnData(obsm={"z": z}, obs=pd.DataFrame(index=[str(i) for i in range(len(z))]))
    control.report(StepProgress(0, 3, "Finding neighbours in z_l"), force=True)
    sc.pp.neighbors(adata, use_rep="z", n_neighbors=min(N_NEIGHBORS, max(len(z) - 1, 2)),
                    random_state=seed)
    if control.should_stop():
        return None
    control.report(StepProgress(1, 3, "Leiden clustering"), force=True)
    sc.tl.leiden(adata, resolution=float(resolution), flavor="igraph", n_iterations=2,
                 directed=False, random_state=seed)
    if control.should_stop():
        return None
    control.report(StepProgress(2, 3, "Majority voting"), force=True)
    clusters = adata.obs["leiden"].astype(str).to_numpy()
    voted, table = majority_vote(clusters, predictions)
    order = sorted(set(clusters), key=lambda c: int(c))
    return ClusterRun(clusters=pd.Categorical(clusters, categories=order), voted=voted,
                      table=table, resolution=float(resolution))


__all__ = ["ClusterRun", "cluster_and_vote"]
