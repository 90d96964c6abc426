"""Worker-thread functions for predictions and explanations (the `Session.run_job` protocol).

Each takes a :class:`~fadvi_gui.tasks.Control` first, passes its ``report`` and
``should_stop`` to the engine, and returns plain results; none touches Qt widgets or
writes into the app's AnnData (the UI thread does that with :mod:`fadvi_gui.model.results`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from fadvi_gui.model.explain import ExplainResult, ExplainSettings, explain
from fadvi_gui.model.results import Mode
from fadvi_gui.tasks.devices import reserve_core_for_ui

if TYPE_CHECKING:
    from anndata import AnnData

    from fadvi_core import FADVI, ChunkProgress
    from fadvi_core._hooks import ChunkCallback

    from fadvi_gui.tasks._control import Control


@dataclass
class PredictionRun:
    """Soft predictions for some cells.

    Attributes
    ----------
    mode
        ``"label"`` or ``"batch"``.
    indices
        Positions of the predicted cells, or None for every cell.
    probabilities
        ``(n_predicted, n_classes)`` probabilities, one column per class.
    """

    mode: Mode
    indices: np.ndarray | None
    probabilities: pd.DataFrame


def _reporter(control: Control) -> ChunkCallback:
    def report(progress: ChunkProgress) -> None:
        control.report(progress, force=progress.done >= progress.total)
    return report


def predict_cells(control: Control, model: FADVI, *, indices: Sequence[int] | None = None,
                  mode: Mode = "label") -> PredictionRun:
    """Predict classes (``"label"``, from z_l) or batches (``"batch"``, from z_b) of cells.

    Progress arrives as ``fadvi_core.ChunkProgress``; a stop raises ``fadvi_core.Cancelled``.
    """
    reserve_core_for_ui()
    rows = None if indices is None else np.asarray(indices, dtype=np.int64)
    if rows is not None and len(rows) == 0:
        raise ValueError("No cells are selected. Select cells in the latent viewer, "
                         "or predict all cells.")
    probabilities = model.predict(indices=rows, soft=True, prediction_mode=mode,
                                  progress_callback=_reporter(control),
                                  should_stop=control.should_stop)
    return PredictionRun(mode=mode, indices=rows, probabilities=probabilities)


def explain_cells(control: Control, model: FADVI, adata: AnnData | None, settings: ExplainSettings
                  ) -> ExplainResult:
    """Run :func:`fadvi_gui.model.explain.explain` for ``settings`` with the job's hooks."""
    reserve_core_for_ui()
    return explain(model, adata, **settings.as_kwargs(), progress_callback=_reporter(control),
                   should_stop=control.should_stop)
