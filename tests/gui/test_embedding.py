"""Embeddings of latent spaces: shapes, reproducibility, cancelling, obsm names."""

from __future__ import annotations

import numpy as np
import pytest

from fadvi_gui.model.embedding import (
    EmbeddingCancelled,
    EmbeddingProgress,
    compute_embedding,
    embedding_key,
    space_latent,
)


@pytest.fixture(scope="module")
def latent() -> np.ndarray:
    """Two well separated groups of 150 cells in 8 dimensions."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 8)).astype(np.float32)
    x[:150] += 6.0
    return x


@pytest.fixture(scope="module")
def umap_run(latent):
    """One UMAP (slow the first time: numba compiles it) with its progress reports."""
    reports: list[EmbeddingProgress] = []
    coords = compute_embedding(latent, "umap", progress_callback=reports.append, seed=3, n_neighbors=10)
    return coords, reports


def test_pca_is_two_columns_per_cell_and_separates_groups(latent):
    coords = compute_embedding(latent, "pca")
    assert coords.shape == (300, 2)
    assert coords.dtype == np.float32
    first_axis = coords[:, 0]
    assert np.sign(first_axis[:150].mean()) != np.sign(first_axis[150:].mean())


def test_pca_is_identical_when_repeated(latent):
    np.testing.assert_array_equal(compute_embedding(latent, "pca"), compute_embedding(latent, "pca"))


def test_umap_shape_and_progress(umap_run):
    coords, reports = umap_run
    assert coords.shape == (300, 2)
    assert np.isfinite(coords).all()
    fractions = [r.fraction for r in reports]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    assert any("epoch" in r.message for r in reports)


def test_umap_same_seed_same_result(latent, umap_run):
    again = compute_embedding(latent, "umap", seed=3, n_neighbors=10)
    np.testing.assert_array_equal(umap_run[0], again)


def test_stop_before_start_raises(latent):
    with pytest.raises(EmbeddingCancelled):
        compute_embedding(latent, "pca", should_stop=lambda: True)


def test_stop_during_umap_layout_raises(latent, umap_run):
    calls = []

    def stop_after_a_few_checks() -> bool:
        calls.append(1)
        return len(calls) > 3  # past the checks before the layout starts

    with pytest.raises(EmbeddingCancelled):
        compute_embedding(latent, "umap", should_stop=stop_after_a_few_checks, n_neighbors=10)


def test_bad_input_is_explained():
    with pytest.raises(ValueError, match="NaN"):
        compute_embedding(np.full((10, 3), np.nan), "pca")
    with pytest.raises(ValueError, match="'tsne'"):
        compute_embedding(np.zeros((10, 3)), "tsne")


def test_obsm_names_and_space_matrices():
    assert embedding_key("z_l", "umap") == "X_fadvi_l_umap"
    assert embedding_key("z_b", "pca") == "X_fadvi_b_pca"
    assert embedding_key("z_l+z_r", "umap") == "X_fadvi_lr_umap"
    assert embedding_key("all", "pca") == "X_fadvi_all_pca"
    obsm = {"X_fadvi_l": np.ones((5, 3)), "X_fadvi_b": np.zeros((5, 2)), "X_fadvi_r": np.ones((5, 4))}
    assert space_latent(obsm, "z_l+z_r").shape == (5, 7)
    assert space_latent(obsm, "all").shape == (5, 9)
    with pytest.raises(KeyError, match="Train a FADVI model"):
        space_latent({"X_fadvi_l": np.ones((5, 3))}, "z_b")
