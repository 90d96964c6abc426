"""Class probabilities and gene attributions (Integrated Gradients, GradientShap).

Baselines that contrast classes (the default) are built in `_baselines`; here a
`ClassContrast` becomes one baseline per cell (IG) or a set of baselines per predicted class
(GradientShap).

Attribution only needs the path counts -> one encoder -> one head, so the forward used here skips
the other two encoders, the library encoder and the decoder. For Integrated Gradients from a zero
baseline it goes further: the only genes-wide operation is the first linear layer, and every
count that is zero has a zero attribution, so the log1p of the interpolated counts and its
derivative are evaluated on the non-zero counts only and autograd runs on the narrow layers alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from captum.attr import GradientShap
from captum.attr._utils.approximation_methods import approximation_parameters
from scvi import REGISTRY_KEYS
from torch import nn
from torch.nn import functional as F

from ._baselines import ClassContrast
from ._data import CellData, iterate_chunks

_ROWS_PER_PASS = 1024  # interpolation points per IG pass (fastest of 256-2048 at 1 and 2 threads)


class ClassProbability(nn.Module):
    """Counts ``(n_cells, n_genes)`` -> class probabilities, from one latent space's mean.

    ``space`` is ``"l"`` (labels, from z_l) or ``"b"`` (batches, from z_b). The module must be
    in evaluation mode.
    """

    def __init__(self, module, space: str):
        super().__init__()
        self.module, self.space = module, space
        self.head = module.label_head if space == "l" else module.batch_head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        loc, _ = self.module.encoder.forward_one(self.module.encoder_input(x), self.space)
        return torch.softmax(self.head(loc), dim=-1)

    def first_layer(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Weight ``(n_hidden, n_genes)`` and bias of this space's slice of the first layer."""
        encoder = self.module.encoder
        i = encoder.names.index(self.space)
        rows = slice(i * encoder.n_hidden, (i + 1) * encoder.n_hidden)
        return encoder.first.weight[rows], encoder.first.bias[rows]

    def after_first_layer(self, pre: torch.Tensor) -> torch.Tensor:
        """Class probabilities from the first layer's output (as `forward_one` continues)."""
        encoder = self.module.encoder
        i = encoder.names.index(self.space)
        rows = slice(i * encoder.n_hidden, (i + 1) * encoder.n_hidden)
        norm = encoder.first_norm
        pre = F.batch_norm(pre, norm.running_mean[rows], norm.running_var[rows],
                           norm.weight[rows], norm.bias[rows], False, 0.0, norm.eps)
        loc, _ = encoder._head(i, F.relu(pre))
        return torch.softmax(self.head(loc), dim=-1)


def integrated_gradients(forward: nn.Module, x: torch.Tensor, target: torch.Tensor, *,
                         baselines: torch.Tensor | float | None = None, n_steps: int = 50,
                         method: str = "gausslegendre", internal_batch_size: int | None = None,
                         return_convergence_delta: bool = False):
    """Integrated Gradients of ``forward(x)[i, target[i]]`` with respect to ``x``.

    The same quadrature as captum's ``IntegratedGradients`` (``method``, ``n_steps``), with all
    interpolation points of a chunk of steps evaluated in one pass and no parameter gradients.

    Returns
    -------
    Attributions ``(n_cells, n_genes)``, and with ``return_convergence_delta`` the per-cell
    ``sum(attributions) - (f(x) - f(baseline))``.
    """
    zero_baseline = baselines is None
    if not zero_baseline:
        baselines = torch.as_tensor(baselines, dtype=x.dtype, device=x.device).expand_as(x)
    if isinstance(forward, ClassProbability) and not forward.module.training and (
            zero_baseline or _mostly_equal(x, baselines)):
        attributions = _sparse_ig(forward, x, target, baselines, n_steps=n_steps, method=method,
                                  rows=internal_batch_size or _ROWS_PER_PASS)
        if not return_convergence_delta:
            return attributions
        with torch.no_grad():
            index = target.reshape(-1, 1)
            start = torch.zeros_like(x) if zero_baseline else baselines
            end = forward(x).gather(1, index) - forward(start).gather(1, index)
        return attributions, attributions.sum(dim=1) - end.reshape(-1)
    if zero_baseline:
        baselines = torch.zeros_like(x)
    step_sizes_fn, alphas_fn = approximation_parameters(method)
    step_sizes = torch.tensor(step_sizes_fn(n_steps), dtype=x.dtype, device=x.device)
    alphas = torch.tensor(alphas_fn(n_steps), dtype=x.dtype, device=x.device)
    rows = internal_batch_size or _ROWS_PER_PASS
    steps_per_pass = max(1, rows // max(len(x), 1))
    difference = x - baselines
    total = torch.zeros_like(x)
    target_index = target.reshape(-1, 1)
    for start in range(0, n_steps, steps_per_pass):
        alpha = alphas[start:start + steps_per_pass].reshape(-1, 1, 1)
        points = alpha * difference if zero_baseline else baselines + alpha * difference
        points = points.detach().requires_grad_(True)
        chosen = forward(points.reshape(-1, x.shape[1])).gather(
            1, target_index.repeat(len(alpha), 1))
        (grads,) = torch.autograd.grad(chosen.sum(), points)
        # Weighted sum over the steps of this pass, in one contraction.
        total += torch.tensordot(step_sizes[start:start + steps_per_pass], grads, dims=1)
    attributions = total * difference
    if not return_convergence_delta:
        return attributions
    with torch.no_grad():
        end = forward(x).gather(1, target_index) - forward(baselines).gather(1, target_index)
    return attributions, attributions.sum(dim=1) - end.reshape(-1)


def _mostly_equal(x: torch.Tensor, baselines: torch.Tensor) -> bool:
    """Whether the path from ``baselines`` to ``x`` moves at most half of the entries (as for
    the class-contrast baselines, capped at each cell's counts, or any baseline on zeros)."""
    return int(torch.count_nonzero(x - baselines)) * 2 <= x.numel()


@torch.no_grad()
def _sparse_ig(forward: ClassProbability, x: torch.Tensor, target: torch.Tensor,
               baselines: torch.Tensor | None, *, n_steps: int, method: str,
               rows: int) -> torch.Tensor:
    """Integrated Gradients from ``baselines`` (zero when None), the genes-wide work on the
    entries where ``x`` and the baseline differ only.

    With ``p = b + alpha * (x - b)``, ``u = encoder_input(p)`` and ``pre = u @ W.T + bias``, the
    gradient at the path point is ``(d out / d pre) @ W`` times ``du/dp`` (``1 / (1 + p)`` for
    log1p); the attribution is its step-weighted sum times ``x - b``, zero wherever they agree.
    """
    step_sizes_fn, alphas_fn = approximation_parameters(method)
    step_sizes = torch.tensor(step_sizes_fn(n_steps), dtype=x.dtype, device=x.device)
    alphas = torch.tensor(alphas_fn(n_steps), dtype=x.dtype, device=x.device)
    n_cells, n_genes = x.shape
    weight, bias = forward.first_layer()
    log1p = forward.module.log_variational
    difference = (x if baselines is None else x - baselines).reshape(-1)
    flat = torch.nonzero(difference).squeeze(1)
    delta = difference[flat]
    origin = None if baselines is None else baselines.reshape(-1)[flat]
    steps_per_pass = max(1, rows // max(n_cells, 1))
    most = min(steps_per_pass, n_steps)
    # Entries off the path's support keep the baseline's input (zero for a zero baseline); the
    # moving ones are overwritten at every pass.
    if baselines is None:
        inputs = x.new_zeros(most * n_cells * n_genes)
    else:
        inputs = forward.module.encoder_input(baselines).reshape(-1).repeat(most)
    # positions of the moving entries in each of the ``most`` stacked copies of x
    positions = (flat + torch.arange(most, device=x.device).reshape(-1, 1)
                 * (n_cells * n_genes)).reshape(-1)
    total = x.new_zeros(delta.shape)
    target_index = target.reshape(-1, 1)
    for start in range(0, n_steps, steps_per_pass):
        alpha = alphas[start:start + steps_per_pass].reshape(-1, 1)
        k = len(alpha)
        points = alpha * delta if origin is None else origin + alpha * delta  # (k, moving)
        used = positions[:k * len(flat)]
        inputs.index_copy_(0, used, (torch.log1p(points) if log1p else points).reshape(-1))
        block = inputs[:k * n_cells * n_genes].reshape(k * n_cells, n_genes)
        pre = F.linear(block, weight, bias).requires_grad_(True)
        with torch.enable_grad():
            chosen = forward.after_first_layer(pre).gather(1, target_index.repeat(k, 1))
            (grad_pre,) = torch.autograd.grad(chosen.sum(), pre)
        grad_inputs = (grad_pre @ weight).reshape(-1).index_select(0, used).reshape(k, -1)
        if log1p:
            grad_inputs /= points.add_(1)
        total += step_sizes[start:start + k] @ grad_inputs
    attributions = x.new_zeros(n_cells * n_genes)
    attributions[flat] = total * delta
    return attributions.reshape(n_cells, n_genes)


def _attribute(method: str, forward: ClassProbability, x: torch.Tensor, probs: torch.Tensor,
               method_args: dict) -> torch.Tensor:
    target = probs.argmax(dim=1)
    contrast = method_args.get("baselines")
    if isinstance(contrast, ClassContrast):
        if method == "ig":
            return integrated_gradients(forward, x, target, **{
                **method_args, "baselines": contrast.for_cells(probs, x).to(x.dtype)})
        attributions = torch.zeros_like(x)
        for cells, baselines in contrast.groups(probs):
            attributions[cells] = _attribute(method, forward, x[cells], probs[cells],
                                             {**method_args, "baselines": baselines})
        return attributions
    if method == "ig":
        return integrated_gradients(forward, x, target, **method_args)
    args = dict(method_args)
    baselines = args.pop("baselines", None)
    if baselines is None:
        baselines = torch.zeros(1, x.shape[1], dtype=x.dtype, device=x.device)
    baselines = torch.as_tensor(baselines, dtype=x.dtype, device=x.device)
    if baselines.ndim < 2:  # one value or one profile: a set of one baseline
        baselines = baselines.expand(1, x.shape[1])
    return GradientShap(forward).attribute(x, baselines=baselines,
                                           target=target, **args)


def predict_and_attribute(module, data: CellData, space: str, batch_size: int, device, *,
                          method: str | None = None, method_args: dict | None = None,
                          progress_callback=None, should_stop=None
                          ) -> tuple[np.ndarray, np.ndarray | None]:
    """Class probabilities ``(n_cells, n_classes)`` and, with ``method``, attributions
    ``(n_cells, n_genes)`` for each cell's most probable class, computed chunk by chunk.
    """
    module.eval()
    forward = ClassProbability(module, space)
    method_args = dict(method_args or {})
    if method == "gs":
        torch.manual_seed(method_args.pop("seed", 0))
    probabilities, attributions = [], []
    requires_grad = [p.requires_grad for p in module.parameters()]
    for p in module.parameters():
        p.requires_grad_(False)
    try:
        for tensors in iterate_chunks(data, batch_size, device, progress_callback, should_stop):
            x = tensors[REGISTRY_KEYS.X_KEY]
            with torch.no_grad():
                probs = forward(x)
            probabilities.append(probs.cpu())
            if method is not None:
                attributions.append(_attribute(method, forward, x, probs, method_args)
                                    .detach().cpu())
    finally:
        for p, flag in zip(module.parameters(), requires_grad):
            p.requires_grad_(flag)
    probs = torch.cat(probabilities).numpy().astype(np.float64)
    probs /= probs.sum(axis=1, keepdims=True)
    return probs, (torch.cat(attributions).numpy() if method is not None else None)


def _summaries(attributions: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "attribution_mean": attributions.mean(axis=0),
        "attribution_std": attributions.std(axis=0),
        "attribution_abs_mean": np.abs(attributions).mean(axis=0),
    }


def _checked(attributions, genes: pd.Index) -> np.ndarray:
    if attributions is None:
        raise ValueError("No attributions given. Compute them first with "
                         "model.predict(interpretability='ig') and pass result['attributions'].")
    attributions = np.asarray(attributions)
    if attributions.ndim != 2 or attributions.shape[1] != len(genes):
        raise ValueError(f"Attributions must have shape (n_cells, {len(genes)} genes); got "
                         f"{attributions.shape}.")
    return attributions


def rank_features(attributions, genes: pd.Index, top_n: int | None = None) -> pd.DataFrame:
    """Genes ranked by mean absolute attribution; the columns of `FADVI.get_ranked_features`."""
    attributions = _checked(attributions, genes)
    table = pd.DataFrame({"feature": np.asarray(genes), "feature_idx": np.arange(len(genes)),
                          **_summaries(attributions), "n_cells": attributions.shape[0]})
    table = table.sort_values("attribution_abs_mean", ascending=False, kind="stable")
    return table.head(top_n).reset_index(drop=True) if top_n else table.reset_index(drop=True)


def rank_features_by_label(attributions, predictions, genes: pd.Index,
                           top_n: int | None = None) -> pd.DataFrame:
    """Per predicted label, genes ranked by mean attribution towards that label."""
    attributions = _checked(attributions, genes)
    predictions = np.asarray(predictions)
    if predictions.ndim != 1 or len(predictions) != len(attributions):
        raise ValueError("predictions must hold one label per row of attributions.")
    tables = []
    for label in pd.unique(predictions):
        rows = attributions[predictions == label]
        summary = _summaries(rows)
        table = pd.DataFrame({"label": label, "gene": np.asarray(genes),
                              "score": summary["attribution_mean"],
                              "attribution_std": summary["attribution_std"],
                              "attribution_abs_mean": summary["attribution_abs_mean"],
                              "n_cells": len(rows)})
        table = table.sort_values("score", ascending=False, kind="stable")
        table.insert(3, "rank", np.arange(1, len(table) + 1))
        tables.append(table.head(top_n) if top_n else table)
    return pd.concat(tables, ignore_index=True)
