"""The training loop: minibatch Adam on the FADVI loss, with history, early stopping and hooks."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ._data import CellData
from ._hooks import TrainingProgress, ignore_progress, never_stop

LOGGED_TERMS = ("batch_loss", "label_loss", "adv_label_from_b", "adv_batch_from_l",
                "adv_batch_from_r", "adv_label_from_r", "cross_cov")


@dataclass
class PlanSettings:
    """Optimiser and KL-warmup settings; ``plan_kwargs`` of `FADVI.train` fill these."""

    lr: float = 1e-3
    weight_decay: float = 1e-6
    eps: float = 0.01
    n_epochs_kl_warmup: int | None = 400
    n_steps_kl_warmup: int | None = None

    @classmethod
    def from_kwargs(cls, plan_kwargs: dict | None) -> PlanSettings:
        plan_kwargs = dict(plan_kwargs or {})
        unknown = set(plan_kwargs) - set(cls.__dataclass_fields__)
        if unknown:
            known = ", ".join(cls.__dataclass_fields__)
            raise TypeError(f"Unknown plan_kwargs {sorted(unknown)}; supported: {known}.")
        return cls(**plan_kwargs)

    def kl_weight(self, epoch: int, step: int) -> float:
        if self.n_steps_kl_warmup:
            return min(1.0, step / self.n_steps_kl_warmup)
        if self.n_epochs_kl_warmup:
            return min(1.0, epoch / self.n_epochs_kl_warmup)
        return 1.0


@dataclass
class EarlyStopping:
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs."""

    monitor: str = "elbo_validation"
    patience: int = 45
    min_delta: float = 0.0
    best: float = math.inf
    wait: int = 0

    def should_stop(self, history: dict[str, list[float]]) -> bool:
        if self.monitor not in history:
            raise ValueError(f"early_stopping_monitor '{self.monitor}' is not logged; "
                             f"choose one of: {', '.join(sorted(history))}.")
        value = history[self.monitor][-1]
        if value < self.best - self.min_delta:
            self.best, self.wait = value, 0
        else:
            self.wait += 1
        return self.wait >= self.patience


class _EpochMeter:
    """Cell-weighted means of the loss terms over one epoch."""

    def __init__(self):
        self.sums: dict[str, float] = defaultdict(float)
        self.cells = 0
        self.labelled = 0

    def add(self, output, n_cells: int) -> None:
        metrics = output.extra_metrics
        reconstruction = output.reconstruction_loss_sum.detach().item()
        kl = output.kl_local_sum.detach().item()
        self.sums["reconstruction_loss"] += reconstruction
        self.sums["kl_local"] += kl
        self.sums["elbo"] += reconstruction + kl
        self.sums["loss"] += output.loss.detach().item() * n_cells
        for name in LOGGED_TERMS:
            self.sums[name] += float(metrics[name]) * n_cells
        n_labelled = int(metrics["n_labelled"])
        if n_labelled:
            self.sums["label_accuracy"] += float(metrics["label_accuracy"]) * n_labelled
        self.cells += n_cells
        self.labelled += n_labelled

    def means(self, suffix: str) -> dict[str, float]:
        out = {f"{name}_{suffix}": value / max(self.cells, 1) for name, value in self.sums.items()
               if name != "label_accuracy"}
        accuracy = self.sums["label_accuracy"] / self.labelled if self.labelled else float("nan")
        out[f"label_accuracy_{suffix}"] = accuracy
        return out


def _fast_adam_options(device: torch.device) -> dict:
    """One fused kernel for all parameters instead of a Python loop over them."""
    return {"fused": True} if device.type in ("cpu", "cuda") else {"foreach": True}


def _evaluate(module, data: CellData, batch_size: int, device, kl_weight: float) -> _EpochMeter:
    meter = _EpochMeter()
    module.eval()
    with torch.no_grad():
        for tensors in data.minibatches(batch_size, device=device):
            _, _, output = module(tensors, loss_kwargs={"kl_weight": kl_weight})
            meter.add(output, tensors["X"].shape[0])
    return meter


def train_module(module, train_data: CellData, validation_data: CellData | None, *,
                 max_epochs: int, batch_size: int, device: torch.device, plan: PlanSettings,
                 early_stopping: EarlyStopping | None, seed: int, progress_callback=None,
                 should_stop=None) -> tuple[dict[str, pd.DataFrame], bool]:
    """Train ``module`` in place.

    Returns
    -------
    The history (one single-column DataFrame per logged metric, indexed by epoch) and whether
    training was stopped by ``should_stop``.
    """
    progress_callback = progress_callback or ignore_progress
    should_stop = should_stop or never_stop
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    params = [p for p in module.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=plan.lr, eps=plan.eps, weight_decay=plan.weight_decay,
                                 **_fast_adam_options(device))
    n_steps = math.ceil(len(train_data) / batch_size)
    # A last minibatch of one cell breaks batch norm; fold it into the previous one.
    if len(train_data) % batch_size == 1 and len(train_data) > 1:
        batch_size += 1
        n_steps = math.ceil(len(train_data) / batch_size)
    history: dict[str, list[float]] = defaultdict(list)
    global_step, stopped = 0, False
    for epoch in range(max_epochs):
        module.train()
        meter = _EpochMeter()
        kl_weight = plan.kl_weight(epoch, global_step)
        batches = train_data.minibatches(batch_size, shuffle=True, generator=generator,
                                         device=device)
        for step, tensors in enumerate(batches, start=1):
            if plan.n_steps_kl_warmup:
                kl_weight = plan.kl_weight(epoch, global_step)
            _, _, output = module(tensors, loss_kwargs={"kl_weight": kl_weight})
            optimizer.zero_grad(set_to_none=True)
            output.loss.backward()
            optimizer.step()
            meter.add(output, tensors["X"].shape[0])
            global_step += 1
            stopped = should_stop()
            epoch_end = step == n_steps or stopped
            metrics = {}
            if epoch_end:
                metrics = meter.means("train")
                if validation_data is not None and len(validation_data):
                    metrics |= _evaluate(module, validation_data, batch_size, device,
                                         kl_weight).means("validation")
                for name, value in metrics.items():
                    history[name].append(value)
            progress_callback(TrainingProgress(epoch=epoch, max_epochs=max_epochs, step=step,
                                               n_steps=n_steps, epoch_end=epoch_end,
                                               metrics=metrics))
            if stopped:
                break
        if stopped or (early_stopping is not None and early_stopping.should_stop(history)):
            break
    module.eval()
    frames = {name: pd.DataFrame({name: values}, index=pd.RangeIndex(len(values), name="epoch"))
              for name, values in history.items()}
    return frames, stopped


def split_indices(n_obs: int, train_size: float, validation_size: float | None, seed: int,
                  shuffle: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Train and validation indices, as scvi-tools' DataSplitter draws them."""
    if not 0 < train_size <= 1:
        raise ValueError(f"train_size must be in (0, 1], got {train_size}.")
    if validation_size is not None and train_size + validation_size > 1 + 1e-9:
        raise ValueError("train_size + validation_size must not exceed 1.")
    n_train = math.ceil(round(train_size * n_obs, 6))  # round away float noise (0.8 * 120)
    n_validation = n_obs - n_train if validation_size is None else min(
        math.floor(round(validation_size * n_obs, 6)), n_obs - n_train)
    order = np.random.default_rng(seed).permutation(n_obs) if shuffle else np.arange(n_obs)
    return np.sort(order[:n_train]), np.sort(order[n_train:n_train + n_validation])
