"""Cell data held as arrays and served in minibatches of torch tensors.

This replaces scvi-tools' AnnDataLoader on the hot path: the registered fields are read once,
and each minibatch only slices rows of a CSR matrix and densifies them.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from scipy import sparse
from scvi import REGISTRY_KEYS
from scvi.data import AnnDataManager

from ._hooks import Cancelled, ChunkProgress, ignore_progress, never_stop


class CellData:
    """The registered fields of an AnnData, ready to be cut into minibatches."""

    def __init__(self, adata_manager: AnnDataManager, indices: np.ndarray | None = None):
        registry = adata_manager.data_registry
        x = adata_manager.get_from_registry(REGISTRY_KEYS.X_KEY)
        self.x = sparse.csr_matrix(x) if sparse.issparse(x) else np.asarray(x)
        self.fields: dict[str, torch.Tensor] = {}
        for key in (REGISTRY_KEYS.BATCH_KEY, REGISTRY_KEYS.LABELS_KEY,
                    REGISTRY_KEYS.CAT_COVS_KEY):
            if key in registry:
                values = np.asarray(adata_manager.get_from_registry(key))
                self.fields[key] = torch.as_tensor(values.reshape(len(values), -1).astype(np.int64))
        for key in (REGISTRY_KEYS.SIZE_FACTOR_KEY, REGISTRY_KEYS.CONT_COVS_KEY):
            if key in registry:
                values = np.asarray(adata_manager.get_from_registry(key), dtype=np.float32)
                self.fields[key] = torch.as_tensor(values.reshape(len(values), -1))
        n_obs = self.x.shape[0]
        self.indices = np.arange(n_obs) if indices is None else np.asarray(indices, dtype=np.int64)

    def subset(self, indices: np.ndarray) -> CellData:
        """The same data restricted to ``indices`` (positions into the full data); no copy."""
        view = object.__new__(CellData)
        view.x, view.fields = self.x, self.fields
        view.indices = self.indices[np.asarray(indices, dtype=np.int64)]
        return view

    def __len__(self) -> int:
        return len(self.indices)

    def rows(self, positions: np.ndarray, device: torch.device | str = "cpu") -> dict:
        """Tensors for the cells at ``positions`` (positions into `indices`)."""
        cells = self.indices[positions]
        x = self.x[cells]
        x = x.toarray() if sparse.issparse(x) else x
        tensors = {REGISTRY_KEYS.X_KEY: torch.as_tensor(np.asarray(x, dtype=np.float32))}
        tensors.update({key: value[cells] for key, value in self.fields.items()})
        return {key: value.to(device, non_blocking=True) for key, value in tensors.items()}

    def minibatches(self, batch_size: int, *, shuffle: bool = False,
                    generator: torch.Generator | None = None,
                    device: torch.device | str = "cpu") -> Iterator[dict]:
        """Yield minibatch tensor dicts covering every cell once."""
        n = len(self)
        order = (torch.randperm(n, generator=generator).numpy() if shuffle else np.arange(n))
        for start in range(0, n, batch_size):
            yield self.rows(order[start:start + batch_size], device)


def iterate_chunks(data: CellData, batch_size: int, device, progress_callback=None,
                   should_stop=None) -> Iterator[dict]:
    """Yield chunks in order, reporting progress and honouring a stop request between chunks.

    Raises
    ------
    Cancelled
        When ``should_stop()`` returns True.
    """
    progress_callback = progress_callback or ignore_progress
    should_stop = should_stop or never_stop
    done = 0
    for tensors in data.minibatches(batch_size, device=device):
        if should_stop():
            raise Cancelled("Stopped on request before all cells were processed.")
        yield tensors
        done += tensors[REGISTRY_KEYS.X_KEY].shape[0]
        progress_callback(ChunkProgress(done=done, total=len(data)))
