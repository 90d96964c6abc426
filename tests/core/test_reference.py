"""Annotating a file with no labels from a labelled reference: genes, card, CLI and results."""

from __future__ import annotations

import json

import anndata
import numpy as np
import pandas as pd
import pytest
import scvi
from scvi.data import synthetic_iid

from fadvi_core import ModelFileError, ReferenceModel, TooFewSharedGenes, annotate, match_genes
from fadvi_core.__main__ import main


def _genes(n: int, *, prefix: str = "ENSG", version: bool = False) -> list[str]:
    return [f"{prefix}{i:011d}" + (f".{i % 7 + 1}" if version else "") for i in range(n)]


def _with_genes(adata, symbols, ids):
    adata.var_names = symbols
    adata.var["gene_ids"] = ids
    return adata


def _synthetic(n_genes: int = 220, seed: int = 0, n_per_batch: int = 300):
    scvi.settings.seed = seed
    adata = synthetic_iid(batch_size=n_per_batch, n_genes=n_genes, n_batches=2, n_labels=3)
    adata.obs["labels"] = adata.obs["labels"].astype(str)
    adata.obs["broad"] = np.where(adata.obs["labels"] == "label_2", "other", "pair")
    return _with_genes(adata, [f"Gene{i}" for i in range(n_genes)], _genes(n_genes))


def test_symbols_match_ensembl_ids_with_versions_and_case():
    reference = _synthetic()
    query = reference.copy()
    query.var_names = _genes(query.n_vars, version=True)  # versioned ids as var_names
    query.var["symbol"] = [name.upper() for name in reference.var_names]
    match = match_genes(reference, query)
    assert match.n_shared == reference.n_vars
    assert np.array_equal(match.query_index, np.arange(reference.n_vars))
    assert match.version_stripped == reference.n_vars  # matched ids, versions ignored
    assert "shared genes" in match.describe()


def test_letter_case_is_ignored_only_where_unambiguous():
    reference = _synthetic()
    query = reference.copy()
    del query.var["gene_ids"]
    names = [name.upper() for name in reference.var_names]
    names[5] = "gene6"  # GENE6 and gene6 both fold to gene6: ambiguous, left out
    query.var_names = names
    match = match_genes(reference, query)
    assert match.case_matched == reference.n_vars - 2
    assert "GENE6" in match.ambiguous or "Gene6" in match.ambiguous
    assert 6 not in match.reference_index


def test_too_few_shared_genes_says_how_many_and_what_to_do():
    reference = _synthetic()
    query = reference[:, :50].copy()
    with pytest.raises(TooFewSharedGenes, match="Only 50 genes match.*same way"):
        match_genes(reference, query)


def test_normalised_data_is_refused_naming_the_file():
    reference, query, _ = _split(_synthetic())
    query.X = np.log1p(query.X)
    with pytest.raises(ValueError, match="In the data: .*non-integer"):
        annotate(query, reference, labels_key="labels", max_epochs=1)


def _split(adata):
    reference = adata[adata.obs["batch"] == "batch_0"].copy()
    query = adata[adata.obs["batch"] == "batch_1"].copy()
    truth = query.obs.pop("labels").to_numpy()
    del query.obs["broad"]
    return reference, query, truth


def test_annotate_writes_every_column_in_the_query_order_and_leaves_it_unchanged():
    reference, query, _ = _split(_synthetic())
    query = query[::-1].copy()  # a different order than the reference's
    query.var_names = _genes(query.n_vars, version=True)
    before = query.copy()
    out = annotate(query, reference, labels_key="labels", coarse_labels_key="broad",
                   max_epochs=3)
    assert list(out.obs_names) == list(query.obs_names)
    for key in ("fadvi_prediction", "fadvi_confidence", "fadvi_novelty", "fadvi_prediction_set",
                "fadvi_prediction_resolved", "fadvi_agreement", "fadvi_knn_prediction"):
        assert key in out.obs, key
    assert set(out.obs["fadvi_prediction"]) <= {"label_0", "label_1", "label_2"}
    assert out.obsm["X_fadvi_l"].shape[0] == query.n_obs
    record = out.uns["fadvi"]
    assert record["genes"]["n_shared"] == query.n_vars
    assert record["genes"]["query_column"] == "var_names"
    assert record["settings"]["mode"] == "joint training"
    assert query.obs.equals(before.obs) and np.array_equal(query.X, before.X)


def test_resolved_prediction_is_the_coarse_type_when_the_set_spans_one():
    from fadvi_core._reference import resolved_predictions

    sets = pd.DataFrame([[True, True, False], [True, False, False], [False, False, False],
                         [True, False, True]], columns=["T_CD4", "T_CD8", "B"])
    coarse = {"T_CD4": "T", "T_CD8": "T", "B": "B"}
    out = resolved_predictions(np.array(["T_CD4", "T_CD4", "B", "B"]), sets, coarse)
    assert list(out) == ["T", "T_CD4", "Not in reference", "Unresolved"]


def test_reference_model_card_round_trip_and_mapping_is_deterministic(tmp_path):
    reference, query, _ = _split(_synthetic())
    source = tmp_path / "ref.h5ad"
    reference.write_h5ad(source)
    built = ReferenceModel.train(reference, labels_key="labels", coarse_labels_key="broad",
                                 max_epochs=3, source=source)
    built.save(tmp_path / "ref_model")
    loaded = ReferenceModel.load(tmp_path / "ref_model")
    assert loaded.card == json.loads(json.dumps(built.card))
    expected = reference.obs["labels"].value_counts().to_dict()
    assert loaded.card["classes"] == {name: int(n) for name, n in expected.items()}
    assert loaded.card["data"]["name"] == "ref.h5ad" and len(loaded.card["data"]["sha256"]) == 64
    assert "Validation accuracy" in loaded.describe()
    first = annotate(query, tmp_path / "ref_model", map_epochs=2)
    second = annotate(query, tmp_path / "ref_model", map_epochs=2)
    assert first.uns["fadvi"]["settings"]["mode"] == "mapping onto a reference model"
    assert np.array_equal(first.obs["fadvi_prediction"], second.obs["fadvi_prediction"])
    np.testing.assert_allclose(first.obs["fadvi_confidence"], second.obs["fadvi_confidence"])


@pytest.mark.parametrize("damage", [
    lambda card: card.pop("genes"),
    lambda card: card.update(classes={"a": -1, "b": 2}),
    lambda card: card.update(gene_ids={"gene_ids": ["x"]}),
    lambda card: card.update(format="something else"),
])
def test_a_damaged_card_is_refused_with_a_plain_error(tmp_path, damage):
    reference, _, _ = _split(_synthetic())
    ReferenceModel.train(reference, labels_key="labels", max_epochs=1).save(tmp_path / "m")
    path = tmp_path / "m" / "reference_card.json"
    card = json.loads(path.read_text())
    damage(card)
    path.write_text(json.dumps(card))
    with pytest.raises(ModelFileError, match="reference card"):
        ReferenceModel.load(tmp_path / "m")


def test_cli_annotate_writes_a_new_file_and_errors_are_one_line(tmp_path, capsys):
    reference, query, _ = _split(_synthetic())
    reference.write_h5ad(tmp_path / "ref.h5ad")
    query.write_h5ad(tmp_path / "query.h5ad")
    out = tmp_path / "annotated.h5ad"
    assert main(["annotate", str(tmp_path / "query.h5ad"), "--reference",
                 str(tmp_path / "ref.h5ad"), "--out", str(out)]) == 1
    assert "--labels-key is needed" in capsys.readouterr().err
    assert main(["annotate", str(tmp_path / "query.h5ad"), "--reference",
                 str(tmp_path / "ref.h5ad"), "--labels-key", "celltype", "--out", str(out)]) == 1
    assert "no obs column 'celltype'" in capsys.readouterr().err
    query[:, :30].copy().write_h5ad(tmp_path / "few.h5ad")
    assert main(["annotate", str(tmp_path / "few.h5ad"), "--reference", str(tmp_path / "ref.h5ad"),
                 "--labels-key", "labels", "--out", str(out)]) == 1
    assert "Only 30 genes match" in capsys.readouterr().err
    assert main(["annotate", str(tmp_path / "query.h5ad"), "--reference",
                 str(tmp_path / "ref.h5ad"), "--labels-key", "labels", "--max-epochs", "2",
                 "--out", str(out)]) == 0
    written = anndata.read_h5ad(out)
    assert written.uns["fadvi"]["reference"]["name"] == "ref.h5ad"
    assert list(written.obs_names) == list(query.obs_names)


def test_demo_withheld_batch_from_a_reference_of_the_other_two(demo):
    reference = demo[demo.obs["batch"] != "5p"].copy()
    query = demo[demo.obs["batch"] == "5p"].copy()
    truth = query.obs.pop("cell_type").astype(str).to_numpy()
    out = annotate(query, reference, labels_key="cell_type", reference_batch_key="batch",
                   coarse_labels_key="cell_type_broad", max_epochs=15)
    accuracy = (out.obs["fadvi_prediction"].astype(str).to_numpy() == truth).mean()
    assert accuracy > 0.9
    resolved = out.obs["fadvi_prediction_resolved"].astype(str)
    assert set(resolved) <= set(truth) | {"T", "Mono", "Not in reference", "Unresolved"}
    assert out.obs["fadvi_agreement"].mean() > 0.9


def test_a_model_trained_on_its_own_columns_becomes_a_reference(tmp_path):
    from fadvi_core import FADVI

    reference, query, truth = _split(_synthetic())
    reference.layers["counts"] = reference.X.copy()
    FADVI.setup_anndata(reference, layer="counts", batch_key="batch", labels_key="labels")
    scvi.settings.seed = 0
    model = FADVI(reference)
    model.train(max_epochs=3)
    ReferenceModel.from_model(model, coarse_labels_key="broad").save(tmp_path / "ref_model")
    loaded = ReferenceModel.load(tmp_path / "ref_model")
    assert loaded.card["labels_key"] == "labels" and loaded.card["coarse_of"]["label_2"] == "other"
    out = annotate(query, tmp_path / "ref_model", map_epochs=2)
    assert list(out.obs_names) == list(query.obs_names)
    assert set(out.obs["fadvi_prediction"]) <= {"label_0", "label_1", "label_2"}


def test_a_model_without_labels_cannot_be_a_reference():
    from fadvi_core import FADVI

    reference, _, _ = _split(_synthetic())
    FADVI.setup_anndata(reference, batch_key="batch")
    model = FADVI(reference)
    model.train(max_epochs=1)
    with pytest.raises(ValueError, match="without cell-type labels"):
        ReferenceModel.from_model(model)


def test_method_map_trains_on_the_reference_then_maps(tmp_path):
    reference, query, _ = _split(_synthetic())
    path = tmp_path / "ref.h5ad"
    reference.write_h5ad(path)
    out = annotate(query, path, labels_key="labels", method="map", max_epochs=2, map_epochs=2)
    record = out.uns["fadvi"]
    assert record["settings"]["mode"] == "mapping onto a reference model"
    assert record["reference"]["name"] == "ref.h5ad" and len(record["reference"]["sha256"]) == 64
    with pytest.raises(ValueError, match="use 'joint' or 'map'"):
        annotate(query, reference, labels_key="labels", method="both")
