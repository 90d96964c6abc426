"""Every value and column of the input is checked, also on large and backed data."""

from __future__ import annotations

import anndata
import numpy as np
import pytest
from scipy import sparse

from fadvi_core import FADVI, find_input_problems, pad_missing_genes

from .conftest import make_adata


def _large_dense(value: float) -> anndata.AnnData:
    """2,500 x 1,000 = 2.5 million counts with one bad value at an odd position."""
    x = np.ones((2_500, 1_000), dtype=np.float32)
    x.ravel()[1_001] = value
    return anndata.AnnData(x)


@pytest.mark.parametrize(("value", "code"), [(np.nan, "nonfinite"), (np.inf, "nonfinite"),
                                             (-1.0, "negative"), (0.5, "not_counts")])
def test_one_bad_value_in_millions_is_found(value, code):
    problems = find_input_problems(_large_dense(value))
    assert [p.code for p in problems if p.severity == "error"] == [code]
    assert problems[0].detail["n_values"] == 1


@pytest.mark.parametrize("as_sparse", [False, True])
def test_backed_data_is_checked_chunk_by_chunk(tmp_path, as_sparse, monkeypatch):
    monkeypatch.setattr("fadvi_core._scan.CHUNK_VALUES", 500)  # many chunks on small data
    adata = make_adata()
    x = (adata.X.toarray() if sparse.issparse(adata.X) else np.array(adata.X)).astype(np.float32)
    x[-1, -1] = np.nan
    x[5, :] = 0  # one empty cell, reported once the NaN is gone
    adata.X = sparse.csr_matrix(x) if as_sparse else x
    adata.write_h5ad(tmp_path / "bad.h5ad")
    backed = anndata.read_h5ad(tmp_path / "bad.h5ad", backed="r")
    assert [p.code for p in find_input_problems(backed)] == ["nonfinite"]
    x[-1, -1] = 1
    adata.X = sparse.csr_matrix(x) if as_sparse else x
    adata.write_h5ad(tmp_path / "good.h5ad")
    backed = anndata.read_h5ad(tmp_path / "good.h5ad", backed="r")
    problems = find_input_problems(backed, batch_key="batch", labels_key="labels")
    assert [p.code for p in problems] == ["empty_cells"]
    assert np.flatnonzero(problems[0].detail["mask"]).tolist() == [5]


def _set(adata, key, values):
    adata.obs[key] = values
    return adata


@pytest.mark.parametrize(("key", "change", "expected"), [
    ("labels", lambda a: np.where(np.arange(a.n_obs) % 7 == 0, "", a.obs["labels"]),
     "empty value in the labels column 'labels'"),
    ("labels", lambda a: a.obs["labels"].astype(object).where(np.arange(a.n_obs) > 30, np.nan),
     "have no value (NaN) in the labels column 'labels'"),
    ("batch", lambda a: a.obs["batch"].astype(object).where(np.arange(a.n_obs) > 3, np.nan),
     "have no value (NaN) in the batch column 'batch'"),
    ("labels", lambda a: np.arange(a.n_obs) % 3, "holds numbers, not cell-type names"),
])
def test_bad_label_and_batch_columns_get_a_plain_message(adata, key, change, expected):
    _set(adata, key, change(adata))
    with pytest.raises(ValueError) as raised:
        FADVI.setup_anndata(adata, batch_key="batch", labels_key="labels")
    assert expected in str(raised.value)
    assert "categorical failed" not in str(raised.value)
    assert "adata.obs[" in str(raised.value)  # the fix is spelled out


@pytest.mark.parametrize(("axis", "fix"), [("obs", "obs_names_make_unique"),
                                           ("var", "var_names_make_unique")])
def test_duplicate_names_are_refused_with_the_fix(adata, axis, fix):
    names = list(getattr(adata, f"{axis}_names"))
    names[1] = names[0]
    setattr(adata, f"{axis}_names", names)
    with pytest.raises(ValueError, match=fix):
        FADVI.setup_anndata(adata, batch_key="batch", labels_key="labels")


def test_pad_missing_genes_refuses_duplicate_genes(adata):
    adata.var_names = ["g"] * 2 + list(adata.var_names[2:])
    with pytest.raises(ValueError, match="var_names_make_unique"):
        pad_missing_genes(adata, ["g", "x"])


@pytest.mark.parametrize("labels_key", ["labels", None])
def test_one_cell_says_how_many_cells_are_needed(adata, labels_key):
    one = adata[:1].copy()
    with pytest.raises(ValueError, match="The data has 1 cell; training needs at least 2"):
        FADVI.setup_anndata(one, labels_key=labels_key)


def test_one_cell_can_still_be_predicted(trained, tmp_path):
    model, data = trained
    model.save(tmp_path / "m")
    one = data[:1].copy()
    loaded = FADVI.load(tmp_path / "m", adata=one)
    assert loaded.predict().shape == (1,)
