"""Every documented constructor and training option builds and trains."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import scvi

from fadvi_core import FADVI

from .conftest import SMALL

DOCUMENTED_DEFAULTS = {
    "registry": None, "n_hidden": 128, "n_latent_b": 30, "n_latent_l": 30, "n_latent_r": 10,
    "n_layers": 2, "dropout_rate": 0.1, "dispersion": "gene", "gene_likelihood": "zinb",
    "use_observed_lib_size": True, "beta": 1.0, "lambda_b": 50, "lambda_l": 50, "alpha_bl": 1.0,
    "alpha_lb": 1.0, "alpha_rb": 1.0, "alpha_rl": 1.0, "gamma": 1.0,
}


def test_constructor_matches_the_documented_defaults():
    params = inspect.signature(FADVI.__init__).parameters
    assert {name: params[name].default for name in DOCUMENTED_DEFAULTS} == DOCUMENTED_DEFAULTS


def test_setup_anndata_matches_the_documented_signature():
    params = inspect.signature(FADVI.setup_anndata).parameters
    assert list(params)[:8] == ["adata", "layer", "batch_key", "labels_key", "unlabeled_category",
                                "size_factor_key", "categorical_covariate_keys",
                                "continuous_covariate_keys"]
    assert params["unlabeled_category"].default == "Unknown"


def test_default_model_has_documented_latent_sizes(adata):
    FADVI.setup_anndata(adata, batch_key="batch", labels_key="labels")
    model = FADVI(adata)
    model.train(max_epochs=1)
    sizes = [model.get_latent_representation(representation=r).shape[1] for r in "blr"]
    assert sizes == [30, 30, 10]


@pytest.mark.parametrize("dispersion", ["gene", "gene-batch", "gene-label", "gene-cell"])
@pytest.mark.parametrize("likelihood", ["zinb", "nb", "poisson"])
def test_dispersions_and_likelihoods_train(adata, dispersion, likelihood):
    FADVI.setup_anndata(adata, batch_key="batch", labels_key="labels")
    model = FADVI(adata, dispersion=dispersion, gene_likelihood=likelihood, **SMALL)
    model.train(max_epochs=1, batch_size=40)
    assert np.isfinite(model.history["elbo_train"].iloc[-1, 0])


def test_covariates_size_factor_and_learned_library(adata):
    adata.obs["sf"] = np.asarray(adata.X.sum(1)).ravel() / 100.0
    FADVI.setup_anndata(adata, layer="counts", batch_key="batch", labels_key="labels",
                        size_factor_key="sf", categorical_covariate_keys=["donor"],
                        continuous_covariate_keys=["percent_mito"])
    model = FADVI(adata, **SMALL)
    model.train(max_epochs=1, batch_size=40)
    assert model.module.n_cats_per_cov == [2]
    FADVI.setup_anndata(adata, batch_key="batch", labels_key="labels")
    learned = FADVI(adata, use_observed_lib_size=False, **SMALL)
    learned.train(max_epochs=1, batch_size=40)
    assert np.isfinite(learned.history["kl_local_train"].iloc[-1, 0])


def test_loss_weights_reach_the_loss(adata):
    FADVI.setup_anndata(adata, batch_key="batch", labels_key="labels")
    weights = {"beta": 0.5, "lambda_b": 3, "lambda_l": 4, "alpha_bl": 0.1, "alpha_lb": 0.2,
               "alpha_rb": 0.3, "alpha_rl": 0.4, "gamma": 2.0}
    model = FADVI(adata, **weights, **SMALL)
    assert model.module.weights == {
        "kl": 0.5, "batch_loss": 3, "label_loss": 4, "adv_label_from_b": 0.1,
        "adv_batch_from_l": 0.2, "adv_batch_from_r": 0.3, "adv_label_from_r": 0.4,
        "cross_cov": 2.0}


def test_invalid_choices_are_refused(adata):
    FADVI.setup_anndata(adata, batch_key="batch", labels_key="labels")
    with pytest.raises(ValueError, match="dispersion='gene-donor'.*gene-batch"):
        FADVI(adata, dispersion="gene-donor")


def test_history_has_every_loss_term_and_accuracy(trained):
    model, _ = trained
    for term in ("reconstruction_loss", "kl_local", "batch_loss", "label_loss",
                 "adv_label_from_b", "adv_batch_from_l", "adv_batch_from_r", "adv_label_from_r",
                 "cross_cov", "label_accuracy", "elbo", "loss"):
        assert len(model.history[f"{term}_train"]) == 3
        assert len(model.history[f"{term}_validation"]) == 3
    accuracy = model.history["label_accuracy_train"].to_numpy()
    assert ((accuracy >= 0) & (accuracy <= 1)).all()


def test_train_options(adata):
    FADVI.setup_anndata(adata, batch_key="batch", labels_key="labels")
    model = FADVI(adata, **SMALL)
    model.train(max_epochs=50, train_size=0.8, batch_size=16, accelerator="cpu",
                early_stopping=True, early_stopping_patience=1, early_stopping_min_delta=1e9,
                plan_kwargs={"lr": 1e-2, "n_epochs_kl_warmup": 2})
    assert len(model.history["elbo_train"]) == 2  # stopped by early stopping
    assert len(model.validation_indices) == adata.n_obs - int(np.ceil(0.8 * adata.n_obs))
    model.train(max_epochs=1, train_size=1.0)
    assert "elbo_validation" not in model.history
    with pytest.raises(TypeError, match="plan_kwargs"):
        model.train(max_epochs=1, plan_kwargs={"learning_rate": 1})


def test_same_seed_gives_same_model(adata):
    FADVI.setup_anndata(adata, batch_key="batch", labels_key="labels")
    results = []
    for _ in range(2):
        scvi.settings.seed = 7
        model = FADVI(adata, **SMALL)
        model.train(max_epochs=2, batch_size=32)
        results.append(model.predict(soft=True).to_numpy())
    np.testing.assert_array_equal(*results)
