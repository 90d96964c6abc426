"""The sparse-aware count likelihood equals scvi-tools' log_prob."""

from __future__ import annotations

import torch
from scvi.distributions import NegativeBinomial, Poisson, ZeroInflatedNegativeBinomial

from fadvi_core._likelihood import log_likelihood_per_cell


def test_matches_scvi_distributions():
    generator = torch.Generator().manual_seed(0)
    x = torch.poisson(torch.rand(32, 200, generator=generator) * 0.5, generator=generator)
    mu = torch.rand(32, 200, generator=generator) * 3 + 1e-3
    theta = torch.rand(200, generator=generator) * 5 + 0.1
    logits = torch.randn(32, 200, generator=generator)
    for px in (ZeroInflatedNegativeBinomial(mu=mu, theta=theta, zi_logits=logits),
               NegativeBinomial(mu=mu, theta=theta), Poisson(rate=mu)):
        torch.testing.assert_close(log_likelihood_per_cell(px, x), px.log_prob(x).sum(-1),
                                   rtol=1e-5, atol=1e-3)
