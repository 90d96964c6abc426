"""Training settings that finish: an epoch cap from a time budget, early stopping on label accuracy.

The GUI and the command line both start from `training_defaults`. The time per epoch comes from
timing a few real training steps of a same-sized FADVI module on random counts on this machine
(under a second): a fixed cost model cannot know the CPU, its free cores or the GPU, which change
the answer by more than tenfold.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from functools import lru_cache

import torch

from ._device import set_torch_threads

DEFAULT_TIME_BUDGET_S = 600.0
MAX_EPOCHS = 400  # scvi-tools' cap
FEW_EPOCHS = 20  # below this the model is usually under-trained
PATIENCE = 10
_TRAIN_FRACTION = 0.9
_VALIDATION_COST = 0.35  # a validation step (forward only) relative to a training step
_EPOCH_OVERHEAD = 1.05  # data preparation and bookkeeping not seen in the timed steps


@dataclass(frozen=True)
class TrainingDefaults:
    """Suggested `FADVI.train` options and how long they take; ``train_kwargs()`` passes them on.

    ``seconds_per_epoch`` is the estimate for one epoch on this machine; ``max_seconds`` is the
    longest training can take (the epoch cap reached); early stopping usually ends it sooner.
    ``note`` is a plain-language warning, empty when the budget is comfortable.
    """

    max_epochs: int
    early_stopping: bool
    early_stopping_monitor: str
    early_stopping_patience: int
    early_stopping_mode: str
    time_budget_s: float
    batch_size: int
    seconds_per_epoch: float
    max_seconds: float
    note: str = ""
    check_val_every_n_epoch: int = 1  # the app and the CLI show validation every epoch

    def train_kwargs(self) -> dict:
        """The options to pass as ``model.train(**defaults.train_kwargs())``."""
        kwargs = asdict(self)
        for key in ("seconds_per_epoch", "max_seconds", "note"):
            kwargs.pop(key)
        return kwargs


def training_defaults(n_cells: int, n_genes: int, *, time_budget_s: float = DEFAULT_TIME_BUDGET_S,
                      has_labels: bool = True, batch_size: int = 128,
                      seconds_per_step: float | None = None, n_hidden: int = 128,
                      n_layers: int = 2, device: torch.device | str = "cpu") -> TrainingDefaults:
    """Training options that end within ``time_budget_s`` on this machine.

    Parameters
    ----------
    n_cells, n_genes
        Size of the training data.
    time_budget_s
        Wall-clock seconds training may take; the epoch cap is what fits, and training also
        stops before an epoch that would end after the budget.
    has_labels
        Whether some cells are labelled: early stopping then follows the validation label
        accuracy, otherwise the validation ELBO.
    batch_size, n_hidden, n_layers
        As for `FADVI.train` and `FADVI`.
    seconds_per_step
        Time of one training step, if already known; by default a few steps are timed here.
    device
        Where the steps are timed (as training will run).

    Returns
    -------
    `TrainingDefaults`, with the epoch cap and the estimated ``seconds_per_epoch``.
    """
    if n_cells < 1 or n_genes < 1:
        raise ValueError(f"Need at least one cell and one gene, got {n_cells} x {n_genes}.")
    if time_budget_s <= 0:
        raise ValueError(f"time_budget_s must be positive, got {time_budget_s}.")
    if seconds_per_step is None:
        seconds_per_step = time_training_step(n_genes, batch_size=batch_size, n_hidden=n_hidden,
                                              n_layers=n_layers, device=str(device),
                                              threads=torch.get_num_threads())
    train_steps = math.ceil(n_cells * _TRAIN_FRACTION / batch_size)
    validation_steps = math.ceil(n_cells * (1 - _TRAIN_FRACTION) / batch_size)
    epoch = seconds_per_step * (train_steps + _VALIDATION_COST * validation_steps) * _EPOCH_OVERHEAD
    max_epochs = int(max(1, min(MAX_EPOCHS, time_budget_s // epoch)))
    note = ""
    if max_epochs < FEW_EPOCHS:
        needed = math.ceil(FEW_EPOCHS * epoch)
        note = (f"The time budget allows only {max_epochs} epochs of about {epoch:.0f} s; the model "
                f"may be under-trained. Allow about {needed} s, or use a GPU.")
    return TrainingDefaults(
        max_epochs=max_epochs, early_stopping=True,
        early_stopping_monitor="label_accuracy_validation" if has_labels else "elbo_validation",
        early_stopping_patience=PATIENCE, early_stopping_mode="max" if has_labels else "min",
        time_budget_s=float(time_budget_s), batch_size=batch_size, seconds_per_epoch=epoch,
        max_seconds=min(max_epochs * epoch, float(time_budget_s)), note=note)


@lru_cache(maxsize=16)
def time_training_step(n_genes: int, *, batch_size: int = 128, n_hidden: int = 128,
                       n_layers: int = 2, device: str = "cpu", threads: int = 1,
                       steps: int = 4) -> float:
    """Seconds per training step of a FADVI module of this size on random counts (fastest).

    The fastest of the timed steps, not the median: a burst of other work on a shared machine
    made the median ten times too slow once, and a cap that low stops training early, while an
    optimistic cap costs nothing (training also stops when the time budget is spent).
    Cached per size, device and thread count, so repeated calls (a GUI changing the budget)
    are free.
    """
    from ._module import FADVAE  # the module imports scvi; keep this file light
    from ._training import _fast_adam_options

    set_torch_threads(threads)
    generator = torch.Generator().manual_seed(0)
    module = FADVAE(n_input=n_genes, n_batch=2, n_labels=3, label_code_to_class=[0, 1, 2],
                    n_hidden=n_hidden, n_layers=n_layers).to(device)
    x = torch.poisson(torch.full((batch_size, n_genes), 0.5), generator=generator) + (
        torch.arange(n_genes) == 0).float()
    tensors = {"X": x.to(device),
               "batch": torch.randint(0, 2, (batch_size, 1), generator=generator).to(device),
               "labels": torch.randint(0, 3, (batch_size, 1), generator=generator).to(device)}
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3,
                                 **_fast_adam_options(torch.device(device)))  # as in training
    times = []
    for _ in range(steps + 1):  # the first step warms up allocators and kernels
        started = time.perf_counter()
        _, _, output = module(tensors)
        optimizer.zero_grad(set_to_none=True)
        output.loss.backward()
        optimizer.step()
        if torch.device(device).type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    return float(min(times[1:]))
