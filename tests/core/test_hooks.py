"""Progress callbacks and cooperative stopping for training and chunked inference."""

from __future__ import annotations

import numpy as np
import pytest

from fadvi_core import FADVI, Cancelled

from .conftest import SMALL


def test_progress_reports_every_step_and_epoch_metrics(adata):
    FADVI.setup_anndata(adata, batch_key="batch", labels_key="labels")
    model = FADVI(adata, **SMALL)
    seen = []
    model.train(max_epochs=2, batch_size=32, check_val_every_n_epoch=1,
                progress_callback=seen.append)
    epoch_ends = [p for p in seen if p.epoch_end]
    assert [p.epoch for p in epoch_ends] == [0, 1]
    assert all(p.max_epochs == 2 and p.step <= p.n_steps for p in seen)
    assert "label_accuracy_validation" in epoch_ends[-1].metrics
    assert len(seen) == 2 * seen[0].n_steps


def test_stop_request_leaves_a_usable_model(adata):
    FADVI.setup_anndata(adata, batch_key="batch", labels_key="labels")
    model = FADVI(adata, **SMALL)
    steps = []
    model.train(max_epochs=100, batch_size=32, progress_callback=steps.append,
                should_stop=lambda: len(steps) >= 3)
    # The request made after step 3 is seen when step 4 ends: stopped within one step.
    assert len(steps) == 4 and model.training_was_stopped and model.is_trained
    assert model.predict().shape == (adata.n_obs,)


def test_chunked_prediction_reports_progress_and_can_be_cancelled(trained):
    model, adata = trained
    seen = []
    model.predict(batch_size=50, progress_callback=seen.append)
    assert [p.done for p in seen] == [50, 100, 120] and seen[-1].total == adata.n_obs
    with pytest.raises(Cancelled):
        model.predict(batch_size=50, interpretability="ig", should_stop=lambda: True)
    calls = iter([False, True])
    with pytest.raises(Cancelled):
        model.get_latent_representation(batch_size=50, should_stop=lambda: next(calls))
    assert np.isfinite(model.get_latent_representation()).all()
