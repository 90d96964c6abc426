"""Wiring of the training panel: Train and Cancel to the session, progress and curves back.

The Train button is enabled by one rule (:meth:`Session.can_train`), re-evaluated whenever
the data, its checks or the running jobs change; the line beside it says why not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qtpy.QtCore import QObject, QSettings

from fadvi_gui import settings as stored
from fadvi_gui.session import JobKind

if TYPE_CHECKING:
    from fadvi_gui.model.choices import TrainingSettings
    from fadvi_gui.panels.training import TrainingPanel
    from fadvi_gui.session import Session
    from fadvi_gui.wiring.prompts import Prompts

#: QSettings key of the last training settings.
SETTINGS_KEY = "training/settings"


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
        panel.set_settings(stored.read_json(settings, SETTINGS_KEY, {}) or {})
        panel.train_requested.connect(self._on_panel_train_requested)
        panel.cancel_requested.connect(session.cancel_training)
        session.data_loaded.connect(self._on_session_data_loaded)
        session.training_started.connect(panel.show_started)
        session.training_progress.connect(panel.show_progress)
        session.training_ended.connect(self._on_session_training_ended)
        session.problems_changed.connect(self.refresh)
        session.choices_changed.connect(self.refresh)
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

    def _on_panel_train_requested(self, settings: TrainingSettings) -> None:
        self.remember_settings()
        self.session.train(settings)

    def _on_session_data_loaded(self, _adata: Any) -> None:
        self.panel.clear()
        self.refresh()

    def _on_session_training_ended(self, outcome: str) -> None:
        self.panel.show_ended(outcome)
        self.prompts.status(f"Training {outcome}.")
        self.refresh()


__all__ = ["TrainingWiring"]
