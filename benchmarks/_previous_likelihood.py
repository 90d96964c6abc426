"""The per-op likelihood fadvi_core used before the fused one, kept as the benchmark baseline.

Autograd differentiates it op by op; values equal scvi-tools' ``log_prob(x).sum(-1)``.
"""

from __future__ import annotations

import torch
from scvi.distributions import NegativeBinomial, ZeroInflatedNegativeBinomial
from torch.nn import functional as F

_EPS = 1e-8


def _gamma_terms_per_cell(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Row sums of lgamma(x + theta) - lgamma(theta) - lgamma(x + 1) over non-zero x."""
    rows, cols = torch.nonzero(x, as_tuple=True)
    counts = x[rows, cols]
    dispersion = theta.expand_as(x)[rows, cols]
    values = torch.lgamma(counts + dispersion) - torch.lgamma(dispersion) - torch.lgamma(counts + 1)
    return x.new_zeros(x.shape[0]).index_add(0, rows, values)


def _nb_log_likelihood(x, mu, theta) -> torch.Tensor:
    log_theta_mu = torch.log(theta + mu + _EPS)
    dense = theta * (torch.log(theta + _EPS) - log_theta_mu) + x * (torch.log(mu + _EPS)
                                                                    - log_theta_mu)
    return dense.sum(-1) + _gamma_terms_per_cell(x, theta)


def _zinb_log_likelihood(x, mu, theta, zi_logits) -> torch.Tensor:
    softplus_pi = F.softplus(-zi_logits)
    log_theta_mu = torch.log(theta + mu + _EPS)
    pi_theta_log = -zi_logits + theta * (torch.log(theta + _EPS) - log_theta_mu)
    zero_case = F.softplus(pi_theta_log) - softplus_pi
    nonzero_case = -softplus_pi + pi_theta_log + x * (torch.log(mu + _EPS) - log_theta_mu)
    dense = torch.where(x > _EPS, nonzero_case, zero_case)
    return dense.sum(-1) + _gamma_terms_per_cell(x, theta)


def log_likelihood_per_cell(px, x: torch.Tensor, nonzero=None) -> torch.Tensor:
    """``px.log_prob(x).sum(-1)``, shape ``(n_cells,)``, computed cheaply for (ZI)NB."""
    if x.dim() == 2 and isinstance(px, ZeroInflatedNegativeBinomial):
        return _zinb_log_likelihood(x, px.mu, px.theta, px.zi_logits)
    if x.dim() == 2 and isinstance(px, NegativeBinomial):
        return _nb_log_likelihood(x, px.mu, px.theta)
    return px.log_prob(x).sum(-1)
