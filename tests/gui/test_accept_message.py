""""Accept" says why it accepted nothing (or not everything): no unlabelled cells, threshold, done already."""

from __future__ import annotations

import pytest
from prediction_data import fake_probabilities, make_adata

from fadvi_gui.model import results
from fadvi_gui.model.accept_text import accept_message

SETUP = {"labels_key": "labels", "unlabeled_category": "Unknown"}


@pytest.fixture
def adata():
    data = make_adata()  # 120 cells, the first 20 "Unknown"
    results.write_predictions(data, fake_probabilities(data.n_obs))
    return data


def _accept(adata, threshold: float, indices=None) -> str:
    n = results.accept_predictions(adata, threshold=threshold, indices=indices,
                                   replace_labelled=indices is not None, **SETUP)
    return accept_message(adata, n, threshold=threshold, indices=indices, **SETUP)


def test_accepting_names_the_count_and_the_cells_left_below_the_threshold(adata):
    unlabelled = adata.obs["labels"] == "Unknown"
    below = int((adata.obs[results.CONFIDENCE_KEY][unlabelled] < 0.5).sum())
    text = _accept(adata, 0.5)
    assert text.startswith(f"Accepted {20 - below} predictions")
    assert f"{below} of the unlabelled cells are below the threshold 0.50" in text


def test_no_unlabelled_cells_is_the_reason_given(adata):
    adata.obs["labels"] = "label_0"
    text = _accept(adata, 0.5)
    assert text.startswith("Accepted no predictions: every predicted cell already has a label in 'labels'")
    assert "Accept selection" in text


def test_threshold_above_every_confidence_is_the_reason_given(adata):
    best = adata.obs[results.CONFIDENCE_KEY][adata.obs["labels"] == "Unknown"].max()
    text = _accept(adata, 1.0)
    assert "none of the unlabelled cells (20) reaches the confidence threshold 1.00" in text
    assert f"the highest is {best:.2f}" in text and "Lower the threshold" in text


def test_accepting_twice_says_they_are_accepted_already(adata):
    _accept(adata, 0.0)
    assert _accept(adata, 0.0) == ("Accepted no new predictions: the 20 confident predictions of the "
                                   "unlabelled cells are in 'fadvi_accepted_label' already.")


def test_selected_cells_below_the_threshold(adata):
    text = _accept(adata, 1.0, indices=[30, 31, 32])
    assert "none of the selected cells (3) reaches the confidence threshold 1.00" in text
