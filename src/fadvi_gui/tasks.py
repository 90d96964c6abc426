"""The functions that run on worker threads: read, check, train, save.

Each takes a :class:`~fadvi_gui.workers.JobControl` first and plain data after
it, calls ``fadvi_core`` or scanpy, and returns a result. None of them touches
Qt widgets, and none writes the file the user opened.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fadvi_core import FADVI, InputProblem, find_input_problems
from fadvi_gui.choices import DataChoices, TrainingSettings

if TYPE_CHECKING:
    from anndata import AnnData

    from fadvi_gui.workers import JobControl

#: Used as ``unlabeled_category`` when the user says every cell is labelled.
_NO_UNLABELLED_SENTINEL = "__fadvi_every_cell_labelled__"
#: obsm keys written on save, with the representation each holds.
LATENT_KEYS = {"X_fadvi_l": "label", "X_fadvi_b": "batch", "X_fadvi_r": "residual"}
_READ_HINT = (
    "Open an .h5ad file, a 10x Genomics .h5 file, or a 10x folder holding "
    "matrix.mtx, features.tsv (or genes.tsv) and barcodes.tsv."
)


def reserve_core_for_ui() -> int:
    """Limit torch to all CPU cores but one, so the UI thread always finds a free core.

    On a 2-core machine, torch's default of one thread per core makes its
    spinning worker threads fight the UI thread: training slows many times
    over and the window stutters (see ``benchmarks/ui_latency.py``).

    Returns
    -------
    int
        The number of torch threads now in use.
    """
    import torch

    threads = max(1, (os.cpu_count() or 2) - 1)
    if torch.get_num_threads() > threads:
        torch.set_num_threads(threads)
    return torch.get_num_threads()


def available_devices() -> list[str]:
    """Return the device choices torch can use here: ``"auto"``, ``"cpu"``, then ``"gpu"``/``"mps"``."""
    import torch

    devices = ["auto", "cpu"]
    if torch.cuda.is_available():
        devices.append("gpu")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append("mps")
    return devices


def read_data(control: JobControl, path: str | os.PathLike) -> AnnData:
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


def unlabeled_category_for(choices: DataChoices) -> str:
    """Return the ``unlabeled_category`` to give the engine for ``choices``."""
    if choices.unlabeled_category is None:
        return _NO_UNLABELLED_SENTINEL
    return str(choices.unlabeled_category)


def check_input(control: JobControl, adata: AnnData, choices: DataChoices) -> list[InputProblem]:
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


def select_genes(adata: AnnData, choices: DataChoices) -> np.ndarray:
    """Return a boolean mask of the genes to train on, shape ``(n_genes,)``.

    Uses scanpy's ``seurat_v3`` highly-variable-gene selection on the counts,
    within each batch when ``choices.hvg_batch_aware`` and a batch key is set.
    """
    import scanpy as sc

    n_top = choices.n_top_genes
    if n_top is None or n_top >= adata.n_vars:
        return np.ones(adata.n_vars, dtype=bool)
    layer = choices.layer
    batch_key = choices.batch_key if choices.hvg_batch_aware else None
    # The loess fit behind seurat_v3 can hit near-singularities within small
    # batches at scanpy's default span; a wider span is the usual remedy.
    error: Exception | None = None
    for span in (0.3, 0.5, 1.0):
        try:
            table = sc.pp.highly_variable_genes(
                adata, n_top_genes=n_top, flavor="seurat_v3", layer=layer,
                batch_key=batch_key, inplace=False, subset=False, span=span,
            )
            break
        except Exception as exc:  # noqa: BLE001 - scanpy/loess failures get a plain message
            error = exc
    else:
        raise ValueError(
            f"Selecting {n_top} variable genes failed ({error}). Switch 'batch-aware' off, "
            "change the number of genes, or train on all genes."
        ) from error
    return np.asarray(table["highly_variable"], dtype=bool)


def prepare_training_data(adata: AnnData, choices: DataChoices) -> AnnData:
    """Return a registered copy of ``adata`` for the engine; ``adata`` is left unchanged.

    Returns
    -------
    AnnData
        A copy with the selected genes, ``(n_cells, n_selected_genes)``, set up
        with ``FADVI.setup_anndata``.
    """
    genes = select_genes(adata, choices)
    train_adata = adata[:, genes].copy() if not genes.all() else adata.copy()
    matrix = train_adata.X if choices.layer is None else train_adata.layers[choices.layer]
    n_empty = int((np.asarray(matrix.sum(axis=1)).ravel() <= 0).sum())
    if n_empty:
        raise ValueError(
            f"{n_empty} cells have no counts in the {train_adata.n_vars} selected genes. "
            "Select more genes, or switch highly variable gene selection off."
        )
    FADVI.setup_anndata(
        train_adata,
        layer=choices.layer,
        batch_key=choices.batch_key,
        labels_key=choices.labels_key,
        unlabeled_category=unlabeled_category_for(choices),
        categorical_covariate_keys=list(choices.categorical_covariate_keys) or None,
        continuous_covariate_keys=list(choices.continuous_covariate_keys) or None,
    )
    return train_adata


def train_model(
    control: JobControl, adata: AnnData, choices: DataChoices, settings: TrainingSettings
) -> FADVI:
    """Build and train a FADVI model, reporting every step through ``control``.

    Returns
    -------
    FADVI
        Trained, or trained-so-far when a stop was requested (then
        ``model.training_was_stopped`` is True); usable either way.
    """
    import scvi

    reserve_core_for_ui()
    train_adata = prepare_training_data(adata, choices)
    scvi.settings.seed = settings.seed
    model = FADVI(train_adata, **settings.model_kwargs)

    def on_progress(progress: Any) -> None:
        last = progress.epoch_end and progress.epoch + 1 >= progress.max_epochs
        control.report(progress, force=progress.epoch_end or progress.step == 1 or last)

    model.train(
        max_epochs=settings.max_epochs,
        accelerator=settings.device,
        train_size=settings.train_size,
        batch_size=settings.batch_size,
        early_stopping=settings.early_stopping,
        progress_callback=on_progress,
        should_stop=control.should_stop,
    )
    return model


def compute_latents(control: JobControl, model: FADVI) -> dict[str, np.ndarray]:
    """Return the three latent spaces keyed by their ``obsm`` name.

    Returns
    -------
    dict of str to ndarray
        ``X_fadvi_l`` ``(n_cells, n_latent_l)``, ``X_fadvi_b`` ``(n_cells, n_latent_b)``
        and ``X_fadvi_r`` ``(n_cells, n_latent_r)``.
    """
    reserve_core_for_ui()
    out = {}
    for key, representation in LATENT_KEYS.items():
        out[key] = np.asarray(
            model.get_latent_representation(
                representation=representation, should_stop=control.should_stop
            )
        )
    return out


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
    control: JobControl,
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
        The latents written to ``obsm`` (empty without a model).
    """
    from fadvi_gui.results_io import save_annotated_h5ad

    if latents is None:
        latents = compute_latents(control, model) if model is not None else {}
    save_annotated_h5ad(adata, path, settings=plain_uns(params or {}), seed=seed,
                        latents=latents, source=source)
    return dict(latents)
