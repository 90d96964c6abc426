"""Preprocessing before training: gene selection and the registered training copy.

These are the steps the desktop app runs before it trains, so a notebook can
reproduce a model the app trained from the settings saved in ``uns["fadvi"]``::

    genes = fadvi_core.select_genes(adata, n_top_genes=2000, layer="counts", batch_key="batch")
    train = fadvi_core.prepare_training_data(adata, layer="counts", batch_key="batch",
                                             labels_key="cell_type", n_top_genes=2000)
    model = fadvi_core.FADVI(train)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from anndata import AnnData

#: LOESS spans tried in turn by :func:`select_genes` (scanpy's default first).
HVG_SPANS = (0.3, 0.5, 1.0)


def select_genes(
    adata: AnnData,
    *,
    n_top_genes: int | None,
    layer: str | None = None,
    batch_key: str | None = None,
) -> np.ndarray:
    """Return a boolean mask of the genes to train on.

    Uses scanpy's ``seurat_v3`` highly-variable-gene selection on raw counts. The
    LOESS fit behind it can hit near-singularities within small batches at scanpy's
    default span, so wider spans (:data:`HVG_SPANS`) are tried before giving up.

    Parameters
    ----------
    adata
        Cells by genes; not modified.
    n_top_genes
        How many genes to keep; None, or at least ``adata.n_vars``, keeps every gene.
    layer
        Layer holding raw counts; None uses ``adata.X``.
    batch_key
        ``obs`` column to select genes within each batch (then ranked across batches);
        None selects on all cells together.

    Returns
    -------
    numpy.ndarray
        Boolean, shape ``(n_genes,)``, True for the selected genes.

    Raises
    ------
    ValueError
        If the selection fails at every span (the message says what to change).
    """
    import scanpy as sc

    if n_top_genes is None or n_top_genes >= adata.n_vars:
        return np.ones(adata.n_vars, dtype=bool)
    error: Exception | None = None
    for span in HVG_SPANS:
        try:
            table = sc.pp.highly_variable_genes(
                adata, n_top_genes=n_top_genes, flavor="seurat_v3", layer=layer,
                batch_key=batch_key, inplace=False, subset=False, span=span,
            )
            return np.asarray(table["highly_variable"], dtype=bool)
        except Exception as exc:  # noqa: BLE001 - scanpy/loess failures get a plain message
            error = exc
    raise ValueError(
        f"Selecting {n_top_genes} variable genes failed ({error}). Select genes over all "
        "cells (no batch key), change the number of genes, or train on all genes."
    ) from error


def prepare_training_data(
    adata: AnnData,
    *,
    layer: str | None = None,
    batch_key: str | None = None,
    labels_key: str | None = None,
    unlabeled_category: str = "Unknown",
    categorical_covariate_keys: Sequence[str] | None = None,
    continuous_covariate_keys: Sequence[str] | None = None,
    n_top_genes: int | None = None,
    hvg_batch_key: str | None = None,
) -> AnnData:
    """Return a copy of ``adata`` with the selected genes, registered with ``FADVI.setup_anndata``.

    Parameters
    ----------
    adata
        Cells by genes; not modified.
    layer, batch_key, labels_key, unlabeled_category, categorical_covariate_keys, continuous_covariate_keys
        Passed to :meth:`FADVI.setup_anndata`.
    n_top_genes
        Keep this many highly variable genes (:func:`select_genes`); None keeps every gene.
    hvg_batch_key
        ``obs`` column to select genes within each batch; None selects over all cells.

    Returns
    -------
    AnnData
        A new object, ``(n_cells, n_selected_genes)``, ready for ``FADVI(...)``.

    Raises
    ------
    ValueError
        If gene selection fails, or some cells have no counts in the selected genes.
    """
    from ._model import FADVI

    genes = select_genes(adata, n_top_genes=n_top_genes, layer=layer, batch_key=hvg_batch_key)
    train = adata[:, genes].copy() if not genes.all() else adata.copy()
    matrix = train.X if layer is None else train.layers[layer]
    n_empty = int((np.asarray(matrix.sum(axis=1)).ravel() <= 0).sum())
    if n_empty:
        raise ValueError(
            f"{n_empty} cells have no counts in the {train.n_vars} selected genes. "
            "Select more genes, or train on all genes."
        )
    FADVI.setup_anndata(
        train,
        layer=layer,
        batch_key=batch_key,
        labels_key=labels_key,
        unlabeled_category=unlabeled_category,
        categorical_covariate_keys=list(categorical_covariate_keys or ()) or None,
        continuous_covariate_keys=list(continuous_covariate_keys or ()) or None,
    )
    return train


__all__ = ["prepare_training_data", "select_genes"]
