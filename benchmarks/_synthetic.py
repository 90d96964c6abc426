"""A deterministic synthetic count matrix for the time-to-annotation benchmark.

Negative-binomial (gamma-Poisson) counts of ``n_genes`` genes for ``n_cells`` cells of 8 cell
types in 4 batches. Each type has its own programme (marker genes up, a few down) on top of one
of three shared lineage programmes, so related types overlap; each batch multiplies every gene by
its own factor (the last batch, ``b4``, more strongly, like a different chemistry), has its own
library sizes and its own mix of cell types. Gene dispersions vary. The same seed gives the same
file, bit for bit.
"""

from __future__ import annotations

import numpy as np

N_TYPES = 8
BATCHES = ("b1", "b2", "b3", "b4")
HIDDEN_BATCH = "b4"
_LINEAGE = (0, 0, 0, 1, 1, 2, 2, 2)  # lineage of each type


def synthetic_adata(n_cells: int = 50_000, n_genes: int = 2000, *, seed: int = 0):
    """AnnData with CSR float32 counts in X, ``obs["batch"]`` and ``obs["cell_type"]``."""
    import anndata as ad
    import pandas as pd
    from scipy import sparse

    rng = np.random.default_rng(seed)
    base = rng.normal(-1.0, 1.8, n_genes)  # log relative expression shared by all cells
    programme = np.zeros((N_TYPES, n_genes))
    for lineage in range(3):
        genes = rng.choice(n_genes, 60, replace=False)
        lfc = rng.uniform(0.5, 1.5, genes.size)
        for t in np.flatnonzero(np.asarray(_LINEAGE) == lineage):
            programme[t, genes] += lfc
    for t in range(N_TYPES):
        up = rng.choice(n_genes, 40, replace=False)
        programme[t, up] += rng.uniform(1.0, 3.0, up.size)
        down = rng.choice(n_genes, 20, replace=False)
        programme[t, down] -= rng.uniform(0.5, 1.5, down.size)
    batch_scale = np.array([0.3, 0.3, 0.4, 0.6])
    batch_effect = rng.normal(0.0, 1.0, (len(BATCHES), n_genes)) * batch_scale[:, None]
    library_log_mean = np.log([1200.0, 900.0, 1600.0, 700.0])
    mix = rng.dirichlet(np.full(N_TYPES, 2.0), size=len(BATCHES))
    theta = np.exp(rng.normal(np.log(2.0), 0.5, n_genes))

    batch = rng.integers(0, len(BATCHES), n_cells)
    cell_type = _draw_types(rng, batch, mix)
    library = np.exp(rng.normal(library_log_mean[batch], 0.4))
    blocks = []
    for start in range(0, n_cells, 5000):
        rows = slice(start, min(start + 5000, n_cells))
        log_rate = base + programme[cell_type[rows]] + batch_effect[batch[rows]]
        rate = np.exp(log_rate - log_rate.max(1, keepdims=True))
        mean = rate / rate.sum(1, keepdims=True) * library[rows, None]
        counts = rng.poisson(rng.gamma(theta, mean / theta))
        blocks.append(sparse.csr_matrix(counts.astype(np.float32)))
    obs = pd.DataFrame({
        "batch": pd.Categorical(np.asarray(BATCHES)[batch]),
        "cell_type": pd.Categorical([f"type_{t + 1}" for t in cell_type]),
    }, index=[f"cell_{i}" for i in range(n_cells)])
    var = pd.DataFrame(index=[f"gene_{g}" for g in range(n_genes)])
    return ad.AnnData(X=sparse.vstack(blocks).tocsr(), obs=obs, var=var)


def _draw_types(rng, batch: np.ndarray, mix: np.ndarray) -> np.ndarray:
    """Cell types by batch mix, vectorised: inverse CDF of one uniform per cell."""
    cdf = np.cumsum(mix, axis=1)[batch]
    u = rng.random(batch.size)[:, None]
    return np.minimum((u > cdf).sum(1), N_TYPES - 1)
