"""Taking results out: predictions and ranked-gene CSVs, the annotated ``.h5ad``, gene alignment.

No Qt here. Every writer goes through `fadvi_core.write_atomically` (temporary file, fsync,
rename), so a crash never leaves half a file, and none writes the file that was opened.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike
import pandas as pd

from fadvi_core import write_atomically
# One record format for the CLI and the app: the versions recorded and h5ad-safe values.
from fadvi_core._cli_record import package_versions
from fadvi_core._cli_record import plain as plain_value

from fadvi_gui.model.keys import ACCEPTED_KEY, SCVI_PREFIX, UNS_KEY
from fadvi_gui.model.results import keys_for

if TYPE_CHECKING:
    from anndata import AnnData

def predictions_frame(adata: AnnData, *, batch_key: str | None, labels_key: str | None
                      ) -> pd.DataFrame:
    """Predictions as a table: one row per cell.

    Returns
    -------
    pandas.DataFrame
        Columns ``cell``, ``batch``, ``existing_label``, ``prediction``, ``confidence``,
        ``accepted_label`` (when present), then ``probability_<class>`` per class.
    """
    keys = keys_for("label")
    if keys.prediction not in adata.obs:
        raise ValueError("There are no predictions to export yet. Press 'Predict labels' first.")
    obs = adata.obs
    frame = pd.DataFrame({"cell": np.asarray(adata.obs_names, dtype=object)})
    frame["batch"] = obs[batch_key].astype(str).to_numpy() if batch_key in obs else ""
    frame["existing_label"] = obs[labels_key].astype(str).to_numpy() if labels_key in obs else ""
    frame["prediction"] = obs[keys.prediction].astype(object).to_numpy()
    frame["confidence"] = obs[keys.confidence].to_numpy(dtype=np.float64)
    if ACCEPTED_KEY in obs:
        frame["accepted_label"] = obs[ACCEPTED_KEY].astype(object).to_numpy()
    classes = [str(c) for c in adata.uns.get(keys.classes, [])]
    if keys.probabilities in adata.obsm and classes:
        matrix = np.asarray(adata.obsm[keys.probabilities])
        for column, name in enumerate(classes):
            frame[f"probability_{name}"] = matrix[:, column]
    return frame


def export_predictions_csv(adata: AnnData, path: str | os.PathLike, *, batch_key: str | None,
                           labels_key: str | None) -> Path:
    """Write `predictions_frame` to ``path`` as CSV (cells never predicted have empty fields)."""
    frame = predictions_frame(adata, batch_key=batch_key, labels_key=labels_key)
    return write_atomically(path, lambda tmp: frame.to_csv(tmp, index=False), create_folder=False)


def export_ranked_genes_csv(table: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a ranked-gene table (``get_ranked_features`` columns, maybe a ``class`` column) as CSV."""
    if table is None or table.empty:
        raise ValueError("There is no gene table to export yet. Run an explanation first.")
    return write_atomically(path, lambda tmp: table.to_csv(tmp, index=False), create_folder=False)


def _plain_obs(obs: pd.DataFrame) -> pd.DataFrame:
    obs = obs.drop(columns=[c for c in obs.columns if str(c).startswith(SCVI_PREFIX)])
    for column in obs.columns:
        values = obs[column]
        if pd.api.types.is_object_dtype(values.dtype) or pd.api.types.is_string_dtype(values.dtype):
            text = values.map(lambda v: v if v is None or (isinstance(v, float) and np.isnan(v))
                              else str(v))
            obs[column] = pd.Categorical(text)
    return obs


def annotated_copy(adata: AnnData, *, settings: Mapping[str, Any], seed: int | None,
                   versions: Mapping[str, str], latents: Mapping[str, np.ndarray] | None = None,
                   embeddings: Mapping[str, np.ndarray] | None = None) -> AnnData:
    """Return a copy of ``adata`` ready for ``write_h5ad``; ``adata`` is not changed.

    Latents go to ``obsm`` under their keys (``X_fadvi_l``, ``X_fadvi_b``, ``X_fadvi_r``),
    embeddings too (e.g. ``X_umap_fadvi_l``); ``uns["fadvi"]`` holds ``settings``, ``seed`` and
    ``versions``. scvi-tools' ``_scvi_*`` registry columns and entries are left out.
    """
    out = adata.copy()
    out.obs = _plain_obs(out.obs)
    for key in [k for k in out.uns.keys() if str(k).startswith(SCVI_PREFIX)]:
        del out.uns[key]
    for key, value in {**(latents or {}), **(embeddings or {})}.items():
        value = np.asarray(value)
        if value.shape[0] != out.n_obs:
            raise ValueError(f"{key} has {value.shape[0]} rows but the data has {out.n_obs} cells.")
        out.obsm[key] = value
    out.uns[UNS_KEY] = plain_value({"settings": dict(settings), "seed": seed,
                                    "versions": dict(versions)})
    return out


def save_annotated_h5ad(adata: AnnData, path: str | os.PathLike, *, settings: Mapping[str, Any],
                        seed: int | None, versions: Mapping[str, str] | None = None,
                        latents: Mapping[str, np.ndarray] | None = None,
                        embeddings: Mapping[str, np.ndarray] | None = None,
                        source: str | os.PathLike | None = None) -> Path:
    """Write the annotated data to a new ``.h5ad``, atomically.

    Parameters
    ----------
    settings
        Setup and training settings, stored in ``uns["fadvi"]["settings"]``.
    seed
        Random seed, stored in ``uns["fadvi"]["seed"]``.
    versions
        Package versions (default `package_versions`), in ``uns["fadvi"]["versions"]``.
    latents, embeddings
        ``(n_cells, d)`` arrays for ``obsm``, keyed by their ``obsm`` name.
    source
        The file that was opened; writing over it is refused.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    target = Path(path)
    if source is not None and Path(source).exists() and target.exists() and \
            target.resolve() == Path(source).resolve():
        raise ValueError("Choose a different file name: the file you opened is never overwritten, "
                         "so your original data stays as it was.")
    out = annotated_copy(adata, settings=settings, seed=seed,
                         versions=package_versions() if versions is None else versions,
                         latents=latents, embeddings=embeddings)
    return write_atomically(target, lambda tmp: out.write_h5ad(tmp), create_folder=False)


def align_to_model_genes(adata: AnnData, model_genes: ArrayLike) -> tuple[AnnData | None, int, str]:
    """Match ``adata``'s genes to a model's, for mapping new data onto a saved model.

    Returns
    -------
    tuple
        ``(aligned, n_missing, message)``. ``aligned`` is ``adata`` itself when the genes already
        match, a reordered or zero-padded copy when some are missing (``message`` asks whether
        to pad), and None when no model gene is present (``message`` says why).
    """
    from fadvi_core import pad_missing_genes

    genes = pd.Index([str(g) for g in model_genes])
    if pd.Index(adata.var_names).equals(genes):
        return adata, 0, ""
    present = genes.isin(adata.var_names)
    n_missing = int((~present).sum())
    if present.sum() == 0:
        return None, n_missing, (
            f"None of the model's {len(genes)} genes is in this data, so the model cannot be "
            "applied. Check that both use the same gene identifiers (symbols or Ensembl IDs).")
    aligned = adata[:, genes].copy() if n_missing == 0 else pad_missing_genes(adata, genes)
    if n_missing == 0:
        return aligned, 0, "The genes were reordered to match the model."
    shown = ", ".join(map(str, genes[~present][:5])) + (" ..." if n_missing > 5 else "")
    return aligned, n_missing, (
        f"{n_missing} of the model's {len(genes)} genes are missing from this data ({shown}). "
        "They can be added as genes with zero counts; predictions get less reliable the more "
        "are missing. Pad the missing genes with zeros?")
