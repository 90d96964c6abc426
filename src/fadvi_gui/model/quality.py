"""Integration quality in words: the rows of `FADVI.get_disentanglement_report` for people.

Qt-free. Each row of the report gets a plain name, its value, the chance level and one sentence
saying what a good value looks like; no thresholds are applied.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

_SPACE = {"b": "z_b (batch)", "l": "z_l (cell type)", "r": "z_r (residual)"}
_HELP = {
    ("b", "batch"): "Batch predictable from z_b: should be high (z_b holds the batch).",
    ("b", "label"): "Cell type predictable from z_b: should be near chance.",
    ("l", "batch"): "Batch predictable from z_l: should be near chance (batches are mixed).",
    ("l", "label"): "Cell type predictable from z_l: should be high (z_l holds the cell type).",
    ("r", "batch"): "Batch predictable from z_r: should be near chance.",
    ("r", "label"): "Cell type predictable from z_r: should be near chance.",
}
_CORRELATION_HELP = ("Mean absolute correlation between the coordinates of the two spaces: should "
                     "be near zero (they hold different things).")
_MAX_CORRELATION_HELP = "Largest absolute correlation between any two of their coordinates."


@dataclass(frozen=True)
class QualityRow:
    """One line of the integration-quality table."""

    what: str
    value: str
    chance: str
    help: str


def quality_rows(report: pd.DataFrame) -> list[QualityRow]:
    """The report as table rows, in the report's order."""
    rows = []
    for entry in report.itertuples(index=False):
        if entry.measure == "balanced_accuracy":
            what = f"{entry.target.capitalize()} from {_SPACE.get(entry.space, entry.space)}"
            help_text = _HELP.get((entry.space, entry.target), "")
            chance = f"{entry.chance:.2f}"
        else:
            first, _, second = entry.space.partition("-")
            kind = "mean" if entry.measure.startswith("mean") else "largest"
            what = f"Correlation z_{first} ~ z_{second} ({kind})"
            help_text = _CORRELATION_HELP if kind == "mean" else _MAX_CORRELATION_HELP
            chance = ""
        rows.append(QualityRow(what, f"{entry.value:.2f}", chance, help_text))
    return rows


__all__ = ["QualityRow", "quality_rows"]
