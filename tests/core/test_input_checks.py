"""Every value and every label of the input is checked, also on backed files, with the fix named."""

from __future__ import annotations

import tracemalloc

import anndata
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import fadvi_core._scan as scan
from fadvi_core import FADVI, find_input_problems, pad_missing_genes

from .conftest import make_adata


def _codes(adata, **kwargs) -> list[str]:
    return [problem.code for problem in find_input_problems(adata, **kwargs)
            if problem.severity == "error"]


def _big_dense(bad: float) -> anndata.AnnData:
    """2,000 x 1,001 dense counts (over a million values) with one bad value at an odd place."""
    rng = np.random.default_rng(0)
    x = rng.poisson(1.0, size=(2000, 1001)).astype(np.float32)
    x[:, 0] += 1  # no empty cells
    x[0, 1] = bad
    return anndata.AnnData(X=x)


@pytest.mark.parametrize("bad, code, words", [
    (np.nan, "nonfinite", "1 NaN or infinite value\\."),
    (np.inf, "nonfinite", "1 NaN or infinite value\\."),
    (-3.0, "negative", "1 negative value,"), (0.5, "not_counts", "1 non-integer value,"),
])
def test_every_value_of_a_large_dense_matrix_is_checked(bad, code, words):
    adata = _big_dense(bad)
    assert _codes(adata) == [code]
    with pytest.raises(ValueError, match=words):
        FADVI.setup_anndata(adata)


@pytest.mark.parametrize("layout", ["dense", "csr", "csc"])
def test_backed_files_are_checked_chunk_by_chunk(tmp_path, monkeypatch, layout):
    adata = make_adata(n_per_batch=400, n_genes=200)
    x = np.asarray(adata.X, dtype=np.float32)
    x[5, 7] = 0.5
    x[-1, -1] = -1
    adata.X = {"dense": x, "csr": sparse.csr_matrix(x), "csc": sparse.csc_matrix(x)}[layout]
    path = tmp_path / "cells.h5ad"
    adata.write_h5ad(path)
    backed = anndata.read_h5ad(path, backed="r")
    monkeypatch.setattr(scan, "CHUNK_VALUES", 4_000)  # many chunks
    tracemalloc.start()
    problems = find_input_problems(backed, batch_key="batch", labels_key="labels")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert [p.code for p in problems if p.severity == "error"] == ["negative", "not_counts"]
    assert problems[0].detail["n_values"] == 1 and problems[1].detail["n_values"] == 1
    assert peak < x.nbytes / 2  # X (640 kB) was never read whole
    backed.file.close()


@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_backed_counts_give_cell_totals_and_empty_cells(tmp_path, monkeypatch, layout):
    monkeypatch.setattr(scan, "CHUNK_VALUES", 500)
    adata = make_adata()
    x = np.asarray(adata.X, dtype=np.float32)
    x[5] = 0  # one empty cell
    adata.X = sparse.csr_matrix(x) if layout == "csr" else x
    adata.write_h5ad(tmp_path / "cells.h5ad")
    backed = anndata.read_h5ad(tmp_path / "cells.h5ad", backed="r")
    np.testing.assert_allclose(scan.scan_values(backed.X).totals, x.sum(axis=1))
    problems = find_input_problems(backed, batch_key="batch", labels_key="labels")
    assert [p.code for p in problems] == ["empty_cells"]
    assert np.flatnonzero(problems[0].detail["mask"]).tolist() == [5]
    backed.file.close()


@pytest.mark.parametrize(("key", "change", "expected"), [
    ("labels", lambda a: np.where(np.arange(a.n_obs) % 7 == 0, "", a.obs["labels"]),
     "18 cells have an empty value in the labels column 'labels'; an empty label would be learnt"),
    ("labels", lambda a: a.obs["labels"].astype(object).where(np.arange(a.n_obs) > 30, np.nan),
     "31 cells have no value (NaN) in the labels column 'labels'"),
    ("batch", lambda a: a.obs["batch"].astype(object).where(np.arange(a.n_obs) > 3, np.nan),
     "4 cells have no value (NaN) in the batch column 'batch'"),
    ("labels", lambda a: np.arange(a.n_obs) % 3,
     "The labels column 'labels' holds numbers, not cell-type names"),
])
def test_bad_label_and_batch_columns_get_a_plain_message(adata, key, change, expected):
    adata.obs[key] = change(adata)
    with pytest.raises(ValueError) as raised:
        FADVI.setup_anndata(adata, batch_key="batch", labels_key="labels")
    assert expected in str(raised.value)
    assert "categorical failed" not in str(raised.value)
    assert f"adata.obs['{key}'] = adata.obs['{key}']" in str(raised.value)  # the fix, as code


@pytest.mark.parametrize("axis", ["obs", "var"])
def test_duplicate_cell_or_gene_names_are_refused(adata, axis):
    names = list(getattr(adata, f"{axis}_names"))
    names[3] = names[2]
    setattr(adata, f"{axis}_names", pd.Index(names))
    with pytest.raises(ValueError, match=f"1 {'cell' if axis == 'obs' else 'gene'} name appears "
                                         f"more than once.*{axis}_names_make_unique"):
        FADVI.setup_anndata(adata, batch_key="batch", labels_key="labels")
    if axis == "var":
        with pytest.raises(ValueError, match="not unique"):
            pad_missing_genes(adata, names[:10])


@pytest.mark.parametrize("labels_key", [None, "labels"])
def test_one_cell_says_how_many_are_needed(adata, labels_key):
    one = adata[adata.obs["labels"] == "label_1"][:1].copy()
    with pytest.raises(ValueError, match="The data has 1 cell; training needs at least 2"):
        FADVI.setup_anndata(one, labels_key=labels_key)


def test_one_cell_can_still_be_predicted(trained, tmp_path):
    model, adata = trained
    model.save(tmp_path / "m")
    one = adata[:1].copy()
    loaded = FADVI.load(tmp_path / "m", adata=one)
    assert loaded.predict().shape == (1,)


def test_extra_genes_are_named_not_called_missing(trained, tmp_path):
    model, adata = trained
    model.save(tmp_path / "m")
    wider = make_adata(n_genes=46)
    with pytest.raises(ValueError, match="the data has 6 genes the model was not trained on "
                                         "\\(gene_40, .*adata\\[:, model.var_names\\]"
                                         ".*FADVI.load\\(model_dir\\)") as error:
        FADVI.load(tmp_path / "m", adata=wider)
    assert "are missing" not in str(error.value)


@pytest.mark.parametrize(("key", "bad", "expected"), [
    ("donor", None, "1 cell has no value (NaN) in the covariate column 'donor'"),
    ("percent_mito", np.nan, "1 cell has no value (NaN or infinite) in the covariate column"),
    ("percent_mito", np.inf, "1 cell has no value (NaN or infinite) in the covariate column"),
])
def test_missing_covariate_values_are_named(adata, key, bad, expected):
    adata.obs[key] = adata.obs[key].astype(object if key == "donor" else float)
    adata.obs.loc[adata.obs_names[7], key] = bad
    with pytest.raises(ValueError, match=expected.replace("(", "\\(").replace(")", "\\)")):
        FADVI.setup_anndata(adata, batch_key="batch", labels_key="labels",
                            categorical_covariate_keys=["donor"],
                            continuous_covariate_keys=["percent_mito"])


def test_data_without_x_names_the_fix(adata):
    bare = anndata.AnnData(obs=adata.obs, var=adata.var, layers={"counts": adata.X})
    with pytest.raises(ValueError, match="adata.X is empty.*Choose the layer"):
        FADVI.setup_anndata(bare)
    FADVI.setup_anndata(bare, layer="counts")


def test_the_app_check_also_counts_cells(adata):
    problems = find_input_problems(adata[:1].copy())
    assert problems[0].message == "The data has 1 cell; training needs at least 2."
