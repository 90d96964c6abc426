"""Training defaults that finish: the expected time before Train, the stop reason after."""

from __future__ import annotations

import pytest
from conftest import set_fast_model, wait_checked, write_demo_variant
from qtpy.QtCore import Qt

from fadvi_gui import settings as stored
from fadvi_gui.model.training_text import estimate_text, stop_text
from fadvi_gui.wiring.training import OLD_SETTINGS_KEY


def _open_small(qtbot, window, path):
    window.open_file(write_demo_variant(path, normalise=False, keep_counts_layer=True))
    wait_checked(qtbot, window)


def _wait_estimate(qtbot, panel):
    qtbot.waitUntil(lambda: panel.estimate_text.startswith("About"), timeout=60_000)
    return panel.estimate_text


def test_expected_time_shows_before_train_follows_choices_and_clears_on_new_data(
        qtbot, tmp_path, window):
    panel = window.training_panel
    assert panel.estimate_text == ""
    _open_small(qtbot, window, tmp_path / "small.h5ad")
    text = _wait_estimate(qtbot, panel)
    assert "epochs of ~" in text and "validation accuracy stops improving" in text
    assert panel.estimate_label.isVisible()

    panel.epochs_spin.setValue(5)  # a fixed count: the budget no longer applies
    assert not panel.time_budget_spin.isEnabled()
    qtbot.waitUntil(lambda: "up to 5 epochs of" in panel.estimate_text, timeout=60_000)
    panel.early_stopping_check.setChecked(False)
    qtbot.waitUntil(lambda: "(5 epochs of" in panel.estimate_text, timeout=60_000)

    with qtbot.waitSignal(window.session.data_loaded, timeout=60_000):
        window.open_file(write_demo_variant(tmp_path / "other.h5ad", normalise=False,
                                            keep_counts_layer=True, n_cells=200))
    assert panel.estimate_text == "" and not panel.estimate_label.isVisible()
    wait_checked(qtbot, window)
    assert "(5 epochs of" in _wait_estimate(qtbot, panel)


@pytest.mark.slow
def test_defaults_train_with_early_stopping_on_accuracy_and_a_budget_and_say_why(
        qtbot, tmp_path, window, monkeypatch):
    from fadvi_core import FADVI

    received = {}
    real_train = FADVI.train

    def recording_train(self, *args, **kwargs):
        received.update(kwargs)
        return real_train(self, *args, **kwargs)

    monkeypatch.setattr(FADVI, "train", recording_train)
    _open_small(qtbot, window, tmp_path / "small.h5ad")
    panel = window.training_panel
    set_fast_model(panel, epochs=0)  # 0 is "Auto" (the time budget), the default
    assert panel.early_stopping_check.isChecked()
    assert panel.time_budget_spin.value() == 10
    statuses = []
    window.statusBar().messageChanged.connect(statuses.append)
    with qtbot.waitSignal(window.session.training_ended, timeout=240_000) as ended:
        qtbot.mouseClick(panel.train_button, Qt.LeftButton)
    assert ended.args == ["finished"]
    assert received["early_stopping"] is True
    assert received["early_stopping_monitor"] == "label_accuracy_validation"
    assert received["time_budget_s"] == 600
    reason = window.session.model.stop_reason_
    assert reason.kind == "early_stopping"
    shown = panel.estimate_text
    assert shown.startswith(f"Stopped at epoch {reason.epochs}: validation accuracy stopped "
                            "improving (best ")
    assert any("Stopped at epoch" in message for message in statuses)
    saved = window.session.parameters()["training"]
    assert saved["time_budget_s"] == 600 and "early stopping" in saved["stop_reason"]


def test_a_fixed_epoch_count_reaches_its_cap_and_says_so(qtbot, demo_window):
    panel = demo_window.training_panel
    set_fast_model(panel, epochs=2)
    with qtbot.waitSignal(demo_window.session.training_ended, timeout=120_000) as ended:
        qtbot.mouseClick(panel.train_button, Qt.LeftButton)
    assert ended.args == ["finished"]
    assert demo_window.session.model.stop_reason_.kind == "max_epochs"
    assert panel.estimate_text == "Reached the 2-epoch cap."
    assert panel.state_text.startswith("Finished")


def test_old_slow_settings_start_again_from_auto_epochs_with_early_stopping(make_window):
    old = {"max_epochs": 400, "early_stopping": False, "batch_size": 64,
           "model_kwargs": {"n_latent_l": 12}}
    stored.write_json(stored.open_settings(), OLD_SETTINGS_KEY, old)
    panel = make_window().training_panel
    assert panel.epochs_spin.value() == 0 and panel.epochs_spin.text() == "Auto"
    assert panel.early_stopping_check.isChecked()
    assert panel.batch_spin.value() == 64 and panel.inputs["n_latent_l"].value() == 12


class _Reason:
    def __init__(self, kind, epochs):
        self.kind, self.epochs = kind, epochs


class _Plan:
    max_epochs, seconds_per_epoch, time_budget_s = 13, 9.2, 600.0
    early_stopping, early_stopping_monitor, note = True, "label_accuracy_validation", ""


def test_plans_and_stop_reasons_read_as_plain_sentences():
    assert estimate_text(_Plan()) == ("About 2 min (up to 13 epochs of ~9.2 s; stops earlier when "
                                      "validation accuracy stops improving).")
    history = {"label_accuracy_validation": [0.5, 0.985, 0.98, float("nan")]}
    assert stop_text(_Reason("early_stopping", 12), history=history,
                     monitor="label_accuracy_validation", mode="max") == (
        "Stopped at epoch 12: validation accuracy stopped improving (best 0.985 at epoch 2).")
    assert stop_text(_Reason("max_epochs", 30)) == "Reached the 30-epoch cap."
    assert stop_text(_Reason("time_budget", 7), time_budget_s=600) == (
        "Time budget of 10 min used after 7 epochs.")
    assert stop_text(_Reason("user", 3)).startswith("Cancelled during epoch 3")
    losses = {"elbo_validation": [900.4, 850.2, 851.0]}
    assert stop_text(_Reason("early_stopping", 20), history=losses, monitor="elbo_validation",
                     mode="min") == (
        "Stopped at epoch 20: validation loss stopped improving (best 850 at epoch 2).")
