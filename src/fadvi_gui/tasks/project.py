"""Worker functions for project files: save the session's state, open it again."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fadvi_core import FADVI
from fadvi_gui.model import project_io
from fadvi_gui.model.choices import DataChoices
from fadvi_gui.tasks.data import read_data
from fadvi_gui.tasks.training import prepare_training_data

if TYPE_CHECKING:
    from anndata import AnnData

    from fadvi_gui.tasks._control import Control


@dataclass
class OpenedProject:
    """A project read back: the data with its results, the model, and the saved state.

    Attributes
    ----------
    adata
        The data file's cells (those of the project), with the project's obs, obsm and uns.
    data_path
        Where the data file was found.
    model
        The saved model attached to ``adata``'s training copy, or None.
    project
        The file's content (:class:`~fadvi_gui.model.project_io.Project`).
    """

    adata: AnnData
    data_path: Path
    model: FADVI | None
    project: project_io.Project


def save_project(control: Control, adata: AnnData, path: str | os.PathLike, *,
                 state: dict[str, Any], data_path: str | os.PathLike | None,
                 selection: np.ndarray | None = None, model: FADVI | None = None) -> str:
    """Write the session to a project file (:func:`fadvi_gui.model.project_io.write_project`).

    The data file is referenced by path (absolute, and relative to the project) with its
    SHA-256, never copied. Returns the path written.
    """
    target = Path(path)
    if data_path is None:
        raise ValueError("This data has no file on disk, so a project cannot point to it. "
                         "Save it as .h5ad first, open that file, then save the project.")
    data_path = Path(data_path).resolve()
    data = {"path": str(data_path), "sha256": project_io.file_sha256(data_path),
            "relative_path": os.path.relpath(data_path, target.resolve().parent),
            "n_obs": int(adata.n_obs), "n_vars": int(adata.n_vars)}
    state = {**state, "data": data}
    with tempfile.TemporaryDirectory(prefix="fadvi-project-") as folder:
        model_file = None
        if model is not None:
            model.save(folder, overwrite=True)
            model_file = Path(folder) / project_io.MODEL_MEMBER
        project_io.write_project(target, adata, state=state, selection=selection,
                                 model_file=model_file)
    return str(target)


def check_project_data(control: Control, path: str | os.PathLike) -> str:
    """Return why the project's data file no longer matches it ("" when it does).

    Raises
    ------
    fadvi_gui.model.project_io.DataChangedError
        If the data file is missing.
    fadvi_gui.model.project_io.ProjectFileError
        If the project file is damaged.
    """
    data = dict(project_io.read_project(path).state.get("data", {}))
    try:
        project_io.locate_data(path, data)
    except project_io.DataChangedError as exc:
        if "missing" in str(exc):
            raise
        return str(exc)
    return ""


def open_project(control: Control, path: str | os.PathLike, *,
                 accept_changed_data: bool = False) -> OpenedProject:
    """Read a project, its data file and its model.

    Parameters
    ----------
    path
        A ``.fadvi`` file.
    accept_changed_data
        Open even when the data file's checksum differs (the cells are still matched by name).

    Raises
    ------
    fadvi_gui.model.project_io.DataChangedError
        If the data file is missing, changed (unless accepted), or lacks the project's cells.
    fadvi_gui.model.project_io.ProjectFileError
        If the project file is damaged.
    """
    project = project_io.read_project(path)
    data = dict(project.state.get("data", {}))
    if accept_changed_data:
        data.pop("sha256", None)
    data_path = project_io.locate_data(path, data)
    adata = project_io.apply_to(read_data(control, data_path), project)
    model = None
    if project.model_bytes is not None:
        choices = DataChoices(**_choices_kwargs(project.state.get("choices", {})))
        with tempfile.TemporaryDirectory(prefix="fadvi-project-") as folder:
            (Path(folder) / project_io.MODEL_MEMBER).write_bytes(project.model_bytes)
            model = FADVI.load(folder, adata=prepare_training_data(adata, choices))
    return OpenedProject(adata=adata, data_path=data_path, model=model, project=project)


def _choices_kwargs(values: Any) -> dict[str, Any]:
    fields = DataChoices.__dataclass_fields__
    out = {k: v for k, v in dict(values).items() if k in fields}
    for key in ("categorical_covariate_keys", "continuous_covariate_keys"):
        out[key] = tuple(out.get(key) or ())
    return out


__all__ = ["OpenedProject", "check_project_data", "open_project", "save_project"]
