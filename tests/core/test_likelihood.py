"""The fused count likelihood equals scvi-tools' log_prob, in value and in gradient."""

from __future__ import annotations

import pytest
import torch
from scvi.distributions import NegativeBinomial, Poisson, ZeroInflatedNegativeBinomial

from fadvi_core._likelihood import log_likelihood_per_cell


def _params(n_cells, n_genes, dtype, *, full_theta: bool, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)

    def rand(*shape):
        return torch.rand(*shape, generator=generator, dtype=dtype)

    x = torch.poisson(rand(n_cells, n_genes) * 1.5, generator=generator)
    x[0, :3] = torch.tensor([0.0, 1.0, 7.0], dtype=dtype)  # zeros and non-zeros in every test
    mu = rand(n_cells, n_genes) * 3 + 1e-3
    theta = rand(*((n_cells, n_genes) if full_theta else (n_genes,))) * 5 + 0.1
    logits = torch.randn(n_cells, n_genes, generator=generator, dtype=dtype)
    return x, mu, theta, logits


def _distributions(mu, theta, logits):
    return {"zinb": ZeroInflatedNegativeBinomial(mu=mu, theta=theta, zi_logits=logits),
            "nb": NegativeBinomial(mu=mu, theta=theta)}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("full_theta", [False, True])
def test_values_and_gradients_match_scvi(dtype, full_theta):
    x, mu, theta, logits = _params(32, 200, dtype, full_theta=full_theta)
    for name in ("zinb", "nb"):
        ours_inputs = [t.clone().requires_grad_() for t in (mu, theta, logits)]
        ref_inputs = [t.clone().requires_grad_() for t in (mu, theta, logits)]
        ours = log_likelihood_per_cell(_distributions(*ours_inputs)[name], x)
        ref = _distributions(*ref_inputs)[name].log_prob(x).sum(-1)
        torch.testing.assert_close(ours, ref, rtol=1e-5, atol=0)
        weights = torch.linspace(-1, 1, x.shape[0], dtype=dtype)
        (ours * weights).sum().backward()
        (ref * weights).sum().backward()
        used = ours_inputs if name == "zinb" else ours_inputs[:2]
        for mine, theirs in zip(used, ref_inputs):
            tol = 1e-4 if dtype == torch.float32 else 1e-9
            torch.testing.assert_close(mine.grad, theirs.grad, rtol=tol, atol=tol)


@pytest.mark.parametrize("full_theta", [False, True])
def test_gradcheck_float64(full_theta):
    x, mu, theta, logits = _params(4, 6, torch.float64, full_theta=full_theta, seed=1)
    inputs = [t.clone().requires_grad_() for t in (mu, theta, logits)]
    assert 0 < int((x > 0).sum()) < x.numel()

    def zinb(m, t, z):
        return log_likelihood_per_cell(ZeroInflatedNegativeBinomial(mu=m, theta=t, zi_logits=z), x)

    def nb(m, t):
        return log_likelihood_per_cell(NegativeBinomial(mu=m, theta=t), x)

    assert torch.autograd.gradcheck(zinb, inputs)
    assert torch.autograd.gradcheck(nb, inputs[:2])


def test_no_grad_value_and_fallbacks():
    x, mu, theta, logits = _params(8, 30, torch.float32, full_theta=False)
    zinb = ZeroInflatedNegativeBinomial(mu=mu, theta=theta, zi_logits=logits)
    with torch.no_grad():
        torch.testing.assert_close(log_likelihood_per_cell(zinb, x), zinb.log_prob(x).sum(-1),
                                   rtol=1e-5, atol=0)
    poisson = Poisson(rate=mu)
    torch.testing.assert_close(log_likelihood_per_cell(poisson, x), poisson.log_prob(x).sum(-1))
    # A sample axis (n_samples, n_cells, n_genes) goes through log_prob unchanged.
    stacked = ZeroInflatedNegativeBinomial(mu=mu.expand(3, -1, -1), theta=theta,
                                           zi_logits=logits.expand(3, -1, -1))
    x3 = x.expand(3, -1, -1)
    torch.testing.assert_close(log_likelihood_per_cell(stacked, x3),
                               stacked.log_prob(x3).sum(-1))


def test_extreme_parameters_stay_finite_and_exact():
    """Huge means and dispersions (a trained model's tails) give the same values and gradients."""
    x, mu, theta, logits = _params(8, 40, torch.float64, full_theta=False)
    mu, theta, logits = mu * 1e3, theta * 50, logits * 30
    ours_inputs = [t.clone().requires_grad_() for t in (mu, theta, logits)]
    ref_inputs = [t.clone().requires_grad_() for t in (mu, theta, logits)]
    ours = log_likelihood_per_cell(_distributions(*ours_inputs)["zinb"], x)
    ref = _distributions(*ref_inputs)["zinb"].log_prob(x).sum(-1)
    torch.testing.assert_close(ours, ref, rtol=1e-7, atol=0)
    ours.sum().backward()
    ref.sum().backward()
    for mine, theirs in zip(ours_inputs, ref_inputs):
        torch.testing.assert_close(mine.grad, theirs.grad, rtol=1e-6, atol=1e-6)


def test_theta_broadcast_per_gene_or_given_per_cell():
    """A per-gene theta (broadcast by scvi) and a stride-0 leaf theta both get exact gradients."""
    x, mu, theta, logits = _params(16, 50, torch.float64, full_theta=False)
    for make in (lambda t: t.clone().requires_grad_(),
                 lambda t: t.detach().expand(16, -1).requires_grad_()):
        ours, ref = make(theta), make(theta)
        value = log_likelihood_per_cell(ZeroInflatedNegativeBinomial(mu=mu, theta=ours,
                                                                     zi_logits=logits), x)
        expected = ZeroInflatedNegativeBinomial(mu=mu, theta=ref, zi_logits=logits).log_prob(x)
        weights = torch.linspace(-1, 1, 16, dtype=torch.float64)
        (value * weights).sum().backward()
        (expected.sum(-1) * weights).sum().backward()
        torch.testing.assert_close(ours.grad, ref.grad, rtol=1e-9, atol=1e-9)
