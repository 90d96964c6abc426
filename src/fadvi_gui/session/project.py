"""The session's project files: save everything to one file, and bring it all back.

:class:`ProjectFiles` belongs to a :class:`~fadvi_gui.session.Session`; it runs the project jobs
and, on opening, hands the data and model to the session (which stays their only writer).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from qtpy.QtCore import QObject, Signal

from fadvi_gui.model.choices import TrainingSettings
from fadvi_gui.model.results_io import package_versions
from fadvi_gui.session.jobs import JobKind
from fadvi_gui.tasks import project as project_tasks
from fadvi_gui.tasks.data import plain_uns

if TYPE_CHECKING:
    from fadvi_gui.session.session import Session


class ProjectFiles(QObject):
    """Save and open ``.fadvi`` projects of one session.

    Signals
    -------
    saved(str)
        The project was written; carries its path.
    opened(object)
        A project was opened: the session already holds its data and model; carries the
        :class:`~fadvi_gui.tasks.project.OpenedProject` (its ``project.state`` holds the viewer
        state and choices for the panels).
    data_changed(str, str)
        The project's data file changed since saving; carries the project path and a message.
        Call :meth:`open` again with ``accept_changed_data=True`` to open it anyway.
    """

    saved = Signal(str)
    opened = Signal(object)
    data_changed = Signal(str, str)

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self._session = session

    def state(self, *, viewer: dict[str, Any] | None = None) -> dict[str, Any]:
        """Return the JSON-ready state saved in ``project.json``."""
        session = self._session
        settings = session.training_settings
        training = None
        if settings is not None and session.model is not None:
            training = {"model_kwargs": dict(settings.model_kwargs), "max_epochs": settings.max_epochs,
                        "time_budget_s": settings.time_budget_s, "batch_size": settings.batch_size,
                        "train_size": settings.train_size, "early_stopping": settings.early_stopping,
                        "seed": settings.seed, "device": settings.device}
        return plain_uns({"choices": session.choices.as_dict(), "training": training,
                          "review_threshold": session.review_threshold, "viewer": viewer or {},
                          "versions": package_versions()})

    def save(self, path: str | Path, *, viewer: dict[str, Any] | None = None,
             selection: np.ndarray | None = None) -> None:
        """Write the project to ``path`` in a worker; :attr:`saved` follows, or the session's error."""
        session = self._session
        if session.adata is None:
            session.error.emit("Open data before saving a project.", "")
            return
        if session.blocked_reason(JobKind.PROJECT):
            session.error.emit(session.blocked_reason(JobKind.PROJECT), "")
            return
        job = session.run_job(JobKind.PROJECT, f"Saving {Path(path).name}", project_tasks.save_project,
                              session.adata, path, state=self.state(viewer=viewer),
                              data_path=session.path, selection=selection, model=session.model)
        written: list[str] = []
        job.succeeded.connect(lambda target: written.append(str(target)))
        # Told once the job has ended, so the next project job may start at once.
        job.ended.connect(lambda outcome: written and outcome == "finished" and self.saved.emit(written[0]))

    def open(self, path: str | Path, *, accept_changed_data: bool = False) -> None:
        """Open the project at ``path`` in a worker (its data file is checked first)."""
        session = self._session
        if session.is_training:
            session.error.emit("Cancel training before opening a project.", "")
            return
        if session.blocked_reason(JobKind.PROJECT):
            session.error.emit(session.blocked_reason(JobKind.PROJECT), "")
            return
        if accept_changed_data:
            self._start_open(path, True)
            return
        found: list[str] = []
        job = session.run_job(JobKind.PROJECT, f"Checking {Path(path).name}",
                              project_tasks.check_project_data, path)
        job.succeeded.connect(found.append)
        # On ``ended`` the session has already freed the job kind for the next step.
        job.ended.connect(lambda outcome: self._on_check_ended(str(path), outcome, found))

    def _on_check_ended(self, path: str, outcome: str, found: list[str]) -> None:
        if outcome != "finished":
            return
        if found and found[0]:
            self.data_changed.emit(path, found[0])
        else:
            self._start_open(path, False)

    def _start_open(self, path: str | Path, accept: bool) -> None:
        session = self._session
        job = session.run_job(JobKind.PROJECT, f"Opening {Path(path).name}",
                              project_tasks.open_project, path, accept_changed_data=accept)
        job.succeeded.connect(self._on_open_succeeded)

    def _on_open_succeeded(self, opened: project_tasks.OpenedProject) -> None:
        session, state = self._session, opened.project.state
        session._set_data(opened.adata, opened.data_path)
        training = state.get("training")
        session.training_settings = TrainingSettings(**training) if training else None
        if state.get("review_threshold") is not None:
            session.review_threshold = float(state["review_threshold"])
        if opened.model is not None:
            session.set_reference_model(opened.model)
            session.adopt_model(opened.model, latents=session.latents)
        self.opened.emit(opened)


__all__ = ["ProjectFiles"]
