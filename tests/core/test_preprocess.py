"""Gene selection and the training copy, as the app and a notebook both run them."""

from __future__ import annotations

import numpy as np
import pytest
from .conftest import make_adata

import fadvi_core
from fadvi_core import FADVI, prepare_training_data, select_genes


def test_select_genes_keeps_the_asked_number_and_all_when_none():
    adata = make_adata(n_genes=60)
    mask = select_genes(adata, n_top_genes=20, layer="counts", batch_key="batch")
    assert mask.dtype == bool and mask.shape == (60,) and mask.sum() == 20
    assert select_genes(adata, n_top_genes=None).all()
    assert select_genes(adata, n_top_genes=500).all()


def test_prepare_training_data_is_a_registered_copy_with_the_selected_genes():
    adata = make_adata(n_genes=60)
    before = adata.copy()
    train = prepare_training_data(adata, layer="counts", batch_key="batch", labels_key="labels",
                                  n_top_genes=30, hvg_batch_key="batch")
    assert train.shape == (adata.n_obs, 30)
    genes = select_genes(adata, n_top_genes=30, layer="counts", batch_key="batch")
    assert list(train.var_names) == list(adata.var_names[genes])
    assert "_scvi_uuid" in train.uns and "_scvi_uuid" not in adata.uns
    assert np.array_equal(adata.layers["counts"], before.layers["counts"])
    model = FADVI(train, n_hidden=8, n_latent_b=2, n_latent_l=2, n_latent_r=2, n_layers=1)
    assert model.adata.n_vars == 30


def test_cells_without_counts_in_the_selected_genes_are_a_plain_error():
    adata = make_adata(n_genes=40)
    adata.layers["counts"][:3] = 0
    with pytest.raises(ValueError, match="3 cells have no counts"):
        prepare_training_data(adata, layer="counts", batch_key="batch", labels_key="labels")


def test_preprocessing_is_public():
    assert {"select_genes", "prepare_training_data"} <= set(fadvi_core.__all__)
    assert fadvi_core.select_genes.__doc__ and fadvi_core.prepare_training_data.__doc__
