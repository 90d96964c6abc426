"""The project file: one zip of JSON and ``.npz`` arrays that restores a session, without pickle.

Layout of a ``.fadvi`` project (a zip archive)::

    project.json        format, version, data path and SHA-256, choices, settings, viewer state
    obs.npz             every obs column (categoricals as codes + categories) and the cell names
    obsm.npz            the app's arrays: latents, embeddings, probabilities
    fadvi_model.npz     the model in the engine's safe format (optional)

Everything is read with ``allow_pickle=False`` and JSON, so opening a project never runs code.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from fadvi_core import file_sha256, write_atomically
from fadvi_gui.model.keys import SCVI_PREFIX

if TYPE_CHECKING:
    from anndata import AnnData

FORMAT = "fadvi-desktop-project"
VERSION = 1
SUFFIX = ".fadvi"
MODEL_MEMBER = "fadvi_model.npz"
#: Most bytes read from ``project.json`` (a crafted file cannot exhaust memory through it).
MAX_JSON_BYTES = 64 << 20
_OBSM_PREFIXES = ("X_fadvi", "fadvi_")
_UNS_PREFIX = "fadvi"


class ProjectFileError(ValueError):
    """The project file is not a FADVI project, or is damaged."""


class DataChangedError(ValueError):
    """The project's data file differs from the one it was saved with (or is missing)."""


@dataclass
class Project:
    """What a project file holds, read back.

    Attributes
    ----------
    state
        The ``project.json`` content: ``data`` (``path``, ``sha256``, ``n_obs``, ``n_vars``),
        ``choices``, ``training``, ``review_threshold``, ``viewer``, ``uns``, ``versions``.
    cells
        ``(n_cells,)`` the cell names the project's arrays belong to.
    obs
        The saved ``obs`` columns, indexed by ``cells``.
    obsm
        The saved ``obsm`` arrays, ``(n_cells, d)`` each.
    selection
        Positions of the cells selected in the viewer.
    model_bytes
        The saved model file (engine format), or None.
    """

    state: dict[str, Any]
    cells: np.ndarray
    obs: pd.DataFrame
    obsm: dict[str, np.ndarray] = field(default_factory=dict)
    selection: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    model_bytes: bytes | None = None


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def _obs_arrays(obs: pd.DataFrame) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Return plain arrays of every obs column and each column's kind."""
    arrays: dict[str, np.ndarray] = {"__cells__": np.asarray(obs.index.astype(str), dtype=str)}
    kinds: dict[str, str] = {}
    for i, (name, values) in enumerate(obs.items()):
        if str(name).startswith(SCVI_PREFIX):
            continue
        key = f"c{i}"
        dtype = values.dtype
        if pd.api.types.is_bool_dtype(dtype):
            arrays[key], kinds[str(name)] = values.to_numpy(dtype=bool), f"bool:{key}"
        elif pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
            arrays[key], kinds[str(name)] = values.to_numpy(dtype=np.float64), f"float:{key}"
        else:
            cat = values if isinstance(dtype, pd.CategoricalDtype) else values.astype(str).astype("category")
            arrays[f"{key}_codes"] = cat.cat.codes.to_numpy(dtype=np.int32)
            arrays[f"{key}_categories"] = np.asarray([str(c) for c in cat.cat.categories], dtype=str)
            kinds[str(name)] = f"category:{key}"
    return arrays, kinds


def write_project(path: str | os.PathLike, adata: AnnData, *, state: dict[str, Any],
                  selection: np.ndarray | None = None, model_file: str | os.PathLike | None = None) -> Path:
    """Write a project file atomically.

    Parameters
    ----------
    path
        Destination (``.fadvi``).
    adata
        The session's data: all ``obs`` columns, the app's ``obsm`` arrays and ``uns`` entries
        (keys starting with ``fadvi``) are saved.
    state
        JSON-ready content of ``project.json`` (data path and checksum, choices, settings, viewer).
    selection
        Positions of the selected cells.
    model_file
        A model written by ``FADVI.save`` (its ``fadvi_model.npz``), or None.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    obs_arrays, kinds = _obs_arrays(adata.obs)
    obsm = {str(k): np.asarray(v) for k, v in adata.obsm.items() if str(k).startswith(_OBSM_PREFIXES)}
    uns = {str(k): _plain(v) for k, v in adata.uns.items() if str(k).startswith(_UNS_PREFIX)}
    content = {**state, "format": FORMAT, "version": VERSION, "obs_columns": kinds,
               "obsm_keys": list(obsm), "uns": uns}
    chosen = np.asarray(selection if selection is not None else [], dtype=np.int64)

    def write(temporary: Path) -> None:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("project.json", json.dumps(content, indent=1))
            archive.writestr("obs.npz", _npz_bytes({**obs_arrays, "__selection__": chosen}))
            archive.writestr("obsm.npz", _npz_bytes({f"m{i}": v for i, v in enumerate(obsm.values())}))
            if model_file is not None:
                archive.write(model_file, MODEL_MEMBER)

    return write_atomically(Path(path), write, create_folder=False)


def _plain(value: Any) -> Any:
    """Return ``value`` as JSON-ready data (arrays become lists)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray, pd.Index)):
        return [_plain(v) for v in list(value)]
    if isinstance(value, np.generic):
        return value.item()
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


def _load_npz(archive: zipfile.ZipFile, member: str) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(archive.read(member)), allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def read_project(path: str | os.PathLike) -> Project:
    """Read a project file written by :func:`write_project`; nothing in it can run code.

    Raises
    ------
    ProjectFileError
        If the file is not a FADVI project or is damaged.
    """
    p = Path(path)
    try:
        with zipfile.ZipFile(p) as archive:
            info = archive.getinfo("project.json")
            if info.file_size > MAX_JSON_BYTES:
                raise ProjectFileError(f"{p.name} is not a FADVI project (its settings are too large).")
            state = json.loads(archive.read(info))
            if not isinstance(state, dict) or state.get("format") != FORMAT:
                raise ProjectFileError(f"{p.name} is not a FADVI project file.")
            if int(state.get("version", 0)) > VERSION:
                raise ProjectFileError(f"{p.name} was written by a newer FADVI. Update FADVI to open it.")
            obs_arrays = _load_npz(archive, "obs.npz")
            obsm_arrays = _load_npz(archive, "obsm.npz")
            names = archive.namelist()
            model_bytes = archive.read(MODEL_MEMBER) if MODEL_MEMBER in names else None
    except ProjectFileError:
        raise
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        raise ProjectFileError(f"Could not read the project {p.name}: {exc}. The file is not a "
                               "FADVI project or is damaged.") from exc
    cells = obs_arrays.pop("__cells__").astype(str)
    selection = obs_arrays.pop("__selection__").astype(np.int64)
    obs = pd.DataFrame(index=pd.Index(cells))
    for name, kind in dict(state.get("obs_columns", {})).items():
        how, key = str(kind).split(":", 1)
        if how == "category":
            codes, categories = obs_arrays[f"{key}_codes"], obs_arrays[f"{key}_categories"]
            obs[name] = pd.Categorical.from_codes(codes, categories=[str(c) for c in categories])
        else:
            obs[name] = obs_arrays[key]
    obsm = {name: obsm_arrays[f"m{i}"] for i, name in enumerate(state.get("obsm_keys", []))}
    bad = [k for k, v in obsm.items() if len(v) != len(cells)]
    if bad or len(selection) and (selection.min() < 0 or selection.max() >= len(cells)):
        raise ProjectFileError(f"The project {p.name} is damaged (its arrays do not fit its cells).")
    return Project(state=state, cells=cells, obs=obs, obsm=obsm, selection=selection,
                   model_bytes=model_bytes)


def locate_data(project_path: str | os.PathLike, data: dict[str, Any]) -> Path:
    """Return the project's data file: at its saved path, else beside the project, checked.

    Raises
    ------
    DataChangedError
        If the file is missing, or its checksum differs from the one saved.
    """
    saved = Path(str(data.get("path", "")))
    beside = Path(project_path).parent / str(data.get("relative_path", saved.name))
    found = saved if saved.is_file() else beside if beside.is_file() else None
    if found is None:
        raise DataChangedError(f"The project's data file {saved} is missing. Put it back (or next to "
                               "the project file) and open the project again.")
    if data.get("sha256") and file_sha256(found) != data["sha256"]:
        raise DataChangedError(f"{found.name} has changed since the project was saved (its "
                               "checksum differs), so the saved results may not match its cells.")
    return found


def apply_to(adata: AnnData, project: Project) -> AnnData:
    """Return ``adata`` limited to the project's cells, with its saved obs, obsm and uns.

    Raises
    ------
    DataChangedError
        If some of the project's cells are not in the data.
    """
    missing = ~pd.Index(project.cells).isin(adata.obs_names)
    if missing.any():
        raise DataChangedError(f"{int(missing.sum()):,} of the project's cells are not in the data "
                               f"(first: {project.cells[missing][0]}). Open the data the project was "
                               "saved with.")
    out = adata[project.cells].copy() if not adata.obs_names.equals(pd.Index(project.cells)) else adata
    for name in project.obs.columns:
        out.obs[name] = project.obs[name].to_numpy() if not isinstance(
            project.obs[name].dtype, pd.CategoricalDtype) else project.obs[name].array
    for name, values in project.obsm.items():
        out.obsm[name] = values
    for name, value in dict(project.state.get("uns", {})).items():
        out.uns[name] = value
    return out


__all__ = ["FORMAT", "SUFFIX", "DataChangedError", "Project", "ProjectFileError", "apply_to",
           "file_sha256", "locate_data", "read_project", "write_project"]
