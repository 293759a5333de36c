"""Unit tests of companion.spectra: top eigenpairs (dense and Lanczos) and HVPs against dense
eigh and finite differences."""

import numpy as np
import pytest
import torch

from companion import spectra
from companion.embedding_depth.lifting import MLP


def _matrix_with_outliers(dim=150, seed=0):
    """Symmetric matrix with a bulk in [-1, 1] and isolated extremes -5 and 7."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    lam = np.concatenate([[-5.0, 7.0], rng.uniform(-1, 1, dim - 2)])
    return (q * lam) @ q.T


@pytest.mark.parametrize("dim", [spectra.DENSE_MAX_DIM, 150])  # the dense route, Lanczos
def test_top_eigenpairs_match_dense_eigh_on_random_symmetric_matrices(dim):
    matrices = np.stack([_matrix_with_outliers(dim, seed) for seed in range(3)])
    values, vectors = spectra.top_eigenpairs(lambda v: (matrices @ v[:, :, None])[:, :, 0],
                                             dim, batch=3, seed=1)
    for matrix, value, vector in zip(matrices, values, vectors):
        exact, eigenvectors = np.linalg.eigh(matrix)
        assert value == pytest.approx(exact[-1], rel=1e-12)
        assert abs(vector @ eigenvectors[:, -1]) == pytest.approx(1.0, abs=1e-12)


def test_lanczos_stops_each_operator_on_its_own():
    """An operator's result does not depend on the others in its batch."""
    matrices = np.stack([_matrix_with_outliers(150, seed) for seed in range(3)])
    together = spectra.top_eigenpairs(lambda v: (matrices @ v[:, :, None])[:, :, 0], 150, 3)
    alone = spectra.top_eigenpairs(lambda v: v @ matrices[1], 150, 1)
    np.testing.assert_allclose(together[0][1], alone[0][0], rtol=1e-15)
    np.testing.assert_allclose(together[1][1], alone[1][0], rtol=0, atol=1e-15)


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


def test_top_eigenpairs_of_a_net_hessian_from_hvps_match_dense_eigh():
    """Both ends of the spectrum of a net's Hessian, the lowest as the top of -H, by Lanczos on
    autodiff HVPs."""
    net = MLP((2, 8, 6, 1), "tanh")
    gen = torch.Generator().manual_seed(0)
    theta = net.init(gen)
    x = torch.randn(30, 2, generator=gen, dtype=torch.float64)
    loss_fn = net.loss_fn(x, torch.randn(30, 1, generator=gen, dtype=torch.float64))
    assert net.n_params > spectra.DENSE_MAX_DIM
    exact = torch.linalg.eigvalsh(spectra.dense_hessian(loss_fn, theta)).numpy()
    scale = np.abs(exact).max()

    def products(sign):
        return lambda v: sign * spectra.hvp(loss_fn, theta, torch.from_numpy(v[0])).numpy()[None]

    for sign, expected in ((1, exact[-1]), (-1, exact[0])):
        (value,), (vector,) = spectra.top_eigenpairs(products(sign), net.n_params, 1)
        assert abs(sign * value - expected) < 1e-10 * scale
        assert np.linalg.norm(products(sign)(vector[None])[0] - value * vector) < 1e-8 * scale


def test_inertia_counts_signs_with_a_relative_zero_threshold():
    assert spectra.inertia([-1.0, -1e-12, 0.0, 1e-11, 2.0, 3.0]) == (1, 3, 2)
