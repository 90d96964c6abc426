"""The command line trains, saves, predicts and writes a new file."""

from __future__ import annotations

import anndata
import numpy as np

from fadvi_core.__main__ import main

from .conftest import make_adata


def test_train_then_predict_writes_a_new_annotated_file(tmp_path):
    source = tmp_path / "data.h5ad"
    make_adata().write_h5ad(source)
    before = source.read_bytes()
    assert main(["train", str(source), "--batch-key", "batch", "--labels-key", "labels",
                 "--max-epochs", "2", "--batch-size", "32", "--out", str(tmp_path / "m")]) == 0
    out = tmp_path / "annotated.h5ad"
    assert main(["predict", str(tmp_path / "m"), str(source), "--out", str(out)]) == 0
    annotated = anndata.read_h5ad(out)
    assert set(annotated.obs["fadvi_prediction"]) <= {"label_0", "label_1", "label_2"}
    assert np.all((annotated.obs["fadvi_confidence"] > 0) & (annotated.obs["fadvi_confidence"] <= 1))
    assert annotated.obsm["X_fadvi_l"].shape == (annotated.n_obs, 30)
    assert source.read_bytes() == before  # the input file is never written


def test_bad_input_is_a_message_not_a_traceback(tmp_path, capsys):
    source = tmp_path / "data.h5ad"
    make_adata().write_h5ad(source)
    assert main(["train", str(source), "--labels-key", "celltype", "--out", str(tmp_path / "m")]) == 1
    assert "'celltype' is not in adata.obs" in capsys.readouterr().err
