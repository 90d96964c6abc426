"""Predictions in AnnData, review rules, exports, the annotated h5ad and gene alignment (no Qt)."""

from __future__ import annotations

import anndata
import numpy as np
import pandas as pd
import pytest
from prediction_data import fake_probabilities, make_adata, trained_model

from fadvi_gui.model import results, results_io
from fadvi_gui.model.explain import RANKED_COLUMNS, explain, sample_cells

CLASSES = ["label_0", "label_1", "label_2"]


@pytest.fixture
def predicted():
    adata = make_adata()
    probabilities = fake_probabilities(adata.n_obs)
    results.write_predictions(adata, probabilities)
    return adata, probabilities


def _review(adata):
    return results.review_table(adata, batch_key="batch", labels_key="labels",
                                unlabeled_category="Unknown")


def test_write_predictions_stores_class_confidence_and_probabilities(predicted):
    adata, probabilities = predicted
    assert list(adata.obs[results.PREDICTION_KEY]) == list(probabilities.idxmax(axis=1))
    np.testing.assert_allclose(adata.obs[results.CONFIDENCE_KEY], probabilities.max(axis=1))
    assert adata.obs[results.CONFIDENCE_KEY].between(0, 1).all()
    np.testing.assert_allclose(adata.obsm[results.PROBABILITIES_KEY], probabilities.to_numpy())
    assert list(adata.uns["fadvi_probability_classes"]) == CLASSES


def test_predicting_a_subset_only_changes_those_cells(predicted):
    adata, _ = predicted
    before = adata.obs[results.CONFIDENCE_KEY].copy()
    subset = np.array([3, 5, 7])
    certain = pd.DataFrame(np.tile([0.0, 0.0, 1.0], (3, 1)), columns=CLASSES)
    results.write_predictions(adata, certain, indices=subset)
    assert list(adata.obs[results.PREDICTION_KEY].iloc[subset]) == ["label_2"] * 3
    assert (adata.obs[results.CONFIDENCE_KEY].iloc[subset] == 1.0).all()
    others = np.setdiff1d(np.arange(adata.n_obs), subset)
    np.testing.assert_array_equal(adata.obs[results.CONFIDENCE_KEY].iloc[others], before.iloc[others])


def test_first_prediction_of_a_subset_leaves_other_cells_unpredicted():
    adata = make_adata()
    results.write_predictions(adata, fake_probabilities(2), indices=[0, 1])
    assert adata.obs[results.PREDICTION_KEY].notna().sum() == 2
    assert len(_review(adata)) == 2


def test_batch_mode_writes_its_own_fields(predicted):
    adata, _ = predicted
    batches = pd.DataFrame(np.tile([0.9, 0.1], (adata.n_obs, 1)), columns=["batch_0", "batch_1"])
    results.write_predictions(adata, batches, mode="batch")
    assert (adata.obs["fadvi_batch_prediction"] == "batch_0").all()
    assert list(adata.obs[results.PREDICTION_KEY].cat.categories) == CLASSES


def test_threshold_marks_low_confidence_uncertain(predicted):
    adata, _ = predicted
    marked = results.thresholded(adata.obs[results.PREDICTION_KEY],
                                 adata.obs[results.CONFIDENCE_KEY], 0.6)
    low = adata.obs[results.CONFIDENCE_KEY].to_numpy() < 0.6
    assert (marked[low] == results.UNCERTAIN).all()
    assert (marked[~low].to_numpy() == adata.obs[results.PREDICTION_KEY][~low].to_numpy()).all()


def test_bulk_accept_fills_unlabelled_cells_and_keeps_original_labels(predicted):
    adata, _ = predicted
    original = adata.obs["labels"].copy()
    n = results.accept_predictions(adata, labels_key="labels", unlabeled_category="Unknown",
                                   threshold=0.5)
    accepted = adata.obs[results.ACCEPTED_KEY].astype(str)
    unlabelled = original == "Unknown"
    confident = adata.obs[results.CONFIDENCE_KEY] >= 0.5
    assert n == int((unlabelled & confident).sum()) > 0
    pd.testing.assert_series_equal(adata.obs["labels"], original)
    assert (accepted[unlabelled & confident] == adata.obs[results.PREDICTION_KEY][unlabelled & confident].astype(str)).all()
    assert (accepted[~unlabelled] == original[~unlabelled]).all()
    assert (accepted[unlabelled & ~confident] == "Unknown").all()


def test_accepting_given_cells_overwrites_only_them(predicted):
    adata, _ = predicted
    cells = np.array([40, 41])
    n = results.accept_predictions(adata, labels_key="labels", unlabeled_category="Unknown",
                                   indices=cells, replace_labelled=True)
    assert n == 2
    accepted = adata.obs[results.ACCEPTED_KEY].astype(str)
    assert list(accepted.iloc[cells]) == list(adata.obs[results.PREDICTION_KEY].iloc[cells].astype(str))
    assert (accepted.iloc[:20] == "Unknown").all()


def test_accept_without_predictions_says_what_to_do():
    with pytest.raises(ValueError, match="Predict labels"):
        results.accept_predictions(make_adata(), labels_key="labels", unlabeled_category="Unknown")


def test_review_filters(predicted):
    adata, _ = predicted
    table = _review(adata)
    assert list(table.columns[:6]) == ["position", "cell", "batch", "existing_label",
                                       "predicted_label", "confidence"]
    assert results.filter_review(table, "unlabelled", 0.5).sum() == 20
    disagree = table[results.filter_review(table, "disagreements", 0.5)]
    assert (disagree.existing_label != disagree.predicted_label).all()
    assert (disagree.existing_label != "Unknown").all()
    low = table[results.filter_review(table, "low_confidence", 0.5)]
    assert (low.confidence < 0.5).all()
    assert results.filter_review(table, "all", 0.5).all()


def test_counts_confusion_and_accuracy(predicted):
    adata, _ = predicted
    table = _review(adata)
    counts = results.class_counts(table, threshold=0.5)
    assert counts.sum() == adata.n_obs
    assert counts[results.UNCERTAIN] == int((table.confidence < 0.5).sum())
    matrix = results.confusion_matrix(table)
    assert matrix.to_numpy().sum() == adata.n_obs - 20
    assert "Unknown" not in matrix.index
    expected = np.mean(table.existing_label[table.labelled] == table.predicted_label[table.labelled])
    assert results.accuracy(adata.obs["labels"], adata.obs[results.PREDICTION_KEY],
                            unlabeled_category="Unknown") == pytest.approx(expected)


def test_predictions_csv_has_every_column(predicted, tmp_path):
    adata, probabilities = predicted
    path = results_io.export_predictions_csv(adata, tmp_path / "p.csv", batch_key="batch",
                                             labels_key="labels")
    frame = pd.read_csv(path)
    assert list(frame.columns[:5]) == ["cell", "batch", "existing_label", "prediction", "confidence"]
    assert [f"probability_{c}" for c in CLASSES] == [c for c in frame.columns if c.startswith("probability_")]
    np.testing.assert_allclose(frame[[f"probability_{c}" for c in CLASSES]].sum(axis=1), 1.0)
    assert len(frame) == adata.n_obs


def test_annotated_h5ad_roundtrip(predicted, tmp_path):
    adata, _ = predicted
    source = tmp_path / "input.h5ad"
    adata.write_h5ad(source)
    before = source.read_bytes()
    adata.obs["_scvi_batch"] = 0
    adata.uns["_scvi_uuid"] = "x"
    results.accept_predictions(adata, labels_key="labels", unlabeled_category="Unknown")
    latents = {"X_fadvi_l": np.ones((adata.n_obs, 4)), "X_fadvi_b": np.zeros((adata.n_obs, 2)),
               "X_fadvi_r": np.zeros((adata.n_obs, 2))}
    settings = {"setup": {"batch_key": "batch", "labels_key": "labels", "layer": None},
                "model": {"n_hidden": 16}, "covariates": ("a", "b")}
    out = results_io.save_annotated_h5ad(adata, tmp_path / "out.h5ad", settings=settings, seed=7,
                                         latents=latents, source=source)
    saved = anndata.read_h5ad(out)
    assert source.read_bytes() == before
    assert {"X_fadvi_l", "X_fadvi_b", "X_fadvi_r"} <= set(saved.obsm)
    for key in (results.PREDICTION_KEY, results.CONFIDENCE_KEY, results.ACCEPTED_KEY):
        assert key in saved.obs
    assert not [c for c in saved.obs.columns if c.startswith("_scvi")]
    assert not [k for k in saved.uns if k.startswith("_scvi")]
    assert saved.uns["fadvi"]["seed"] == 7
    assert saved.uns["fadvi"]["settings"]["setup"]["labels_key"] == "labels"
    assert "scvi-tools" in saved.uns["fadvi"]["versions"]
    assert "_scvi_batch" in adata.obs  # the data in memory is not changed
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_saving_over_the_opened_file_is_refused(predicted, tmp_path):
    adata, _ = predicted
    source = tmp_path / "input.h5ad"
    adata.write_h5ad(source)
    with pytest.raises(ValueError, match="never overwritten"):
        results_io.save_annotated_h5ad(adata, source, settings={}, seed=0, source=source)


def test_align_to_model_genes():
    adata = make_adata(n_genes=10)
    genes = list(adata.var_names)
    same, n, message = results_io.align_to_model_genes(adata, genes)
    assert same is adata and n == 0 and message == ""
    padded, n, message = results_io.align_to_model_genes(adata[:, 2:].copy(), genes)
    assert n == 2 and "2 of the model's 10 genes are missing" in message
    assert list(padded.var_names) == genes and padded.X[:, :2].sum() == 0
    none, n, message = results_io.align_to_model_genes(adata, ["other_1", "other_2"])
    assert none is None and n == 2 and "None of the model's" in message


def test_sampling_is_capped_and_repeatable():
    cells = np.arange(1000)
    first = sample_cells(cells, 50, seed=3)
    assert len(first) == 50 and np.array_equal(first, sample_cells(cells, 50, seed=3))
    assert np.array_equal(sample_cells(cells[:10], 50, seed=3), cells[:10])


def test_explain_one_class_ranks_every_gene_with_documented_columns():
    model, adata = trained_model()
    results.write_predictions(adata, model.predict(soft=True))
    label = str(adata.obs[results.PREDICTION_KEY].iloc[0])
    result = explain(model, adata, method="ig", scope="class", label=label, max_cells=15, n_steps=5)
    assert list(result.tables) == [label]
    table = result.tables[label]
    assert tuple(table.columns) == RANKED_COLUMNS
    assert sorted(table.feature) == sorted(model.var_names)
    assert table.attribution_abs_mean.is_monotonic_decreasing
    assert len(result.indices) <= 15 and (result.predictions == label).all()
    assert set(result.by_label.columns) >= {"label", "gene", "score", "rank"}


def test_explain_selection_and_every_class_with_gradient_shap():
    model, adata = trained_model()
    selection = explain(model, adata, method="gs", scope="selection", indices=[0, 1, 2, 3],
                        n_steps=3)
    assert list(selection.indices) == [0, 1, 2, 3]
    assert next(iter(selection.tables.values())).n_cells.iloc[0] == 4
    every = explain(model, None, method="ig", scope="all", max_cells=5, n_steps=3)
    assert set(every.tables) == set(every.predictions)
    with pytest.raises(ValueError, match="No cells are selected"):
        explain(model, adata, scope="selection", indices=[])
