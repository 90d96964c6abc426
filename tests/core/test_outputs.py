"""Latent spaces, predictions, attributions, ranked genes and normalised expression."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

LATENT = {"full": 10, "b": 4, "batch": 4, "l": 4, "label": 4, "r": 2, "residual": 2, "lr": 6,
          "label_residual": 6}
RANKED_COLUMNS = ["feature", "feature_idx", "attribution_mean", "attribution_std",
                  "attribution_abs_mean", "n_cells"]


@pytest.mark.parametrize("representation, width", LATENT.items())
def test_latent_shapes_for_every_representation(trained, representation, width):
    model, adata = trained
    latent = model.get_latent_representation(representation=representation)
    assert latent.shape == (adata.n_obs, width)


def test_latent_options(trained):
    model, adata = trained
    assert model.get_latent_representation().shape == (adata.n_obs, 4)  # default: label
    subset = model.get_latent_representation(indices=[0, 5, 7], batch_size=2)
    np.testing.assert_allclose(subset, model.get_latent_representation()[[0, 5, 7]], atol=1e-6)
    assert not np.allclose(model.get_latent_representation(give_mean=False),
                           model.get_latent_representation())
    dist = model.get_latent_representation(return_dist=True, representation="b")
    assert dist["mean"].shape == dist["var"].shape == dist["dist"].shape == (adata.n_obs, 4)
    assert (dist["var"] > 0).all()
    with pytest.raises(ValueError, match="representation='z'"):
        model.get_latent_representation(representation="z")


def test_hard_predictions_are_category_names(trained):
    model, adata = trained
    predictions = model.predict()
    assert predictions.shape == (adata.n_obs,)
    assert set(predictions) <= {"label_0", "label_1", "label_2"}  # never "Unknown"
    batches = model.predict(prediction_mode="batch")
    assert set(batches) <= {"batch_0", "batch_1"}


def test_soft_predictions_are_probabilities_per_class(trained):
    model, adata = trained
    soft = model.predict(soft=True)
    assert isinstance(soft, pd.DataFrame)
    assert list(soft.columns) == model.label_classes
    assert list(soft.index) == list(adata.obs_names)
    np.testing.assert_allclose(soft.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(soft.idxmax(axis=1).to_numpy(), model.predict())
    soft_b = model.predict(prediction_mode="b", soft=True, indices=[1, 2])
    assert list(soft_b.columns) == ["batch_0", "batch_1"] and len(soft_b) == 2
    assert isinstance(model.predict(soft=True, return_numpy=False), torch.Tensor)


@pytest.mark.parametrize("method", ["ig", "gs"])
def test_attribution_results(trained, method):
    model, adata = trained
    result = model.predict(indices=np.arange(10), interpretability=method,
                           interpretability_args={"n_steps": 8} if method == "ig" else None)
    assert set(result) == {"predictions", "attributions"}
    assert result["attributions"].shape == (10, adata.n_vars)
    assert result["predictions"].shape == (10,)
    predictions, attributions = model.predict(indices=[0, 1], interpretability=method,
                                              return_dict=False)
    assert attributions.shape == (2, adata.n_vars)


def test_ranked_features_have_the_documented_columns(trained):
    model, adata = trained
    attributions = model.predict(interpretability="ig")["attributions"]
    ranked = model.get_ranked_features(attributions=attributions)
    assert list(ranked.columns) == RANKED_COLUMNS
    assert len(ranked) == adata.n_vars and (ranked["n_cells"] == adata.n_obs).all()
    assert ranked["attribution_abs_mean"].is_monotonic_decreasing
    assert len(model.get_ranked_features(attributions=attributions, top_n=5)) == 5
    with pytest.raises(ValueError, match="interpretability='ig'"):
        model.get_ranked_features()


def test_ranked_features_by_label(trained):
    model, adata = trained
    result = model.predict(interpretability="ig")
    table = model.get_ranked_features_by_label(result["attributions"], result["predictions"],
                                               top_n=3)
    assert list(table.columns[:4]) == ["label", "gene", "score", "rank"]
    assert set(table["label"]) == set(result["predictions"])
    for _, group in table.groupby("label"):
        assert list(group["rank"]) == [1, 2, 3] and group["score"].is_monotonic_decreasing


def test_normalized_expression_options(trained):
    model, adata = trained
    frame = model.get_normalized_expression()
    assert frame.shape == adata.shape and list(frame.columns) == list(adata.var_names)
    np.testing.assert_allclose(frame.sum(axis=1), 1.0, rtol=1e-4)
    genes = list(adata.var_names[:3])
    subset = model.get_normalized_expression(gene_list=genes, library_size=1e4,
                                             transform_batch="batch_1")
    assert list(subset.columns) == genes
    assert not np.allclose(subset, model.get_normalized_expression(
        gene_list=genes, library_size=1e4, transform_batch=0))
    samples = model.get_normalized_expression(n_samples=3, return_mean=False, indices=[0, 1])
    assert isinstance(samples, np.ndarray) and samples.shape == (3, 2, adata.n_vars)
    latent = model.get_normalized_expression(library_size="latent", return_numpy=True)
    assert isinstance(latent, np.ndarray) and latent.shape == adata.shape
    with pytest.raises(ValueError, match="transform_batch 'nope'"):
        model.get_normalized_expression(transform_batch="nope")


def test_predictions_are_deterministic(trained):
    model, _ = trained
    np.testing.assert_array_equal(model.predict(soft=True), model.predict(soft=True))
    first = model.predict(indices=[0, 1, 2], interpretability="ig")["attributions"]
    second = model.predict(indices=[0, 1, 2], interpretability="ig")["attributions"]
    np.testing.assert_array_equal(first, second)
