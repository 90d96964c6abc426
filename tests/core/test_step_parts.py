"""The pieces of the training step that were rewritten for speed give the same results."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import sparse
from torch.nn import functional as F

from fadvi_core._data import _sparse_rows, to_device
from fadvi_core._likelihood import NONZERO_KEY, find_nonzero, zinb_log_likelihood
from fadvi_core._module import _weighted_cross_entropy
from fadvi_core._nn import Dropout, cross_covariance_penalty, reverse_gradient


def _messy_csr() -> sparse.csr_matrix:
    """CSR rows with a stored zero and a duplicated entry, as some files have."""
    data = np.array([3.0, 0.0, 1.0, 2.0, 2.0, 5.0], dtype=np.float32)
    indices = np.array([1, 2, 4, 0, 0, 3])
    indptr = np.array([0, 3, 5, 6])
    return sparse.csr_matrix((data, indices, indptr), shape=(3, 5))


def test_loader_passes_the_nonzero_entries_of_the_dense_minibatch():
    rows = _messy_csr()
    before = (rows.data.copy(), rows.indices.copy(), rows.indptr.copy())
    batch = to_device({"X": _sparse_rows(rows)}, torch.device("cpu"))
    np.testing.assert_array_equal(batch["X"].numpy(), rows.toarray())
    expected = find_nonzero(batch["X"])
    got = batch[NONZERO_KEY]
    order = torch.argsort(got.flat)
    assert torch.equal(got.flat[order], expected.flat)
    assert torch.equal(got.counts[order], expected.counts)
    torch.testing.assert_close(got.log_factorial[order], expected.log_factorial)
    # The caller's matrix is left as it was.
    for kept, now in zip(before, (rows.data, rows.indices, rows.indptr)):
        np.testing.assert_array_equal(kept, now)


def test_likelihood_with_the_loaders_nonzero_entries_equals_finding_them():
    rng = np.random.default_rng(0)
    rows = sparse.random(16, 40, density=0.2, format="csr", random_state=1)
    rows.data = np.ceil(rows.data * 6).astype(np.float32)
    batch = to_device({"X": _sparse_rows(rows)}, torch.device("cpu"))
    x = batch["X"]
    mu = torch.tensor(rng.uniform(0.1, 5, x.shape), dtype=torch.float32, requires_grad=True)
    theta = torch.tensor(rng.uniform(0.5, 3, 40), dtype=torch.float32, requires_grad=True)
    zi = torch.tensor(rng.normal(size=x.shape), dtype=torch.float32, requires_grad=True)
    grads = []
    for nonzero in (None, batch[NONZERO_KEY]):
        value = zinb_log_likelihood(x, mu, theta, zi, nonzero)
        grads.append((value.detach(), *torch.autograd.grad(value.sum(), (mu, theta, zi))))
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b)


def test_reverse_gradient_is_the_identity_forward_and_negates_the_gradient():
    z = torch.randn(8, 3, requires_grad=True)
    out = reverse_gradient(z)
    assert torch.equal(out, z)
    (grad,) = torch.autograd.grad((out * 2).sum(), z)
    assert torch.equal(grad, torch.full_like(z, -2.0))


def test_weighted_cross_entropy_averages_over_labelled_cells_only():
    logits = torch.randn(6, 4, requires_grad=True)
    target = torch.tensor([0, 3, -1, 2, -1, 1])
    mask = target >= 0
    weights = mask.float()
    expected = F.cross_entropy(logits[mask], target[mask])
    value = _weighted_cross_entropy(logits, target.clamp(min=0), weights, weights.sum())
    torch.testing.assert_close(value, expected)
    none = torch.zeros(6)
    empty = _weighted_cross_entropy(logits, torch.zeros(6, dtype=torch.long), none, 1.0)
    assert empty.item() == 0.0
    empty.backward()  # still part of the graph, with a zero gradient
    assert torch.count_nonzero(logits.grad) == 0


def test_cross_covariance_of_the_joint_latent_is_the_sum_over_pairs():
    spaces = [torch.randn(20, n, dtype=torch.float64) for n in (4, 3, 2)]
    expected = 0.0
    for i in range(3):
        for j in range(i + 1, 3):
            a, b = (z - z.mean(0) for z in (spaces[i], spaces[j]))
            expected = expected + ((a.T @ b) / 19).square().sum()
    value = cross_covariance_penalty(torch.cat(spaces, dim=1), [4, 3, 2])
    torch.testing.assert_close(value, expected)


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_dropout_drops_a_share_p_and_keeps_the_mean(p):
    torch.manual_seed(0)
    layer = Dropout(p)
    x = torch.ones(400, 500)
    out = layer(x)
    dropped = (out == 0).float().mean().item()
    assert abs(dropped - p) < 0.01
    assert abs(out.mean().item() - 1.0) < 0.02
    layer.eval()
    assert torch.equal(layer(x), x)


def test_log_factorial_of_counts_matches_lgamma_for_whole_and_fractional_counts():
    from scipy import special

    from fadvi_core._data import _log_factorial

    whole = np.array([1, 2, 7, 300, 5000], dtype=np.float32)  # 5000: past the lookup table
    fractional = np.array([0.5, 1.25, 3.0], dtype=np.float32)
    for counts in (whole, fractional):
        np.testing.assert_allclose(_log_factorial(counts), special.gammaln(counts + 1.0),
                                   rtol=1e-6)
