"""Withheld labels: hide some known labels in a new column, then score predictions against them.

Testing label transfer on one's own data means hiding labels the model could have learned
from, predicting them, and comparing. :func:`withhold_labels` copies the labels column into a
new one with the chosen cells set to an "unlabelled" value (the original column is never
changed) and records what it did in ``uns[WITHHELD_KEY]``, so the record travels with saved
files. :func:`agreement` scores ``obs["fadvi_prediction"]`` on the withheld cells.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from fadvi_gui.model.keys import PREDICTION_KEY, WITHHELD_KEY

if TYPE_CHECKING:
    from anndata import AnnData

#: The value written over withheld labels.
WITHHELD_VALUE = "Unknown"


@dataclass(frozen=True)
class WithheldLabels:
    """What was withheld, where, and from which column.

    Attributes
    ----------
    column
        The new labels column (train on this one).
    truth_key
        The original labels column, left unchanged: the withheld truth.
    unlabeled_category
        The value that marks the withheld (and any other unlabelled) cells in ``column``.
    description
        In words, for the user ("the labels of batch 5p").
    """

    column: str
    truth_key: str
    unlabeled_category: str
    description: str

    def as_dict(self) -> dict[str, str]:
        """Return the record as a plain dict (stored in ``uns[WITHHELD_KEY]``)."""
        return asdict(self)


def read_record(adata: AnnData) -> WithheldLabels | None:
    """Return the record stored in ``adata.uns[WITHHELD_KEY]``, or None when absent or stale."""
    raw = adata.uns.get(WITHHELD_KEY)
    if not isinstance(raw, dict):
        return None
    try:
        record = WithheldLabels(**{k: str(raw[k]) for k in WithheldLabels.__dataclass_fields__})
    except KeyError:
        return None
    if record.column not in adata.obs or record.truth_key not in adata.obs:
        return None
    return record


def withheld_mask(adata: AnnData, record: WithheldLabels) -> np.ndarray:
    """Return ``(n_cells,)`` True where a real label was hidden in ``record.column``."""
    hidden = (adata.obs[record.column] == record.unlabeled_category).to_numpy(dtype=bool)
    truth = adata.obs[record.truth_key]
    known = truth.notna().to_numpy() & (truth != record.unlabeled_category).to_numpy(dtype=bool)
    return hidden & known


def withhold_labels(
    adata: AnnData,
    *,
    labels_key: str,
    batch_key: str | None = None,
    batches: list[str] | tuple[str, ...] = (),
    fraction: float | None = None,
    seed: int = 0,
    column: str | None = None,
) -> WithheldLabels:
    """Hide the labels of ``batches`` (or a random ``fraction`` of cells) in a new column.

    Writes ``obs[column]`` (default ``"<labels_key>_withheld"``) as a categorical copy of
    ``obs[labels_key]`` with the chosen cells set to :data:`WITHHELD_VALUE`, and the record
    to ``uns[WITHHELD_KEY]``. ``obs[labels_key]`` is not changed. The options are those of
    :func:`plan_withholding`.

    Returns
    -------
    WithheldLabels
        The record.
    """
    values, record = plan_withholding(adata.obs, labels_key=labels_key, batch_key=batch_key,
                                      batches=batches, fraction=fraction, seed=seed, column=column)
    adata.obs[record.column] = values
    adata.uns[WITHHELD_KEY] = record.as_dict()
    return record


def plan_withholding(
    obs: pd.DataFrame,
    *,
    labels_key: str,
    batch_key: str | None = None,
    batches: list[str] | tuple[str, ...] = (),
    fraction: float | None = None,
    seed: int = 0,
    column: str | None = None,
) -> tuple[pd.Categorical, WithheldLabels]:
    """Return the new labels column's values and its record, writing nothing.

    Parameters
    ----------
    obs
        The cells' table.
    labels_key
        The column holding the known labels.
    batch_key, batches
        Withhold every cell whose ``obs[batch_key]`` is one of ``batches``.
    fraction
        Instead of batches: withhold this share (0 to 1) of the cells, drawn with ``seed``.
    column
        Name of the new column (default ``"<labels_key>_withheld"``).

    Returns
    -------
    tuple of pandas.Categorical and WithheldLabels
        ``(n_cells,)`` labels with the chosen cells set to :data:`WITHHELD_VALUE`; the record.

    Raises
    ------
    ValueError
        If the labels column is missing, nothing is chosen, or every label would be hidden.
    """
    if labels_key not in obs:
        raise ValueError(f"The data has no column '{labels_key}'. Pick the column that holds cell types.")
    n = len(obs)
    if batches:
        if batch_key is None or batch_key not in obs:
            raise ValueError("Pick the batch column before withholding the labels of a batch.")
        chosen = obs[batch_key].astype(str).isin([str(b) for b in batches]).to_numpy()
        description = f"the labels of batch {', '.join(map(str, batches))}"
    elif fraction is not None:
        if not 0 < fraction < 1:
            raise ValueError(f"The share of cells to withhold must be between 0 and 1, not {fraction}.")
        rng = np.random.default_rng(seed)
        chosen = np.zeros(n, dtype=bool)
        chosen[rng.choice(n, size=max(1, int(round(fraction * n))), replace=False)] = True
        description = f"the labels of a random {fraction:.0%} of cells"
    else:
        raise ValueError("Choose the batches whose labels to withhold, or a share of cells.")
    labels = obs[labels_key]
    values = labels.astype(object).where(labels.notna(), WITHHELD_VALUE).astype(str).to_numpy(dtype=object)
    values[chosen] = WITHHELD_VALUE
    if np.all(values == WITHHELD_VALUE):
        raise ValueError("That would hide every label, leaving nothing to learn from. "
                         "Withhold fewer batches or a smaller share.")
    column = column or f"{labels_key}_withheld"
    if column == labels_key:
        raise ValueError("The withheld labels need a new column; the original is never changed.")
    record = WithheldLabels(column=column, truth_key=labels_key,
                            unlabeled_category=WITHHELD_VALUE, description=description)
    return pd.Categorical(values), record


@dataclass(frozen=True)
class Agreement:
    """How often predictions match the withheld labels.

    Attributes
    ----------
    overall
        Share of withheld cells whose prediction equals the hidden label (0 to 1).
    n_cells
        Number of withheld cells scored.
    per_class
        One row per hidden label: ``cells``, ``agree`` (share, 0 to 1), sorted by ``cells``.
    """

    overall: float
    n_cells: int
    per_class: pd.DataFrame

    def sentence(self, record: WithheldLabels) -> str:
        """Return the result in words for the review panel."""
        return (f"Predictions agree with the withheld labels on {self.overall:.0%} of "
                f"{self.n_cells:,} cells ({record.description}, kept in '{record.truth_key}').")


def agreement(adata: AnnData, record: WithheldLabels, *,
              prediction_key: str = PREDICTION_KEY) -> Agreement | None:
    """Score ``obs[prediction_key]`` against the withheld truth; None before any prediction."""
    if prediction_key not in adata.obs:
        return None
    mask = withheld_mask(adata, record)
    predicted = adata.obs[prediction_key][mask].astype(str).to_numpy()
    truth = adata.obs[record.truth_key][mask].astype(str).to_numpy()
    if len(truth) == 0:
        return None
    frame = pd.DataFrame({"label": truth, "agree": predicted == truth})
    per_class = frame.groupby("label", observed=True)["agree"].agg(cells="size", agree="mean")
    per_class = per_class.sort_values("cells", ascending=False)
    return Agreement(overall=float(np.mean(predicted == truth)), n_cells=int(mask.sum()),
                     per_class=per_class)


__all__ = ["WITHHELD_VALUE", "Agreement", "WithheldLabels", "agreement", "plan_withholding", "read_record",
           "withheld_mask", "withhold_labels"]
