from __future__ import annotations

from pathlib import Path

import anndata
import numpy as np
import pytest
import scvi
from scvi.data import synthetic_iid

from fadvi_core import FADVI

DEMO = Path(__file__).resolve().parents[2] / "resources" / "pbmc_symphony.h5ad"
SMALL = {"n_hidden": 16, "n_latent_b": 4, "n_latent_l": 4, "n_latent_r": 2, "n_layers": 1}


def make_adata(n_per_batch: int = 60, n_genes: int = 40, n_unlabelled: int = 20, seed: int = 0):
    """Synthetic counts with two batches, three labels and some 'Unknown' cells."""
    scvi.settings.seed = seed
    adata = synthetic_iid(batch_size=n_per_batch, n_genes=n_genes, n_batches=2, n_labels=3)
    adata.obs["labels"] = adata.obs["labels"].astype(str)
    adata.obs.loc[adata.obs_names[:n_unlabelled], "labels"] = "Unknown"
    adata.obs["donor"] = np.where(np.arange(adata.n_obs) % 2, "d1", "d2")
    adata.obs["percent_mito"] = np.linspace(0, 1, adata.n_obs)
    adata.layers["counts"] = adata.X.copy()
    return adata


@pytest.fixture
def adata():
    return make_adata()


@pytest.fixture(scope="session")
def trained():
    """A small model trained for a few epochs, with its data."""
    data = make_adata()
    FADVI.setup_anndata(data, batch_key="batch", labels_key="labels")
    scvi.settings.seed = 0
    model = FADVI(data, **SMALL)
    model.train(max_epochs=3, batch_size=32, check_val_every_n_epoch=1)
    return model, data


@pytest.fixture(scope="session")
def demo_path() -> Path:
    return DEMO


@pytest.fixture
def demo() -> anndata.AnnData:
    return anndata.read_h5ad(DEMO)
