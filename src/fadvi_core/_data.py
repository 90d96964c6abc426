"""Cell data served in minibatches of torch tensors.

This replaces scvi-tools' AnnDataLoader on the hot path. The registered fields are read once; the
count matrix is read by rows (from memory or from a backed ``.h5ad``). For a GPU or a backed file
a background thread prepares the next minibatches: it slices the rows and keeps sparse rows
sparse (pinned for a GPU copy); the training thread only copies them to the device, where they
are densified.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import numpy as np
import torch
from scipy import sparse, special
from scvi import REGISTRY_KEYS
from scvi.data import AnnDataManager

from ._hooks import Cancelled, ChunkProgress, ignore_progress, never_stop
from ._likelihood import NONZERO_KEY, NonZero
from ._rows import RowReader

X_KEY = REGISTRY_KEYS.X_KEY
PREFETCH_BATCHES = 3


class CellData:
    """The registered fields of an AnnData, ready to be cut into minibatches."""

    def __init__(self, adata_manager: AnnDataManager, indices: np.ndarray | None = None):
        registry = adata_manager.data_registry
        self.reader = RowReader(adata_manager.get_from_registry(X_KEY))
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
        n_obs = self.reader.shape[0]
        self.indices = np.arange(n_obs) if indices is None else np.asarray(indices, dtype=np.int64)

    def subset(self, indices: np.ndarray) -> CellData:
        """The same data restricted to ``indices`` (positions into the full data); no copy."""
        view = object.__new__(CellData)
        view.reader, view.fields = self.reader, self.fields
        view.indices = self.indices[np.asarray(indices, dtype=np.int64)]
        return view

    def __len__(self) -> int:
        return len(self.indices)

    def host_batch(self, positions: np.ndarray, *, pin: bool = False, for_loss: bool = False,
                   densify: bool = False) -> dict:
        """CPU tensors for the cells at ``positions`` (into `indices`); X stays sparse if stored so.

        A sparse X is a `SparseRows`: its stored entries and, ``for_loss``, what the likelihood
        needs of them; ``densify`` adds the dense rows too (for training on the CPU, so that the
        preparing thread does it, with numpy: torch ops there would start a second thread pool).
        """
        cells = self.indices[positions]
        rows = self.reader.take(cells)
        if sparse.issparse(rows):
            x = _sparse_rows(rows, for_loss=for_loss, densify=densify)
        else:
            x = torch.from_numpy(np.ascontiguousarray(rows, dtype=np.float32))
        batch = {X_KEY: x} | {key: value[cells] for key, value in self.fields.items()}
        return _pinned(batch) if pin else batch

    def rows(self, positions: np.ndarray, device: torch.device | str = "cpu") -> dict:
        """Tensors on ``device`` for the cells at ``positions`` (positions into `indices`)."""
        return to_device(self.host_batch(positions), torch.device(device))

    def batches(self, order: np.ndarray, batch_size: int, device: torch.device | str = "cpu", *,
                prefetch: int | None = None, for_loss: bool = False) -> Iterator[dict]:
        """Minibatches of the cells at ``order`` (positions into `indices`), prepared ahead.

        ``prefetch``: minibatches a background thread keeps ready; by default `PREFETCH_BATCHES`
        for a GPU or a backed file, none for in-memory data on a CPU (there slicing rows costs
        less than handing them over between threads, measured at 1 and 2 torch threads).
        ``for_loss``: also pass the likelihood the non-zero counts (training and validation).
        Close the returned generator (or exhaust it) to stop the preparing thread.
        """
        device = torch.device(device)
        if prefetch is None:
            prefetch = PREFETCH_BATCHES if device.type != "cpu" or self.reader.backed else 0
        chunks = (order[start:start + batch_size] for start in range(0, len(order), batch_size))
        host = (self.host_batch(chunk, pin=device.type == "cuda", for_loss=for_loss,
                                densify=device.type == "cpu") for chunk in chunks)
        if prefetch > 0:
            host = prefetched(host, prefetch)
        try:
            for batch in host:
                yield to_device(batch, device)
        finally:
            host.close()

    def minibatches(self, batch_size: int, *, shuffle: bool = False,
                    generator: torch.Generator | None = None,
                    device: torch.device | str = "cpu") -> Iterator[dict]:
        """Yield minibatch tensor dicts covering every cell once."""
        n = len(self)
        order = torch.randperm(n, generator=generator).numpy() if shuffle else np.arange(n)
        return self.batches(order, batch_size, device)


class SparseRows(NamedTuple):
    """CSR rows as flat positions into the dense ``(n_cells, n_genes)`` block and their counts.

    ``log_factorial`` is None unless the rows are for a loss (see `CellData.batches`).
    """

    nonzero: NonZero
    shape: tuple[int, int]
    dense: torch.Tensor | None = None


# lgamma(k + 1) of the counts a minibatch usually holds: a lookup instead of gammaln per batch.
_LOG_FACTORIAL = special.gammaln(np.arange(4096) + 1.0).astype(np.float32)


def _log_factorial(counts: np.ndarray) -> np.ndarray:
    whole = counts.astype(np.int64)
    if (whole == counts).all() and whole.min(initial=0) >= 0 \
            and whole.max(initial=0) < len(_LOG_FACTORIAL):
        return _LOG_FACTORIAL[whole]
    return special.gammaln(counts.astype(np.float64) + 1).astype(np.float32)


def _sparse_rows(rows, *, for_loss: bool = True, densify: bool = False) -> SparseRows:
    """Entries of CSR ``rows`` once each and non-zero (duplicates summed, stored zeros dropped)."""
    rows = sparse.csr_matrix(rows)
    if not rows.has_canonical_format or not np.all(rows.data):
        rows = rows.copy()  # never alter the caller's matrix
        rows.sum_duplicates()
        rows.eliminate_zeros()
    n_cells, n_genes = rows.shape
    starts = np.repeat(np.arange(n_cells, dtype=np.int64) * n_genes, np.diff(rows.indptr))
    counts = np.asarray(rows.data, dtype=np.float32)
    log_factorial = torch.from_numpy(_log_factorial(counts)) if for_loss else None
    genes = rows.indices.astype(np.int64)
    flat = starts + genes
    nonzero = NonZero(torch.from_numpy(flat), torch.from_numpy(counts), log_factorial,
                      torch.from_numpy(genes))
    dense = None
    if densify:
        dense = np.zeros(n_cells * n_genes, dtype=np.float32)
        dense[flat] = counts
        dense = torch.from_numpy(dense.reshape(n_cells, n_genes))
    return SparseRows(nonzero, (n_cells, n_genes), dense)


def _pinned(batch: dict) -> dict:
    def pin(value):
        if isinstance(value, tuple):
            items = [pin(v) for v in value]
            return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
        return value.pin_memory() if isinstance(value, torch.Tensor) else value
    return {key: pin(value) for key, value in batch.items()}


def to_device(batch: dict, device: torch.device) -> dict:
    """Copy a `CellData.host_batch` to ``device`` and densify sparse X there.

    Sparse X also leaves its non-zero entries under `NONZERO_KEY` for the likelihood.
    """
    out = {key: value.to(device, non_blocking=True) for key, value in batch.items()
           if key != X_KEY}
    x = batch[X_KEY]
    if isinstance(x, SparseRows):
        nonzero = NonZero(*(None if t is None else t.to(device, non_blocking=True)
                            for t in x.nonzero))
        if x.dense is not None and x.dense.device == device:
            dense = x.dense
        else:
            dense = torch.zeros(x.shape, device=device, dtype=nonzero.counts.dtype)
            dense.view(-1).index_copy_(0, nonzero.flat, nonzero.counts)
        out[X_KEY] = dense
        if nonzero.log_factorial is not None:
            out[NONZERO_KEY] = nonzero
    else:
        out[X_KEY] = x.to(device, non_blocking=True)
    return out


_DONE = object()


def prefetched(items: Iterable, depth: int) -> Iterator:
    """Iterate ``items`` in a background thread, keeping up to ``depth`` of them ready."""
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce():
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        ready.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put(_DONE)
        except BaseException as error:  # surfaced in the consuming thread
            ready.put(error)

    worker = threading.Thread(target=produce, name="fadvi-minibatches", daemon=True)
    worker.start()
    try:
        while True:
            item = ready.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            try:
                ready.get_nowait()
            except queue.Empty:
                worker.join(0.05)


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
    chunks = data.batches(np.arange(len(data)), batch_size, device)
    try:
        for tensors in chunks:
            if should_stop():
                raise Cancelled("Stopped on request before all cells were processed.")
            yield tensors
            done += tensors[X_KEY].shape[0]
            progress_callback(ChunkProgress(done=done, total=len(data)))
    finally:
        chunks.close()
