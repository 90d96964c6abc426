"""Run and Cancel buttons, a progress bar and a status line: one run/cancel state machine.

Every panel that starts work (training, predictions, explanations) shows one
:class:`RunControls`; the panel connects its run buttons and forwards the wiring's
``set_can_run``/``show_started``/``show_ended`` calls to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from qtpy.QtCore import Signal
from qtpy.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

#: Words for a run's outcome when the panel gives none.
DEFAULT_ENDED = {"finished": "Done.", "cancelled": "Cancelled.", "failed": "Failed; see the message."}


class RunControls(QWidget):
    """Run buttons, Cancel, progress and a status line, enabled by one state machine.

    States: idle and unable to run (run buttons off, the reason shown), idle and ready,
    running (Cancel on), cancelling (Cancel off until the run ends).

    Parameters
    ----------
    run_texts
        Text of each run button, in order (e.g. ``["Predict labels", "Predict batches"]``).
    idle_text
        Status line before anything is possible (e.g. "Open data to train.").
    ready_text
        Status line when a run may start.
    ended_texts
        Status line after a run, by outcome (``"finished"``, ``"cancelled"``, ``"failed"``).
    cancelling_text
        Status line after Cancel was pressed, until the run ends.
    keep_outcome
        Keep the outcome on the status line when runs become possible again (until a
        reason replaces it), instead of going back to ``ready_text``.
    bar_in_row, label_in_row
        Put the progress bar or the status line on the buttons' row instead of below it.

    Attributes
    ----------
    run_buttons, cancel_button, progress_bar, state_label
        The widgets, for tooltips and tests.

    Signals
    -------
    cancel_requested()
        Cancel was pressed.
    running_changed(bool)
        A run started (True) or ended (False): the panel locks or unlocks its inputs.
    """

    cancel_requested = Signal()
    running_changed = Signal(bool)

    def __init__(
        self,
        run_texts: Sequence[str],
        *,
        idle_text: str,
        ready_text: str,
        ended_texts: Mapping[str, str] | None = None,
        cancelling_text: str = "Cancelling...",
        keep_outcome: bool = False,
        bar_in_row: bool = False,
        label_in_row: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._ready_text = ready_text
        self._ended_texts = {**DEFAULT_ENDED, **(ended_texts or {})}
        self._cancelling_text = cancelling_text
        self._keep_outcome = keep_outcome
        self._can_run = False
        self._ready = True
        self._running = False
        self._outcome_shown = False
        self.run_buttons = [QPushButton(text) for text in run_texts]
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(True)
        self.state_label = QLabel(idle_text)
        self.state_label.setWordWrap(True)
        self.clear()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        for button in (*self.run_buttons, self.cancel_button):
            row.addWidget(button)
        if bar_in_row:
            row.addWidget(self.progress_bar, 1)
        if label_in_row:
            row.addWidget(self.state_label, 1)
        if not (bar_in_row or label_in_row):
            row.addStretch(1)
        layout.addLayout(row)
        if not bar_in_row:
            layout.addWidget(self.progress_bar)
        if not label_in_row:
            layout.addWidget(self.state_label)
        self._update_buttons()

    # ------------------------------------------------------------------ state
    @property
    def is_running(self) -> bool:
        """True from :meth:`show_started` to :meth:`show_ended`."""
        return self._running

    @property
    def can_run(self) -> bool:
        """What the last :meth:`set_can_run` said."""
        return self._can_run

    @property
    def state_text(self) -> str:
        """The status line."""
        return self.state_label.text()

    def set_can_run(self, can_run: bool, reason: str = "") -> None:
        """Allow runs, or forbid them with ``reason`` on the status line (shown when idle)."""
        self._can_run = can_run
        if not self._running:
            if not can_run:
                self.state_label.setText(reason)
                self._outcome_shown = False
            elif not (self._keep_outcome and self._outcome_shown):
                self.state_label.setText(self._ready_text)
        self._update_buttons()

    def set_ready(self, ready: bool) -> None:
        """The panel's own condition for its run buttons (e.g. a class is picked)."""
        self._ready = ready
        self._update_buttons()

    def show_started(self, text: str) -> None:
        """Switch to running: a busy bar, ``text`` on the status line, Cancel on."""
        self._running = True
        self._outcome_shown = False
        self.progress_bar.setRange(0, 0)  # busy until the first report
        self.progress_bar.setFormat("")
        self.state_label.setText(text)
        self._update_buttons()
        self.running_changed.emit(True)

    def show_chunk_progress(self, progress: Any) -> None:
        """Show a ``fadvi_core.ChunkProgress`` (cells done out of total)."""
        self.progress_bar.setRange(0, max(int(progress.total), 1))
        self.progress_bar.setValue(int(progress.done))
        self.progress_bar.setFormat(f"{progress.done:,} / {progress.total:,} cells")

    def show_ended(self, outcome: str, message: str = "") -> None:
        """Return to idle; fill the bar on success and say how the run ended."""
        self._running = False
        self._outcome_shown = True
        if self.progress_bar.maximum() == 0:
            self.progress_bar.setRange(0, 1)
        if outcome == "finished":
            self.progress_bar.setValue(self.progress_bar.maximum())
        self.state_label.setText(message or self._ended_texts.get(outcome, outcome))
        self._update_buttons()
        self.running_changed.emit(False)

    def show_message(self, text: str) -> None:
        """Put ``text`` on the status line."""
        self.state_label.setText(text)

    def clear(self) -> None:
        """Empty the progress bar (newly opened data); the status line follows :meth:`set_can_run`."""
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("")
        self._outcome_shown = False

    # ----------------------------------------------------------------- slots
    def _on_cancel_button_clicked(self) -> None:
        self.cancel_button.setEnabled(False)
        self.state_label.setText(self._cancelling_text)
        self.cancel_requested.emit()

    def _update_buttons(self) -> None:
        for button in self.run_buttons:
            button.setEnabled(self._can_run and self._ready and not self._running)
        self.cancel_button.setEnabled(self._running)


__all__ = ["RunControls"]
