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
#: The training time budget the app starts with, as ``fadvi_core.training_defaults``'s default.
DEFAULT_TIME_BUDGET_S = 600.0


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
        ``None`` ("Auto") caps the epochs at what fits ``time_budget_s`` on this machine
        (`fadvi_core.training_defaults`); a number trains exactly that many, early stopping aside.
    time_budget_s
        Seconds training may take when ``max_epochs`` is ``None``; unused otherwise.
    early_stopping
        Stop when the validation label accuracy (without labelled cells: the validation loss)
        stops improving.
    batch_size, train_size
        Passed to ``FADVI.train``.
    seed
        Written to ``scvi.settings.seed`` before the model is built.
    device
        ``"auto"``, ``"cpu"``, ``"gpu"`` (CUDA) or ``"mps"`` (Apple).
    """

    model_kwargs: dict[str, Any] = field(default_factory=dict)
    max_epochs: int | None = None
    time_budget_s: float = DEFAULT_TIME_BUDGET_S
    batch_size: int = 128
    train_size: float = 0.9
    early_stopping: bool = True
    seed: int = 0
    device: Device = "auto"


#: Used as ``unlabeled_category`` when the user says every cell is labelled.
_NO_UNLABELLED_SENTINEL = "__fadvi_every_cell_labelled__"


def unlabeled_category_for(choices: DataChoices) -> str:
    """Return the ``unlabeled_category`` to give the engine for ``choices``."""
    if choices.unlabeled_category is None:
        return _NO_UNLABELLED_SENTINEL
    return str(choices.unlabeled_category)
