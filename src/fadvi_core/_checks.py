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

from ._scan import scan_values

RARE_CLASS_CELLS = 10
MIN_TRAINING_CELLS = 2


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


def _count(n: int, singular: str, plural: str | None = None) -> str:
    """``"1 cell has"`` / ``"3 cells have"``; ``plural`` defaults to ``singular + "s"``."""
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


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


def looks_like_counts(matrix) -> bool:
    """Whether every stored value is a finite, non-negative integer (every value is read)."""
    return scan_values(matrix, stop_early=True).is_counts


def count_layers(adata: AnnData) -> list[str]:
    """Names of the matrices (``"X"`` or layer names) that hold raw counts."""
    names = ["X"] if adata.X is not None and looks_like_counts(adata.X) else []
    return names + [name for name, layer in adata.layers.items() if looks_like_counts(layer)]


def _value_problems(matrix, layer: str | None, adata: AnnData) -> list[InputProblem]:
    where = "adata.X" if layer is None else f"adata.layers['{layer}']"
    scan = scan_values(matrix)
    if not scan.numeric:
        return [InputProblem(
            "not_numeric", "error",
            f"{where} holds values of type {scan.dtype}, not numbers.",
            "FADVI needs raw UMI counts; load the original count matrix.",
        )]
    problems = []
    if scan.n_nonfinite:
        problems.append(InputProblem(
            "nonfinite", "error",
            f"{where} contains {_count(scan.n_nonfinite, 'NaN or infinite value')}.",
            "FADVI needs raw UMI counts; load the original count matrix.",
            {"n_values": scan.n_nonfinite},
        ))
    if scan.n_negative:
        problems.append(InputProblem(
            "negative", "error",
            f"{where} contains {_count(scan.n_negative, 'negative value')}, so it is not a count "
            "matrix "
            "(it may be scaled or centred).",
            "Use the raw UMI counts instead.",
            {"n_values": scan.n_negative},
        ))
    if scan.n_fractional:
        candidates = [name for name in count_layers(adata) if name != (layer or "X")]
        if candidates:
            fix = "These hold counts: " + ", ".join(
                "adata.X" if name == "X" else f"layer '{name}'" for name in candidates
            ) + "; choose one of them."
        else:
            fix = "Load the raw UMI counts; no layer of this file holds them."
        problems.append(InputProblem(
            "not_counts", "error",
            f"{where} holds {_count(scan.n_fractional, 'non-integer value')}, so it looks "
            "normalised or "
            "log-transformed, not raw counts.",
            fix,
            {"count_layers": candidates, "n_values": scan.n_fractional},
        ))
    if not problems:
        empty = scan.totals <= 0
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


def _column_problems(adata: AnnData, key: str, role: str,
                     unlabeled_category: str) -> list[InputProblem]:
    """Missing values, numeric codes and empty names in a batch, labels or covariate column."""
    column = adata.obs[key]
    problems = []
    n_missing = int(column.isna().sum())
    if role == "covariate" and pd.api.types.is_numeric_dtype(column):
        n_missing += int(np.isinf(column.to_numpy(dtype=float)).sum())
        if n_missing:
            problems.append(InputProblem(
                "missing_values", "error",
                f"{_count(n_missing, 'cell has', 'cells have')} no value (NaN or infinite) in the "
                "covariate column "
                f"'{key}'.",
                "Fill them with a number (e.g. the column's median) or remove those cells.",
                {"key": key, "n_cells": n_missing},
            ))
        return problems
    if n_missing:
        fill = unlabeled_category if role == "labels" else "unknown"
        problems.append(InputProblem(
            "missing_values", "error",
            f"{_count(n_missing, 'cell has', 'cells have')} no value (NaN) in the {role} "
            f"column '{key}'.",
            f"Fill them in, e.g. adata.obs['{key}'] = "
            f"adata.obs['{key}'].astype(object).fillna('{fill}')"
            + (" (that marks them unlabelled)." if role == "labels" else "."),
            {"key": key, "n_cells": n_missing},
        ))
    if role == "labels" and (pd.api.types.is_numeric_dtype(column) or (
            isinstance(column.dtype, pd.CategoricalDtype)
            and pd.api.types.is_numeric_dtype(column.cat.categories))):
        problems.append(InputProblem(
            "numeric_labels", "error",
            f"The labels column '{key}' holds numbers, not cell-type names.",
            f"Convert it to text first: adata.obs['{key}'] = adata.obs['{key}'].astype(str).",
            {"key": key},
        ))
    if role == "covariate":
        return problems
    names = column.dropna().astype(str)
    n_blank = int((names.str.strip() == "").sum())
    if n_blank:
        what = ("an empty label would be learnt and predicted as a cell type" if role == "labels"
                else "an empty batch name hides which batch they come from")
        fill = unlabeled_category if role == "labels" else "unnamed"
        fix = (("Mark them unlabelled" if role == "labels" else "Give their batch a name")
               + f", e.g. adata.obs['{key}'] = adata.obs['{key}'].astype(str).str.strip()"
               f".replace('', '{fill}').")
        problems.append(InputProblem(
            "empty_names", "error",
            f"{_count(n_blank, 'cell has', 'cells have')} an empty value in the {role} column "
            f"'{key}'; {what}.", fix,
            {"key": key, "n_cells": n_blank},
        ))
    return problems


def _duplicate_names(adata: AnnData) -> list[InputProblem]:
    problems = []
    for index, what, fix in [(adata.obs_names, "cell names", "adata.obs_names_make_unique()"),
                             (adata.var_names, "gene names", "adata.var_names_make_unique()")]:
        duplicated = index[index.duplicated()]
        if len(duplicated):
            shown = ", ".join(map(str, duplicated.unique()[:3]))
            problems.append(InputProblem(
                "duplicate_names", "error",
                f"{_count(len(duplicated), what[:-1] + ' appears', what + ' appear')} more than "
                "once "
                f"(e.g. {shown}).",
                f"Make them unique first, e.g. {fix}.",
                {"axis": "obs" if what == "cell names" else "var", "n_duplicates": len(duplicated)},
            ))
    return problems


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
    min_cells: int = MIN_TRAINING_CELLS,
) -> list[InputProblem]:
    """List what stops FADVI from training on ``adata``, errors first.

    Every stored value of the matrix is read (in chunks; ``adata`` may be backed).

    Parameters
    ----------
    min_cells
        Fewest cells accepted; training needs `MIN_TRAINING_CELLS`, prediction one.

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
    if adata.n_obs < min_cells:
        problems.append(InputProblem(
            "too_few_cells", "error",
            f"The data has {adata.n_obs} cell{'s' if adata.n_obs != 1 else ''}; training needs "
            f"at least {min_cells}.",
            "Open data with more cells, or train on this sample together with others.",
            {"n_cells": adata.n_obs, "min_cells": min_cells},
        ))
    problems += _duplicate_names(adata)
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
    if matrix is None:
        problems.append(InputProblem(
            "no_matrix", "error", "adata.X is empty (None), so there are no counts to read.",
            "Choose the layer that holds the raw counts.",
        ))
        return problems
    problems += _value_problems(matrix, layer, adata)
    for key, role in [(batch_key, "batch"), (labels_key, "labels")] + [
        (key, "covariate") for key in extra_keys or []
    ]:
        if key is not None and key in adata.obs:
            problems += _column_problems(adata, key, role, unlabeled_category)
    if labels_key is not None and labels_key in adata.obs and not any(
            p.detail.get("key") == labels_key for p in problems if p.severity == "error"):
        problems += _label_problems(adata.obs[labels_key], unlabeled_category)
    return sorted(problems, key=lambda problem: problem.severity != "error")


def validate_input(adata: AnnData, *, for_training: bool = True, **kwargs) -> None:
    """Raise ``ValueError`` with a plain message for the first error `find_input_problems` finds.

    ``for_training`` asks for at least `MIN_TRAINING_CELLS` cells; prediction accepts one.
    """
    if not isinstance(adata, AnnData):
        raise TypeError(f"Expected an AnnData object, got {type(adata).__name__}.")
    kwargs.setdefault("min_cells", MIN_TRAINING_CELLS if for_training else 1)
    errors = [p for p in find_input_problems(adata, **kwargs) if p.severity == "error"]
    if errors:
        raise ValueError(str(errors[0]))


def _listed(names: pd.Index) -> str:
    return ", ".join(map(str, names[:5])) + (" ..." if len(names) > 5 else "")


def check_genes_match(model_genes, data_genes: pd.Index) -> None:
    """Raise ``ValueError`` when the data's genes differ from those the model was trained on.

    The message says what differs (missing genes, extra genes, repeated names or order) and how
    to fix it.
    """
    model_genes, data_genes = pd.Index(model_genes), pd.Index(data_genes)
    if model_genes.equals(data_genes):
        return
    if data_genes.has_duplicates:
        raise ValueError(
            f"The data's gene names are not unique ({_listed(data_genes[data_genes.duplicated()])} "
            "appear more than once). Make them unique first, e.g. adata.var_names_make_unique().")
    missing = model_genes.difference(data_genes, sort=False)
    extra = data_genes.difference(model_genes, sort=False)
    if len(missing) == 0 and len(extra) == 0:
        raise ValueError(
            "The data has the model's genes in a different order. "
            "Reorder them with adata = adata[:, model_genes].copy().")
    parts = []
    if len(missing):
        parts.append(f"{len(missing)} of the model's {len(model_genes)} genes are missing "
                     f"({_listed(missing)})")
    if len(extra):
        parts.append(f"the data has {len(extra)} genes the model was not trained on "
                     f"({_listed(extra)})")
    fix = ("Keep only the model's genes with adata = adata[:, model.var_names].copy()"
           if not len(missing) else
           "Use data measured on the same genes, or pad the missing ones (and drop the others) "
           "with adata = fadvi_core.pad_missing_genes(adata, model.var_names)")
    raise ValueError(f"The data's genes do not match the model: {' and '.join(parts)}. {fix} "
                     "(for a saved model: model = FADVI.load(model_dir)).")


def pad_missing_genes(adata: AnnData, genes) -> AnnData:
    """Return a new AnnData whose columns are exactly ``genes``; missing genes are all zero.

    ``X`` and every layer are carried over as CSR, ``obs`` is copied; ``adata`` is not modified.
    """
    genes = pd.Index(genes)
    for index, what in [(adata.var_names, "The data's gene names"), (genes, "The gene list")]:
        if index.has_duplicates:
            raise ValueError(
                f"{what} are not unique ({_listed(index[index.duplicated()])} appear more than "
                "once). Make them unique first, e.g. adata.var_names_make_unique().")
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
