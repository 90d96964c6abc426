"""Gene attributions for a set of cells, grouped by predicted class. No Qt.

:func:`explain` picks the cells (a selection, one predicted class, or every class),
caps their number with a seeded sample, runs the model's attribution chunk by chunk
and ranks genes per predicted class with the engine's own tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import ArrayLike
import pandas as pd

from fadvi_gui.model.keys import PREDICTION_KEY

if TYPE_CHECKING:
    from anndata import AnnData

    from fadvi_core import FADVI
    from fadvi_core._hooks import ChunkCallback, StopCheck

Method = Literal["ig", "gs"]
Scope = Literal["selection", "class", "all"]
METHOD_LABELS = {"ig": "Integrated Gradients", "gs": "GradientShap"}
#: The engine's attribution baseline used for each method (its measured default).
BASELINES = {"ig": "other_classes", "gs": "zero"}
#: What each baseline means, for the explanation view.
BASELINE_TEXT = {
    "other_classes": "Compared with the average of the other cell types: the genes shown are "
                     "those this type has more of.",
    "zero": "Compared with no expression at all: genes high in every cell can rank high.",
}
#: Key of the table over every explained cell, whatever their class.
ALL_CELLS = "All explained cells"
#: Columns of ``FADVI.get_ranked_features``.
RANKED_COLUMNS = ("feature", "feature_idx", "attribution_mean", "attribution_std",
                  "attribution_abs_mean", "n_cells")


@dataclass(frozen=True)
class ExplainSettings:
    """What the explanation panel asks for.

    Attributes
    ----------
    method
        ``"ig"`` (Integrated Gradients) or ``"gs"`` (GradientShap).
    scope
        ``"selection"`` (``indices``), ``"class"`` (cells predicted as ``label``) or ``"all"``
        (every predicted class, each capped at ``max_cells``).
    max_cells
        Most cells attributed per group; more are sampled down with ``seed``.
    n_steps
        Integration steps (IG) or baseline samples per cell (GradientShap).
    """

    method: Method = "ig"
    scope: Scope = "class"
    label: str | None = None
    indices: tuple[int, ...] | None = None
    max_cells: int = 500
    n_steps: int = 50
    seed: int = 0

    def as_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of :func:`explain` these settings stand for."""
        return {"method": self.method, "scope": self.scope, "label": self.label,
                "indices": self.indices, "max_cells": self.max_cells, "n_steps": self.n_steps,
                "seed": self.seed}


@dataclass
class ExplainResult:
    """Ranked genes per predicted class for the explained cells.

    Attributes
    ----------
    tables
        Class name -> genes ranked by mean absolute attribution, with the columns of
        ``FADVI.get_ranked_features`` (``feature``, ``feature_idx``, ``attribution_mean``,
        ``attribution_std``, ``attribution_abs_mean``, ``n_cells``). For a selection,
        ``ALL_CELLS`` comes first and covers every explained cell.
    by_label
        ``FADVI.get_ranked_features_by_label`` over the explained cells (``label``, ``gene``,
        ``score``, ``rank``, ...).
    indices
        ``(n_explained,)`` positions of the explained cells, sorted.
    predictions
        ``(n_explained,)`` predicted class of each explained cell.
    """

    method: Method
    scope: Scope
    tables: dict[str, pd.DataFrame]
    by_label: pd.DataFrame
    indices: np.ndarray
    predictions: np.ndarray
    settings: dict[str, Any] = field(default_factory=dict)
    baseline: str = ""

    def table_for_export(self, name: str | None = None) -> pd.DataFrame:
        """One class's table (or all, stacked) with a leading ``class`` column, for CSV."""
        names = [name] if name is not None else list(self.tables)
        return pd.concat([self.tables[n].assign(**{"class": n})[["class", *RANKED_COLUMNS]]
                          for n in names], ignore_index=True)


def sample_cells(candidates: ArrayLike, max_cells: int, seed: int) -> np.ndarray:
    """Return at most ``max_cells`` of ``candidates``, sorted; the same seed gives the same cells."""
    candidates = np.unique(np.asarray(candidates, dtype=np.int64))
    if max_cells <= 0 or len(candidates) <= max_cells:
        return candidates
    return np.sort(np.random.default_rng(seed).choice(candidates, max_cells, replace=False))


def _predicted_classes(model: FADVI, adata: AnnData | None, should_stop: StopCheck | None
                       ) -> np.ndarray:
    if adata is not None and PREDICTION_KEY in adata.obs and \
            adata.obs[PREDICTION_KEY].notna().all():
        return adata.obs[PREDICTION_KEY].astype(str).to_numpy()
    return np.asarray(model.predict(should_stop=should_stop), dtype=object).astype(str)


def choose_cells(model: FADVI, adata: AnnData | None, settings: ExplainSettings,
                 should_stop: StopCheck | None = None) -> np.ndarray:
    """Positions of the cells `explain` attributes for ``settings``, sorted."""
    if settings.scope == "selection":
        if not settings.indices:
            raise ValueError("No cells are selected. Select cells in the latent viewer first, "
                             "or explain a predicted class instead.")
        return sample_cells(settings.indices, settings.max_cells, settings.seed)
    predicted = _predicted_classes(model, adata, should_stop)
    if settings.scope == "class":
        if not settings.label:
            raise ValueError("Choose the predicted class to explain.")
        cells = np.flatnonzero(predicted == str(settings.label))
        if not len(cells):
            raise ValueError(f"No cell is predicted as '{settings.label}'. Choose another class.")
        return sample_cells(cells, settings.max_cells, settings.seed)
    if settings.scope == "all":
        groups = [sample_cells(np.flatnonzero(predicted == name), settings.max_cells, settings.seed)
                  for name in pd.unique(predicted)]
        return np.sort(np.concatenate(groups))
    raise ValueError(f"scope={settings.scope!r} is not supported; use 'selection', 'class' or 'all'.")


def method_args(method: Method, n_steps: int, seed: int) -> dict[str, Any]:
    """The engine's ``interpretability_args`` for ``method`` with ``n_steps`` steps or samples."""
    if method == "ig":
        return {"n_steps": int(n_steps), "baselines": BASELINES["ig"]}
    if method == "gs":
        return {"n_samples": int(n_steps), "seed": int(seed), "baselines": BASELINES["gs"]}
    raise ValueError(f"method={method!r} is not supported; use 'ig' or 'gs'.")


def explain(model: FADVI, adata: AnnData | None, *, method: Method = "ig", scope: Scope = "class",
            label: str | None = None, indices: Sequence[int] | None = None, max_cells: int = 500,
            n_steps: int = 50, seed: int = 0, progress_callback: ChunkCallback | None = None,
            should_stop: StopCheck | None = None) -> ExplainResult:
    """Attribute the predictions of the chosen cells to genes and rank genes per class.

    Parameters
    ----------
    model
        A trained ``fadvi_core.FADVI``; cell positions refer to its data, in the same order
        as ``adata``.
    adata
        The app's data, whose ``obs["fadvi_prediction"]`` (when complete) picks a class's
        cells without predicting again.
    method, scope, label, indices, max_cells, n_steps, seed
        As in `ExplainSettings`.
    progress_callback, should_stop
        Passed to ``model.predict``: ``fadvi_core.ChunkProgress`` reports, and a stop check
        (a stop raises ``fadvi_core.Cancelled``).

    Returns
    -------
    ExplainResult
        Ranked genes per predicted class of the explained cells.
    """
    settings = ExplainSettings(method=method, scope=scope, label=label,
                               indices=None if indices is None else tuple(map(int, indices)),
                               max_cells=max_cells, n_steps=n_steps, seed=seed)
    cells = choose_cells(model, adata, settings, should_stop)
    out = model.predict(indices=cells, interpretability=method,
                        interpretability_args=method_args(method, n_steps, seed),
                        progress_callback=progress_callback, should_stop=should_stop)
    predictions = np.asarray(out["predictions"], dtype=object).astype(str)
    attributions = np.asarray(out["attributions"])
    tables: dict[str, pd.DataFrame] = {}
    if scope == "selection":
        tables[ALL_CELLS] = model.get_ranked_features(attributions=attributions)
    wanted = [str(label)] if scope == "class" else [str(n) for n in pd.unique(predictions)]
    for name in wanted:
        rows = predictions == name
        if rows.any():
            tables[name] = model.get_ranked_features(attributions=attributions[rows])
    by_label = model.get_ranked_features_by_label(attributions, predictions)
    recorded = settings.as_kwargs()
    recorded.pop("indices")
    return ExplainResult(method=method, scope=scope, tables=tables, by_label=by_label,
                         indices=cells, predictions=predictions, settings=recorded,
                         baseline=BASELINES[method])
