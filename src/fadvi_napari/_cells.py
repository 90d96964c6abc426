"""The cells as napari Points: coordinates from a 2-D embedding and a features table.

Qt-free and napari-free, so the reader and the viewer bridge build the same layer, and a
test can check the table without a window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from fadvi_gui.model.keys import CONFIDENCE_KEY, NOVELTY_KEY, PREDICTION_KEY

if TYPE_CHECKING:
    from anndata import AnnData

#: Size of the square the embedding is scaled into (data units of the layer).
CANVAS_SIZE = 1000.0
#: Point diameter in the same units.
POINT_SIZE = 7.0
#: Name of the Points layer of the cells.
LAYER_NAME = "FADVI cells"
#: Shown for a cell without a value (not predicted yet, no label).
MISSING = "(none)"
#: Features coloured by, first present first: a prediction once there is one.
COLOUR_ORDER = ("prediction", "label", "batch")


def cell_features(obs: pd.DataFrame, *, batch_key: str | None, labels_key: str | None
                  ) -> pd.DataFrame:
    """Return the features of the cells' Points layer, one row per cell in ``obs`` order.

    Parameters
    ----------
    obs
        The cells' ``adata.obs``.
    batch_key, labels_key
        Columns of ``obs`` chosen in the data panel; skipped when None or missing.

    Returns
    -------
    pandas.DataFrame
        ``(n_cells, k)`` with a fresh ``RangeIndex``. Columns, each only where the data
        has it: ``batch`` and ``label`` (categorical), ``prediction`` (categorical,
        from ``obs["fadvi_prediction"]``), ``confidence`` (float, ``obs["fadvi_confidence"]``)
        and ``novelty`` (float, ``obs["fadvi_novelty"]``).
    """
    out: dict[str, Any] = {}
    for name, key in (("batch", batch_key), ("label", labels_key), ("prediction", PREDICTION_KEY)):
        if key is not None and key in obs.columns:
            out[name] = _categorical(obs[key])
    for name, key in (("confidence", CONFIDENCE_KEY), ("novelty", NOVELTY_KEY)):
        if key in obs.columns:
            out[name] = pd.to_numeric(obs[key], errors="coerce").to_numpy(dtype=np.float64)
    return pd.DataFrame(out, index=pd.RangeIndex(len(obs)))


def colour_feature(features: pd.DataFrame) -> str | None:
    """Return the feature to colour by: the prediction, else the label, else the batch."""
    return next((name for name in COLOUR_ORDER if name in features.columns), None)


def point_coordinates(xy: np.ndarray) -> np.ndarray:
    """Return an embedding as napari ``(row, column)`` coordinates in a square of `CANVAS_SIZE`.

    Parameters
    ----------
    xy
        ``(n_cells, 2)`` embedding (x, y), as stored in ``obsm``.

    Returns
    -------
    numpy.ndarray
        ``(n_cells, 2)`` float32: rows grow downwards in napari, so y is flipped to keep
        the picture the app's viewer shows. Both axes share one scale.

    Raises
    ------
    ValueError
        If ``xy`` is not ``(n_cells, 2)`` or holds NaN or infinite values.
    """
    xy = np.asarray(xy, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"An embedding needs two columns (x, y); this one has shape {xy.shape}.")
    if not np.isfinite(xy).all():
        raise ValueError("The embedding has NaN or infinite values. Compute it again.")
    if not len(xy):
        return np.zeros((0, 2), dtype=np.float32)
    low = xy.min(axis=0)
    span = float((xy.max(axis=0) - low).max()) or 1.0
    scaled = (xy - low) * (CANVAS_SIZE / span)
    return np.column_stack([CANVAS_SIZE - scaled[:, 1], scaled[:, 0]]).astype(np.float32)


def stored_embedding(adata: AnnData, *, space: str) -> tuple[str, np.ndarray] | None:
    """Return ``(method, xy)`` of the best 2-D embedding of ``space`` in ``obsm``, or None.

    UMAP before PCA (``obsm["X_fadvi_l_umap"]``, then ``_pca``, for ``space="z_l"``).
    """
    from fadvi_gui.model.embedding import embedding_key

    for method in ("umap", "pca"):
        key = embedding_key(space, method)
        if key in adata.obsm and np.shape(adata.obsm[key]) == (adata.n_obs, 2):
            return method, np.asarray(adata.obsm[key])
    return None


def layer_name(space: str, method: str) -> str:
    """Return the title of the cells' layer for an embedding, e.g. ``"FADVI cells (z_l, UMAP)"``."""
    return f"{LAYER_NAME} ({space}, {method.upper()})"


def _categorical(values: pd.Series) -> pd.Categorical:
    """Text categories; a missing value (a cell not predicted) becomes ``"(none)"``."""
    text = values.astype(object).where(values.notna(), MISSING).astype(str)
    return pd.Categorical(text.to_numpy(dtype=object))


__all__ = ["CANVAS_SIZE", "LAYER_NAME", "NOVELTY_KEY", "POINT_SIZE", "cell_features",
           "colour_feature", "layer_name", "point_coordinates", "stored_embedding"]
