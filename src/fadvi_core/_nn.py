"""Neural-network building blocks of the FADVI module."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

_BN = {"momentum": 0.01, "eps": 1e-3}
_VAR_EPS = 1e-4


class Dropout(nn.Dropout):
    """`torch.nn.Dropout` whose CPU mask comes from ``rand`` (twice as fast as ``bernoulli_``).

    Same distribution of masks and the same scaling by ``1 / (1 - p)``; on other devices the
    fused kernel of `torch.nn.functional.dropout` is used.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0 or x.device.type != "cpu":
            return F.dropout(x, self.p, self.training)
        keep = torch.rand_like(x).ge_(self.p).mul_(1.0 / (1.0 - self.p))
        return x * keep


def one_hot(codes: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Float one-hot rows of integer ``codes``, like ``F.one_hot(codes, n).float()``.

    Without `torch.nn.functional.one_hot`'s check of the codes' range, which reads them back to
    the host (a sync on a GPU at every step); the codes come from the registry.
    """
    codes = codes.reshape(-1, 1).long()
    out = torch.zeros(codes.shape[0], n_classes, device=codes.device)
    return out.scatter_(1, codes, 1.0)


def hidden_block(n_in: int, n_out: int, dropout_rate: float) -> nn.Sequential:
    """Linear, batch norm, ReLU, dropout: the unit every stack here is made of."""
    return nn.Sequential(
        nn.Linear(n_in, n_out), nn.BatchNorm1d(n_out, **_BN), nn.ReLU(), Dropout(dropout_rate)
    )


class TripleEncoder(nn.Module):
    """Three Gaussian encoders, q(z_b|x), q(z_l|x) and q(z_r|x), sharing one input.

    The three first layers are one fused ``Linear`` (the genes-wide matmul dominates the cost);
    this is the same function as three separate encoders, computed in one pass.
    """

    names = ("b", "l", "r")

    def __init__(self, n_input: int, n_latents: tuple[int, int, int], n_hidden: int,
                 n_layers: int, dropout_rate: float):
        super().__init__()
        self.n_hidden = n_hidden
        self.first = nn.Linear(n_input, 3 * n_hidden)
        self.first_norm = nn.BatchNorm1d(3 * n_hidden, **_BN)
        self.dropout = Dropout(dropout_rate)
        self.rest = nn.ModuleList(
            nn.Sequential(*[hidden_block(n_hidden, n_hidden, dropout_rate)
                            for _ in range(n_layers - 1)])
            for _ in range(3)
        )
        self.sizes = list(n_latents)
        self.mean = nn.ModuleList(nn.Linear(n_hidden, n) for n in n_latents)
        self.log_var = nn.ModuleList(nn.Linear(n_hidden, n) for n in n_latents)

    def _head(self, index: int, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.rest[index](hidden)
        loc = self.mean[index](hidden)
        scale = torch.sqrt(torch.exp(self.log_var[index](hidden)) + _VAR_EPS)
        return loc, scale

    def forward(self, x: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Return ``(loc, scale)`` for z_b, z_l and z_r, each ``(n_cells, n_latent_*)``."""
        loc, scale = self.forward_joint(x)
        return list(zip(loc.split(self.sizes, dim=1), scale.split(self.sizes, dim=1)))

    def forward_joint(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(loc, scale)`` of the three spaces side by side, ``(n_cells, sum(sizes))``: the
        element-wise steps run once on all three."""
        hidden = self.dropout(F.relu(self.first_norm(self.first(x))))
        chunks = [rest(chunk) for rest, chunk in zip(self.rest, hidden.split(self.n_hidden, 1))]
        loc = torch.cat([mean(chunk) for mean, chunk in zip(self.mean, chunks)], dim=1)
        log_var = torch.cat([log_var(chunk) for log_var, chunk in zip(self.log_var, chunks)], dim=1)
        return loc, torch.sqrt(torch.exp(log_var) + _VAR_EPS)

    def forward_one(self, x: torch.Tensor, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        """``(loc, scale)`` of one space only, computing just its slice of the fused layer."""
        i = self.names.index(name)
        rows = slice(i * self.n_hidden, (i + 1) * self.n_hidden)
        norm = self.first_norm
        pre = F.linear(x, self.first.weight[rows], self.first.bias[rows])
        if self.training:
            raise RuntimeError("forward_one is for evaluation; call module.eval() first.")
        pre = F.batch_norm(pre, norm.running_mean[rows], norm.running_var[rows],
                           norm.weight[rows], norm.bias[rows], False, 0.0, norm.eps)
        return self._head(i, F.relu(pre))


class CovariateMLP(nn.Module):
    """Fully connected stack that re-injects covariates (one-hot batch etc.) at every layer."""

    def __init__(self, n_input: int, n_covariates: int, n_hidden: int, n_layers: int,
                 dropout_rate: float):
        super().__init__()
        sizes = [n_input] + [n_hidden] * n_layers
        self.layers = nn.ModuleList(
            hidden_block(n_in + n_covariates, n_out, dropout_rate)
            for n_in, n_out in zip(sizes[:-1], sizes[1:])
        )

    def forward(self, x: torch.Tensor, covariates: torch.Tensor | None) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x if covariates is None else torch.cat([x, covariates], dim=1))
        return x


class Classifier(nn.Module):
    """One-hidden-layer classifier returning logits ``(n_cells, n_classes)``."""

    def __init__(self, n_input: int, n_classes: int, n_hidden: int, dropout_rate: float):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_input, n_hidden), nn.ReLU(), Dropout(dropout_rate),
            nn.Linear(n_hidden, n_classes),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


def reverse_gradient(x: torch.Tensor) -> torch.Tensor:
    """Identity forward, negated gradient backward (the adversarial heads' trick).

    ``2 * stop_gradient(x) - x`` is exactly ``x`` in floating point (doubling is exact) and has
    gradient -1: one native autograd node instead of a Python `torch.autograd.Function`.
    """
    return x.detach() * 2 - x


def cross_covariance_penalty(z: torch.Tensor, sizes: list[int],
                             groups: torch.Tensor | None = None) -> torch.Tensor:
    """Sum over pairs of spaces of the squared Frobenius norm of their cross-covariance.

    ``z`` holds the spaces side by side (widths ``sizes``): one covariance matrix of all of
    them, whose off-diagonal blocks are the pairs' cross-covariances (each counted twice).
    With ``groups`` (one-hot rows, e.g. the batch), each cell is centred on its group's mean:
    the pooled within-group covariance, which leaves alone what differs between groups' means.
    """
    if groups is None:
        centred = z - z.mean(dim=0, keepdim=True)
    else:
        means = (groups.T @ z) / groups.sum(dim=0).clamp(min=1.0)[:, None]
        centred = z - groups @ means
    covariance = (centred.T @ centred) / max(z.shape[0] - 1, 1)
    return (covariance.square() * _between_spaces(tuple(sizes), z)).sum() * 0.5


_MASKS: dict = {}


def _between_spaces(sizes: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
    """1 where row and column belong to different spaces, 0 within a space (cached)."""
    key = (sizes, like.device, like.dtype)
    if key not in _MASKS:
        space = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
        _MASKS[key] = (space[:, None] != space[None, :]).to(like.device, like.dtype)
    return _MASKS[key]
