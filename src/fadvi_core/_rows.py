"""Read rows of a count matrix held in memory or in a backed ``.h5ad`` (``backed="r"``).

A backed matrix is never read whole: each access reads the requested rows, in increasing order,
so a file larger than memory can be trained on and validated chunk by chunk.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse


def is_backed(matrix) -> bool:
    """Whether ``matrix`` lives on disk (an h5py dataset or anndata's backed sparse dataset)."""
    if sparse.issparse(matrix) or isinstance(matrix, np.ndarray):
        return False
    return hasattr(matrix, "group") or type(matrix).__module__.startswith("h5py")


class RowReader:
    """Rows of a matrix as CSR (sparse storage) or a dense array, in the order asked for.

    ``take(rows)`` returns a ``scipy.sparse.csr_matrix`` for sparse storage and an ``ndarray``
    otherwise, shape ``(len(rows), n_genes)``, float32.
    """

    def __init__(self, matrix):
        self.backed = is_backed(matrix)
        self.sparse = sparse.issparse(matrix) or hasattr(matrix, "group")
        self.shape = tuple(matrix.shape)
        if not self.backed:
            self._matrix = sparse.csr_matrix(matrix) if self.sparse else np.asarray(matrix)
        elif self.sparse:
            if getattr(matrix, "format", "csr") != "csr":
                raise ValueError("A backed count matrix must be stored as CSR to be read by "
                                 "rows; rewrite the file with adata.X = adata.X.tocsr().")
            group = matrix.group
            self._data, self._indices = group["data"], group["indices"]
            self._indptr = np.asarray(group["indptr"][:], dtype=np.int64)  # n_cells + 1 ints
        else:
            self._dataset = matrix

    def take(self, rows: np.ndarray):
        rows = np.asarray(rows, dtype=np.int64)
        if not self.backed:
            return self._matrix[rows]
        order = np.argsort(rows, kind="stable")
        ascending = rows[order]
        unique, inverse = np.unique(ascending, return_inverse=True)
        block = self._read_sorted(unique)[inverse]
        restore = np.empty_like(order)
        restore[order] = np.arange(len(order))
        return block[restore]

    def _read_sorted(self, rows: np.ndarray):
        """Rows at strictly increasing positions ``rows``, reading runs of adjacent rows at once."""
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1
        runs = [(run[0], run[-1] + 1) for run in np.split(rows, breaks) if len(run)]
        if not self.sparse:
            parts = [np.asarray(self._dataset[start:stop], dtype=np.float32)
                     for start, stop in runs]
            return np.concatenate(parts) if parts else np.zeros((0, self.shape[1]), np.float32)
        data, indices, lengths = [], [], []
        for start, stop in runs:
            lo, hi = self._indptr[start], self._indptr[stop]
            data.append(np.asarray(self._data[lo:hi], dtype=np.float32))
            indices.append(np.asarray(self._indices[lo:hi]))
            lengths.append(np.diff(self._indptr[start:stop + 1]))
        indptr = np.concatenate([[0], np.cumsum(np.concatenate(lengths))]) if lengths else [0]
        return sparse.csr_matrix(
            (np.concatenate(data) if data else np.zeros(0, np.float32),
             np.concatenate(indices) if indices else np.zeros(0, np.int32), indptr),
            shape=(len(rows), self.shape[1]))
