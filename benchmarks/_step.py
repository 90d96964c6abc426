"""One default FADVI training step on a realistic minibatch, for the step benchmarks.

The minibatch is 128 cells of the demo file (``resources/pbmc_symphony.h5ad``, real counts, 93%
zeros) with its 1,767 genes padded to ``n_genes`` by repeating genes, so that every script
measures the same step: default hyperparameters, fused Adam as the training loop builds it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

DEMO = Path(__file__).resolve().parents[1] / "resources" / "pbmc_symphony.h5ad"


def demo_adata(n_genes: int = 2000):
    """The demo AnnData with counts in X, genes repeated up to ``n_genes`` columns."""
    import anndata as ad

    adata = ad.read_h5ad(DEMO)
    adata.X = adata.layers["counts"]
    columns = np.resize(np.arange(adata.n_vars), n_genes)
    adata = adata[:, columns].copy()
    adata.var_names_make_unique()
    adata.layers = {}
    return adata


def build_step(n_genes: int = 2000, batch_size: int = 128, seed: int = 0):
    """Return ``(module, optimizer, tensors, step)``; ``step()`` runs one training step."""
    from scvi import REGISTRY_KEYS

    from fadvi_core import FADVI

    torch.manual_seed(seed)
    adata = demo_adata(n_genes)
    FADVI.setup_anndata(adata, batch_key="batch", labels_key="cell_type",
                        unlabeled_category="Unknown")
    model = FADVI(adata)
    module = model.module
    module.train()
    rows = np.random.default_rng(seed).choice(adata.n_obs, batch_size, replace=False)
    manager = model.adata_manager
    x = manager.get_from_registry(REGISTRY_KEYS.X_KEY)[rows]
    tensors = {
        REGISTRY_KEYS.X_KEY: torch.as_tensor(np.asarray(x.toarray(), dtype=np.float32)),
        REGISTRY_KEYS.BATCH_KEY: torch.as_tensor(np.asarray(
            manager.get_from_registry(REGISTRY_KEYS.BATCH_KEY))[rows].reshape(-1, 1)),
        REGISTRY_KEYS.LABELS_KEY: torch.as_tensor(np.asarray(
            manager.get_from_registry(REGISTRY_KEYS.LABELS_KEY))[rows].reshape(-1, 1)),
    }
    params = [p for p in module.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=1e-3, eps=0.01, weight_decay=1e-6, fused=True)

    def step():
        _, _, output = module(tensors, loss_kwargs={"kl_weight": 0.5})
        optimizer.zero_grad(set_to_none=True)
        output.loss.backward()
        optimizer.step()

    return module, optimizer, tensors, step


def best_ms(fn, *, repeats: int = 7, number: int = 10, warmup: int = 3) -> float:
    """Best over ``repeats`` of the mean wall time of ``number`` calls, in milliseconds."""
    import time

    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best * 1e3
