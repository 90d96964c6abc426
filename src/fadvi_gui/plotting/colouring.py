"""Turn an obs column or a gene's values into per-cell colour codes, without Qt.

A :class:`Colouring` gives every cell an integer code and every code an RGBA
colour, so the scatter recolours a million cells with one array lookup and
hides a category by hiding its code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from fadvi_gui.plotting.palettes import MISSING_RGBA, categorical_palette, viridis_lut

#: Label of the legend entry for cells with no value.
MISSING_LABEL = "(missing)"
#: Text columns with more distinct values than this, or with a distinct value for
#: most cells (names, barcodes), are not offered for colouring.
MAX_CATEGORIES = 500
#: Number of colour steps a numeric colouring uses.
NUMERIC_STEPS = 256

Kind = Literal["categorical", "numeric"]


@dataclass(frozen=True, eq=False)
class Colouring:
    """Colours for every cell.

    Attributes
    ----------
    key
        What is shown: an obs column or a gene name.
    kind
        ``"categorical"`` (legend) or ``"numeric"`` (colour bar).
    codes
        ``(n_cells,)`` int32 index into ``lut`` for each cell.
    lut
        ``(n_codes, 4)`` uint8 RGBA colour of each code.
    labels
        Categorical only: the legend text of each code (a trailing
        :data:`MISSING_LABEL` when some cells have no value).
    counts
        Categorical only: ``(n_codes,)`` number of cells with each code.
    vmin, vmax
        Numeric only: the values at the two ends of the colour bar.
    """

    key: str
    kind: Kind
    codes: np.ndarray
    lut: np.ndarray
    labels: tuple[str, ...] = ()
    counts: np.ndarray | None = None
    vmin: float = 0.0
    vmax: float = 1.0


def column_kind(values: pd.Series) -> Kind | None:
    """Say how an obs column can colour cells: ``"categorical"``, ``"numeric"`` or ``None`` (not at all)."""
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical" if len(dtype.categories) <= MAX_CATEGORIES else None
    if pd.api.types.is_bool_dtype(dtype):
        return "categorical"
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        distinct = values.nunique(dropna=True)
        # A column with a value per cell is a name, not a grouping.
        looks_like_names = distinct > 50 and distinct >= 0.5 * len(values)
        return "categorical" if distinct <= MAX_CATEGORIES and not looks_like_names else None
    return None


def categorical_colouring(key: str, values: pd.Series) -> Colouring:
    """Colour cells by the categories of ``values``, one Okabe-Ito or Glasbey-like colour each.

    Returns
    -------
    Colouring
        ``kind="categorical"``; categories keep their order (sorted when the column is not categorical).
    """
    categorical = pd.Categorical(values)
    codes = np.asarray(categorical.codes, dtype=np.int32)
    labels = [str(c) for c in categorical.categories]
    lut = categorical_palette(len(labels))
    missing = codes < 0
    if missing.any():
        codes = np.where(missing, len(labels), codes).astype(np.int32)
        labels.append(MISSING_LABEL)
        lut = np.vstack([lut, np.array(MISSING_RGBA, dtype=np.uint8)])
    counts = np.bincount(codes, minlength=len(labels))
    return Colouring(key, "categorical", codes, lut, tuple(labels), counts)


def numeric_colouring(
    key: str, values: np.ndarray, *, vmin: float | None = None, vmax: float | None = None
) -> Colouring:
    """Colour cells by a number on viridis; NaN cells are grey.

    Parameters
    ----------
    key
        Column or gene name, shown above the colour bar.
    values
        ``(n_cells,)`` numbers.
    vmin, vmax
        Ends of the colour scale; default to the smallest and largest finite values.

    Returns
    -------
    Colouring
        ``kind="numeric"``: code 0 (grey) for missing values, codes 1 to
        :data:`NUMERIC_STEPS` along viridis, low to high.
    """
    v = np.asarray(values, dtype=np.float32).ravel()
    finite = np.isfinite(v)
    low = float(np.min(v[finite])) if vmin is None and finite.any() else float(vmin or 0.0)
    high = float(np.max(v[finite])) if vmax is None and finite.any() else float(vmax or 1.0)
    span = high - low if high > low else 1.0
    scaled = np.clip((v - low) * (NUMERIC_STEPS / span), 0, NUMERIC_STEPS - 1)
    codes = np.where(finite, scaled + 1, 0).astype(np.int32)
    lut = np.vstack([np.array(MISSING_RGBA, dtype=np.uint8), viridis_lut(NUMERIC_STEPS)])
    return Colouring(key, "numeric", codes, lut, vmin=low, vmax=high)


def column_colouring(key: str, values: pd.Series) -> Colouring:
    """Colour by an obs column, categorical or numeric as :func:`column_kind` says."""
    kind = column_kind(values)
    if kind is None:
        raise ValueError(
            f"obs column {key!r} has more than {MAX_CATEGORIES} distinct values and no numeric "
            "type, so it cannot colour cells. Pick another column."
        )
    if kind == "numeric":
        return numeric_colouring(key, values.to_numpy(dtype=np.float32, na_value=np.nan))
    return categorical_colouring(key, values)
