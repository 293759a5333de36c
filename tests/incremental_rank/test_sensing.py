"""Unit tests of companion.incremental_rank.sensing against independent oracles."""

import numpy as np
import pytest
import scipy.optimize
import torch

from companion.incremental_rank import experiment, sensing
from companion.small_init import predicted_stage_time


def _independent_measurements(dim, rank, n_measurements, seed):
    """Rebuild X* and the full A_i from the seed as the chapter's Setting describes, without
    svec."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((dim, rank)))
    g = rng.standard_normal((n_measurements, dim, dim))
    return q, (g + g.transpose(0, 2, 1)) / 2


def test_svec_is_an_isometry():
    rng = np.random.default_rng(0)
    a, b = (m + m.T for m in rng.standard_normal((2, 5, 5)))
    assert sensing.svec(a) @ sensing.svec(b) == pytest.approx(np.sum(a * b), rel=1e-13)
    np.testing.assert_allclose(sensing.unsvec(sensing.svec(a), 5), a, rtol=1e-15)


def test_gradient_and_error_match_autograd_on_the_full_measurements():
    dim, sigmas, m, seed = 5, (1.0, 0.4), 200, 3
    problem = sensing.make_problem(dim, sigmas, m, seed)
    q, a = _independent_measurements(dim, len(sigmas), m, seed)
    x_star = (q * sigmas) @ q.T
    np.testing.assert_allclose(problem.x_star, x_star, atol=1e-14)

    a_t, y_t = torch.from_numpy(a), torch.einsum("ijk,jk->i", torch.from_numpy(a),
                                                 torch.from_numpy(x_star))
    u_np = np.random.default_rng(1).standard_normal((dim, 4))
    u = torch.from_numpy(u_np).requires_grad_(True)
    residuals = torch.einsum("ijk,jk->i", a_t, u @ u.T) - y_t
    loss = (residuals**2).sum() / (4 * m)
    loss.backward()

    np.testing.assert_allclose(sensing.gradient(problem, u_np), u.grad.numpy(), rtol=1e-10,
                               atol=1e-12)
    w = sensing.svec(u_np @ u_np.T)
    assert sensing.error(problem, w) == pytest.approx(4 * loss.item(), rel=1e-10)


def test_train_error_is_frobenius_distance_in_expectation():
    problem = sensing.make_problem(4, (1.0, 0.5), 20_000, seed=7)
    rng = np.random.default_rng(2)
    for _ in range(3):
        b = rng.standard_normal((4, 4))
        w = b @ b.T
        ratio = sensing.error(problem, sensing.svec(w)) / np.sum((w - problem.x_star) ** 2)
        # <A, M> ~ N(0, ||M||_F^2) for Gaussian symmetric A: relative std sqrt(2/m) = 0.01
        assert ratio == pytest.approx(1.0, abs=0.05)


def _brute_force_best_rank(problem, rank, restarts=40):
    """Global minimum of f over U in R^{d x s} by L-BFGS from many random starts."""
    rng = np.random.default_rng(5)
    best = (np.inf, None)
    for _ in range(restarts):
        def f(flat):
            u = flat.reshape(problem.dim, rank)
            return (sensing.error(problem, sensing.svec(u @ u.T)) / 4,
                    sensing.gradient(problem, u).ravel())

        result = scipy.optimize.minimize(f, rng.standard_normal(problem.dim * rank), jac=True,
                                         method="BFGS", options={"gtol": 1e-11})
        if result.fun < best[0]:
            u = result.x.reshape(problem.dim, rank)
            best = (result.fun, u @ u.T)
    return best[1]


@pytest.mark.parametrize("method", ["gd", "lbfgs"])
def test_best_rank_solution_is_the_global_rank_s_minimiser(method):
    problem = sensing.make_problem(4, (1.0, 0.6, 0.3), 60, seed=11)
    solutions = sensing.best_rank_solutions(problem, method)
    np.testing.assert_array_equal(solutions[0], np.zeros((4, 4)))
    # noiseless: the rank-r solution is X* itself, though the spectral start is not
    np.testing.assert_allclose(solutions[3], problem.x_star, atol=1e-10)
    assert np.linalg.norm(sensing.spectral_matrix(problem) - problem.x_star) > 0.1
    for s in (1, 2):
        np.testing.assert_allclose(solutions[s], _brute_force_best_rank(problem, s), atol=1e-8)
        assert np.linalg.matrix_rank(solutions[s], tol=1e-8) == s


@pytest.mark.parametrize("lr", [0.02, 0.1])
def test_stage_time_formula_is_exact_when_the_eigencomponents_decouple(lr):
    """Full measurement (K = I), X* diagonal, U_0 = alpha I: each eigenvalue follows the logistic
    map u <- u (1 + lr (sigma - u^2)), whose crossing of sigma / 2 is the time the linearised
    growth alpha^2 (1 + lr sigma)^{2t} reaches sigma, i.e. t^_s, to within one step."""
    sigmas = np.array([1.0, 0.5, 0.25])
    problem = sensing.SensingProblem(np.diag(sigmas), np.eye(3), sigmas, np.eye(6),
                                     n_measurements=6)
    alpha = 1e-6
    predicted = predicted_stage_time(sigmas, alpha, lr)
    steps = int(predicted.max()) + 20
    trajectory = sensing.gradient_descent(problem, alpha * np.eye(3), lr, steps)
    times = experiment.stage_times(trajectory.eigenvalues, sigmas)
    np.testing.assert_allclose(times, predicted, atol=1.0)


def test_polyline_distance_matches_dense_sampling_of_the_segments():
    rng = np.random.default_rng(4)
    vertices = np.cumsum(rng.standard_normal((9, 6)), axis=0)
    vertices[4] = vertices[3]  # a zero-length segment
    points = vertices.mean(axis=0) + 2 * rng.standard_normal((150, 6))
    points[:3] = vertices[[0, 5, 8]]  # on the polyline: distance 0
    fractions = np.linspace(0, 1, 2001)[:, None]
    dense = np.concatenate([a + fractions * (b - a) for a, b in zip(vertices[:-1], vertices[1:])])
    brute = np.min(np.linalg.norm(points[:, None, :] - dense[None], axis=2), axis=1)
    exact = sensing.polyline_distances(points, vertices, block=64)
    spacing = np.max(np.linalg.norm(np.diff(vertices, axis=0), axis=1)) / 2000
    assert np.all(exact <= brute + 1e-9)
    assert np.all(brute - exact <= spacing / 2 + 1e-9)
    np.testing.assert_allclose(exact[:3], 0, atol=1e-6)
    # one vertex: plain point distance; nearest-vertex distance would overestimate
    np.testing.assert_allclose(sensing.polyline_distances(points, vertices[:1]),
                               np.linalg.norm(points - vertices[0], axis=1), rtol=1e-9)
    nearest_vertex = np.min(np.linalg.norm(points[:, None] - vertices[None], axis=2), axis=1)
    assert np.max(nearest_vertex - exact) > 0.1


def test_path_distance_is_the_larger_one_sided_distance():
    path_a = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    path_b = np.array([[0.0, 0.0], [2.0, 0.5]])
    # farthest point of a from segment b is (1, 0) or (2, 0); of b from polyline a is (2, 0.5)
    assert sensing.path_distance(path_a, path_b, norm=2.0) == pytest.approx(0.5 / 2)


@pytest.mark.parametrize("epsilon", [1e-10, 1e-22])  # 1e-22: sqrt(eps) sigma < grad_tol
def test_glrl_phases_end_at_the_best_rank_solutions(epsilon):
    problem = sensing.make_problem(6, (1.0, 0.5, 0.25), 300, seed=2)
    solutions = sensing.best_rank_solutions(problem)
    result = sensing.glrl(problem, lr=0.1, epsilon=epsilon)
    assert len(result.endpoints) == 3
    for endpoint, x in zip(result.endpoints, solutions[1:]):
        assert np.linalg.norm(endpoint - x) / problem.norm_star < 1e-6


def test_iterates_past_a_fixed_point_are_the_plain_loop_bit_for_bit():
    """At k = r GD reaches a fixed point of the floating-point map well within 3000 steps;
    :func:`sensing.iterates` stops computing there and must give what every step would."""
    problem = sensing.make_problem(5, (1.0, 0.5), 400, seed=1)
    u = sensing.initial_factor(5, 2, 0.3, seed=1)
    fast = [(w.copy(), g.copy()) for _, w, g in sensing.iterates(problem, u, 0.1, 3000)]
    assert len(fast) == 3001
    plain = []
    for t in range(3001):
        w = sensing.svec(u @ u.T)
        g = sensing.symmetric_product(problem.gram, w - problem.w_star)
        plain.append((w, g))
        u = u - 0.1 * sensing.unsvec(g, 5) @ u
    np.testing.assert_array_equal(np.array([w for w, _ in fast]), np.array([w for w, _ in plain]))
    np.testing.assert_array_equal(np.array([g for _, g in fast]), np.array([g for _, g in plain]))
    assert np.array_equal(fast[-1][0], fast[-1000][0]), "no fixed point within the run"
