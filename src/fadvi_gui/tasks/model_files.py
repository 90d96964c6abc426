"""Worker-thread functions for model files and reference mapping.

Each takes a :class:`~fadvi_gui.tasks.Control` first; none touches Qt widgets.
Models are written in the engine's safe format (``FADVI.save``: arrays and JSON, no pickle).
"""

from __future__ import annotations

import os
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


def save_model(control: Control, model: FADVI, folder: str | os.PathLike) -> str:
    """Write ``model`` into ``folder`` (created if needed); return the folder."""
    model.save(str(folder), overwrite=True)
    return str(folder)


def load_model(control: Control, folder: str | os.PathLike) -> FADVI:
    """Read a model saved with :func:`save_model`, without data attached."""
    reserve_core_for_ui()
    return FADVI.load(str(folder), adata=None)


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
