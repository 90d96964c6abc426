"""Wiring of Save Project / Open Project: the panels' state into the file, and back out.

The session's :class:`~fadvi_gui.session.project.ProjectFiles` writes and reads the file and
restores data and model; this module adds what only the panels know (the viewer's space,
embedding, colouring and selection; the setup choices; the review threshold).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import QObject

from fadvi_gui.model.choices import DataChoices
from fadvi_gui.model.project_io import SUFFIX

if TYPE_CHECKING:
    from fadvi_gui.panels.data import DataPanel
    from fadvi_gui.panels.predictions import PredictionsPanel
    from fadvi_gui.panels.training import TrainingPanel
    from fadvi_gui.panels.viewer import LatentView
    from fadvi_gui.session import Session
    from fadvi_gui.wiring.annotation import FilePrompts

_FILTER = f"FADVI project (*{SUFFIX})"


class ProjectWiring(QObject):
    """Save and open projects for a window's session and panels.

    Parameters
    ----------
    session
        Its ``projects`` writes and reads the files.
    data_panel, training, predictions, viewer
        The panels whose state a project restores.
    prompts
        File names, the question when the data changed, errors and status messages.
    """

    def __init__(self, session: Session, data_panel: DataPanel, training: TrainingPanel,
                 predictions: PredictionsPanel, viewer: LatentView, prompts: FilePrompts,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.prompts = session, prompts
        self.data_panel, self.training, self.predictions, self.viewer = (
            data_panel, training, predictions, viewer)
        session.projects.saved.connect(lambda path: prompts.status(f"Project saved to {path}"))
        session.projects.opened.connect(self._on_projects_opened)
        session.projects.data_changed.connect(self._on_projects_data_changed)

    # ------------------------------------------------------------------ public
    def save_project(self, path: str | Path | None = None) -> None:
        """Save the project to ``path`` (asked for when None)."""
        if self.session.adata is None:
            self.prompts.show_error("Open data before saving a project.")
            return
        if path is None:
            stem = self.session.path.stem.removesuffix(".h5") if self.session.path else "fadvi"
            path = self.prompts.ask_save_path("Save project", f"{stem}{SUFFIX}", _FILTER)
            if not path:
                return
        path = str(path) if str(path).endswith(SUFFIX) else f"{path}{SUFFIX}"
        colouring = self.viewer.colouring()
        viewer = {"space": self.viewer.current_space(), "method": self.viewer.current_method(),
                  "colour_by": colouring.key if colouring is not None else None}
        self.session.projects.save(path, viewer=viewer, selection=self.viewer.selected_indices())

    def open_project(self, path: str | Path | None = None) -> None:
        """Open the project at ``path`` (asked for when None)."""
        if path is None:
            path = self.prompts.ask_open_path("Open project", _FILTER)
            if not path:
                return
        self.session.projects.open(path)

    # ------------------------------------------------------------ session slots
    def _on_projects_data_changed(self, path: str, message: str) -> None:
        if self.prompts.ask_yes_no("The data file changed",
                                   f"{message}\n\nOpen the project anyway? Cells are matched by name; "
                                   "the saved model may no longer fit the data."):
            self.session.projects.open(path, accept_changed_data=True)

    def _on_projects_opened(self, opened: Any) -> None:
        state = opened.project.state
        session = self.session
        fields = DataChoices.__dataclass_fields__
        saved = {k: v for k, v in dict(state.get("choices", {})).items() if k in fields}
        for key in ("categorical_covariate_keys", "continuous_covariate_keys"):
            saved[key] = tuple(saved.get(key) or ())
        self.data_panel.set_data(session.adata, opened.data_path.name, DataChoices(**saved))
        if state.get("training"):
            self.training.set_settings(dict(state["training"]))
        if session.review_threshold is not None:
            self.predictions.set_threshold(session.review_threshold)
        viewer = dict(state.get("viewer", {}))
        if viewer.get("method"):
            self.viewer.set_method(viewer["method"])
        if viewer.get("space"):
            try:
                self.viewer.set_space(viewer["space"])
            except ValueError:
                pass  # the space is not available (no model was saved)
        if viewer.get("colour_by"):
            try:
                self.viewer.set_colour_by(viewer["colour_by"])
            except ValueError:
                self.viewer.show_gene(viewer["colour_by"])
        if len(opened.project.selection):
            self.viewer.set_selection(opened.project.selection)
        self.prompts.status(f"Opened the project on {opened.data_path.name}.")


__all__ = ["ProjectWiring"]
