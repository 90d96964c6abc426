"""Wiring of the trust panel: sets and novelty computed in a worker, written by the session."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qtpy.QtCore import QObject

from fadvi_gui.model.trust import summary
from fadvi_gui.session import JobKind
from fadvi_gui.tasks.trust import check_predictions

if TYPE_CHECKING:
    import pandas as pd

    from fadvi_gui.panels.trust import TrustPanel
    from fadvi_gui.session import Session

_NO_CALIBRATION = ("This model kept no labelled cells out of training, so it cannot state an "
                   "error rate. Train again with a training share below 1.")


class TrustWiring(QObject):
    """Connects a :class:`TrustPanel` to a session."""

    def __init__(self, session: Session, panel: TrustPanel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.panel = panel
        self._alpha = 0.1
        panel.run_requested.connect(self._on_panel_run_requested)
        panel.controls.cancel_requested.connect(lambda: session.cancel(JobKind.TRUST))
        session.model_trained.connect(self._on_session_model_changed)
        session.data_loaded.connect(lambda _adata: self._on_session_model_changed(None))

    def _on_session_model_changed(self, model: Any) -> None:
        self.panel.show_summary("")
        calibrated = getattr(model, "calibration_", None) is not None
        reason = ("Train a model with labelled cells first." if model is None
                  else "" if calibrated else _NO_CALIBRATION)
        self.panel.controls.set_can_run(model is not None and calibrated, reason)

    def _on_panel_run_requested(self, alpha: float) -> None:
        session = self.session
        reason = session.blocked_reason(JobKind.TRUST)
        if session.model is None or reason:
            self.panel.controls.show_message(reason or "Train a model first.")
            return
        self._alpha = alpha
        job = session.run_job(JobKind.TRUST, "Finding prediction sets and novelty",
                              check_predictions, session.model, alpha)
        self.panel.controls.show_started("Predicting sets and novelty…")
        job.succeeded.connect(self._on_job_succeeded)
        job.ended.connect(lambda outcome: self.panel.controls.show_ended(outcome))

    def _on_job_succeeded(self, columns: pd.DataFrame) -> None:
        self.session.write_obs_columns(columns)
        self.panel.show_summary(summary(columns, self._alpha))


__all__ = ["TrustWiring"]
