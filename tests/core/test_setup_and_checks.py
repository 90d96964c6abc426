"""setup_anndata defaults and the plain-language errors for bad input."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from fadvi_core import FADVI, find_input_problems, pad_missing_genes

from .conftest import SMALL, make_adata


def test_defaults_without_batch_or_labels(adata):
    FADVI.setup_anndata(adata)
    model = FADVI(adata, **SMALL)
    assert model.batch_categories == ["0"] or len(model.batch_categories) == 1
    assert len(model.label_classes) == 1
    assert model.unlabeled_category_ is None
    model.train(max_epochs=1, batch_size=40)
    assert set(model.predict()) == set(model.label_classes)


def test_unlabelled_category_is_never_a_class(adata):
    FADVI.setup_anndata(adata, batch_key="batch", labels_key="labels")
    model = FADVI(adata, **SMALL)
    assert sorted(model.label_classes) == ["label_0", "label_1", "label_2"]


@pytest.mark.parametrize("kind", ["dense", "csr", "csc"])
def test_matrix_formats_work(kind):
    adata = make_adata()
    adata.X = {"dense": np.asarray(adata.X), "csr": sparse.csr_matrix(adata.X),
               "csc": sparse.csc_matrix(adata.X)}[kind]
    FADVI.setup_anndata(adata, batch_key="batch", labels_key="labels")
    model = FADVI(adata, **SMALL)
    model.train(max_epochs=1, batch_size=32)
    assert model.predict().shape == (adata.n_obs,)


def test_normalised_data_is_refused_with_the_counts_layer_named(adata):
    adata.X = np.log1p(np.asarray(adata.X, dtype=float) / 3.0)
    with pytest.raises(ValueError, match="normalised") as error:
        FADVI.setup_anndata(adata, batch_key="batch", labels_key="labels")
    assert "counts" in str(error.value)


@pytest.mark.parametrize("bad, words", [(-1.0, "negative"), (np.nan, "NaN"), (np.inf, "infinite")])
def test_negative_nan_inf_are_refused(adata, bad, words):
    adata.X = np.asarray(adata.X, dtype=float)
    adata.X[0, 0] = bad
    with pytest.raises(ValueError, match=words):
        FADVI.setup_anndata(adata, batch_key="batch", labels_key="labels")


def test_empty_cells_are_refused_with_the_fix(adata):
    adata.X = np.asarray(adata.X)
    adata.X[3] = 0
    with pytest.raises(ValueError, match="1 cells have zero total counts.*filter_cells"):
        FADVI.setup_anndata(adata, batch_key="batch", labels_key="labels")
    problems = find_input_problems(adata)
    assert problems[0].code == "empty_cells" and problems[0].detail["mask"][3]


def test_missing_column_lists_existing_ones(adata):
    with pytest.raises(ValueError, match="'celltype' is not in adata.obs.*labels"):
        FADVI.setup_anndata(adata, batch_key="batch", labels_key="celltype")


def test_missing_layer_is_named(adata):
    with pytest.raises(ValueError, match="layer 'raw' is not in the data.*counts"):
        FADVI.setup_anndata(adata, layer="raw")


def test_single_class_is_refused(adata):
    adata.obs["labels"] = np.where(adata.obs["labels"] == "Unknown", "Unknown", "T cell")
    with pytest.raises(ValueError, match="at least two"):
        FADVI.setup_anndata(adata, batch_key="batch", labels_key="labels")


def test_empty_anndata_is_refused(adata):
    with pytest.raises(ValueError, match="empty"):
        FADVI.setup_anndata(adata[:0].copy())


def test_rare_classes_are_a_warning_not_an_error(adata):
    adata.obs.loc[adata.obs_names[-2:], "labels"] = "rare"
    problems = find_input_problems(adata, labels_key="labels")
    assert [p.code for p in problems] == ["rare_classes"]
    assert problems[0].severity == "warning" and "rare (2)" in problems[0].message


def test_setup_does_not_change_values(adata):
    before = adata.X.copy()
    FADVI.setup_anndata(adata, batch_key="batch", labels_key="labels")
    assert (adata.X != before).nnz == 0 if sparse.issparse(before) else np.array_equal(adata.X, before)


def test_pad_missing_genes_fills_zeros(adata):
    genes = list(adata.var_names[:5]) + ["NEW1"] + list(adata.var_names[5:8])
    padded = pad_missing_genes(adata, genes)
    assert list(padded.var_names) == genes
    dense = np.asarray(adata.X.todense() if sparse.issparse(adata.X) else adata.X)
    np.testing.assert_array_equal(padded.X[:, 6:].toarray(), dense[:, 5:8])
    assert padded.X[:, 5].nnz == 0
