"""End to end on the real demo file: hide one batch's labels, train, predict them back."""

from __future__ import annotations

import numpy as np
import scvi

from fadvi_core import FADVI


def test_label_transfer_to_a_hidden_batch(demo):
    truth = demo.obs["cell_type"].astype(str).to_numpy()
    hidden = (demo.obs["batch"] == "5p").to_numpy()
    demo.obs["cell_type"] = np.where(hidden, "Unknown", truth)
    FADVI.setup_anndata(demo, batch_key="batch", labels_key="cell_type")
    scvi.settings.seed = 0
    model = FADVI(demo)
    model.train(max_epochs=15)
    predictions = model.predict()
    accuracy = (predictions[hidden] == truth[hidden]).mean()
    assert accuracy > 0.6  # chance is about 1/9
    assert "Unknown" not in set(predictions)
    latent = model.get_latent_representation(representation="full")
    assert latent.shape == (demo.n_obs, 70)
