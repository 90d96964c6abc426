"""Decoded (denoised, batch-transformable) gene expression."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from anndata import AnnData
from scvi import REGISTRY_KEYS

from ._data import CellData, iterate_chunks


def _batch_code(model, transform_batch) -> int | None:
    if transform_batch is None:
        return None
    categories = model.batch_categories
    if isinstance(transform_batch, str):
        if transform_batch not in categories:
            raise ValueError(f"transform_batch '{transform_batch}' is not a batch of the model; "
                             f"batches: {', '.join(categories)}.")
        return categories.index(transform_batch)
    code = int(transform_batch)
    if not 0 <= code < len(categories):
        raise ValueError(f"transform_batch={code} is out of range; the model has "
                         f"{len(categories)} batches.")
    return code


@torch.no_grad()
def normalized_expression(model, adata: AnnData, data: CellData, *, transform_batch=None,
                          gene_list=None, library_size=1, n_samples: int = 1,
                          n_samples_overall: int | None = None, batch_size: int = 128,
                          return_mean: bool = True, return_numpy: bool | None = None):
    """Expected expression from the decoder, scaled to ``library_size``.

    Returns
    -------
    ``(n_cells, n_genes)`` DataFrame (genes as columns, ``obs_names`` as index), or an ndarray
    when ``return_numpy``; ``(n_samples, n_cells, n_genes)`` ndarray when ``n_samples > 1`` and
    not ``return_mean``. ``library_size="latent"`` keeps each cell's own library size.
    """
    module = model.module
    module.eval()
    if n_samples_overall is not None:
        n_samples = max(1, n_samples_overall // max(len(data), 1))
    genes = model.var_names
    if gene_list is None:
        columns = np.arange(len(genes))
    else:
        missing = [g for g in gene_list if g not in genes]
        if missing:
            raise ValueError(f"gene_list has genes the model does not know: {missing[:5]}.")
        columns = genes.get_indexer(gene_list)
    if return_numpy is None:
        return_numpy = n_samples > 1 and not return_mean
    batch_code = _batch_code(model, transform_batch)
    device = next(module.parameters()).device
    chunks = []
    for tensors in iterate_chunks(data, batch_size, device):
        inference = module.inference(tensors[REGISTRY_KEYS.X_KEY], n_samples=n_samples)
        if n_samples == 1:  # the posterior mean is the usual point estimate
            inference["z"] = torch.cat([q.loc for q in inference["qz"].values()], dim=-1)
        generative_input = module._get_generative_input(tensors, inference)
        px = module.generative(**generative_input, transform_batch=batch_code)["px"]
        if library_size == "latent":
            values = px.mu if hasattr(px, "mu") else px.rate
        else:
            values = px.scale * float(library_size)
        chunks.append(values[..., columns].cpu())
    values = torch.cat(chunks, dim=-2).numpy()
    if n_samples > 1 and return_mean:
        values = values.mean(axis=0)
    if return_numpy or values.ndim == 3:
        return values
    return pd.DataFrame(values, index=adata.obs_names[data.indices], columns=genes[columns])
