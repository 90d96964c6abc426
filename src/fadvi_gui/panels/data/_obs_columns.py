"""Which ``obs`` columns can play which role, and good first guesses. No Qt here."""

from __future__ import annotations

import pandas as pd

#: Columns with more distinct values than this are not offered as categories.
MAX_CATEGORIES = 500
_BATCH_NAMES = ("batch", "sample", "donor", "library", "run", "tech", "chemistry")
_LABEL_NAMES = ("cell_type", "celltype", "cell_types", "labels", "label", "annotation", "cluster")
_UNLABELLED_NAMES = ("unknown", "unlabeled", "unlabelled", "unassigned", "nan", "na", "none", "")


def categorical_columns(obs: pd.DataFrame) -> list[str]:
    """Return columns that hold categories (strings, booleans, categoricals, few integers)."""
    out = []
    for name in obs.columns:
        col = obs[name]
        if isinstance(col.dtype, pd.CategoricalDtype) or col.dtype == bool or col.dtype == object:
            if col.nunique(dropna=True) <= MAX_CATEGORIES:
                out.append(str(name))
        elif pd.api.types.is_integer_dtype(col) and col.nunique() <= min(50, max(len(col) // 10, 2)):
            out.append(str(name))
    return out


def numeric_columns(obs: pd.DataFrame) -> list[str]:
    """Return columns with numbers that can be continuous covariates."""
    return [
        str(name)
        for name in obs.columns
        if pd.api.types.is_numeric_dtype(obs[name]) and obs[name].dtype != bool
    ]


def column_values(obs: pd.DataFrame, key: str) -> list[str]:
    """Return the distinct values of ``obs[key]`` as strings, most frequent first."""
    counts = obs[key].astype(str).value_counts()
    return [str(v) for v in counts.index[:MAX_CATEGORIES]]


def _guess(candidates: list[str], names: tuple[str, ...]) -> str | None:
    lowered = {c.lower(): c for c in candidates}
    for name in names:
        if name in lowered:
            return lowered[name]
    for name in names:
        for low, original in lowered.items():
            if name in low:
                return original
    return None


def guess_batch_key(candidates: list[str]) -> str | None:
    """Return the column most likely to hold batches, or None."""
    return _guess(candidates, _BATCH_NAMES)


def guess_labels_key(candidates: list[str]) -> str | None:
    """Return the column most likely to hold cell types, or None."""
    return _guess(candidates, _LABEL_NAMES)


def guess_unlabelled(values: list[str]) -> str | None:
    """Return the value most likely to mean "not annotated", or None if none looks like it."""
    for value in values:
        if value.strip().lower() in _UNLABELLED_NAMES:
            return value
    return None


def guess_counts_layer(layers: list[str]) -> str | None:
    """Return a layer named like raw counts, or None for ``X``."""
    for name in layers:
        if name.lower() in ("counts", "raw_counts", "count", "umi", "raw"):
            return name
    return None
