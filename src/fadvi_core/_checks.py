"""Input checks that turn bad data into plain-language messages.

`find_input_problems` lists everything it finds (the GUI shows them inline);
`validate_input` raises the first error as a ``ValueError`` (the engine's
`setup_anndata` calls it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from anndata import AnnData
from scipy import sparse

from ._rows import backed_row_sums, backed_stored_values, is_backed

RARE_CLASS_CELLS = 10
_SAMPLE_VALUES = 100_000


@dataclass(frozen=True)
class InputProblem:
    """One thing wrong with the input, said so that a biologist can act on it."""

    code: str
    severity: Literal["error", "warning"]
    message: str
    fix: str
    detail: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.message} {self.fix}"


def get_matrix(adata: AnnData, layer: str | None):
    """Return ``adata.X`` or ``adata.layers[layer]``, with a clear error for a missing layer."""
    if layer is None:
        return adata.X
    if layer not in adata.layers:
        available = ", ".join(adata.layers.keys()) or "none"
        raise KeyError(
            f"The layer '{layer}' is not in the data. Available layers: {available}. "
            "Pass layer=None to use adata.X."
        )
    return adata.layers[layer]


def _stored_values(matrix) -> np.ndarray:
    """The stored values of a dense or sparse matrix (a sample, for large dense ones)."""
    if is_backed(matrix):
        return backed_stored_values(matrix, _SAMPLE_VALUES * 10)
    if sparse.issparse(matrix):
        return np.asarray(matrix.data)
    values = np.asarray(matrix).ravel()
    if values.size > _SAMPLE_VALUES * 10:
        step = values.size // (_SAMPLE_VALUES * 10)
        values = values[::step]
    return values


def looks_like_counts(matrix) -> bool:
    """Whether every stored value is a finite, non-negative integer."""
    values = _stored_values(matrix)
    if values.size == 0:
        return True
    finite = np.isfinite(values)
    if not finite.all():
        return False
    return bool((values >= 0).all() and np.all(np.mod(values, 1) == 0))


def count_layers(adata: AnnData) -> list[str]:
    """Names of the matrices (``"X"`` or layer names) that hold raw counts."""
    names = ["X"] if adata.X is not None and looks_like_counts(adata.X) else []
    return names + [name for name, layer in adata.layers.items() if looks_like_counts(layer)]


def cell_totals(matrix) -> np.ndarray:
    """Total counts per cell, shape ``(n_cells,)``."""
    if is_backed(matrix):
        return backed_row_sums(matrix)
    return np.asarray(matrix.sum(axis=1)).ravel()


def _value_problems(matrix, layer: str | None, adata: AnnData) -> list[InputProblem]:
    where = "adata.X" if layer is None else f"adata.layers['{layer}']"
    values = _stored_values(matrix)
    problems = []
    n_nonfinite = int((~np.isfinite(values)).sum())
    if n_nonfinite:
        problems.append(InputProblem(
            "nonfinite", "error",
            f"{where} contains {n_nonfinite} NaN or infinite values.",
            "FADVI needs raw UMI counts; load the original count matrix.",
            {"n_values": n_nonfinite},
        ))
        values = values[np.isfinite(values)]
    n_negative = int((values < 0).sum())
    if n_negative:
        problems.append(InputProblem(
            "negative", "error",
            f"{where} contains {n_negative} negative values, so it is not a count matrix "
            "(it may be scaled or centred).",
            "Use the raw UMI counts instead.",
            {"n_values": n_negative},
        ))
    if values.size and not np.all(np.mod(values, 1) == 0):
        candidates = [name for name in count_layers(adata) if name != (layer or "X")]
        if candidates:
            fix = "These hold counts: " + ", ".join(
                "adata.X" if name == "X" else f"layer '{name}'" for name in candidates
            ) + "; choose one of them."
        else:
            fix = "Load the raw UMI counts; no layer of this file holds them."
        problems.append(InputProblem(
            "not_counts", "error",
            f"{where} holds non-integer values, so it looks normalised or log-transformed, "
            "not raw counts.",
            fix,
            {"count_layers": candidates},
        ))
    if not problems:
        empty = cell_totals(matrix) <= 0
        if empty.any():
            problems.append(InputProblem(
                "empty_cells", "error",
                f"{int(empty.sum())} cells have zero total counts, so their library size is log(0).",
                "Remove them first, e.g. scanpy.pp.filter_cells(adata, min_counts=1).",
                {"n_cells": int(empty.sum()), "mask": empty},
            ))
    return problems


def _missing_key(adata: AnnData, key: str, role: str) -> InputProblem:
    existing = ", ".join(map(str, adata.obs.columns)) or "none"
    return InputProblem(
        "missing_key", "error",
        f"The {role} column '{key}' is not in adata.obs.",
        f"Choose one of the existing columns: {existing}.",
        {"key": key, "columns": list(map(str, adata.obs.columns))},
    )


def _label_problems(labels: pd.Series, unlabeled_category: str) -> list[InputProblem]:
    labelled = labels[labels.astype(str) != str(unlabeled_category)].astype(str)
    counts = labelled.value_counts()
    if len(counts) < 2:
        found = ", ".join(counts.index) or "none"
        return [InputProblem(
            "single_class", "error",
            f"Only {len(counts)} labelled cell type is present ({found}); a classifier needs at "
            "least two.",
            f"Label cells of at least two types, or check that '{unlabeled_category}' is the "
            "value that means unlabelled.",
            {"classes": list(counts.index)},
        )]
    rare = counts[counts < RARE_CLASS_CELLS]
    if len(rare):
        listed = ", ".join(f"{name} ({n})" for name, n in rare.items())
        return [InputProblem(
            "rare_classes", "warning",
            f"Some cell types have fewer than {RARE_CLASS_CELLS} labelled cells: {listed}.",
            "Predictions for them will be unreliable; consider merging or labelling more cells.",
            {"classes": list(rare.index)},
        )]
    return []


def find_input_problems(
    adata: AnnData,
    *,
    layer: str | None = None,
    batch_key: str | None = None,
    labels_key: str | None = None,
    unlabeled_category: str = "Unknown",
    extra_keys: list[str] | None = None,
) -> list[InputProblem]:
    """List what stops FADVI from training on ``adata``, errors first.

    Returns
    -------
    Problems as `InputProblem`; an empty list means the data can be used.
    """
    if adata.n_obs == 0 or adata.n_vars == 0:
        return [InputProblem(
            "empty", "error",
            f"The data is empty ({adata.n_obs} cells x {adata.n_vars} genes).",
            "Open a file that contains cells and genes.",
        )]
    problems = []
    for key, role in [(batch_key, "batch"), (labels_key, "labels")] + [
        (key, "covariate") for key in extra_keys or []
    ]:
        if key is not None and key not in adata.obs:
            problems.append(_missing_key(adata, key, role))
    try:
        matrix = get_matrix(adata, layer)
    except KeyError as error:
        problems.append(InputProblem("missing_layer", "error", str(error.args[0]), ""))
        return problems
    problems += _value_problems(matrix, layer, adata)
    if labels_key is not None and labels_key in adata.obs:
        problems += _label_problems(adata.obs[labels_key], unlabeled_category)
    return sorted(problems, key=lambda problem: problem.severity != "error")


def validate_input(adata: AnnData, **kwargs) -> None:
    """Raise ``ValueError`` with a plain message for the first error `find_input_problems` finds."""
    if not isinstance(adata, AnnData):
        raise TypeError(f"Expected an AnnData object, got {type(adata).__name__}.")
    errors = [p for p in find_input_problems(adata, **kwargs) if p.severity == "error"]
    if errors:
        raise ValueError(str(errors[0]))


def check_genes_match(model_genes: np.ndarray, data_genes: pd.Index) -> None:
    """Raise ``ValueError`` when the data's genes differ from those the model was trained on."""
    model_genes = pd.Index(model_genes)
    if model_genes.equals(data_genes):
        return
    missing = model_genes.difference(data_genes)
    if len(missing) == 0 and len(model_genes) == len(data_genes):
        raise ValueError(
            "The data has the model's genes in a different order. "
            "Reorder them with adata = adata[:, model_genes].copy()."
        )
    shown = ", ".join(map(str, missing[:5])) + (" ..." if len(missing) > 5 else "")
    raise ValueError(
        f"The data's genes do not match the model: {len(missing)} of the model's "
        f"{len(model_genes)} genes are missing ({shown}) and the data has {len(data_genes)} genes. "
        "Use data measured on the same genes, or pad the missing ones with "
        "fadvi_core.pad_missing_genes(adata, model_genes)."
    )


def pad_missing_genes(adata: AnnData, genes) -> AnnData:
    """Return a new AnnData whose columns are exactly ``genes``; missing genes are all zero.

    ``X`` and every layer are carried over as CSR, ``obs`` is copied; ``adata`` is not modified.
    """
    genes = pd.Index(genes)
    source = adata.var_names.get_indexer(genes)
    present = source >= 0
    selector = sparse.csr_matrix(
        (np.ones(present.sum(), dtype=np.float32), (source[present], np.flatnonzero(present))),
        shape=(adata.n_vars, len(genes)),
    )

    def _select(matrix):
        return sparse.csr_matrix(sparse.csr_matrix(matrix, dtype=np.float32) @ selector)

    return AnnData(
        X=_select(adata.X),
        obs=adata.obs.copy(),
        var=pd.DataFrame(index=genes),
        layers={name: _select(layer) for name, layer in adata.layers.items()},
    )
