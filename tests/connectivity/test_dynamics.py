"""Batched gradient descent against a plain per-run loop, and the closed-form predictions
(stage times, balance) against simulations."""

import numpy as np
import pytest

from companion.connectivity import dynamics, theory
from companion.small_init import predicted_stage_time, stage_time


def per_run_descent(target, mask, a, b, learning_rate, steps):
    """The update of the chapter's Setting, one run and one entry of the gradient at a time."""
    a, b = a.copy(), b.copy()
    dim, width = a.shape
    for _ in range(steps):
        residual = [[mask[i, j] * (sum(a[i, k] * b[j, k] for k in range(width)) - target[i, j])
                     for j in range(dim)] for i in range(dim)]
        grad_a = [[sum(residual[i][j] * b[j, k] for j in range(dim)) for k in range(width)]
                  for i in range(dim)]
        grad_b = [[sum(residual[i][j] * a[i, k] for i in range(dim)) for k in range(width)]
                  for j in range(dim)]
        a, b = a - learning_rate * np.array(grad_a), b - learning_rate * np.array(grad_b)
    return a, b


def test_batched_descent_matches_a_per_run_loop():
    rng = np.random.default_rng(0)
    targets = rng.standard_normal((5, 3, 3))
    masks = rng.random((5, 3, 3)) < 0.7
    a0, b0 = dynamics.initial_factors([(9, s) for s in range(5)], 3, 3)
    run = dynamics.descend(targets, masks, 0.3 * a0, 0.3 * b0, 0.05, 40, log_every=20)
    for i in range(5):
        a, b = per_run_descent(targets[i], masks[i], 0.3 * a0[i], 0.3 * b0[i], 0.05, 40)
        np.testing.assert_allclose(run.a[i], a, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(run.b[i], b, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(run.a_log[-1, i], a, rtol=1e-12, atol=1e-14)
    assert list(run.logged_steps) == [0, 20, 40]
    np.testing.assert_array_equal(run.a_log[0], 0.3 * a0)


def test_a_run_does_not_depend_on_its_batch():
    a0, b0 = dynamics.initial_factors([(9, s) for s in range(4)], 3, 3)
    target = np.outer([1.0, 2.0, 3.0], [1.0, 1.0, 2.0])
    alone = dynamics.descend(target, np.ones((3, 3)), a0[2:3], b0[2:3], 0.02, 50)
    batch = dynamics.descend(target, np.ones((3, 3)), a0, b0, 0.02, 50)
    np.testing.assert_allclose(alone.w[0], batch.w[2], rtol=1e-14, atol=1e-15)


def test_loss_and_ranks():
    target, mask = np.array([[1.0, 2.0], [2.0, 4.0]]), np.array([[1, 1], [1, 0]])
    w = np.array([[1.0, 2.0], [2.5, 7.0]])
    assert dynamics.loss(w, target, mask) == pytest.approx(0.5 * 0.25)
    assert dynamics.effective_rank(np.diag([1.0, 2e-3, 5e-4])) == 2
    assert dynamics.gram_rank(np.diag([1.0, 0.04, 0.02])) == 2  # squares: 1, 1.6e-3, 4e-4


@pytest.mark.parametrize("alpha", [1e-4, 1e-8])
def test_stage_times_of_decoupled_modes_match_the_formula(alpha):
    """A fully observed diagonal matrix: each mode is a scalar GD a <- a - eta (a b - s) b
    from a = b = alpha; the measured stage time is within 2% of t^(s) (the formula is exact
    only for the linear phase)."""
    sigmas = np.array([3.0, 1.0, 0.3])
    start = alpha * np.eye(3)[None]
    run = dynamics.descend(np.diag(sigmas), np.ones((3, 3)), start, start, 0.05, 4000,
                           log_every=1)
    values = np.diagonal(run.w_log[:, 0], axis1=-2, axis2=-1)
    measured = [stage_time(values[:, i], s) for i, s in enumerate(sigmas)]
    np.testing.assert_allclose(measured, predicted_stage_time(sigmas, alpha, 0.05),
                               rtol=0.02)


def test_stage_time_is_nan_when_the_level_is_never_reached():
    assert np.isnan(stage_time(np.array([0.0, 0.1, 0.2]), 1.0))
    assert stage_time(np.array([0.0, 0.6, 1.0]), 1.0) == 1


def test_contamination_exponent_tends_to_its_flow_limit():
    assert theory.contamination_exponent(2.0, 1.0, 1e-8) == pytest.approx(1.0, rel=1e-7)
    assert theory.contamination_exponent(2.0, 2.0, 0.05) == 0


def test_balance_drift_of_gradient_descent_is_second_order_in_the_step():
    """Gradient flow conserves A^T A - B^T B; GD changes it by O(eta^2) per step."""
    target = np.random.default_rng(4).standard_normal((4, 4))
    mask = np.random.default_rng(5).random((4, 4)) < 0.8
    a0, b0 = dynamics.initial_factors([(9, 0)], 4, 4)
    drift = []
    for eta in (0.02, 0.01):
        run = dynamics.descend(target, mask, 0.5 * a0, 0.5 * b0, eta, int(2 / eta))
        start = 0.25 * (a0[0].T @ a0[0] - b0[0].T @ b0[0])
        drift.append(np.abs(run.a[0].T @ run.a[0] - run.b[0].T @ run.b[0] - start).max())
    assert drift[0] / drift[1] == pytest.approx(2.0, rel=0.1)  # eta^2 per step, 1/eta steps
