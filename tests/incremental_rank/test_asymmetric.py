"""Asymmetric sensing F G^T: the hand-derived gradient against autograd on explicit A_i, and
gradient descent against the closed form of a decoupled scalar case."""

import numpy as np
import pytest
import torch

from companion.incremental_rank import asymmetric


def test_gradients_match_autograd_on_the_explicit_measurements():
    dim, width, m = 4, 3, 60
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, dim, dim))
    gram = a.reshape(m, -1).T @ a.reshape(m, -1) / m
    x_star = rng.standard_normal((dim, 2)) @ rng.standard_normal((2, dim))
    f, g = rng.standard_normal((dim, width)), rng.standard_normal((dim, width))
    grad_f, grad_g = asymmetric.gradients(gram, f @ g.T - x_star, f, g)
    ft, gt = (torch.tensor(v, requires_grad=True) for v in (f, g))
    residuals = torch.einsum("ijk,jk->i", torch.tensor(a), ft @ gt.T - torch.tensor(x_star))
    (0.5 * (residuals**2).mean()).backward()
    np.testing.assert_allclose(grad_f, ft.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad_g, gt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_measurement_gram_is_the_identity_in_expectation():
    gram = asymmetric.measurement_gram(3, 200_000, seed=0)
    np.testing.assert_allclose(gram, np.eye(9), atol=0.02)


@pytest.mark.parametrize("lr", [0.05, 0.2])
def test_descent_matches_the_scalar_closed_form(lr):
    """d = k = 1, K = 1, f_0 = g_0: f = g stays, and f_{t+1} = f_t - lr (f_t^2 - x) f_t."""
    x_star, f0 = np.array([[2.0]]), np.array([[0.1]])
    errors = asymmetric.relative_errors(np.eye(1), x_star, f0, f0, lr, steps=40)
    f, expected = 0.1, []
    for _ in range(41):
        expected.append(abs(f * f - 2.0) / 2.0)
        f -= lr * (f * f - 2.0) * f
    np.testing.assert_allclose(errors, expected, rtol=1e-12, atol=1e-15)


def test_loglog_slope_of_a_power_law():
    t = np.arange(1, 1001, dtype=float)
    assert asymmetric.loglog_slope(np.concatenate([[1.0], 3.0 / t]), start=10) == \
        pytest.approx(-1.0, abs=1e-9)
