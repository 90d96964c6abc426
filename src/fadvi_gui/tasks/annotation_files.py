"""Worker functions for annotation tables: read and match a CSV/TSV, write a column."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pandas as pd

from fadvi_gui.model import annotation as notes

if TYPE_CHECKING:
    from fadvi_gui.tasks._control import Control


def import_table(control: Control, obs: pd.DataFrame, path: str | os.PathLike) -> notes.ImportReport:
    """Read ``path`` and match it to ``obs`` (:func:`fadvi_gui.model.annotation.match_table`).

    Raises
    ------
    ValueError
        If the file cannot be read, or none of its cell names is in the data.
    """
    report = notes.match_table(obs, notes.read_table(path))
    if report.matched == 0:
        raise ValueError(f"No cell name in the file's first column matches this data (first rows: "
                         f"{', '.join(report.unmatched[:3])}). Check that it holds the cell names "
                         "(obs_names).")
    return report


def export_table(control: Control, obs: pd.DataFrame, column: str, path: str | os.PathLike) -> str:
    """Write ``cell, <column>`` to ``path`` (:func:`fadvi_gui.model.annotation.export_column`)."""
    return str(notes.export_column(obs, column, path))


__all__ = ["export_table", "import_table"]
