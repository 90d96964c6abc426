"""Manual annotation columns: label cells, rename and merge labels, import and export tables.

Qt-free functions on pandas objects; the session applies them (with undo) and tells the
panels. An annotation column is a categorical ``obs`` column whose unannotated cells hold
:data:`~fadvi_gui.model.keys.UNANNOTATED`; the names of the app's annotation columns are kept
in ``uns[ANNOTATION_COLUMNS_KEY]`` so they survive saving.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from fadvi_core import write_atomically
from fadvi_gui.model.keys import UNANNOTATED

#: ``uns``: names of the annotation columns made in the app.
ANNOTATION_COLUMNS_KEY = "fadvi_annotation_columns"
#: "Start from" choice of a new column with every cell unannotated.
EMPTY_START = "(empty)"


def _categorical(values: ArrayLike) -> pd.Categorical:
    """Return ``values`` as a categorical of strings, missing values unannotated, categories sorted."""
    text = pd.Series(np.asarray(values, dtype=object)).where(lambda s: s.notna(), UNANNOTATED)
    text = text.astype(str).to_numpy(dtype=object)
    return _tidy(pd.Categorical(text))


def _tidy(values: pd.Categorical) -> pd.Categorical:
    """Drop unused categories; sort the rest, with unannotated last."""
    codes = np.asarray(values.codes)
    names = [str(c) for c in values.categories]
    used = np.bincount(codes[codes >= 0], minlength=len(names)) > 0
    kept = [n for n, u in zip(names, used) if u]
    order = sorted(set(kept) - {UNANNOTATED}) + ([UNANNOTATED] if UNANNOTATED in kept else [])
    position = {n: i for i, n in enumerate(order)}
    lookup = np.array([position.get(n, -1) for n in names] + [-1], dtype=np.int32)
    return pd.Categorical.from_codes(lookup[codes], categories=order)


def _text_categorical(values: pd.Series | pd.Categorical) -> pd.Categorical:
    """Return ``values`` as a categorical of strings without missing values (fast when it is one)."""
    if isinstance(values, pd.Series):
        values = values.array
    if isinstance(values, pd.Categorical) and all(isinstance(c, str) for c in values.categories) \
            and not values.isna().any():
        return values
    return _categorical(values)


def new_column(obs: pd.DataFrame, start_from: str = EMPTY_START) -> pd.Categorical:
    """Return the values of a new annotation column: a copy of ``obs[start_from]``, or all unannotated."""
    if start_from == EMPTY_START:
        return pd.Categorical.from_codes(np.zeros(len(obs), dtype=np.int8), categories=[UNANNOTATED])
    if start_from not in obs:
        raise ValueError(f"The data has no column '{start_from}' to start the annotation from.")
    return _text_categorical(obs[start_from]).copy()


def label_cells(values: pd.Series | pd.Categorical, indices: ArrayLike, name: str) -> pd.Categorical:
    """Return ``values`` with the cells at positions ``indices`` set to ``name``.

    Raises
    ------
    ValueError
        If ``name`` is empty or no cells are given.
    """
    name = str(name).strip()
    if not name:
        raise ValueError("Type a label name first.")
    positions = np.asarray(indices, dtype=np.int64)
    if positions.size == 0:
        raise ValueError("Select cells first: draw a lasso or rectangle in the viewer, "
                         "click legend entries, or pick rows in the review table.")
    cat = _text_categorical(values)
    if name not in cat.categories:
        cat = cat.add_categories([name])
    codes = np.asarray(cat.codes).astype(np.int32)
    codes[positions] = cat.categories.get_loc(name)
    return _tidy(pd.Categorical.from_codes(codes, categories=cat.categories))


def rename_label(values: pd.Series | pd.Categorical, old: str, new: str) -> pd.Categorical:
    """Return ``values`` with label ``old`` called ``new`` (merging if ``new`` exists)."""
    return merge_labels(values, [old], new)


def merge_labels(values: pd.Series | pd.Categorical, labels: list[str], new: str) -> pd.Categorical:
    """Return ``values`` with every label in ``labels`` replaced by ``new``.

    Raises
    ------
    ValueError
        If ``new`` is empty or none of ``labels`` occurs.
    """
    new = str(new).strip()
    if not new:
        raise ValueError("Type the new label name.")
    cat = _text_categorical(values)
    merged = {str(x) for x in labels} & {str(c) for c in cat.categories}
    if not merged:
        raise ValueError(f"No cell carries {', '.join(map(str, labels))}.")
    names = [new if str(c) in merged else str(c) for c in cat.categories]
    unique = list(dict.fromkeys(names))
    lookup = np.array([unique.index(n) for n in names], dtype=np.int32)
    codes = lookup[np.asarray(cat.codes)]
    return _tidy(pd.Categorical.from_codes(codes, categories=unique))


def label_counts(values: pd.Series | pd.Categorical) -> pd.Series:
    """Return cells per label, largest first, unannotated last."""
    counts = pd.Series(_text_categorical(values)).value_counts()
    counts = counts[counts > 0]
    counts.index = counts.index.astype(str)
    order = [c for c in counts.index if c != UNANNOTATED] + [c for c in counts.index if c == UNANNOTATED]
    return counts[order]


# ---------------------------------------------------------------- tables
@dataclass
class ImportReport:
    """What an annotation table matched in the data.

    Attributes
    ----------
    columns
        ``obs`` column name by table column; each is categorical (numbers stay numeric),
        unannotated (or NaN) where the table has no row for a cell.
    n_rows
        Rows in the table.
    matched
        Cells of the data named in the table.
    unmatched
        Cell names in the table that are not in the data.
    duplicates
        Cell names that appear more than once in the table (the first row is used).
    """

    columns: dict[str, pd.Series | pd.Categorical] = field(default_factory=dict)
    n_rows: int = 0
    matched: int = 0
    unmatched: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)

    def summary(self, n_cells: int) -> str:
        """Return the report in words."""
        parts = [f"Matched {self.matched:,} of {n_cells:,} cells from {self.n_rows:,} rows "
                 f"into {', '.join(repr(c) for c in self.columns)}."]
        if self.unmatched:
            shown = ", ".join(self.unmatched[:3]) + (" ..." if len(self.unmatched) > 3 else "")
            parts.append(f"{len(self.unmatched):,} rows name cells that are not in the data ({shown}).")
        if self.duplicates:
            shown = ", ".join(self.duplicates[:3]) + (" ..." if len(self.duplicates) > 3 else "")
            parts.append(f"{len(self.duplicates):,} cells appear more than once; the first row "
                         f"was used ({shown}).")
        return " ".join(parts)


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a CSV or TSV of cell names (first column) and labels (further columns), all as text.

    Raises
    ------
    ValueError
        If the file cannot be read or has fewer than two columns.
    """
    p = Path(path)
    try:
        with open(p, newline="", encoding="utf-8-sig") as handle:
            sample = handle.read(4096)
        sep = "\t" if p.suffix.lower() in (".tsv", ".tab") or "\t" in sample.splitlines()[0] else ","
        table = pd.read_csv(p, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, IndexError) as exc:
        raise ValueError(f"Could not read {p.name}: {exc}. Use a CSV or TSV file with the cell "
                         "name in the first column and a label in the second.") from exc
    if table.shape[1] < 2:
        raise ValueError(f"{p.name} has {table.shape[1]} column; it needs the cell name in the "
                         "first column and a label in the second (with a header row).")
    return table


def match_table(obs: pd.DataFrame, table: pd.DataFrame) -> ImportReport:
    """Match ``table``'s first column to ``obs.index``; every other column becomes an obs column.

    A table column whose name is already an ``obs`` column gets the suffix ``"_imported"``.
    """
    names = table.iloc[:, 0].astype(str).str.strip()
    first = ~names.duplicated(keep="first")
    duplicates = sorted(set(names[~first]))
    rows = table[first.to_numpy()].set_index(names[first].to_numpy())
    in_data = rows.index.isin(obs.index)
    report = ImportReport(n_rows=len(table), matched=int(obs.index.isin(rows.index).sum()),
                          unmatched=[str(n) for n in rows.index[~in_data]], duplicates=duplicates)
    for column in table.columns[1:]:
        values = rows[column].reindex(obs.index)
        name = str(column) if str(column) not in obs.columns else f"{column}_imported"
        numbers = pd.to_numeric(values.replace("", np.nan), errors="coerce")
        texts = values.replace("", np.nan)
        if texts.notna().any() and numbers.notna().sum() == texts.notna().sum():
            report.columns[name] = numbers.to_numpy()
        else:
            report.columns[name] = _categorical(texts.to_numpy(dtype=object))
    return report


def export_column(obs: pd.DataFrame, column: str, path: str | os.PathLike) -> Path:
    """Write ``cell, <column>`` rows to ``path`` (tab-separated for ``.tsv``), atomically.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    if column not in obs:
        raise ValueError(f"The data has no column '{column}' to export.")
    target = Path(path)
    sep = "\t" if target.suffix.lower() in (".tsv", ".tab", ".txt") else ","
    frame = pd.DataFrame({"cell": obs.index.astype(str), column: obs[column].astype(str).to_numpy()})
    return write_atomically(target, lambda tmp: frame.to_csv(tmp, sep=sep, index=False,
                                                             quoting=csv.QUOTE_MINIMAL),
                            create_folder=False)


__all__ = ["ANNOTATION_COLUMNS_KEY", "EMPTY_START", "ImportReport", "export_column",
           "label_cells", "label_counts", "match_table", "merge_labels", "new_column",
           "read_table", "rename_label"]
