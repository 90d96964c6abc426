"""Why training stops, the defaults that finish in time, and the thread count."""

from __future__ import annotations

import os
import threading

import pytest
import torch

from fadvi_core import FADVI, training_defaults
from fadvi_core._defaults import time_training_step
from fadvi_core._device import set_torch_threads, usable_cores
from fadvi_core.__main__ import main

from .conftest import SMALL, make_adata


def _model(adata):
    FADVI.setup_anndata(adata, batch_key="batch", labels_key="labels")
    return FADVI(adata, **SMALL)


def test_early_stopping_on_label_accuracy_records_why_it_stopped(adata):
    model = _model(adata)
    # Accuracy can never rise by 1.0, so patience 2 runs out after the third epoch.
    model.train(max_epochs=50, batch_size=32, early_stopping=True,
                early_stopping_monitor="label_accuracy_validation", early_stopping_patience=2,
                early_stopping_min_delta=1.0)
    assert model.stop_reason_.kind == "early_stopping" and model.stop_reason_.epochs == 3
    assert len(model.history["label_accuracy_validation"]) == 3
    assert "early stopping at epoch 3" in str(model.stop_reason_)


def test_epoch_cap_and_time_budget_are_recorded(trained, adata):
    model, _ = trained
    assert model.stop_reason_.kind == "max_epochs" and model.stop_reason_.epochs == 3
    budgeted = _model(adata)
    budgeted.train(max_epochs=50, batch_size=32, time_budget_s=1e-6)
    assert budgeted.stop_reason_.kind == "time_budget"
    assert len(budgeted.history["elbo_train"]) == 1 and budgeted.is_trained


def test_cancel_mid_epoch_skips_the_validation_pass(adata):
    model = _model(adata)
    steps = []
    model.train(max_epochs=5, batch_size=32, progress_callback=steps.append,
                should_stop=lambda: len(steps) >= 2)
    assert model.stop_reason_.kind == "user" and model.training_was_stopped
    assert steps[-1].epoch == 0 and steps[-1].step == 3 and steps[-1].epoch_end
    assert len(model.history["elbo_train"]) == 1  # what the partial epoch saw
    assert "elbo_validation" not in model.history
    # The thread that prepared minibatches ended with the training.
    assert not [t for t in threading.enumerate() if t.name == "fadvi-minibatches"]


def test_defaults_cap_epochs_to_the_time_budget():
    defaults = training_defaults(10_000, 2_000, time_budget_s=120, seconds_per_step=0.05)
    assert defaults.max_epochs * defaults.seconds_per_epoch <= 120 < (
        (defaults.max_epochs + 1) * defaults.seconds_per_epoch)
    assert defaults.early_stopping and defaults.early_stopping_mode == "max"
    assert defaults.early_stopping_monitor == "label_accuracy_validation"
    assert defaults.note == ""
    tight = training_defaults(10_000, 2_000, time_budget_s=10, seconds_per_step=0.05,
                              has_labels=False)
    assert tight.early_stopping_monitor == "elbo_validation" and "under-trained" in tight.note
    assert training_defaults(100, 50, seconds_per_step=1e-4).max_epochs == 400


def test_defaults_train_a_model_and_time_real_steps(adata):
    assert time_training_step(40, batch_size=16, n_hidden=16, n_layers=1) > 0
    defaults = training_defaults(adata.n_obs, adata.n_vars, time_budget_s=5, batch_size=32,
                                 n_hidden=16, n_layers=1)
    model = _model(adata)
    model.train(**(defaults.train_kwargs() | {"max_epochs": 2}))
    assert model.stop_reason_.kind in ("max_epochs", "time_budget") and model.is_trained


def test_threads_never_exceed_usable_cores():
    before = torch.get_num_threads()
    try:
        assert set_torch_threads(10_000) == usable_cores() <= len(os.sched_getaffinity(0))
        assert torch.get_num_threads() == usable_cores()
        assert set_torch_threads(None, processes=usable_cores() * 2) == 1
    finally:
        torch.set_num_threads(before)


def test_cli_prints_why_training_stopped(tmp_path, capsys):
    source = tmp_path / "data.h5ad"
    make_adata().write_h5ad(source)
    assert main(["train", str(source), "--batch-key", "batch", "--labels-key", "labels",
                 "--max-epochs", "2", "--batch-size", "32", "--threads", "1",
                 "--out", str(tmp_path / "m")]) == 0
    out = capsys.readouterr().out
    assert "Training ended: reached the epoch cap after 2 epochs" in out
    assert "early stopping on label_accuracy_validation" in out


def test_validation_every_n_epochs_and_early_stopping_waits_for_it(adata):
    model = _model(adata)
    model.train(max_epochs=4, batch_size=32, check_val_every_n_epoch=2)
    assert len(model.history["elbo_train"]) == 4
    assert len(model.history["elbo_validation"]) == 2
    model = _model(adata)
    model.train(max_epochs=50, batch_size=32, check_val_every_n_epoch=2, early_stopping=True,
                early_stopping_monitor="label_accuracy_validation", early_stopping_patience=2,
                early_stopping_min_delta=1.0)
    # Two validation passes without a gain of 1.0: epochs 2 and 4 (then 6 is never reached).
    assert model.stop_reason_.kind == "early_stopping"
    assert len(model.history["label_accuracy_validation"]) == model.stop_reason_.epochs // 2
    with pytest.raises(ValueError, match="check_val_every_n_epoch"):
        model.train(max_epochs=1, check_val_every_n_epoch=0)


def test_validation_by_default_only_with_early_stopping(adata):
    """scvi-tools' default: no validation pass unless early stopping needs one; the app's and
    the CLI's defaults ask for one every epoch."""
    model = _model(adata)
    model.train(max_epochs=2, batch_size=32)
    assert len(model.history["elbo_train"]) == 2
    assert not any(name.endswith("_validation") for name in model.history)
    model = _model(adata)
    model.train(max_epochs=2, batch_size=32, early_stopping=True)
    assert len(model.history["elbo_validation"]) == 2
    assert training_defaults(500, 100).train_kwargs()["check_val_every_n_epoch"] == 1
