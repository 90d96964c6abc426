"""The shared run/cancel state machine every panel uses."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from qtpy.QtCore import Qt

from fadvi_gui.panels.common.run_controls import RunControls


@pytest.fixture
def controls(qtbot):
    widget = RunControls(["Go", "Go too"], idle_text="Open data.", ready_text="Ready.",
                         ended_texts={"finished": "All done."})
    qtbot.addWidget(widget)
    return widget


def enabled(controls) -> list[bool]:
    return [b.isEnabled() for b in (*controls.run_buttons, controls.cancel_button)]


def test_idle_ready_running_and_ended(qtbot, controls):
    assert enabled(controls) == [False, False, False] and controls.state_text == "Open data."
    controls.set_can_run(True)
    assert enabled(controls) == [True, True, False] and controls.state_text == "Ready."
    with qtbot.waitSignal(controls.running_changed) as changed:
        controls.show_started("Working...")
    assert changed.args == [True]
    assert enabled(controls) == [False, False, True] and controls.state_text == "Working..."
    controls.show_chunk_progress(SimpleNamespace(done=30, total=120))
    assert controls.progress_bar.format() == "30 / 120 cells"
    controls.show_ended("finished")
    assert enabled(controls) == [True, True, False] and controls.state_text == "All done."
    assert controls.progress_bar.value() == controls.progress_bar.maximum()
    controls.clear()
    assert controls.progress_bar.format() == "" and controls.progress_bar.value() == 0


def test_cancel_asks_once_and_says_so(qtbot, controls):
    controls.set_can_run(True)
    controls.show_started("Working...")
    with qtbot.waitSignal(controls.cancel_requested):
        qtbot.mouseClick(controls.cancel_button, Qt.LeftButton)
    assert not controls.cancel_button.isEnabled() and controls.state_text == "Cancelling..."
    controls.show_ended("cancelled")
    assert controls.state_text == "Cancelled."


def test_a_reason_disables_and_the_panel_condition_too(controls):
    controls.set_can_run(False, "Wait for training to finish.")
    assert controls.state_text == "Wait for training to finish." and not any(enabled(controls))
    controls.set_can_run(True)
    controls.set_ready(False)
    assert enabled(controls) == [False, False, False]


def test_keep_outcome_shows_the_last_result_until_a_reason_replaces_it(qtbot):
    controls = RunControls(["Train"], idle_text="Open data.", ready_text="Ready to train.",
                           keep_outcome=True)
    qtbot.addWidget(controls)
    controls.set_can_run(True)
    controls.show_started("Training...")
    controls.show_ended("finished", "Finished in 3 s.")
    controls.set_can_run(True)
    assert controls.state_text == "Finished in 3 s."
    controls.set_can_run(False, "Checking the data...")
    controls.set_can_run(True)
    assert controls.state_text == "Ready to train."
