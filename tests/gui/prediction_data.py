"""Small synthetic data and a tiny trained model shared by the prediction and explanation tests."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

SMALL = {"n_hidden": 16, "n_latent_b": 4, "n_latent_l": 4, "n_latent_r": 2, "n_layers": 1}


def make_adata(n_per_batch: int = 60, n_genes: int = 30, n_unlabelled: int = 20):
    """Counts with two batches, three labels ("label_0".."label_2") and some "Unknown" cells."""
    import scvi
    from scvi.data import synthetic_iid

    scvi.settings.seed = 0
    adata = synthetic_iid(batch_size=n_per_batch, n_genes=n_genes, n_batches=2, n_labels=3)
    adata.obs["labels"] = adata.obs["labels"].astype(str)
    adata.obs.loc[adata.obs_names[:n_unlabelled], "labels"] = "Unknown"
    adata.obs["batch"] = adata.obs["batch"].astype(str)
    return adata


def trained_model():
    """A FADVI model trained for 2 epochs on `make_adata` (shared), and a fresh copy of the data."""
    model, app_adata = _trained()
    return model, app_adata.copy()


@lru_cache(maxsize=1)
def _trained():
    import scvi

    from fadvi_core import FADVI

    data = make_adata()
    app_adata = data.copy()
    FADVI.setup_anndata(data, batch_key="batch", labels_key="labels", unlabeled_category="Unknown")
    scvi.settings.seed = 0
    model = FADVI(data, **SMALL)
    model.train(max_epochs=2, batch_size=32)
    return model, app_adata


def fake_probabilities(n_cells: int, classes=("label_0", "label_1", "label_2"), seed: int = 0):
    """Random probabilities ``(n_cells, n_classes)`` summing to 1, as ``predict(soft=True)`` gives."""
    rng = np.random.default_rng(seed)
    values = rng.dirichlet(np.ones(len(classes)), size=n_cells)
    return pd.DataFrame(values, columns=list(classes))
