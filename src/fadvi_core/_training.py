"""The training loop on Lightning Fabric: minibatch Adam on the FADVI loss, on one device or many.

Fabric places the module, runs mixed precision and, for ``strategy="ddp"``, starts the processes
and averages gradients. Each rank trains on its own shard of the training cells every epoch; the
epoch's loss terms are summed on the device and reduced across ranks once per epoch, so every rank
logs the same history and takes the same decision to stop.
"""

from __future__ import annotations

import gc
import math
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from ._data import X_KEY, CellData
from ._device import set_torch_threads
from ._hooks import TrainingProgress, ignore_progress, never_stop
from ._stopping import EarlyStopping, StopReason

LOGGED_TERMS = ("batch_loss", "label_loss", "adv_label_from_b", "adv_batch_from_l",
                "adv_batch_from_r", "adv_label_from_r", "cross_cov")
# Per-cell sums kept on the device during an epoch, in this order, then correct and labelled cells.
_SUMMED = ("reconstruction_loss", "kl_local", "elbo", "loss") + LOGGED_TERMS


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
class FitOptions:
    """Everything about one training run except the module and the data."""

    max_epochs: int
    batch_size: int
    plan: PlanSettings
    seed: int
    early_stopping: EarlyStopping | None = None
    time_budget_s: float | None = None
    threads: int | None = None
    validate_every: int | None = 1  # epochs between validation passes; None: never


@dataclass
class FitResult:
    """What every rank returns: the reduced history, why training stopped, and the weights."""

    history: dict[str, list[float]]
    stop: StopReason
    rank: int = 0
    world_size: int = 1
    state: dict | None = field(default=None, repr=False)  # CPU weights, for spawned ranks


class _EpochSums:
    """Cell-weighted sums of the loss terms, accumulated on the device without host syncs."""

    def __init__(self, device: torch.device):
        self.sums = torch.zeros(len(_SUMMED) + 2, device=device, dtype=torch.float64)
        self.cells = 0

    def add(self, output, n_cells: int) -> None:
        metrics = output.extra_metrics
        n_labelled = metrics["n_labelled"]
        reconstruction = output.reconstruction_loss_sum
        kl = output.kl_local_sum
        # Sums (reconstruction, KL, ELBO), then means over cells, then correct and labelled cells:
        # one stack and one multiply by the weights, a handful of ops per step.
        values = torch.stack([reconstruction, kl, reconstruction + kl, output.loss,
                              *(metrics[name] for name in LOGGED_TERMS),
                              torch.nan_to_num(metrics["label_accuracy"]) * n_labelled,
                              n_labelled]).detach()
        weights = self._weights(n_cells, values)
        self.sums += (values * weights).to(torch.float64)
        self.cells += n_cells

    def _weights(self, n_cells: int, like: torch.Tensor) -> torch.Tensor:
        """``[1, 1, 1, n, n, ..., n, 1, 1]``, cached per minibatch size."""
        cached = getattr(self, "_cached", None)
        if cached is None or cached[0] != n_cells:
            weights = torch.full((len(_SUMMED) + 2,), float(n_cells), device=like.device,
                                 dtype=like.dtype)
            weights[:3] = 1.0
            weights[-2:] = 1.0
            self._cached = cached = (n_cells, weights)
        return cached[1]

    def means(self, fabric, suffix: str) -> dict[str, float]:
        """Epoch means over all ranks; the one host sync of the epoch."""
        totals = torch.cat([self.sums, self.sums.new_tensor([self.cells])])
        if fabric.world_size > 1:
            totals = fabric.all_reduce(totals, reduce_op="sum")
        *sums, correct, labelled, cells = totals.tolist()
        out = {f"{name}_{suffix}": value / max(cells, 1) for name, value in zip(_SUMMED, sums)}
        out[f"label_accuracy_{suffix}"] = correct / labelled if labelled else float("nan")
        return out

def _fast_adam_options(device: torch.device) -> dict:
    """One fused kernel for all parameters instead of a Python loop over them."""
    return {"fused": True} if device.type in ("cpu", "cuda") else {"foreach": True}


def shard_order(n_cells: int, epoch: int, seed: int, rank: int, world_size: int) -> np.ndarray:
    """This rank's cells for one epoch: a seeded shuffle, padded to split evenly, every n-th cell.

    Every rank draws the same permutation, so the shards are disjoint (up to the padding) and
    have equal lengths, hence equal numbers of steps.
    """
    order = np.random.default_rng([seed, epoch]).permutation(n_cells)
    order = np.resize(order, math.ceil(n_cells / world_size) * world_size)
    return order[rank::world_size]


def _evaluate(fabric, module, data: CellData, batch_size: int, kl_weight: float) -> dict:
    """Validation metrics over this rank's share of ``data``, reduced over ranks."""
    sums = _EpochSums(fabric.device)
    module.eval()
    positions = np.arange(fabric.global_rank, len(data), fabric.world_size)
    with torch.no_grad(), fabric.autocast():
        for tensors in data.batches(positions, batch_size, fabric.device, for_loss=True):
            _, _, output = module(tensors, loss_kwargs={"kl_weight": kl_weight})
            sums.add(output, tensors[X_KEY].shape[0])
    return sums.means(fabric, "validation")


@contextmanager
def _older_objects_left_alone():
    """Leave the Python objects that exist before training out of garbage collection meanwhile.

    A full collection walks every live object (with an AnnData and scanpy loaded, hundreds of
    thousands: about 0.1 s each) and a training run allocates enough to trigger several, at
    moments that shift with whatever else was imported. Objects made during training are still
    collected as usual.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def fit(fabric, module, train_data: CellData, validation_data: CellData | None,
        options: FitOptions, progress_callback=None, should_stop=None) -> FitResult:
    """Train ``module`` in place on this rank; the function `Fabric.launch` runs on every rank."""
    with _older_objects_left_alone():
        return _fit(fabric, module, train_data, validation_data, options, progress_callback,
                    should_stop)


def _fit(fabric, module, train_data: CellData, validation_data: CellData | None,
         options: FitOptions, progress_callback=None, should_stop=None) -> FitResult:
    progress_callback = progress_callback if fabric.global_rank == 0 else None
    progress_callback = progress_callback or ignore_progress
    should_stop = should_stop or never_stop
    if fabric.device.type == "cpu":
        set_torch_threads(options.threads, processes=fabric.world_size)
    torch.manual_seed(options.seed + fabric.global_rank)
    plan = options.plan
    params = [p for p in module.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=plan.lr, eps=plan.eps, weight_decay=plan.weight_decay,
                                 **_fast_adam_options(fabric.device))
    wrapped, optimizer = fabric.setup(module, optimizer)
    # The DDP-wrapped (or plain) module: Fabric's wrapper would walk every output each step.
    forward = getattr(wrapped, "_forward_module", wrapped)

    shard = len(shard_order(len(train_data), 0, options.seed, fabric.global_rank,
                            fabric.world_size))
    batch_size = options.batch_size
    # A last minibatch of one cell breaks batch norm; fold it into the previous one.
    if shard % batch_size == 1 and shard > 1:
        batch_size += 1
    n_steps = math.ceil(shard / batch_size)
    history: dict[str, list[float]] = defaultdict(list)
    early_stopping, budget = options.early_stopping, options.time_budget_s
    start = time.perf_counter()
    global_step, stop, pending = 0, None, None
    for epoch in range(options.max_epochs):
        epoch_start = time.perf_counter()
        module.train()
        sums = _EpochSums(fabric.device)
        kl_weight = plan.kl_weight(epoch, global_step)
        order = shard_order(len(train_data), epoch, options.seed, fabric.global_rank,
                            fabric.world_size)
        batches = train_data.batches(order, batch_size, fabric.device, for_loss=True)
        for step, tensors in enumerate(batches, start=1):
            if plan.n_steps_kl_warmup:
                kl_weight = plan.kl_weight(epoch, global_step)
            with fabric.autocast():
                _, _, output = forward(tensors, loss_kwargs={"kl_weight": kl_weight})
            optimizer.zero_grad(set_to_none=True)
            fabric.backward(output.loss)
            optimizer.step()
            sums.add(output, tensors[X_KEY].shape[0])
            global_step += 1
            requests = (should_stop(), budget is not None and time.perf_counter() - start > budget)
            if fabric.world_size > 1:
                # Ranks must agree: act on the previous step's reduced requests (no wait here).
                reduced = fabric.all_reduce(torch.tensor(requests, dtype=torch.float32,
                                                         device=fabric.device), reduce_op="sum")
                requests = (False, False) if pending is None else tuple(pending.tolist())
                pending = reduced
            if requests[0] or requests[1]:
                stop = StopReason("user" if requests[0] else "time_budget", epoch + 1)
            epoch_end = step == n_steps or stop is not None
            metrics, validated = {}, False
            if epoch_end:
                _average_buffers(fabric, module)
                metrics = sums.means(fabric, "train")
                # A stopped epoch skips validation: cancelling returns within one step.
                if (stop is None and validation_data is not None and len(validation_data)
                        and options.validate_every and (epoch + 1) % options.validate_every == 0):
                    metrics |= _evaluate(fabric, module, validation_data, batch_size, kl_weight)
                    module.train()
                    validated = True
                for name, value in metrics.items():
                    history[name].append(value)
            progress_callback(TrainingProgress(epoch=epoch, max_epochs=options.max_epochs,
                                               step=step, n_steps=n_steps, epoch_end=epoch_end,
                                               metrics=metrics))
            if stop is not None:
                break
        batches.close()
        if stop is not None:
            break
        # Judged on epochs that logged the monitor (a validation metric waits for its pass);
        # should_stop names the logged metrics when the monitor is none of them.
        if early_stopping is not None and (early_stopping.monitor in metrics or validated) \
                and early_stopping.should_stop(history):
            stop = StopReason("early_stopping", epoch + 1,
                              f"{early_stopping.monitor} best {early_stopping.best:.4g} at epoch "
                              f"{early_stopping.best_epoch + 1}, no better for "
                              f"{early_stopping.patience} epochs")
            break
        if budget is not None and epoch + 1 < options.max_epochs:
            elapsed = _agreed(fabric, time.perf_counter() - start)
            epoch_time = _agreed(fabric, time.perf_counter() - epoch_start)
            if elapsed + epoch_time > budget:
                stop = StopReason("time_budget", epoch + 1,
                                  f"another epoch would pass the {budget:.0f} s budget")
                break
    module.eval()
    stop = stop or StopReason("max_epochs", options.max_epochs)
    result = FitResult(dict(history), stop, fabric.global_rank, fabric.world_size)
    if fabric.world_size > 1:
        result.state = {k: v.detach().cpu() for k, v in module.state_dict().items()}
        # Free the DDP wrapper while every rank is still here: its gloo reducer, collected
        # after a peer has exited, can block this process forever.
        del wrapped, forward, optimizer
        gc.collect()
        fabric.barrier()
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
    return result


def _average_buffers(fabric, module) -> None:
    """Give every rank the mean of the ranks' batch-norm running statistics."""
    if fabric.world_size == 1:
        return
    with torch.no_grad():
        for buffer in module.buffers():
            if buffer.is_floating_point():
                buffer.copy_(fabric.all_reduce(buffer, reduce_op="mean"))


def _agreed(fabric, seconds: float) -> float:
    """The mean of a host number over ranks, so that every rank decides alike."""
    if fabric.world_size == 1:
        return seconds
    value = fabric.all_reduce(torch.tensor([seconds], device=fabric.device), reduce_op="mean")
    return float(value.item())


def history_frames(history: dict[str, list[float]]) -> dict[str, pd.DataFrame]:
    """One single-column DataFrame per logged metric, indexed by epoch (scvi-tools' layout)."""
    return {name: pd.DataFrame({name: values}, index=pd.RangeIndex(len(values), name="epoch"))
            for name, values in history.items()}


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
