"""Per-cell count log-likelihoods, fused into one pass with a hand-written backward.

For the (zero-inflated) negative binomial of scvi-tools (``log_nb_positive``,
``log_zinb_positive``), with ``L = log(theta + mu + eps)``, ``A = 1 / (theta + mu + eps)``,
``T = theta * (log(theta + eps) - L)`` and ``P = T - zi_logits``, the per-entry log-likelihood is

- zero counts: ``softplus(P) - softplus(-zi_logits)``;
- non-zero counts: ``P - softplus(-zi_logits) + x * (log(mu + eps) - L) + G`` with
  ``G = lgamma(x + theta) - lgamma(theta) - lgamma(x + 1)``.

With ``w = sigmoid(P)`` on zeros and 1 on non-zeros, the derivatives are

- ``d/d zi_logits = sigmoid(-zi_logits) - w``;
- ``d/d mu = x * (1 / (mu + eps) - A) - w * theta * A``;
- ``d/d theta = w * dT/dtheta - x * A + [digamma(x + theta) - digamma(theta)]`` (last on
  non-zeros), ``dT/dtheta = log(theta + eps) - L + theta / (theta + eps) - theta * A``.

The negative binomial is the same with no zero inflation: ``w = 1`` everywhere, no softplus.
Single-cell counts are mostly zeros, so every term that vanishes at ``x == 0`` (the ``x`` terms,
``G`` and its digamma gradient) is evaluated on the non-zero entries only. The forward pass
computes the local derivatives too and saves just them (three ``(n_cells, n_genes)`` buffers);
the backward pass scales them by the incoming per-cell gradient. The result equals
``px.log_prob(x).sum(-1)`` of scvi-tools' distributions (which treat counts in ``(0, 1e-8]`` as
neither zero nor non-zero; here they are non-zero: counts are integers, so it never matters).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from scvi.distributions import NegativeBinomial, ZeroInflatedNegativeBinomial

_EPS = 1e-8
_MIN_EXPONENT = -80.0


# The minibatch key under which the data loader passes `NonZero` (see `_data.to_device`).
NONZERO_KEY = "x_nonzero"


class NonZero(NamedTuple):
    """The non-zero entries of a minibatch's counts, known to the loader from its CSR rows.

    ``flat`` indexes ``x.reshape(-1)``; ``log_factorial`` is ``lgamma(counts + 1)``. Passing them
    spares the training step a ``nonzero`` scan of the dense minibatch and one ``lgamma``.
    """

    flat: torch.Tensor
    counts: torch.Tensor
    log_factorial: torch.Tensor
    genes: torch.Tensor | None = None  # ``flat % n_genes``, the CSR column indices


def find_nonzero(x: torch.Tensor) -> NonZero:
    """`NonZero` of a dense count matrix."""
    flat = torch.nonzero(x.reshape(-1)).squeeze(1)
    counts = x.reshape(-1).index_select(0, flat)
    return NonZero(flat, counts, torch.lgamma(counts + 1), flat.remainder(x.shape[1]))


def _digamma(z: torch.Tensor) -> torch.Tensor:
    """digamma for z > 0, vectorised: six recurrence steps, then the asymptotic series.

    Absolute error below 1e-11; ``torch.digamma`` is a scalar loop, about twice as slow.
    """
    shift = 1 / z
    for k in range(1, 6):
        shift.add_(1 / (z + k))
    w = z + 6
    inv = 1 / w
    inv2 = inv * inv
    series = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 / 132))))
    return torch.log(w).sub_(inv, alpha=0.5).sub_(series).sub_(shift)


def _per_gene(theta: torch.Tensor, x: torch.Tensor) -> bool:
    return theta.dim() == 1 and theta.shape[0] == x.shape[1]


def _nonzero_terms(x: torch.Tensor, mu: torch.Tensor, theta: torch.Tensor,
                   inv_theta_mu: torch.Tensor, need_grad: bool, nonzero: NonZero):
    """At the non-zero counts, the value and derivative terms that vanish at 0.

    Value: ``x * log((mu + eps) * A) + G``; derivatives: ``x * (1 / (mu + eps) - A)`` (mu) and
    ``digamma(x + theta) - digamma(theta) - x * A`` (theta).
    """
    flat, counts, log_factorial, genes = nonzero
    if _per_gene(theta, x):  # per gene: the special functions of theta on n_genes values only
        genes = flat.remainder(x.shape[1]) if genes is None else genes
        theta_nz = theta.index_select(0, genes)
        lgamma_theta = torch.lgamma(theta).index_select(0, genes)
    else:
        theta_nz = theta.expand_as(x).reshape(-1).index_select(0, flat)
        lgamma_theta = torch.lgamma(theta_nz)
    mu_eps = mu.reshape(-1).index_select(0, flat).add_(_EPS)
    inv_nz = inv_theta_mu.reshape(-1).index_select(0, flat)
    counts_theta = counts + theta_nz
    value = torch.log(mu_eps * inv_nz).mul_(counts)
    value.add_(torch.lgamma(counts_theta)).sub_(lgamma_theta).sub_(log_factorial)
    if not need_grad:
        return value, None, None
    d_mu = mu_eps.reciprocal_().sub_(inv_nz).mul_(counts)
    digamma_theta = (torch.digamma(theta).index_select(0, genes) if _per_gene(theta, x)
                     else _digamma(theta_nz))
    d_theta = _digamma(counts_theta).sub_(digamma_theta).sub_(inv_nz.mul_(counts))
    return value, d_mu, d_theta


def _softplus(z: torch.Tensor) -> torch.Tensor:
    """softplus(z) = max(z, 0) + log(1 + exp(-|z|)), on a fresh buffer, stable for any z.

    The exponent is clamped at -80 (exp = 2e-35, which changes nothing here): below about -87
    float32 results are subnormal, and a CPU computes those some 250 times slower
    (`torch.nn.functional.softplus` falls into that on very negative inputs).
    """
    # log(1 + e) rather than log1p(e): the same to float32 precision here, and torch's CPU
    # log1p is not vectorised (five times slower than log).
    out = z.abs().neg_().clamp_(min=_MIN_EXPONENT).exp_().add_(1.0).log_()
    return out.add_(z.clamp(min=0))


def _fused(x, mu, theta, zi_logits, need_grad: bool, nonzero: NonZero | None = None):
    """Per-cell log-likelihood and, if ``need_grad``, the local derivatives (mu, theta, zi).

    Dense passes over ``(n_cells, n_genes)`` are what this costs, so each buffer is reused in
    place: the zero-count formula is applied everywhere, then corrected at the non-zero entries.
    """
    nonzero = nonzero if nonzero is not None else find_nonzero(x)
    flat = nonzero.flat
    theta_eps = theta + _EPS
    inv = mu + theta_eps  # theta + mu + eps; A, its inverse, two lines down
    t = torch.log(inv)  # L
    inv.reciprocal_()
    torch.sub(torch.log(theta_eps), t, out=t)  # log(theta + eps) - L
    nz_value, nz_d_mu, nz_d_theta = _nonzero_terms(x, mu, theta, inv, need_grad, nonzero)
    if need_grad:  # dT/dtheta
        d_t = t + theta / theta_eps
        d_t.addcmul_(inv, theta, value=-1.0)
    t.mul_(theta)  # T
    # Corrections at the non-zero entries are added in place (scatter_add_: the flat indices
    # are distinct, and it is twice as fast as index_add_ on a CPU) before any row sum.
    if zi_logits is None:  # NB: every entry is T plus, at non-zero counts, the x-terms
        value = t.view(-1).scatter_add_(0, flat, nz_value).view_as(t).sum(-1)
        if not need_grad:
            return value, None
        d_mu = inv.mul_(theta.neg())
        d_mu.view(-1).scatter_add_(0, flat, nz_d_mu)
        d_t.view(-1).scatter_add_(0, flat, nz_d_theta)
        return value, (d_mu, d_t, None)

    p = t.sub_(zi_logits)  # P, in place of T
    dense = _softplus(p)
    dense.sub_(_softplus(zi_logits)).add_(zi_logits)  # softplus(P) - softplus(-zi_logits)
    # At non-zero counts the entry is P - softplus(-zi) + x-terms: add P - softplus(P) + x-terms.
    p_nz = p.view(-1).index_select(0, flat)
    dense.view(-1).scatter_add_(0, flat, p_nz.sub_(_softplus(p_nz)).add_(nz_value))
    value = dense.sum(-1)
    if not need_grad:
        return value, None
    w = torch.sigmoid(p)
    w.view(-1).index_fill_(0, flat, 1.0)
    d_zi = torch.neg(zi_logits).sigmoid_().sub_(w)
    d_mu = inv.mul_(theta.neg()).mul_(w)
    d_mu.view(-1).scatter_add_(0, flat, nz_d_mu)
    d_theta = d_t.mul_(w)
    d_theta.view(-1).scatter_add_(0, flat, nz_d_theta)
    return value, (d_mu, d_theta, d_zi)


def _reduce_to(grad: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    return grad if grad.shape == shape else grad.sum_to_size(shape)


class _CountLikelihood(torch.autograd.Function):
    """Per-cell (ZI)NB log-likelihood ``(n_cells,)`` with gradients w.r.t. mu, theta, zi_logits."""

    @staticmethod
    def forward(ctx, x, mu, theta, zi_logits, nonzero, expanded_row):
        need_grad = any(ctx.needs_input_grad[1:4])
        ctx.theta_shape, ctx.expanded_row = theta.shape, expanded_row
        if expanded_row:
            theta = theta[0]
        value, local = _fused(x, mu, theta, zi_logits, need_grad, nonzero)
        if need_grad:
            ctx.save_for_backward(*(t for t in local if t is not None))
            ctx.zero_inflated = zi_logits is not None
        return value

    @staticmethod
    def backward(ctx, grad):
        saved = ctx.saved_tensors
        d_mu, d_theta = saved[0], saved[1]
        column = grad.unsqueeze(1)
        grad_mu = d_mu * column if ctx.needs_input_grad[1] else None
        grad_theta = None
        if ctx.needs_input_grad[2]:
            if ctx.expanded_row:  # expand's backward sums the rows: each carries 1/n_cells
                grad_theta = (grad @ d_theta).div_(ctx.theta_shape[0]).expand(ctx.theta_shape)
            elif ctx.theta_shape == d_theta.shape[1:]:  # one per gene: a vector-matrix product
                grad_theta = grad @ d_theta
            else:
                grad_theta = _reduce_to(d_theta * column, ctx.theta_shape)
        grad_zi = None
        if ctx.zero_inflated and ctx.needs_input_grad[3]:
            grad_zi = saved[2] * column
        return None, grad_mu, grad_theta, grad_zi, None, None


def _fused_applicable(x: torch.Tensor, *params: torch.Tensor) -> bool:
    if x.dim() != 2 or x.requires_grad:
        return False
    return all(p.dtype == x.dtype and p.device == x.device and p.dim() <= 2
               and torch.broadcast_shapes(p.shape, x.shape) == x.shape for p in params)


def _is_expanded_row(theta: torch.Tensor) -> bool:
    """Whether ``theta`` is one row broadcast over cells by ``expand`` (as scvi's distributions
    broadcast a per-gene theta), so that only the sum of its gradient over cells matters."""
    if theta.dim() != 2 or theta.shape[0] < 2 or theta.stride(0) != 0:
        return False
    return not theta.requires_grad or (
        theta.grad_fn is not None and theta.grad_fn.name().startswith("ExpandBackward"))


def zinb_log_likelihood(x: torch.Tensor, mu: torch.Tensor, theta: torch.Tensor,
                        zi_logits: torch.Tensor, nonzero: NonZero | None = None) -> torch.Tensor:
    """Per-cell ZINB log-likelihood ``(n_cells,)``; ``theta`` is ``(n_genes,)`` or full."""
    mu, zi_logits = mu.expand_as(x), zi_logits.expand_as(x)
    return _CountLikelihood.apply(x, mu, theta, zi_logits, nonzero, _is_expanded_row(theta))


def nb_log_likelihood(x: torch.Tensor, mu: torch.Tensor, theta: torch.Tensor,
                      nonzero: NonZero | None = None) -> torch.Tensor:
    """Per-cell NB log-likelihood ``(n_cells,)``; ``theta`` is ``(n_genes,)`` or full."""
    return _CountLikelihood.apply(x, mu.expand_as(x), theta, None, nonzero,
                                 _is_expanded_row(theta))


def log_likelihood_per_cell(px, x: torch.Tensor, nonzero: NonZero | None = None) -> torch.Tensor:
    """``px.log_prob(x).sum(-1)``, shape ``(n_cells,)``, computed in one fused pass for (ZI)NB.

    ``nonzero`` (the loader's, for these very counts) saves finding the non-zero entries again.
    Other distributions, and inputs with a sample axis, fall back to ``px.log_prob``.
    """
    if isinstance(px, ZeroInflatedNegativeBinomial) and _fused_applicable(
            x, px.mu, px.theta, px.zi_logits):
        return zinb_log_likelihood(x, px.mu, px.theta, px.zi_logits, nonzero)
    if isinstance(px, NegativeBinomial) and not isinstance(px, ZeroInflatedNegativeBinomial) \
            and _fused_applicable(x, px.mu, px.theta):
        return nb_log_likelihood(x, px.mu, px.theta, nonzero)
    return px.log_prob(x).sum(-1)
