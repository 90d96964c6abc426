"""The fast Integrated Gradients path agrees with captum and is complete."""

from __future__ import annotations

import numpy as np
import torch
from captum.attr import IntegratedGradients

from fadvi_core._interpretability import ClassProbability, integrated_gradients


def _first_cells(trained, n: int):
    """The label-probability forward, the first ``n`` cells' counts and their predicted class."""
    model, adata = trained
    forward = ClassProbability(model.module.eval(), "l")
    x = torch.as_tensor(np.asarray(adata.X[:n].todense() if hasattr(adata.X, "todense")
                                   else adata.X[:n]), dtype=torch.float32)
    return forward, x, forward(x).argmax(dim=1)


def test_fast_ig_matches_captum_and_sums_to_the_output_change(trained):
    forward, x, target = _first_cells(trained, 12)
    fast, delta = integrated_gradients(forward, x, target, return_convergence_delta=True)
    reference, reference_delta = IntegratedGradients(forward).attribute(
        x, target=target, return_convergence_delta=True)
    relative = (fast - reference).abs().max() / reference.abs().max()
    assert relative < 1e-4
    change = forward(x).gather(1, target[:, None]) - forward(torch.zeros_like(x)).gather(
        1, target[:, None])
    np.testing.assert_allclose(fast.sum(1).detach(), change.reshape(-1).detach(),
                               atol=float(reference_delta.abs().max()) + 1e-5)
    np.testing.assert_allclose(delta.detach(), reference_delta.detach(), atol=1e-5)


def test_sparse_path_equals_the_generic_path_and_leaves_zero_counts_at_zero(trained):
    forward, x, target = _first_cells(trained, 20)
    wrapped = torch.nn.Sequential(forward)  # not a ClassProbability: the generic autograd path
    fast = integrated_gradients(forward, x, target, n_steps=7, internal_batch_size=45)
    generic = integrated_gradients(wrapped, x, target, n_steps=7, internal_batch_size=45)
    torch.testing.assert_close(fast, generic, rtol=1e-5, atol=1e-7)
    assert bool((x == 0).any()) and bool((fast[x == 0] == 0).all())


def test_sparse_path_from_a_capped_class_baseline_equals_the_generic_path(trained):
    forward, x, target = _first_cells(trained, 20)
    baselines = torch.minimum(x.mean(dim=0, keepdim=True).expand_as(x), x)
    wrapped = torch.nn.Sequential(forward)
    fast, delta = integrated_gradients(forward, x, target, baselines=baselines, n_steps=7,
                                       internal_batch_size=45, return_convergence_delta=True)
    generic, generic_delta = integrated_gradients(wrapped, x, target, baselines=baselines,
                                                  n_steps=7, internal_batch_size=45,
                                                  return_convergence_delta=True)
    torch.testing.assert_close(fast, generic, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(delta, generic_delta, rtol=1e-5, atol=1e-6)
    assert bool((fast[x == baselines] == 0).all())
