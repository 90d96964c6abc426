"""Read every stored value of a count matrix once, in bounded chunks, without copying it.

Works on dense arrays, scipy sparse matrices, and the matrices of a backed AnnData
(``read_h5ad(..., backed="r")``: an h5py dataset or a backed CSR/CSC matrix), so the check
costs O(stored values) time and O(chunk) extra memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy import sparse

CHUNK_VALUES = 1 << 22  # values read at once (16 MiB of float32)


@dataclass
class ValueScan:
    """What a full pass over a matrix found."""

    dtype: str
    numeric: bool = True
    n_nonfinite: int = 0
    n_negative: int = 0
    n_fractional: int = 0
    totals: np.ndarray | None = None

    @property
    def is_counts(self) -> bool:
        """Every value is a finite, non-negative integer."""
        return self.numeric and not (self.n_nonfinite or self.n_negative or self.n_fractional)


def _count_bad(values: np.ndarray, scan: ValueScan) -> None:
    kind = values.dtype.kind
    if kind in "bu" or values.size == 0:
        return
    if kind == "i":
        if values.min() < 0:
            scan.n_negative += int(np.count_nonzero(values < 0))
        return
    low, high = values.min(), values.max()  # NaN propagates, so the fast path skips it
    if not (low >= 0 and high < np.inf):
        finite = np.isfinite(values)
        n_finite = int(np.count_nonzero(finite))
        if n_finite < values.size:
            scan.n_nonfinite += values.size - n_finite
            values = values[finite]
        scan.n_negative += int(np.count_nonzero(values < 0))
    scan.n_fractional += int(np.count_nonzero(values != np.trunc(values)))


def _sparse_parts(matrix):
    """(format, data, indices, indptr, shape) of an in-memory or backed sparse matrix."""
    if sparse.issparse(matrix):
        if matrix.format not in ("csr", "csc"):
            matrix = sparse.csr_matrix(matrix)
        return matrix.format, matrix.data, matrix.indices, matrix.indptr, matrix.shape
    group = matrix.group
    return matrix.format, group["data"], group["indices"], group["indptr"], matrix.shape


def _is_backed_sparse(matrix) -> bool:
    try:
        from anndata.abc import CSCDataset, CSRDataset
    except ImportError:  # pragma: no cover - older anndata
        return False
    return isinstance(matrix, (CSRDataset, CSCDataset))


def _value_chunks(data) -> Iterator[tuple[int, np.ndarray]]:
    for start in range(0, data.shape[0], CHUNK_VALUES):
        yield start, np.asarray(data[start:start + CHUNK_VALUES])


def _csr_row_sums(values: np.ndarray, start: int, indptr: np.ndarray,
                  totals: np.ndarray) -> None:
    """Add the values at stored positions ``start:start+len(values)`` of a CSR to their rows."""
    stop = start + values.size
    first = int(np.searchsorted(indptr, start, side="right")) - 1
    last = int(np.searchsorted(indptr, stop, side="left"))  # rows starting before ``stop``
    bounds = np.clip(indptr[first:last + 1], start, stop) - start
    rows = np.flatnonzero(bounds[1:] > bounds[:-1])  # rows with values in this chunk
    if len(rows):
        totals[first + rows] += np.add.reduceat(values, bounds[rows], dtype=np.float64)


def _scan_sparse(matrix, scan: ValueScan, stop_early: bool) -> None:
    layout, data, indices, indptr, shape = _sparse_parts(matrix)
    indptr = np.asarray(indptr[:], dtype=np.int64)
    totals = np.zeros(shape[0], dtype=np.float64)
    for start, values in _value_chunks(data):
        if values.dtype.kind not in "biuf":
            scan.numeric, scan.dtype = False, str(values.dtype)
            return
        _count_bad(values, scan)
        if stop_early and not scan.is_counts:
            return
        if layout == "csr":
            _csr_row_sums(values, start, indptr, totals)
        else:
            rows = np.asarray(indices[start:start + values.size])
            totals += np.bincount(rows, weights=values, minlength=shape[0])
    scan.totals = totals


def _scan_dense(matrix, scan: ValueScan, stop_early: bool) -> None:
    n_rows = matrix.shape[0]
    n_cols = matrix.shape[1] if len(matrix.shape) > 1 else 1
    step = max(1, CHUNK_VALUES // max(n_cols, 1))
    totals = np.zeros(n_rows, dtype=np.float64)
    for start in range(0, n_rows, step):
        block = np.asarray(matrix[start:start + step])
        if block.dtype.kind not in "biuf":
            scan.numeric, scan.dtype = False, str(block.dtype)
            return
        _count_bad(block, scan)
        if stop_early and not scan.is_counts:
            return
        totals[start:start + step] = block.reshape(len(block), -1).sum(axis=1, dtype=np.float64)
    scan.totals = totals


def scan_values(matrix, *, stop_early: bool = False) -> ValueScan:
    """Count NaN/infinite, negative and non-integer values and sum each row, reading every value.

    Parameters
    ----------
    matrix
        Dense array, scipy sparse matrix, h5py dataset or backed sparse matrix (cells x genes).
    stop_early
        Stop at the first chunk that is not counts (`ValueScan.totals` is then None).
    """
    scan = ValueScan(dtype=str(getattr(matrix, "dtype", "")))
    if sparse.issparse(matrix) or _is_backed_sparse(matrix):
        _scan_sparse(matrix, scan, stop_early)
    else:
        _scan_dense(matrix, scan, stop_early)
    return scan
