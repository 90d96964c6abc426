"""Wiring of the integration-quality panel: the session's model to the report and back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qtpy.QtCore import QObject

from fadvi_gui.model.quality import quality_rows
from fadvi_gui.session import JobKind
from fadvi_gui.tasks.quality import disentanglement_report

if TYPE_CHECKING:
    from fadvi_gui.panels.quality import QualityPanel
    from fadvi_gui.session import Session


class QualityWiring(QObject):
    """Connects a :class:`QualityPanel` to a session: enabled once a model exists."""

    def __init__(self, session: Session, panel: QualityPanel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.panel = panel
        panel.run_requested.connect(self._on_panel_run_requested)
        panel.controls.cancel_requested.connect(lambda: session.cancel(JobKind.QUALITY))
        session.model_trained.connect(self._on_session_model_changed)
        session.data_loaded.connect(lambda _adata: self._on_session_model_changed(None))

    def _on_session_model_changed(self, model: Any) -> None:
        self.panel.clear_report()
        self.panel.controls.set_can_run(model is not None,
                                        "" if model is not None else
                                        "Train a model to measure its integration quality.")

    def _on_panel_run_requested(self) -> None:
        session = self.session
        if session.model is None:
            self.panel.controls.set_can_run(False, "Train a model first.")
            return
        reason = session.blocked_reason(JobKind.QUALITY)
        if reason:
            self.panel.controls.show_message(reason)
            return
        job = session.run_job(JobKind.QUALITY, "Measuring integration quality",
                              disentanglement_report, session.model)
        self.panel.controls.show_started("Measuring…")
        job.succeeded.connect(lambda report: self.panel.show_report(quality_rows(report)))
        job.ended.connect(lambda outcome: self.panel.controls.show_ended(outcome))


__all__ = ["QualityWiring"]
