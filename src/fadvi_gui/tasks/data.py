"""Worker functions for the data: read a file, check it against the choices, save the results.

Each takes a :class:`~fadvi_gui.tasks._control.Control` first and plain data after it,
calls ``fadvi_core``, scanpy or anndata, and returns a result. None of them touches Qt,
and none writes the file the user opened.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fadvi_core import FADVI, InputProblem, find_input_problems
from fadvi_gui.model.choices import DataChoices, unlabeled_category_for
from fadvi_gui.model.withheld import withhold_labels
from fadvi_gui.tasks.training import compute_latents

if TYPE_CHECKING:
    from anndata import AnnData

    from fadvi_gui.tasks._control import Control

#: The demo batch whose labels are withheld (a different 10x chemistry, 430 cells).
DEMO_HIDDEN_BATCH = "5p"
_READ_HINT = (
    "Open an .h5ad file, a 10x Genomics .h5 file, or a 10x folder holding "
    "matrix.mtx, features.tsv (or genes.tsv) and barcodes.tsv."
)


def read_data(control: Control, path: str | os.PathLike) -> AnnData:
    """Read a count matrix from disk without ever writing to it.

    Parameters
    ----------
    control
        Unused beyond the job protocol; reading cannot be interrupted.
    path
        An ``.h5ad`` file, a 10x ``.h5`` file, a 10x mtx folder or a
        ``matrix.mtx(.gz)`` inside one.

    Returns
    -------
    AnnData
        In memory, with unique ``var_names``.
    """
    import anndata
    import scanpy as sc

    p = Path(path)
    name = p.name.lower()
    if not p.exists():
        raise ValueError(f"{p} does not exist. Check the path, or pick the file again.")
    try:
        if p.is_dir():
            adata = sc.read_10x_mtx(p)
        elif name.endswith(".h5ad"):
            adata = anndata.read_h5ad(p)
        elif name.endswith(".h5"):
            adata = sc.read_10x_h5(p)
        elif name.endswith((".mtx", ".mtx.gz")):
            adata = sc.read_10x_mtx(p.parent)
        else:
            raise ValueError(f"{p.name} is not a format FADVI can read. {_READ_HINT}")
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure gets one plain message
        raise ValueError(f"Could not read {p.name}: {exc}. {_READ_HINT}") from exc
    adata.var_names_make_unique()
    return adata


def read_demo(control: Control, path: str | os.PathLike) -> AnnData:
    """Read the built-in demo, ready for label transfer: the labels of one batch withheld.

    ``obs["cell_type_withheld"]`` holds the cell types with batch :data:`DEMO_HIDDEN_BATCH`
    set to ``"Unknown"`` (the data panel selects it); ``obs["cell_type"]`` keeps the truth,
    against which the review panel scores the predictions.

    Returns
    -------
    AnnData
        As :func:`read_data`, plus that column and ``uns["fadvi_withheld"]``.
    """
    adata = read_data(control, path)
    if {"cell_type", "batch"} <= set(adata.obs.columns):
        withhold_labels(adata, labels_key="cell_type", batch_key="batch", batches=[DEMO_HIDDEN_BATCH])
    return adata


def check_input(control: Control, adata: AnnData, choices: DataChoices) -> list[InputProblem]:
    """Return what stands between ``adata`` and training, most serious first.

    Returns
    -------
    list of InputProblem
        The engine's findings plus the app's own (no labels column chosen,
        too many genes asked for).
    """
    problems: list[InputProblem] = []
    if choices.labels_key is None:
        problems.append(
            InputProblem(
                code="missing_key",
                severity="error",
                message="No cell-type column is chosen, so there is nothing to learn labels from.",
                fix="Pick the column that holds cell types under 'Labels'.",
                detail={"key": "labels_key"},
            )
        )
    problems.extend(
        find_input_problems(
            adata,
            layer=choices.layer,
            batch_key=choices.batch_key,
            labels_key=choices.labels_key,
            unlabeled_category=unlabeled_category_for(choices),
            extra_keys=[*choices.categorical_covariate_keys, *choices.continuous_covariate_keys],
        )
    )
    if choices.n_top_genes is not None and choices.n_top_genes >= adata.n_vars:
        problems.append(
            InputProblem(
                code="hvg_too_many",
                severity="warning",
                message=(
                    f"You asked for {choices.n_top_genes} variable genes but the data has "
                    f"only {adata.n_vars}; every gene will be used."
                ),
                fix="Lower the number of genes, or switch gene selection off.",
                detail={},
            )
        )
    return sorted(problems, key=lambda p: p.severity != "error")


def plain_uns(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``values`` with what h5ad cannot store dropped (None) or converted (tuples)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            out[key] = plain_uns(value)
        elif isinstance(value, (list, tuple)):
            out[key] = [str(v) for v in value]
        else:
            out[key] = value
    return out


def save_annotated(
    control: Control,
    adata: AnnData,
    path: str | os.PathLike,
    *,
    latents: Mapping[str, np.ndarray] | None = None,
    model: FADVI | None = None,
    params: Mapping[str, Any] | None = None,
    seed: int | None = None,
    source: str | os.PathLike | None = None,
) -> dict[str, np.ndarray]:
    """Write ``adata`` with FADVI results to ``path`` atomically; ``adata`` is not modified.

    Parameters
    ----------
    adata
        The data as the app holds it, with predictions and embeddings.
    path
        Destination ``.h5ad``.
    latents
        Already computed latents by ``obsm`` key; computed from ``model`` if None.
    model
        Trained model, or None to save the data without latents.
    params
        Settings stored under ``uns["fadvi"]["settings"]``.
    seed
        The training seed, stored under ``uns["fadvi"]["seed"]``.
    source
        The file that was opened; writing over it is refused.

    Returns
    -------
    dict of str to ndarray
        The latents written to ``obsm`` (empty without a model). With a trained model, a
        rerun script is written beside ``path`` too (:func:`write_rerun`).
    """
    from fadvi_gui.model.results_io import save_annotated_h5ad

    if latents is None:
        latents = compute_latents(control, model) if model is not None else {}
    save_annotated_h5ad(adata, path, settings=plain_uns(params or {}), seed=seed,
                        latents=latents, source=source)
    if model is not None and params and "training" in params:
        write_rerun(path, model, params)
    return dict(latents)


def write_rerun(path: str | os.PathLike, model: FADVI, params: Mapping[str, Any]) -> Path:
    """Write ``<stem>_rerun.py`` beside the exported ``path``: the fadvi_core calls that retrain
    ``model`` (:func:`fadvi_gui.model.rerun.rerun_script`). Returns the script's path."""
    from fadvi_gui.model.rerun import rerun_script, write_rerun_script
    from fadvi_gui.model.results_io import package_versions

    history = getattr(model, "history_", None) or {}
    epochs = max((len(frame) for frame in history.values()), default=0) or None
    text = rerun_script(Path(path).name, setup=dict(params.get("setup", {})),
                        model_kwargs=dict(params.get("model", {})),
                        training=dict(params["training"]), epochs_trained=epochs,
                        versions=package_versions())
    return write_rerun_script(path, text)


__all__ = ["DEMO_HIDDEN_BATCH", "check_input", "plain_uns", "read_data", "read_demo", "save_annotated", "write_rerun"]
