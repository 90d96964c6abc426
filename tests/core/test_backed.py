"""Training from a backed .h5ad reads rows on demand, never the whole count matrix."""

from __future__ import annotations

import anndata
import h5py
import numpy as np
import pytest
import scvi
from scipy import sparse

from fadvi_core import FADVI

from .conftest import SMALL, make_adata


def _train(adata):
    FADVI.setup_anndata(adata, batch_key="batch", labels_key="labels")
    scvi.settings.seed = 0
    model = FADVI(adata, **SMALL)
    model.train(max_epochs=2, batch_size=32)
    return model


@pytest.mark.parametrize("storage", ["csr", "dense"])
def test_backed_file_trains_like_memory_reading_a_minibatch_at_a_time(tmp_path, monkeypatch,
                                                                     storage):
    adata = make_adata()
    adata.X = sparse.csr_matrix(adata.X) if storage == "csr" else np.asarray(adata.X)
    path = tmp_path / "data.h5ad"
    adata.write_h5ad(path)
    in_memory = _train(anndata.read_h5ad(path))

    backed = anndata.read_h5ad(path, backed="r")
    FADVI.setup_anndata(backed, batch_key="batch", labels_key="labels")
    scvi.settings.seed = 0
    model = FADVI(backed, **SMALL)
    read_sizes = []
    original = h5py.Dataset.__getitem__

    def counting(self, key):
        values = original(self, key)
        if not self.name.endswith("indptr"):
            read_sizes.append(np.shape(values)[0] if np.ndim(values) else 1)
        return values

    monkeypatch.setattr(h5py.Dataset, "__getitem__", counting)
    model.train(max_epochs=2, batch_size=32)
    latent = model.get_latent_representation(batch_size=32)
    monkeypatch.undo()

    # Each read is at most one minibatch of rows (or their stored values), never all of X.
    stored = adata.X.nnz if storage == "csr" else adata.n_obs
    largest = max(read_sizes)
    assert read_sizes and largest < stored / 2
    if storage == "dense":
        assert largest <= 33
    # The same seed gives the same model whether X is in memory or on disk.
    np.testing.assert_allclose(latent, in_memory.get_latent_representation(), atol=1e-5)
    assert backed.isbacked and backed.file.is_open
