"""Unit tests of companion.lifting against autograd, dense Hessians and SVD ranks (the chapter's
facts F1-F5)."""

import numpy as np
import pytest
import torch
from torch.func import grad, jacrev

from companion.embedding_depth import lifting
from companion.embedding_depth.lifting import MLP
from companion.spectra import dense_hessian


def _critical_problem(widths, n, seed, activation="elu"):
    """A random net made critical by its targets: ``y = f(x) - r`` with ``r`` orthogonal to
    every column of the Jacobian ``df(x_i)/dtheta``, so ``grad R = J^T r / n = 0`` (needs
    n k > P). An oracle for criticality that involves no optimiser."""
    net = MLP(widths, activation)
    gen = torch.Generator().manual_seed(seed)
    theta = net.init(gen)
    x = torch.rand(n, widths[0], generator=gen, dtype=torch.float64) * 2 - 1
    f = net.forward(theta, x)
    jac = jacrev(lambda t: net.forward(t, x).reshape(-1))(theta)  # (n k, P)
    g = torch.randn(f.numel(), generator=gen, dtype=torch.float64)
    basis, _ = torch.linalg.qr(jac)
    r = g
    for _ in range(2):  # project twice: one pass leaves ~1e-13 of the column space
        r = r - basis @ (basis.T @ r)
    y = f - 0.1 * r.reshape(f.shape) / r.abs().max()
    assert grad(net.loss_fn(x, y))(theta).norm() < 1e-13
    return net, theta, x, y


@pytest.mark.parametrize("q", [0, 1, 2])
def test_lift_after_every_layer_preserves_outputs_and_criticality(q):
    net, theta, x, y = _critical_problem((2, 3, 3, 1), n=40, seed=0)
    width = net.widths[q]
    signal = torch.randn(width + 1, width, generator=torch.Generator().manual_seed(q),
                         dtype=torch.float64)
    lift = lifting.critical_lift(net, theta, x, q, signal, eps=lifting.alternating([0.3, 0.7]))
    assert lift.net.depth == net.depth + 1 and lift.net.widths[q + 1] == width + 3
    diff = (lift.net.forward(lift.theta, x) - net.forward(theta, x)).abs().max()
    assert diff < 1e-12
    assert lift.net.loss(lift.theta, x, y) == pytest.approx(float(net.loss(theta, x, y)),
                                                            rel=1e-12)
    assert grad(lift.net.loss_fn(x, y))(lift.theta).norm() < 1e-10
    # the constant neurons sit on ELU's curved part, the signal neurons on its identity part
    z = lift.net.preactivations(lift.theta, x)[q]
    assert (z[:, :lift.n_signal] >= 0.5 - 1e-12).all()
    assert torch.allclose(z[:, lift.n_signal:], torch.full_like(z[:, lift.n_signal:], -1.0))


@pytest.mark.parametrize("activation", ["elu", "relu"])
@pytest.mark.parametrize("q", [0, 1, 2])
def test_closed_form_gradients_match_autograd_away_from_criticality(activation, q):
    """At a generic point (nonzero gradient) every lifted gradient is the closed form in
    the shallow errors delta, and the copied layers get exactly the shallow gradient."""
    net = MLP((2, 4, 3, 2), activation)
    gen = torch.Generator().manual_seed(4)
    theta = net.init(gen)
    x = torch.randn(9, 2, generator=gen, dtype=torch.float64)
    y = torch.randn(9, 2, generator=gen, dtype=torch.float64)
    width = net.widths[q]
    signal = torch.randn(width + 1, width, generator=gen, dtype=torch.float64)
    lift = lifting.critical_lift(net, theta, x, q, signal, eps=lifting.alternating([0.4, 0.7]),
                                 c0=-1.0 if activation == "elu" else 1.0)
    g_deep = grad(lift.net.loss_fn(x, y))(lift.theta)
    g_shallow = grad(net.loss_fn(x, y))(theta)
    assert g_deep.norm() > 1e-3  # not a comparison of zeros
    for layer in range(1, net.depth + 1):
        if layer != q + 1:
            deep_layer = layer if layer <= q else layer + 1
            np.testing.assert_allclose(g_deep[lift.net.layer_indices(deep_layer)].numpy(),
                                       g_shallow[net.layer_indices(layer)].numpy(),
                                       rtol=1e-10, atol=1e-14)
    delta = lifting.preactivation_errors(net, theta, x, y, q + 1)
    closed = lifting.lifted_block_gradients(lift, delta, x)
    (ga, gc), (gw, gb) = lift.net.unpack(g_deep)[q:q + 2]
    for name, value in (("A", ga), ("c", gc), ("W_tilde", gw), ("b_tilde", gb)):
        np.testing.assert_allclose(closed[name].numpy(), value.numpy(), atol=1e-14, rtol=1e-10)
    # the error sent upstream is the shallow one, W[q+1]^T delta_i, because A_s^+ A_s = I
    w_next = net.unpack(theta)[q][0]
    np.testing.assert_allclose(closed["upstream_error"].numpy(), (delta @ w_next).numpy(),
                               atol=1e-14, rtol=1e-10)


def test_f4_block_formula_matches_the_autograd_hessian_block():
    net, theta, x, y = _critical_problem((2, 3, 1), n=30, seed=1)
    cert = lifting.f4_certificate(net, theta, x, y, c0=-1.0)
    eps = (cert.eps_star, -0.8)
    lift = lifting.critical_lift(net, theta, x, 1, torch.eye(3, dtype=torch.float64), eps=eps,
                                 c0=-1.0)
    hess = dense_hessian(lift.net.loss_fn(x, y), lift.theta)
    for j, e in enumerate(lift.eps):
        idx = lift.constant_neuron_indices(j)
        block = hess[idx][:, idx]
        formula = lifting.f4_block(cert, float(e), "elu", -1.0)
        np.testing.assert_allclose(block.numpy(), formula.numpy(), atol=1e-14, rtol=1e-10)
    # the certificate: at eps*, the block (hence H) has an eigenvalue <= -mu^2 / (4 lam_max C)
    assert cert.bound == pytest.approx(-cert.mu**2 / (4 * cert.lam_max_c), rel=1e-12)
    assert cert.bound < 0
    idx = lift.constant_neuron_indices(0)
    assert torch.linalg.eigvalsh(hess[idx][:, idx])[0] <= cert.bound * (1 - 1e-9)
    assert torch.linalg.eigvalsh(hess)[0] <= cert.bound * (1 - 1e-9)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 6, 9])
def test_f5_dimension_matches_the_measured_jacobian_rank(n):
    d, k = 3, 2
    gen = torch.Generator().manual_seed(n)
    x = torch.randn(n, d, generator=gen, dtype=torch.float64)
    y = torch.randn(n, k, generator=gen, dtype=torch.float64)
    net = MLP((d, k), "elu")
    theta = lifting.least_squares_linear(x, y)
    signal = torch.randn(d + 2, d, generator=gen, dtype=torch.float64)
    lift = lifting.critical_lift(net, theta, x, 0, signal)
    block = lift.block_indices()
    measured = lifting.fibre_dimension(lift.net, lift.theta, x, params=block)
    assert measured == lifting.f5_dimension(len(block), k, x)
    assert measured == len(block) - k * min(n, d + 1)


@pytest.mark.parametrize("n", [1, 3, 5])
def test_f5_dimension_of_an_inner_layer_lift(n):
    """Lift after the hidden layer of an interpolating random-feature net [2, 4, 2]: the new
    block keeps z[q+1] = f on a set of dimension P_block - k min(n, m_q + 1) (F5, Part 3)."""
    gen = torch.Generator().manual_seed(10 + n)
    w1 = torch.randn(4, 2, generator=gen, dtype=torch.float64)
    b1 = torch.randn(4, generator=gen, dtype=torch.float64)
    x = torch.randn(n, 2, generator=gen, dtype=torch.float64)
    y = torch.randn(n, 2, generator=gen, dtype=torch.float64)
    h = torch.nn.functional.elu(x @ w1.T + b1)
    theta = MLP.pack([(w1, b1)] + MLP((4, 2)).unpack(lifting.least_squares_linear(h, y)))
    net = MLP((2, 4, 2), "elu")
    assert grad(net.loss_fn(x, y))(theta).norm() < 1e-12  # interpolating: a critical point
    lift = lifting.critical_lift(net, theta, x, 1,
                                 torch.randn(5, 4, generator=gen, dtype=torch.float64))
    block = lift.block_indices()
    measured = lifting.fibre_dimension(lift.net, lift.theta, x, params=block)
    assert measured == lifting.f5_dimension(len(block), 2, h) == len(block) - 2 * min(n, 5)


def test_nonlinearity_index_is_zero_for_affine_and_positive_for_tanh():
    z = torch.randn(64, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert lifting.nonlinearity_index(z, lambda t: 2.0 * t - 1.0) < 1e-14
    value = lifting.nonlinearity_index(z, torch.tanh)
    # independent oracle: per-neuron least-squares line by numpy
    zn, sn = z.numpy(), np.tanh(z.numpy())
    resid = sum(((sn[:, j] - np.polyval(np.polyfit(zn[:, j], sn[:, j], 1), zn[:, j])) ** 2).sum()
                for j in range(5))
    assert value == pytest.approx(resid / ((sn - sn.mean(0)) ** 2).sum(), rel=1e-10)
    assert value > 1e-2
    # small inputs: tanh is nearly linear, N ~ z^4
    assert lifting.nonlinearity_index(1e-2 * z, torch.tanh) < 1e-6


def test_saddle_free_newton_finds_a_minimum_of_a_nonconvex_function():
    def loss(t):
        return (t[0] ** 2 - 1) ** 2 + 0.5 * t[1] ** 2 + 0.1 * t[0] * t[1]

    theta, steps = lifting.saddle_free_newton(loss, torch.tensor([0.01, 0.3],
                                                                 dtype=torch.float64))
    assert steps[-1] < 1e-12
    assert torch.linalg.eigvalsh(torch.func.hessian(loss)(theta))[0] > 0
