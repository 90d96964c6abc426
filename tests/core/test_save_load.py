"""Saving, loading, safety of model files, gene checks and query mapping."""

from __future__ import annotations

import os
import pickle
import zipfile

import numpy as np
import pytest

from fadvi_core import FADVI, ModelFileError

from .conftest import make_adata


def test_save_then_load_gives_identical_predictions(trained, tmp_path):
    model, adata = trained
    model.save(tmp_path / "model")
    loaded = FADVI.load(tmp_path / "model", adata=adata)
    np.testing.assert_array_equal(loaded.predict(soft=True), model.predict(soft=True))
    assert loaded.label_classes == model.label_classes
    assert list(loaded.history) == list(model.history)
    assert sorted(os.listdir(tmp_path / "model")) == ["fadvi_model.npz"]  # no temp files left
    with pytest.raises(FileExistsError, match="overwrite=True"):
        model.save(tmp_path / "model")
    model.save(tmp_path / "model", overwrite=True, save_anndata=True)
    alone = FADVI.load(tmp_path / "model")
    np.testing.assert_array_equal(alone.predict(), model.predict())


class _Exploit:
    def __reduce__(self):
        return (os.system, (f"touch {os.environ['FADVI_MARKER']}",))


def test_a_malicious_model_file_is_refused_without_running_code(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    monkeypatch.setenv("FADVI_MARKER", str(marker))
    folder = tmp_path / "evil"
    folder.mkdir()
    with zipfile.ZipFile(folder / "fadvi_model.npz", "w") as archive:
        archive.writestr("metadata.npy", pickle.dumps(_Exploit()))  # pickle disguised as npy
        archive.writestr("tensor/x.npy", pickle.dumps(_Exploit()))
    with pytest.raises(ModelFileError, match="not a FADVI model file"):
        FADVI.load(folder)
    np.save(folder / "obj.npy", np.array([_Exploit()], dtype=object), allow_pickle=True)
    os.replace(folder / "obj.npy", folder / "fadvi_model.npz")
    with pytest.raises(ModelFileError):
        FADVI.load(folder)
    assert not marker.exists()


def test_gene_mismatch_gets_a_clear_message(trained, tmp_path):
    model, _ = trained
    model.save(tmp_path / "m")
    other = make_adata(n_genes=30)
    with pytest.raises(ValueError, match="genes do not match the model: 10 of the model's 40"):
        FADVI.load(tmp_path / "m", adata=other)
    with pytest.raises(ValueError, match="genes do not match"):
        model.predict(other)


def test_query_mapping_on_a_new_batch(trained):
    model, _ = trained
    query = make_adata(n_per_batch=30, seed=1)
    query.obs["batch"] = "new_run"
    del query.obs["labels"]
    mapped = FADVI.load_query_data(query, model)
    assert mapped.batch_categories == ["batch_0", "batch_1", "new_run"]
    latent_before = mapped.get_latent_representation()
    mapped.train(max_epochs=2, batch_size=20)
    predictions = mapped.predict()
    assert predictions.shape == (query.n_obs,) and set(predictions) <= set(model.label_classes)
    # The reference's encoders are frozen, so z_l of the query does not drift.
    np.testing.assert_array_equal(mapped.get_latent_representation(), latent_before)


def test_why_training_stopped_survives_save_and_load(trained, tmp_path):
    model, adata = trained
    model.save(tmp_path / "model")
    loaded = FADVI.load(tmp_path / "model", adata=adata)
    assert loaded.stop_reason_ == model.stop_reason_
    assert str(loaded.stop_reason_) == "reached the epoch cap after 3 epochs"
