"""The cells' Points layer data, without napari: features, colouring choice, coordinates."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import N_CELLS, annotated_data

from fadvi_napari._cells import (
    CANVAS_SIZE, MISSING, cell_features, colour_feature, point_coordinates, stored_embedding,
)


def test_features_hold_batch_label_prediction_confidence_and_novelty():
    adata = annotated_data()
    features = cell_features(adata.obs, batch_key="batch", labels_key="cell_type")
    assert list(features.columns) == ["batch", "label", "prediction", "confidence", "novelty"]
    assert len(features) == N_CELLS
    assert set(features["label"].cat.categories) == {"B", "T", "NK"}
    np.testing.assert_allclose(features["novelty"], adata.obs["fadvi_novelty"])
    assert colour_feature(features) == "prediction"


def test_novelty_only_where_the_data_has_it_and_unpredicted_cells_are_named():
    obs = annotated_data(novelty=False).obs
    obs["fadvi_prediction"] = obs["fadvi_prediction"].astype(object)
    obs.iloc[:5, obs.columns.get_loc("fadvi_prediction")] = np.nan
    features = cell_features(obs, batch_key="batch", labels_key=None)
    assert "novelty" not in features.columns and "label" not in features.columns
    assert (features["prediction"][:5] == MISSING).all()


def test_without_predictions_cells_are_coloured_by_label():
    obs = annotated_data().obs.drop(columns=["fadvi_prediction", "fadvi_confidence"])
    features = cell_features(obs, batch_key="batch", labels_key="cell_type")
    assert colour_feature(features) == "label"


def test_coordinates_fill_the_square_keep_the_aspect_and_put_y_up():
    xy = np.array([[0.0, 0.0], [2.0, 1.0], [4.0, 2.0]])
    rows_cols = point_coordinates(xy)
    assert rows_cols.shape == (3, 2)
    np.testing.assert_allclose(rows_cols[:, 1], [0, CANVAS_SIZE / 2, CANVAS_SIZE])
    # Higher y is higher on screen (a smaller row); one scale for both axes.
    np.testing.assert_allclose(rows_cols[:, 0], [CANVAS_SIZE, 3 * CANVAS_SIZE / 4, CANVAS_SIZE / 2])


def test_bad_embeddings_get_a_plain_message():
    with pytest.raises(ValueError, match="two columns"):
        point_coordinates(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="NaN"):
        point_coordinates(np.array([[0.0, np.nan]]))


def test_stored_umap_is_preferred_and_missing_spaces_give_none():
    adata = annotated_data()
    adata.obsm["X_fadvi_l_pca"] = np.zeros((N_CELLS, 2), dtype=np.float32)
    method, xy = stored_embedding(adata, space="z_l")
    assert method == "umap" and xy.shape == (N_CELLS, 2)
    assert stored_embedding(adata, space="z_b") is None
