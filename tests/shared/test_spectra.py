"""Unit tests of companion.spectra: Lanczos and HVPs against dense eigh and finite differences."""

import numpy as np
import torch

from companion import spectra
from companion.embedding_depth.lifting import MLP


def _matrix_with_outliers(dim=150, seed=0):
    """Symmetric matrix with a bulk in [-1, 1] and isolated extremes -5 and 7."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    lam = np.concatenate([[-5.0, 7.0], rng.uniform(-1, 1, dim - 2)])
    return (q * lam) @ q.T


def test_lanczos_extremes_match_dense_eigh_on_a_random_symmetric_matrix():
    a = _matrix_with_outliers()
    exact = np.linalg.eigvalsh(a)
    matrix = torch.from_numpy(a)
    ritz = spectra.lanczos(lambda v: matrix @ v, a.shape[0], n_iter=40, seed=1)
    assert ritz.n_iter == 40
    np.testing.assert_allclose([ritz.values[0], ritz.values[-1]], [exact[0], exact[-1]],
                               rtol=1e-10)
    # the Ritz vectors are eigenvectors: residual ||A v - lambda v|| small
    v = ritz.vectors[:, 0]
    assert np.linalg.norm(a @ v - ritz.values[0] * v) < 1e-8


def _small_net_problem():
    net = MLP((2, 4, 3, 1), "tanh")
    gen = torch.Generator().manual_seed(0)
    theta = net.init(gen)
    x = torch.randn(30, 2, generator=gen, dtype=torch.float64)
    y = torch.randn(30, 1, generator=gen, dtype=torch.float64)
    return net, theta, x, y


def test_dense_hessian_matches_finite_differences_of_the_gradient():
    net, theta, x, y = _small_net_problem()
    loss_fn = net.loss_fn(x, y)
    h = spectra.dense_hessian(loss_fn, theta)
    step = 1e-5
    columns = []
    for i in range(len(theta)):
        e = torch.zeros_like(theta)
        e[i] = step
        columns.append((torch.func.grad(loss_fn)(theta + e)
                        - torch.func.grad(loss_fn)(theta - e)) / (2 * step))
    fd = torch.stack(columns, dim=1)
    np.testing.assert_allclose(h.numpy(), fd.numpy(), atol=1e-8)


def test_hvp_matches_dense_hessian_times_v():
    net, theta, x, y = _small_net_problem()
    loss_fn = net.loss_fn(x, y)
    h = spectra.dense_hessian(loss_fn, theta)
    v = torch.randn(len(theta), generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    np.testing.assert_allclose(spectra.hvp(loss_fn, theta, v).numpy(), (h @ v).numpy(),
                               rtol=1e-10, atol=1e-13)


def test_lanczos_on_a_net_hessian_matches_dense_eigh():
    net, theta, x, y = _small_net_problem()
    loss_fn = net.loss_fn(x, y)
    exact = torch.linalg.eigvalsh(spectra.dense_hessian(loss_fn, theta)).numpy()
    lam_min, v_min, lam_max, _ = spectra.extreme_eigenpairs(loss_fn, theta, n_iter=len(theta))
    scale = np.abs(exact).max()
    assert abs(lam_min - exact[0]) < 1e-10 * scale
    assert abs(lam_max - exact[-1]) < 1e-10 * scale
    hv = spectra.hvp(loss_fn, theta, torch.from_numpy(v_min)).numpy()
    assert np.linalg.norm(hv - lam_min * v_min) < 1e-8 * scale


def test_inertia_counts_signs_with_a_relative_zero_threshold():
    assert spectra.inertia([-1.0, -1e-12, 0.0, 1e-11, 2.0, 3.0]) == (1, 3, 2)
