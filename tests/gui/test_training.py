"""Training from the Train button: progress, curves, cancel, errors, closing mid-run."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import set_fast_model, wait_checked, write_demo_variant
from qtpy.QtCore import Qt


@pytest.mark.slow
def test_train_two_epochs_fills_curves_and_hands_over_the_model(qtbot, demo_window):
    panel = demo_window.training_panel
    set_fast_model(panel, epochs=2)
    received = []
    demo_window.session.model_trained.connect(received.append)
    with qtbot.waitSignal(demo_window.session.training_ended, timeout=120_000) as ended:
        qtbot.mouseClick(panel.train_button, Qt.LeftButton)
        assert not panel.train_button.isEnabled()
        assert panel.cancel_button.isEnabled()
    assert ended.args == ["finished"]
    assert len(received) == 1 and received[0] is demo_window.session.model
    assert panel.curves.n_points("reconstruction_loss_train") == 2
    assert panel.curves.n_points("cross_cov_train") == 2
    assert panel.curves.n_points("label_accuracy_validation") == 2
    assert panel.progress_bar.format().startswith("Epoch 2/2")
    assert panel.state_text.startswith("Finished")
    assert panel.train_button.isEnabled() and not panel.cancel_button.isEnabled()


def test_cancel_stops_a_long_run_and_keeps_a_usable_model(qtbot, tmp_path, window):
    window.open_file(write_demo_variant(tmp_path / "small.h5ad", normalise=False, keep_counts_layer=True))
    wait_checked(qtbot, window)
    panel = window.training_panel
    set_fast_model(panel, epochs=500)
    panel.batch_spin.setValue(32)
    with qtbot.waitSignal(window.session.training_progress, timeout=120_000):
        qtbot.mouseClick(panel.train_button, Qt.LeftButton)
    with qtbot.waitSignal(window.session.training_ended, timeout=60_000) as ended:
        qtbot.mouseClick(panel.cancel_button, Qt.LeftButton)
    assert ended.args == ["cancelled"]
    model = window.session.model
    assert model.training_was_stopped
    assert "Cancelled" in panel.state_text
    assert panel.train_button.isEnabled() and not panel.cancel_button.isEnabled()
    latent = model.get_latent_representation(representation="label")
    assert latent.shape == (300, 8) and np.isfinite(latent).all()


def test_worker_error_shows_dialog_with_details_and_frees_buttons(qtbot, monkeypatch, demo_window):
    from fadvi_core import FADVI

    def broken_train(self, *args, **kwargs):
        raise RuntimeError("the GPU caught fire")

    monkeypatch.setattr(FADVI, "train", broken_train)
    panel = demo_window.training_panel
    set_fast_model(panel, epochs=2)
    with qtbot.waitSignal(demo_window.dialog_shown, timeout=60_000) as shown:
        qtbot.mouseClick(panel.train_button, Qt.LeftButton)
    box = shown.args[0]
    assert "the GPU caught fire" in box.text()
    assert "Traceback" in box.detailedText()
    assert "Traceback" not in box.text()
    qtbot.waitUntil(lambda: panel.train_button.isEnabled(), timeout=10_000)
    assert not panel.cancel_button.isEnabled()
    assert "failed" in panel.state_text
    assert demo_window.session.model is None


def test_closing_during_training_asks_then_stops_cleanly(qtbot, tmp_path, window):
    window.open_file(write_demo_variant(tmp_path / "small.h5ad", normalise=False, keep_counts_layer=True))
    wait_checked(qtbot, window)
    set_fast_model(window.training_panel, epochs=500)
    with qtbot.waitSignal(window.session.training_progress, timeout=120_000):
        qtbot.mouseClick(window.training_panel.train_button, Qt.LeftButton)
    asked = []
    window.confirm_close = lambda: asked.append(True) or False
    window.close()
    assert asked and window.isVisible() and window.session.is_training

    window.confirm_close = lambda: asked.append(True) or True
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=60_000)
    assert not window.session.is_busy
    assert len(asked) == 2
