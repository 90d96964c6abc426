"""Wiring of the training panel: Train and Cancel to the session, progress and curves back.

The Train button is enabled by one rule (:meth:`Session.can_train`), re-evaluated whenever
the data, its checks or the running jobs change; the line beside it says why not. Once
training can start, the expected time is measured in a worker (debounced after each change
of the settings) and shown under the buttons; after a run, why it stopped is shown there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qtpy.QtCore import QObject, QSettings, QTimer

from fadvi_gui import settings as stored
from fadvi_gui.model.training_text import estimate_text, stop_text
from fadvi_gui.session import JobKind
from fadvi_gui.tasks import training as training_tasks

if TYPE_CHECKING:
    from fadvi_gui.model.choices import TrainingSettings
    from fadvi_gui.panels.training import TrainingPanel
    from fadvi_gui.session import Session
    from fadvi_gui.wiring.prompts import Prompts

#: QSettings key of the last training settings. Version 2 added the time budget and made
#: "Auto" epochs and early stopping the defaults.
SETTINGS_KEY = "training/settings_v2"
#: The key of version 1, whose epochs (scvi's 400-epoch heuristic) and early stopping (off)
#: are not carried over: everything else is.
OLD_SETTINGS_KEY = "training/settings"
_NOT_CARRIED_OVER = ("max_epochs", "early_stopping")
#: Wait this long after the last change before measuring the expected time.
ESTIMATE_DELAY_MS = 400


def read_training_settings(settings: QSettings) -> dict[str, Any]:
    """Return the stored training settings, upgrading those of the previous version.

    A version-1 store without a version-2 one keeps its model and batch choices but starts
    again from Auto epochs with early stopping on, so an old "400 epochs, no early stopping"
    does not silently keep training slow.
    """
    values = stored.read_json(settings, SETTINGS_KEY, None)
    if isinstance(values, dict):
        return values
    old = stored.read_json(settings, OLD_SETTINGS_KEY, None)
    if not isinstance(old, dict):
        return {}
    return {key: value for key, value in old.items() if key not in _NOT_CARRIED_OVER}


class TrainingWiring(QObject):
    """Connects a :class:`TrainingPanel` to a session.

    Parameters
    ----------
    session
        Trains the model on its data.
    panel
        The training panel.
    settings
        Where the panel's settings are remembered between runs and sessions.
    prompts
        Where the outcome is announced (the status bar).
    """

    def __init__(self, session: Session, panel: TrainingPanel, settings: QSettings,
                 prompts: Prompts, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.panel = panel
        self.settings = settings
        self.prompts = prompts
        #: Bumped whenever an estimate in flight no longer fits what is shown.
        self._estimate_generation = 0
        self._estimate_again = False
        self._closed = False
        self._estimate_timer = QTimer(self)
        self._estimate_timer.setSingleShot(True)
        self._estimate_timer.setInterval(ESTIMATE_DELAY_MS)
        self._estimate_timer.timeout.connect(self.estimate)
        panel.set_settings(read_training_settings(settings))
        panel.train_requested.connect(self._on_panel_train_requested)
        panel.cancel_requested.connect(session.cancel_training)
        panel.settings_changed.connect(self._on_panel_settings_changed)
        session.data_loaded.connect(self._on_session_data_loaded)
        session.training_started.connect(panel.show_started)
        session.training_progress.connect(panel.show_progress)
        session.training_ended.connect(self._on_session_training_ended)
        session.problems_changed.connect(self._on_session_problems_changed)
        session.choices_changed.connect(self._on_session_choices_changed)
        session.busy_changed.connect(self.refresh)
        self.refresh()

    def remember_settings(self) -> None:
        """Store the panel's settings (also done before each run)."""
        stored.write_json(self.settings, SETTINGS_KEY, self.panel.settings_dict())

    def refresh(self, *_args: Any) -> None:
        """Enable Train when the session can train, else say why not."""
        session = self.session
        if session.adata is None:
            reason = "Open data to train."
        elif not session.checks_current:
            reason = "Checking the data..."
        elif any(p.severity == "error" for p in session.problems):
            reason = "Fix the problems listed under Checks first."
        else:
            reason = session.blocked_reason(JobKind.TRAIN)
        self.panel.set_can_train(session.can_train, reason)

    def estimate(self) -> None:
        """Measure the expected training time in a worker and show it, if training could start."""
        session = self.session
        if (self._closed or not session.can_train or session.shutting_down
                or session.blocker(JobKind.ESTIMATE)):
            return
        if session.is_running(JobKind.ESTIMATE):
            self._estimate_again = True  # the settings changed while measuring
            return
        generation = self._estimate_generation
        job = session.run_job(JobKind.ESTIMATE, "Estimating the training time",
                              training_tasks.plan_training, session.adata, session.choices,
                              self.panel.settings())
        job.succeeded.connect(lambda plan: self._on_estimate_succeeded(generation, plan))
        job.ended.connect(self._on_estimate_ended)

    def close(self) -> None:
        """Start no more estimates (the window is closing)."""
        self._closed = True
        self._estimate_timer.stop()

    def _forget_estimate(self) -> None:
        self._estimate_generation += 1
        self._estimate_timer.stop()
        self.panel.show_estimate("")

    def _on_estimate_succeeded(self, generation: int, plan: Any) -> None:
        if generation == self._estimate_generation and not self.session.is_training:
            self.panel.show_estimate(estimate_text(plan))

    def _on_estimate_ended(self, _outcome: str) -> None:
        if self._estimate_again:
            self._estimate_again = False
            self._estimate_timer.start()

    def _on_panel_settings_changed(self) -> None:
        self._estimate_generation += 1
        self._estimate_timer.start()

    def _on_panel_train_requested(self, settings: TrainingSettings) -> None:
        self.remember_settings()
        self._estimate_generation += 1
        self._estimate_timer.stop()
        self._estimate_again = False
        self.session.cancel(JobKind.ESTIMATE)
        self.session.train(settings)

    def _on_session_data_loaded(self, _adata: Any) -> None:
        self._forget_estimate()
        self.panel.clear()
        self.refresh()

    def _on_session_choices_changed(self, _choices: Any) -> None:
        self._forget_estimate()  # a new one follows the checks of the new choices
        self.refresh()

    def _on_session_problems_changed(self, _problems: list) -> None:
        self.refresh()
        self._estimate_timer.start()

    def _on_session_training_ended(self, outcome: str) -> None:
        reason = self._stop_reason_text() if outcome in ("finished", "cancelled") else ""
        self.panel.show_ended(outcome, reason)
        self.prompts.status(f"Training {outcome}: {reason}" if reason else f"Training {outcome}.")
        self.refresh()

    def _stop_reason_text(self) -> str:
        session = self.session
        reason = getattr(session.model, "stop_reason_", None)
        settings = session.training_settings
        if reason is None or settings is None or session.adata is None:
            return ""
        monitor, mode = training_tasks.stopping_monitor(session.adata, session.choices, settings)
        budget = settings.time_budget_s if settings.max_epochs is None else None
        return stop_text(reason, history=getattr(session.model, "history_", None),
                         monitor=monitor, mode=mode, time_budget_s=budget)


__all__ = ["TrainingWiring"]
