"""A model file is untrusted: its metadata and weights are checked before anything is built."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fadvi_core import FADVI, ModelFileError

MODEL = "fadvi_model.npz"


def _rewrite(folder: Path, change) -> None:
    """Apply ``change(metadata, arrays)`` to a saved model file in place."""
    with np.load(folder / MODEL) as archive:
        arrays = {name: archive[name] for name in archive.files}
    metadata = json.loads(arrays["metadata"].tobytes())
    change(metadata, arrays)
    arrays["metadata"] = np.frombuffer(json.dumps(metadata).encode(), dtype=np.uint8)
    np.savez(folder / MODEL, **arrays)


@pytest.fixture
def saved(trained, tmp_path):
    model, data = trained
    model.save(tmp_path / "m")
    return tmp_path / "m", data


def _settings(metadata):
    return metadata["init_params"]["non_kwargs"]


@pytest.mark.parametrize(("change", "words"), [
    (lambda m, a: m.update(format_version="1"), "format_version must be a whole number"),
    (lambda m, a: m.pop("registry"), "registry is missing"),
    (lambda m, a: m["init_params"]["kwargs"]["model_kwargs"].update(evil=1),
     "'evil' is not a setting"),
    (lambda m, a: _settings(m).update(n_layers=100_000), "n_layers must be a whole number"),
    (lambda m, a: _settings(m).update(n_hidden=2_000_000), "n_hidden must be a whole number"),
    (lambda m, a: _settings(m).update(dropout_rate="0.1"), "dropout_rate must be a number"),
    (lambda m, a: m["registry"]["field_registries"]["batch"]["state_registry"]
     ["categorical_mapping"].update(dtype="V2000000000"), "unsupported type 'V2000000000'"),
    (lambda m, a: m["registry"]["field_registries"]["X"]["state_registry"]
     ["column_names"]["__ndarray__"].pop(), "the gene list has 39 genes but says n_vars=40"),
])
def test_bad_metadata_is_refused_before_building(saved, change, words, monkeypatch):
    folder, data = saved
    _rewrite(folder, change)
    built = []
    monkeypatch.setattr("fadvi_core._model.FADVAE.__init__",
                        lambda *args, **kwargs: built.append(1) or 1 / 0)
    for adata in (None, data.copy()):
        with pytest.raises(ModelFileError, match=words):
            FADVI.load(folder, adata=adata)
    assert not built  # no module was allocated


def test_sizes_the_weights_do_not_match_are_refused_before_building(saved, monkeypatch):
    folder, _ = saved
    _rewrite(folder, lambda m, a: _settings(m).update(n_hidden=4096, n_layers=8))
    built = []
    monkeypatch.setattr("fadvi_core._model.FADVAE.__init__",
                        lambda *args, **kwargs: built.append(1) or 1 / 0)
    with pytest.raises(ModelFileError, match="at least .* weights, but the file stores"):
        FADVI.load(folder)
    assert not built


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_weights_are_refused(saved, value):
    folder, data = saved

    def poison(metadata, arrays):
        arrays["tensor/scale_head.weight"][0, 0] = value

    _rewrite(folder, poison)
    with pytest.raises(ModelFileError, match=r"NaN or infinite weights \(scale_head.weight\)"):
        FADVI.load(folder, adata=data.copy())


def test_a_new_batch_says_to_map_it(saved):
    folder, data = saved
    query = data.copy()
    query.obs["batch"] = query.obs["batch"].astype(str).replace("batch_1", "batch_new")
    with pytest.raises(ValueError, match="batch_new") as raised:
        FADVI.load(folder, adata=query)
    assert "FADVI.load_query_data(adata" in str(raised.value)
    assert "fadvi map" in str(raised.value)
    assert "extend_categories" not in str(raised.value)


def test_unknown_labels_are_ignored_for_prediction(saved):
    folder, data = saved
    query = data.copy()
    query.obs["labels"] = query.obs["labels"].astype(str).replace("label_0", "label_new")
    before = query.obs["labels"].copy()
    model = FADVI.load(folder, adata=query)
    assert set(model.predict()) <= {"label_0", "label_1", "label_2"}
    assert query.obs["labels"].equals(before)  # the user's column is kept as it was


def test_a_cut_gene_list_gets_a_true_message(trained, tmp_path):
    model, data = trained
    model.save(tmp_path / "m")

    def cut(metadata, arrays):  # a model trained on the first 30 of the data's 40 genes
        state = metadata["registry"]["field_registries"]["X"]["state_registry"]
        del state["column_names"]["__ndarray__"][30:]
        state["n_vars"] = 30

    _rewrite(tmp_path / "m", cut)
    with pytest.raises(ValueError) as raised:
        FADVI.load(tmp_path / "m", adata=data.copy())
    message = str(raised.value)
    assert "0 of the model's" not in message
    assert "the data has 10 genes the model was not trained on (gene_30" in message
    assert "adata[:, model.var_names]" in message


def test_mapping_a_new_batch_keeps_the_models_cell_types(saved):
    folder, data = saved
    query = data.copy()
    query.obs["batch"] = "batch_new"
    query.obs["labels"] = query.obs["labels"].astype(str).replace("label_0", "label_new")
    model = FADVI.load_query_data(query, folder)
    assert model.batch_categories == ["batch_0", "batch_1", "batch_new"]
    assert sorted(model.label_classes) == ["label_0", "label_1", "label_2"]  # no new class
    assert set(model.predict()) <= {"label_0", "label_1", "label_2"}
