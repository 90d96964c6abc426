"""Attribution baselines that contrast classes.

Integrated Gradients and GradientShap explain ``f(x) - f(baseline)``. From an all-zero baseline
(captum's default) every expressed gene moves the cell away from "no RNA at all", so genes high in
every cell (B2M, MALAT1, ferritins) rank on top. A baseline made of other cell types asks instead
"what makes this cell this type rather than the others", whose answer is the type's markers.

Named baselines (``interpretability_args={"baselines": name}``):

``"other_classes"`` (the default for Integrated Gradients)
    The mean count profile of the other classes: the average, over every class other than the
    cell's predicted one, of that class's mean counts (each class weighs the same, so abundant
    types do not dominate).
``"runner_up"``
    The mean count profile of the cell's second most probable class: "why this type rather than
    the closest alternative".
``"zero"`` (the default for GradientShap)
    All-zero counts (captum's default).

For Integrated Gradients the contrasting profile is capped at the cell's own counts, so the path
only raises the genes the cell has more of than the other classes: the attributions name what
is present in this type, not what is missing from it (without the cap, absent markers of other
types, such as S100A8 for T cells, rank on top). GradientShap draws its baselines from a set
shared by the cells of a class and cannot be capped per cell; its contrasting baselines name
absent genes and recover fewer markers than zero, hence its zero default.

Class profiles come from the labelled cells of the model's AnnData (its predictions where no
cell is labelled) or from all its cells (batches); an explicit array or number passed as
``baselines`` is used as given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import sparse
from scvi import REGISTRY_KEYS

from ._data import CellData

NAMED = ("other_classes", "runner_up", "zero")
# What recovers the most Wilcoxon markers per method (benchmarks/results/explanations.md).
DEFAULT = {"ig": "other_classes", "gs": "zero"}
MAX_PROFILE_CELLS = 20_000


@dataclass(frozen=True)
class ClassContrast:
    """Per-cell baselines built from class profiles ``(n_classes, n_genes)`` (count space)."""

    profiles: torch.Tensor
    mode: str

    def for_cells(self, probabilities: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Baselines ``(n_cells, n_genes)`` for cells ``x`` with these class ``probabilities``:
        the contrasting profile, capped at the cell's own counts."""
        profiles = self.profiles.to(probabilities.device, probabilities.dtype)
        order = probabilities.argsort(dim=1, descending=True)
        if self.mode == "runner_up":
            chosen = profiles[order[:, 1]] if probabilities.shape[1] > 1 else profiles[order[:, 0]]
        else:
            others = torch.ones_like(probabilities)
            others.scatter_(1, order[:, :1], 0.0)
            if probabilities.shape[1] == 1:
                others.fill_(1.0)
            chosen = (others @ profiles) / others.sum(dim=1, keepdim=True)
        return torch.minimum(chosen, x)


    def groups(self, probabilities: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """For sampling methods (GradientShap): ``(cells, baselines)`` pairs, where ``cells`` is
        a boolean mask and ``baselines`` ``(n_baselines, n_genes)`` the profiles to draw from."""
        profiles = self.profiles.to(probabilities.device, probabilities.dtype)
        order = probabilities.argsort(dim=1, descending=True)
        column = 1 if self.mode == "runner_up" and probabilities.shape[1] > 1 else 0
        pairs = []
        for key in torch.unique(order[:, column]):
            cells = order[:, column] == key
            if self.mode == "runner_up" or probabilities.shape[1] == 1:
                chosen = profiles[key].reshape(1, -1)
            else:
                chosen = profiles[torch.arange(len(profiles), device=profiles.device) != key]
            pairs.append((cells, chosen))
        return pairs


def class_profiles(data: CellData, class_of_cell: np.ndarray, n_classes: int, *,
                   seed: int = 0) -> torch.Tensor:
    """Mean counts ``(n_classes, n_genes)`` per class over up to `MAX_PROFILE_CELLS` cells;
    ``class_of_cell`` holds each cell's class index (-1: not counted)."""
    cells = np.flatnonzero(class_of_cell >= 0)
    if len(cells) > MAX_PROFILE_CELLS:
        cells = np.sort(np.random.default_rng(seed).choice(cells, MAX_PROFILE_CELLS,
                                                           replace=False))
    if len(cells) == 0:
        raise ValueError("Class-contrast baselines need labelled cells in the model's data; pass "
                         "interpretability_args={'baselines': 'zero'} instead.")
    sums, counts = np.zeros((n_classes, data.reader.shape[1])), np.zeros(n_classes)
    for start in range(0, len(cells), 4096):
        chosen = cells[start:start + 4096]
        codes = class_of_cell[chosen]
        # Class sums as one product with a class-by-cell indicator; sparse rows stay sparse.
        indicator = sparse.csr_matrix((np.ones(len(chosen)), (codes, np.arange(len(chosen)))),
                                      shape=(n_classes, len(chosen)))
        block = indicator @ data.reader.take(data.indices[chosen])
        sums += block.toarray() if sparse.issparse(block) else np.asarray(block)
        counts += np.bincount(codes, minlength=n_classes)
    present = counts > 0
    profiles = torch.as_tensor(sums / np.maximum(counts, 1).reshape(-1, 1))
    # A class without cells borrows the mean of the others, so it contrasts with nothing.
    profiles[~torch.as_tensor(present)] = profiles[torch.as_tensor(present)].mean(dim=0)
    return profiles.float()


def resolve(model, space: str, method: str, method_args: dict | None) -> dict:
    """``method_args`` with a named (or default) baseline replaced by what ``method`` needs."""
    args = dict(method_args or {})
    name = args.get("baselines", DEFAULT[method])
    if not isinstance(name, str):
        return args
    if name not in NAMED:
        raise ValueError(f"baselines={name!r} is not a known baseline; use one of {list(NAMED)}, "
                         "a number or an array of counts.")
    if name == "zero":
        args.pop("baselines", None)
        return args
    data = CellData(model.adata_manager)
    if space == "l":
        codes = data.fields[REGISTRY_KEYS.LABELS_KEY].reshape(-1)
        classes = model.module.label_classes_of(codes).cpu().numpy()
        n_classes = len(model.label_classes)
        if not (classes >= 0).any():  # e.g. a query without labels: use the predictions
            cells = np.arange(len(classes))
            if len(cells) > MAX_PROFILE_CELLS:
                cells = np.sort(np.random.default_rng(0).choice(cells, MAX_PROFILE_CELLS,
                                                                replace=False))
            classes = np.full(len(classes), -1)
            soft = model.predict(indices=cells, soft=True).to_numpy()
            classes[cells] = soft.argmax(axis=1)
    else:
        classes = data.fields[REGISTRY_KEYS.BATCH_KEY].reshape(-1).numpy()
        n_classes = len(model.batch_categories)
    args["baselines"] = ClassContrast(class_profiles(data, classes, n_classes), name)
    return args
