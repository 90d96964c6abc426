"""Worker function: marker genes with scanpy's ``rank_genes_groups``, one group at a time."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse

from fadvi_gui.model.keys import UNANNOTATED
from fadvi_gui.model.markers import (
    SELECTION_GROUP, TABLE_COLUMNS, MarkerRequest, MarkerResult, group_summaries, top_genes,
)
from fadvi_gui.model.steps import StepProgress

if TYPE_CHECKING:
    from anndata import AnnData

    from fadvi_gui.tasks._control import Control

#: Groups with fewer cells are left out (the test needs a few cells on each side).
MIN_GROUP_CELLS = 3
_SKIPPED = {UNANNOTATED, "Unknown", "Uncertain", "nan"}
_METHOD_WORDS = {"wilcoxon": "Wilcoxon", "t-test": "t-test", "t-test_overestim_var": "t-test"}


def rank_markers(control: Control, adata: AnnData, request: MarkerRequest, *,
                 layer: str | None = None) -> MarkerResult | None:
    """Rank the genes of each group against all other cells.

    Counts (``adata.layers[layer]``, or ``X``) are normalised to 10,000 per cell and
    log1p-transformed on a copy; ``adata`` is not changed. Each group is one
    ``scanpy.tl.rank_genes_groups(..., reference="rest")`` call, so progress is reported and a
    stop is honoured between groups.

    Returns
    -------
    MarkerResult or None
        None when a stop was requested.

    Raises
    ------
    ValueError
        If there is nothing to compare (no selection, a column with one group).
    """
    import anndata
    import scanpy as sc

    groups = _groups(adata, request)
    order = [g for g in pd.unique(groups) if g not in _SKIPPED
             and MIN_GROUP_CELLS <= int(np.sum(groups == g)) <= len(groups) - MIN_GROUP_CELLS]
    if request.groupby is None:
        order = [SELECTION_GROUP] if SELECTION_GROUP in order else []
    else:
        order = sorted(order)
    if not order:
        raise ValueError("Nothing to compare: select at least 3 cells (and leave 3 out), or pick a "
                         "column with at least two classes of 3 or more cells.")
    counts = adata.layers[layer] if layer else adata.X
    work = anndata.AnnData(X=sparse.csr_matrix(counts, dtype=np.float32),
                           obs=pd.DataFrame({"group": pd.Categorical(groups)}, index=adata.obs_names))
    work.var_names = adata.var_names
    sc.pp.normalize_total(work, target_sum=1e4)
    sc.pp.log1p(work)
    frames = []
    for i, group in enumerate(order):
        control.report(StepProgress(i, len(order), f"Testing {group} against the rest"), force=True)
        if control.should_stop():
            return None
        sc.tl.rank_genes_groups(work, "group", groups=[group], reference="rest",
                                method=request.method, pts=True, key_added="markers", use_raw=False)
        frame = sc.get.rank_genes_groups_df(work, group=group, key="markers")
        frames.append(pd.DataFrame({
            "group": group, "gene": frame["names"].astype(str), "score": frame["scores"],
            "logfoldchange": frame["logfoldchanges"], "pval_adj": frame["pvals_adj"],
            "pct_group": frame["pct_nz_group"], "pct_rest": frame["pct_nz_reference"]}))
    table = pd.concat(frames, ignore_index=True)[TABLE_COLUMNS]
    genes = top_genes(table, request.n_top)
    values = work[:, genes].X
    values = values.toarray() if sparse.issparse(values) else np.asarray(values)
    shown = order if request.groupby is not None else [SELECTION_GROUP, "rest"]
    mean, fraction = group_summaries(values, groups, shown, genes)
    control.report(StepProgress(len(order), len(order), "Done"), force=True)
    what = (f"each class of '{request.groupby}' vs the rest" if request.groupby
            else f"{len(request.selection):,} selected cells vs the rest")
    return MarkerResult(table=table, mean=mean, fraction=fraction,
                        description=f"{_METHOD_WORDS.get(request.method, request.method)}: {what}")



def _groups(adata: AnnData, request: MarkerRequest) -> np.ndarray:
    if request.groupby is None:
        out = np.full(adata.n_obs, "rest", dtype=object)
        out[np.asarray(request.selection, dtype=np.int64)] = SELECTION_GROUP
        return out
    if request.groupby not in adata.obs:
        raise ValueError(f"The data has no column '{request.groupby}'. Pick another column.")
    column = adata.obs[request.groupby]
    return column.astype(object).where(column.notna(), "nan").astype(str).to_numpy(dtype=object)


__all__ = ["MIN_GROUP_CELLS", "rank_markers"]
