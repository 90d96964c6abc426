"""Worker-thread functions for model files and reference mapping.

Each takes a :class:`~fadvi_gui.tasks.Control` first; none touches Qt widgets.
Models are written in the engine's safe format (``FADVI.save``: arrays and JSON, no pickle).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from fadvi_core import FADVI
from fadvi_gui.model.results_io import align_to_model_genes
from fadvi_gui.tasks.devices import reserve_core_for_ui

if TYPE_CHECKING:
    from anndata import AnnData

    from fadvi_core import TrainingProgress
    from fadvi_gui.tasks._control import Control

#: Epochs of the short training that fits a mapped model to the new batches.
MAP_EPOCHS = 20
#: How the engine names a model file (``FADVI.save``): ``[prefix]fadvi_model.npz``.
MODEL_FILE = "fadvi_model.npz"


def model_file_name(name: str) -> str:
    """The file name a model called ``name`` is saved under: ``pbmc`` gives ``pbmc_fadvi_model.npz``.

    A name that already ends the engine's way (``pbmc_fadvi_model.npz``, ``fadvi_model.npz``) is
    kept; a ``.npz`` ending of another name is replaced.
    """
    name = name.strip()
    if name.endswith(MODEL_FILE):
        return name
    name = name.removesuffix(".npz").rstrip("_")
    return f"{name}_{MODEL_FILE}" if name else MODEL_FILE


def model_location(path: str | os.PathLike) -> tuple[Path, str]:
    """Return ``(folder, prefix)`` for ``FADVI.save``/``FADVI.load`` from a model path.

    ``path`` is a model file (``folder/pbmc_fadvi_model.npz`` gives ``(folder, "pbmc_")``), or
    any other path: a folder holding ``fadvi_model.npz``, as ``fadvi train --out`` writes.
    """
    path = Path(path)
    if path.name.endswith(".npz"):
        return path.parent, model_file_name(path.name)[: -len(MODEL_FILE)]
    return path, ""


def save_model(control: Control, model: FADVI, path: str | os.PathLike) -> str:
    """Write ``model`` to the model file or folder ``path`` (see `model_location`); return the file."""
    folder, prefix = model_location(path)
    model.save(str(folder), prefix=prefix or None, overwrite=True)
    return str(folder / f"{prefix}{MODEL_FILE}")


def load_model(control: Control, path: str | os.PathLike) -> FADVI:
    """Read a model saved with :func:`save_model` (a model file, or its folder), without data."""
    reserve_core_for_ui()
    folder, prefix = model_location(path)
    return FADVI.load(str(folder), adata=None, prefix=prefix or None)


def align_genes(control: Control, adata: AnnData, model: FADVI
                ) -> tuple[AnnData | None, int, str]:
    """Return ``(aligned, n_missing, message)`` of :func:`fadvi_gui.model.results_io.align_to_model_genes`.

    ``aligned`` is always a copy, so registering it with the engine leaves ``adata`` alone.
    """
    aligned, n_missing, message = align_to_model_genes(adata, model.var_names)
    if aligned is adata:
        aligned = adata.copy()
    return aligned, n_missing, message


def map_query(control: Control, aligned: AnnData, reference: FADVI, *,
              max_epochs: int = MAP_EPOCHS) -> FADVI:
    """Map ``aligned`` (genes in the model's order) onto ``reference`` and train briefly.

    Only batch-specific weights move, so z_l and the label head stay the reference's.
    Progress arrives as ``fadvi_core.TrainingProgress``.

    Returns
    -------
    FADVI
        A model of ``aligned``'s cells, in the same order as the app's data.
    """
    reserve_core_for_ui()
    model = FADVI.load_query_data(aligned, reference)

    def on_progress(progress: TrainingProgress) -> None:
        control.report(progress, force=progress.epoch_end)

    model.train(max_epochs=max_epochs, progress_callback=on_progress,
                should_stop=control.should_stop)
    return model
