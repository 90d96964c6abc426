"""Annotating the open data from a labelled reference: what the app keeps, and how it shows it.

With File > Annotate with Reference... the session trains on (or maps onto) a reference and keeps
the open data as it was read. :class:`ReferenceState` is that record: the query as opened, the
engine's joint data (the reference's labelled cells first, then the query's) or the model the
query was mapped onto, and where the reference came from. No Qt here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from fadvi_gui.model.choices import DataChoices

if TYPE_CHECKING:
    from anndata import AnnData

# The engine's joint columns (``fadvi_core._reference``), named once for the app; a test checks
# they are the engine's.
#: ``obs``: "reference" or "query" for each cell of the joint data.
SOURCE_KEY = "fadvi_source"
#: ``obs``: each file's batches kept apart ("reference: 3pv1", "query: 5p").
BATCH_KEY = "fadvi_batch"
#: ``obs``: the reference's labels; the query's cells carry :data:`UNLABELLED`.
LABELS_KEY = "fadvi_reference_label"
#: ``obs``: the reference's coarse labels, when a coarse column was picked.
COARSE_KEY = "fadvi_reference_coarse"
#: The label of every query cell in the joint data.
UNLABELLED = "(query cell)"
#: The columns the joint data adds; never copied back onto the query when saving.
JOINT_COLUMNS = (SOURCE_KEY, BATCH_KEY, LABELS_KEY, COARSE_KEY)
#: A saved reference model is a folder holding this file (``fadvi_core.ReferenceModel``).
CARD_FILE = "reference_card.json"

JOINT, MAPPED = "joint training", "mapping onto a reference model"


@dataclass
class ReferenceState:
    """The open data annotated from a reference.

    Attributes
    ----------
    query
        The data as it was opened (all its genes, its order and obs); never changed.
    data
        What the session holds instead: the joint data (``joint.adata``), or the query on the
        reference model's genes.
    mode
        :data:`JOINT` (a reference ``.h5ad``) or :data:`MAPPED` (a reference model folder).
    reference_name
        The reference file's or folder's name.
    source
        ``{"name": ..., "sha256": ...}`` of the reference file, for the saved record.
    genes_text
        How the genes matched, in one sentence (``GeneMatch.describe``).
    n_shared
        How many genes the reference and the query share.
    query_batch_key
        The query's batch column, or None for one batch.
    joint
        The engine's ``JointData`` (joint training only).
    reference_model
        The ``fadvi_core.ReferenceModel`` (mapping only).
    genes
        The engine's ``GeneMatch`` of the query onto the reference model (mapping only).
    """

    query: AnnData
    data: AnnData
    mode: str
    reference_name: str
    source: dict[str, Any]
    genes_text: str
    n_shared: int
    query_batch_key: str | None = None
    joint: Any = None
    reference_model: Any = None
    genes: Any = None

    def choices(self) -> DataChoices:
        """The data choices the session starts with: the engine's batch and label columns."""
        return DataChoices(batch_key=BATCH_KEY, labels_key=LABELS_KEY, unlabeled_category=UNLABELLED)

    def query_positions(self) -> np.ndarray:
        """Positions of the query's cells in :attr:`data`, in the query's own order."""
        if self.joint is not None:
            return np.asarray(self.joint.query_indices, dtype=np.int64)
        return np.arange(self.data.n_obs, dtype=np.int64)

    def query_mask(self) -> np.ndarray:
        """``(n_cells,)`` bool over :attr:`data`: True for the query's cells."""
        mask = np.zeros(self.data.n_obs, dtype=bool)
        mask[self.query_positions()] = True
        return mask

    def summary_html(self) -> str:
        """What the data panel shows: the reference, the query and how their genes matched."""
        query = self.query
        batches = _counts(query.obs[self.query_batch_key]) if self.query_batch_key else "one batch"
        lines = [f"<b>Reference: {_escape(self.reference_name)}</b>", f"{self.mode.capitalize()}:"]
        if self.joint is not None:
            labels = self.data.obs[LABELS_KEY].astype(str).to_numpy()[: self.joint.n_reference]
            n_types = len(set(labels))
            lines[-1] += f" {self.joint.n_reference:,} labelled cells, {n_types} cell types"
        elif self.reference_model is not None:
            card = self.reference_model.card
            lines[-1] += f" {card['data']['n_cells']:,} cells, {len(card['classes'])} cell types"
        lines.append(f"<b>Your data:</b> {query.n_obs:,} cells")
        lines.append(f"Batches: {_escape(batches)}")
        lines.append(f"<b>Genes:</b> {_escape(self.genes_text)}")
        if self.mode == MAPPED:
            lines.append("Your cells are mapped onto the reference model: press "
                         "<i>Predict labels</i> in the Predictions panel. No training is needed "
                         "(the checks below are about training a new model, which needs labels).")
        else:
            lines.append("The table below counts the reference's cells per batch and label, and "
                         "your cells as '(query cell)'. Train, then predict.")
        return "<br>".join(lines)


def query_view(state: ReferenceState, adata: AnnData) -> AnnData:
    """The query's cells of ``adata`` (the session's data), in the query's order and names."""
    view = adata[state.query_positions()].copy()
    view.obs_names = pd.Index(state.query.obs_names.astype(str))
    return view


def _counts(column: pd.Series) -> str:
    counts = column.astype(str).value_counts(sort=False)
    return ", ".join(f"{name} ({n:,})" for name, n in counts.items())


def _escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


__all__ = ["BATCH_KEY", "CARD_FILE", "COARSE_KEY", "JOINT", "JOINT_COLUMNS", "LABELS_KEY", "MAPPED",
           "ReferenceState", "SOURCE_KEY", "UNLABELLED", "query_view"]
