"""Worker-thread functions for the latent viewer: embeddings and a gene's values.

Each takes a :class:`~fadvi_gui.tasks.Control` first and plain data after it,
and returns plain arrays; none touches Qt widgets or writes into the app's AnnData.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from fadvi_core import Cancelled
from fadvi_gui.model.embedding import EmbeddingCancelled, compute_embedding, space_latent

if TYPE_CHECKING:
    from anndata import AnnData

    from fadvi_gui.tasks._control import Control


def embed_space(control: Control, obsm: Mapping[str, np.ndarray], space: str, method: str
                ) -> np.ndarray:
    """Return the ``(n_cells, 2)`` ``method`` embedding of latent ``space``.

    Progress arrives as :class:`fadvi_gui.model.embedding.EmbeddingProgress`; a stop raises
    :class:`~fadvi_gui.session.workers.Cancelled`.
    """
    latent = space_latent(obsm, space)
    try:
        return compute_embedding(latent, method, progress_callback=control.report,
                                 should_stop=control.should_stop)
    except EmbeddingCancelled as exc:
        raise Cancelled(str(exc)) from None


def log1p_normalised(counts: np.ndarray, totals: np.ndarray, *, target_sum: float = 1e4) -> np.ndarray:
    """Return ``log1p(counts / totals * target_sum)``, the usual scale for showing a gene.

    Parameters
    ----------
    counts
        ``(n_cells,)`` raw counts of one gene.
    totals
        ``(n_cells,)`` total counts of each cell (library size).
    target_sum
        Counts each cell is scaled to.

    Returns
    -------
    numpy.ndarray
        ``(n_cells,)`` float32; cells with no counts at all get 0.
    """
    c = np.asarray(counts, dtype=np.float64).ravel()
    t = np.asarray(totals, dtype=np.float64).ravel()
    scaled = np.divide(c * target_sum, t, out=np.zeros_like(c), where=t > 0)
    return np.log1p(scaled).astype(np.float32)


def library_sizes(adata: AnnData, layer: str | None) -> np.ndarray:
    """Return each cell's total counts in ``layer`` (``X`` when None), shape ``(n_cells,)``."""
    matrix = adata.X if layer is None else adata.layers[layer]
    return np.asarray(matrix.sum(axis=1), dtype=np.float64).ravel()


def gene_values(control: Control, adata: AnnData, gene: str, layer: str | None,
                totals: np.ndarray | None = None) -> tuple[str, np.ndarray, np.ndarray]:
    """Return ``(gene, values, totals)``: log1p of ``gene``'s normalised counts per cell.

    Parameters
    ----------
    gene
        A name in ``adata.var_names``.
    layer
        Where the counts are (``X`` when None).
    totals
        Library sizes from an earlier call, or None to compute them.

    Returns
    -------
    tuple
        The gene, ``(n_cells,)`` float32 values and ``(n_cells,)`` library sizes.
    """
    if gene not in adata.var_names:
        raise ValueError(f"{gene!r} is not a gene of this data. Check the spelling.")
    matrix = adata.X if layer is None else adata.layers[layer]
    column = matrix[:, adata.var_names.get_loc(gene)]
    counts = column.toarray() if hasattr(column, "toarray") else np.asarray(column)
    if totals is None:
        totals = library_sizes(adata, layer)
    return gene, log1p_normalised(np.ravel(counts), totals), totals
