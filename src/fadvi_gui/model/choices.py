"""Plain records of what the user picked, passed from panels to the session.

Panels build these from their widgets; the session turns them into calls to
``fadvi_core``. Nothing here imports Qt.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

#: Label of the counts-layer choice that means ``adata.X``.
X_LAYER = "X"
#: Shown in the "unlabelled value" combo when every cell carries a real label.
NO_UNLABELLED = "(none: all labelled)"

Device = Literal["auto", "cpu", "gpu", "mps"]


@dataclass(frozen=True)
class DataChoices:
    """How the loaded AnnData maps onto the model's inputs.

    Attributes
    ----------
    layer
        ``None`` for ``adata.X``, otherwise a key of ``adata.layers`` holding raw counts.
    batch_key, labels_key
        Columns of ``adata.obs``; ``None`` when not chosen.
    unlabeled_category
        Value of ``obs[labels_key]`` that marks unannotated cells, or ``None``
        when every cell is annotated.
    categorical_covariate_keys, continuous_covariate_keys
        Extra nuisance columns of ``adata.obs``.
    n_top_genes
        Number of highly variable genes to keep, or ``None`` to keep every gene.
    hvg_batch_aware
        Select the genes within each batch and combine them (needs ``batch_key``).
    """

    layer: str | None = None
    batch_key: str | None = None
    labels_key: str | None = None
    unlabeled_category: str | None = None
    categorical_covariate_keys: tuple[str, ...] = ()
    continuous_covariate_keys: tuple[str, ...] = ()
    n_top_genes: int | None = None
    hvg_batch_aware: bool = True

    def as_dict(self) -> dict[str, Any]:
        """Return the choices as a plain dict (tuples become lists)."""
        out = asdict(self)
        out["categorical_covariate_keys"] = list(self.categorical_covariate_keys)
        out["continuous_covariate_keys"] = list(self.continuous_covariate_keys)
        return out


@dataclass(frozen=True)
class TrainingSettings:
    """Everything the Train button sends to the session.

    Attributes
    ----------
    model_kwargs
        Keyword arguments of ``FADVI(adata, **model_kwargs)``.
    max_epochs
        ``None`` lets the engine choose from the number of cells.
    batch_size, train_size, early_stopping
        Passed to ``FADVI.train``.
    seed
        Written to ``scvi.settings.seed`` before the model is built.
    device
        ``"auto"``, ``"cpu"``, ``"gpu"`` (CUDA) or ``"mps"`` (Apple).
    """

    model_kwargs: dict[str, Any] = field(default_factory=dict)
    max_epochs: int | None = None
    batch_size: int = 128
    train_size: float = 0.9
    early_stopping: bool = False
    seed: int = 0
    device: Device = "auto"


#: Used as ``unlabeled_category`` when the user says every cell is labelled.
_NO_UNLABELLED_SENTINEL = "__fadvi_every_cell_labelled__"


def unlabeled_category_for(choices: DataChoices) -> str:
    """Return the ``unlabeled_category`` to give the engine for ``choices``."""
    if choices.unlabeled_category is None:
        return _NO_UNLABELLED_SENTINEL
    return str(choices.unlabeled_category)
