"""Marker genes: what a differential-expression run asked, what it found, and files of it.

The run itself is :func:`fadvi_gui.tasks.markers.rank_markers` (scanpy's
``rank_genes_groups``); this module holds its plain records and the table helpers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from fadvi_core import write_atomically

Method = Literal["wilcoxon", "t-test", "t-test_overestim_var"]
#: The tests offered, with their names in the app.
METHODS: dict[str, str] = {"wilcoxon": "Wilcoxon rank-sum", "t-test": "t-test",
                           "t-test_overestim_var": "t-test (overestimated variance)"}
#: Columns of :attr:`MarkerResult.table`, in order.
TABLE_COLUMNS = ["group", "gene", "score", "logfoldchange", "pval_adj", "pct_group", "pct_rest"]
#: Group name of the selected cells when the selection is compared with the rest.
SELECTION_GROUP = "selection"


@dataclass(frozen=True)
class MarkerRequest:
    """What to compare.

    Attributes
    ----------
    groupby
        An ``obs`` column: each of its classes against all other cells. None to compare
        ``selection`` with the rest.
    selection
        Positions of the selected cells (used when ``groupby`` is None).
    method
        scanpy's test; Wilcoxon by default.
    n_top
        Genes per group in the dot plot and heat map.
    """

    groupby: str | None = None
    selection: tuple[int, ...] = ()
    method: Method = "wilcoxon"
    n_top: int = 4


@dataclass
class MarkerResult:
    """Ranked genes per group and the summaries the dot plot draws.

    Attributes
    ----------
    table
        One row per group and gene (:data:`TABLE_COLUMNS`), best first within each group;
        ``pct_group``/``pct_rest`` are shares (0 to 1) of cells expressing the gene.
    mean
        ``(n_groups, n_plot_genes)`` mean log-normalised expression of the plotted genes.
    fraction
        ``(n_groups, n_plot_genes)`` share of the group's cells expressing each plotted gene.
    description
        What was compared, in words.
    """

    table: pd.DataFrame
    mean: pd.DataFrame = field(default_factory=pd.DataFrame)
    fraction: pd.DataFrame = field(default_factory=pd.DataFrame)
    description: str = ""

    @property
    def groups(self) -> list[str]:
        """The groups, in table order."""
        return list(dict.fromkeys(self.table["group"].astype(str)))


def top_genes(table: pd.DataFrame, n_top: int) -> list[str]:
    """Return the best ``n_top`` genes of each group, in group order, each gene once."""
    genes: list[str] = []
    for _group, rows in table.groupby("group", sort=False):
        genes.extend(rows["gene"].astype(str).head(n_top))
    return list(dict.fromkeys(genes))


def group_summaries(values: np.ndarray, groups: np.ndarray, order: list[str],
                    genes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return mean expression and share of expressing cells per group, for ``genes``.

    Parameters
    ----------
    values
        ``(n_cells, len(genes))`` dense log-normalised expression.
    groups
        ``(n_cells,)`` group of each cell.
    order
        The groups to summarise, in order.
    """
    mean = np.zeros((len(order), len(genes)))
    frac = np.zeros((len(order), len(genes)))
    for i, group in enumerate(order):
        rows = values[groups == group]
        if len(rows):
            mean[i], frac[i] = rows.mean(axis=0), (rows > 0).mean(axis=0)
    return (pd.DataFrame(mean, index=order, columns=genes),
            pd.DataFrame(frac, index=order, columns=genes))


def export_markers_csv(table: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write the marker table to ``path`` (tab-separated for ``.tsv``), atomically."""
    target = Path(path)
    sep = "\t" if target.suffix.lower() in (".tsv", ".txt") else ","
    return write_atomically(target, lambda tmp: table.to_csv(tmp, sep=sep, index=False),
                            create_folder=False)


__all__ = ["METHODS", "SELECTION_GROUP", "TABLE_COLUMNS", "MarkerRequest", "MarkerResult",
           "Method", "export_markers_csv", "group_summaries", "top_genes"]
