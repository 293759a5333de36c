"""Critical lifting: embedding a critical point of a network into every deeper network.

Bai, Luo, Xu, Zhang, *Embedding Principle in Depth for the Loss Landscape Analysis of Deep
Neural Networks*, arXiv 2205.13283. The construction and facts F1-F5 implemented here are the
ones the chapter states in "The lifting operator"; they are derived for the chapter, consistent
with the paper's statements, not transcribed from it.

Conventions. Layers are numbered from 1 as in the paper:
``h[0] = x``, ``z[l] = W[l] h[l-1] + b[l]``, ``h[l] = sigma(z[l])`` for ``l < L`` and
``f = z[L]``. Python lists are 0-based, so ``layers[l - 1] == (W[l], b[l])``. ``W[l]`` has shape
``(m_l, m_{l-1})``. All parameters live in one flat vector ``theta``: layer by layer, ``W``
row-major then ``b``. Samples are rows: ``x`` is ``(n, d)``, ``z[l]`` is ``(n, m_l)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.func import grad, hessian, jacrev

ACTIVATIONS = {"elu": F.elu, "relu": F.relu, "tanh": torch.tanh}
# Activations equal to the identity on z > 0: the exact signal-neuron lift needs this.
IDENTITY_ON_POSITIVES = ("elu", "relu")


# --------------------------------------------------------------------------------------------
# The network
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MLP:
    """A fully connected net with widths ``(d, m_1, ..., m_{L-1}, k)`` acting on a flat theta."""

    widths: tuple[int, ...]
    activation: str = "elu"

    def __post_init__(self) -> None:
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        if len(self.widths) < 2 or min(self.widths) < 1:
            raise ValueError(f"widths must have >= 2 positive entries, got {self.widths}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {list(ACTIVATIONS)}")

    @property
    def depth(self) -> int:
        """L, the number of affine layers (a depth-1 net is linear)."""
        return len(self.widths) - 1

    @property
    def n_params(self) -> int:
        return sum(o * i + o for i, o in zip(self.widths[:-1], self.widths[1:]))

    def sigma(self, z: torch.Tensor) -> torch.Tensor:
        return ACTIVATIONS[self.activation](z)

    def layer_offset(self, layer: int) -> int:
        """Index in theta where ``W[layer]`` starts (``layer`` counted from 1)."""
        return sum(o * i + o for i, o in zip(self.widths[:layer - 1], self.widths[1:layer]))

    def layer_indices(self, layer: int) -> torch.Tensor:
        """Indices in theta of ``(W[layer], b[layer])``."""
        m_in, m_out = self.widths[layer - 1], self.widths[layer]
        start = self.layer_offset(layer)
        return torch.arange(start, start + m_out * m_in + m_out)

    def neuron_indices(self, layer: int, j: int) -> torch.Tensor:
        """theta indices of neuron j's input weights ``W[layer][j, :]`` and bias ``b[layer][j]``."""
        m_in, m_out = self.widths[layer - 1], self.widths[layer]
        start = self.layer_offset(layer)
        row = torch.arange(start + j * m_in, start + (j + 1) * m_in)
        return torch.cat([row, torch.tensor([start + m_out * m_in + j])])

    def unpack(self, theta: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """``[(W[1], b[1]), ..., (W[L], b[L])]`` as views of theta (differentiable)."""
        layers, start = [], 0
        for m_in, m_out in zip(self.widths[:-1], self.widths[1:]):
            weight = theta[start:start + m_out * m_in].reshape(m_out, m_in)
            start += m_out * m_in
            layers.append((weight, theta[start:start + m_out]))
            start += m_out
        return layers

    @staticmethod
    def pack(layers) -> torch.Tensor:
        """Inverse of :meth:`unpack`."""
        return torch.cat([t.reshape(-1) for weight, bias in layers for t in (weight, bias)])

    def preactivations(self, theta: torch.Tensor, x: torch.Tensor) -> list[torch.Tensor]:
        """``[z[1], ..., z[L]]``; the last one is the output f."""
        zs, h = [], x
        for layer, (weight, bias) in enumerate(self.unpack(theta), start=1):
            z = h @ weight.T + bias
            zs.append(z)
            if layer < self.depth:
                h = self.sigma(z)
        return zs

    def representations(self, theta: torch.Tensor, x: torch.Tensor) -> list[torch.Tensor]:
        """``[h[0] = x, h[1], ..., h[L-1]]``."""
        return [x] + [self.sigma(z) for z in self.preactivations(theta, x)[:-1]]

    def forward(self, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.preactivations(theta, x)[-1]

    def forward_from(self, theta: torch.Tensor, layer: int, z: torch.Tensor) -> torch.Tensor:
        """The output f computed from the pre-activation ``z[layer]`` onwards."""
        out = z
        for weight, bias in self.unpack(theta)[layer:]:
            out = self.sigma(out) @ weight.T + bias
        return out

    def loss(self, theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The risk R of :func:`risk` at ``theta``."""
        return risk(self.forward(theta, x), y)

    def loss_fn(self, x: torch.Tensor, y: torch.Tensor):
        """``theta -> R(theta)`` on fixed data, the form :mod:`companion.spectra` takes."""
        return lambda theta: self.loss(theta, x, y)

    def init(self, generator: torch.Generator, scale: float = 1.0,
             dtype=torch.float64) -> torch.Tensor:
        """Weights N(0, scale^2 / fan_in), biases N(0, scale^2): a generic (non-critical) point."""
        layers = []
        for m_in, m_out in zip(self.widths[:-1], self.widths[1:]):
            weight = torch.randn(m_out, m_in, generator=generator, dtype=dtype) * scale / m_in**0.5
            layers.append((weight, torch.randn(m_out, generator=generator, dtype=dtype) * scale))
        return self.pack(layers)


def risk(f: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``R = 1/(2n) sum_i ||f(x_i) - y_i||^2``, the loss of every net in this chapter; for
    outputs ``(..., n, k)`` of several nets, one risk per net."""
    return 0.5 * ((f - y) ** 2).sum((-2, -1)) / f.shape[-2]


def affine_design(x: torch.Tensor) -> torch.Tensor:
    """``[x 1]``: the inputs with a column of ones, so that ``[x 1] S`` is any affine map of x."""
    return torch.cat([x, torch.ones(x.shape[0], 1, dtype=x.dtype, device=x.device)], dim=1)


def affine_least_squares(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The ``(d + 1, k)`` matrix ``S = [x 1]^+ y`` of the best affine fit ``[x 1] S`` of y."""
    return torch.linalg.pinv(affine_design(x)) @ y


def least_squares_linear(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Parameters of the depth-1 net ``[d, k]`` minimising R exactly: the best affine fit."""
    solution = affine_least_squares(x, y)
    return MLP.pack([(solution[:-1].T, solution[-1])])


def activation_derivatives(activation: str, z: float) -> tuple[float, float, float]:
    """``(sigma(z), sigma'(z), sigma''(z))`` at a scalar z, by autograd."""
    sigma = ACTIVATIONS[activation]
    point = torch.tensor(float(z), dtype=torch.float64)
    first = grad(sigma)
    return float(sigma(point)), float(first(point)), float(grad(first)(point))


# --------------------------------------------------------------------------------------------
# The critical lifting operator (chapter section "The lifting operator")
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Lift:
    """A lifted point: the deeper net, its parameters and where the layer was inserted.

    The inserted layer is layer ``q + 1`` of ``net``: its first ``n_signal`` neurons are signal
    neurons, the rest constant neurons with signed outgoing weights ``eps``. Layer ``q + 2`` holds
    ``(W~, b~)``, which replaced the shallow net's ``(W[q+1], b[q+1])``.
    """

    net: MLP
    theta: torch.Tensor
    q: int
    n_signal: int
    c0: float
    eps: torch.Tensor

    @property
    def new_layer(self) -> int:
        return self.q + 1

    @property
    def n_constant(self) -> int:
        return len(self.eps)

    def constant_neuron_indices(self, j: int) -> torch.Tensor:
        """theta indices of constant neuron j's input weights and bias (the F4 block)."""
        return self.net.neuron_indices(self.new_layer, self.n_signal + j)

    def block_indices(self) -> torch.Tensor:
        """theta indices of ``(A, c, W~, b~)``: the parameters the lift created or changed."""
        return torch.cat([self.net.layer_indices(self.new_layer),
                          self.net.layer_indices(self.new_layer + 1)])


def neuron_roles(net: MLP, lift: Lift | None = None) -> list[list[str]]:
    """The role of every neuron of ``net``, layer by layer (figure 1's schematic).

    With ``lift`` (whose ``net`` is ``net``), the inserted layer ``q + 1`` is marked ``signal``
    and ``constant``; every other neuron is ``input``, ``hidden`` or ``output``.
    """
    roles = [["input"] * net.widths[0]]
    for layer, width in enumerate(net.widths[1:-1], start=1):
        inserted = lift is not None and layer == lift.new_layer
        roles.append(["signal"] * lift.n_signal + ["constant"] * lift.n_constant if inserted
                     else ["hidden"] * width)
    return roles + [["output"] * net.widths[-1]]


def alternating(magnitudes) -> torch.Tensor:
    """``(+e_1, -e_2, +e_3, ...)``: the outgoing weights of the constant neurons."""
    magnitudes = torch.as_tensor(magnitudes, dtype=torch.float64)
    signs = torch.tensor([(-1.0) ** j for j in range(len(magnitudes))], dtype=torch.float64)
    return signs * magnitudes.abs()


def critical_lift(net: MLP, theta: torch.Tensor, x: torch.Tensor, q: int,
                  signal: torch.Tensor, eps=(), c0: float = -1.0, margin: float = 0.5) -> Lift:
    """Insert a layer after representation ``h[q]`` (0 <= q <= L-1) keeping outputs on ``x``.

    The construction of the chapter section "The lifting operator":

    * signal neurons ``u_s = sigma(A_s h + c_s)`` with ``A_s = signal`` of full column rank and
      ``c_s = -min_i(A_s h_i) + margin`` elementwise, so every training pre-activation is
      ``>= margin`` where sigma is the identity; outgoing weights ``W~_s = W[q+1] A_s^+``;
    * constant neurons: zero input weights, bias ``c0``; neuron j sends ``eps[j]`` to every
      neuron of layer q+1 (use :func:`alternating` for alternating signs);
    * bias ``b~ = b[q+1] - W~_s c_s - W~_c sigma(c0)``.

    Then ``W~ u + b~ = W[q+1] A_s^+ A_s h + b[q+1] = W[q+1] h + b[q+1]`` on every training input,
    which is F1; every inserted neuron is affine on its training pre-activations, so the
    stationarity of the shallow point carries over (F2). Lift repeatedly for multi-step lifts.
    """
    if net.activation not in IDENTITY_ON_POSITIVES:
        raise ValueError("the exact lift needs sigma(z) = z for z > 0 (elu or relu), "
                         f"not {net.activation}")
    if not 0 <= q < net.depth:
        raise ValueError(f"q must be in [0, {net.depth - 1}] for depth {net.depth}, got {q}")
    dtype = theta.dtype
    layers = net.unpack(theta.detach())
    h = net.representations(theta.detach(), x)[q]
    signal = torch.as_tensor(signal, dtype=dtype)
    if signal.shape[1] != h.shape[1] or torch.linalg.matrix_rank(signal) < h.shape[1]:
        raise ValueError(f"signal must be (m', {h.shape[1]}) of full column rank")
    eps = torch.as_tensor(eps, dtype=dtype).reshape(-1)
    w_next, b_next = layers[q]
    a_signal = signal
    c_signal = -(h @ a_signal.T).min(dim=0).values + margin
    w_signal = w_next @ torch.linalg.pinv(a_signal)
    n_const = len(eps)
    a_const = torch.zeros(n_const, h.shape[1], dtype=dtype)
    c_const = torch.full((n_const,), float(c0), dtype=dtype)
    w_const = eps.expand(w_next.shape[0], n_const).clone()
    sigma_c0 = net.sigma(torch.tensor(float(c0), dtype=dtype))
    b_tilde = b_next - w_signal @ c_signal - w_const.sum(dim=1) * sigma_c0
    new_layer = (torch.cat([a_signal, a_const]), torch.cat([c_signal, c_const]))
    out_layer = (torch.cat([w_signal, w_const], dim=1), b_tilde)
    widths = net.widths[:q + 1] + (len(c_signal) + n_const,) + net.widths[q + 1:]
    deep = MLP(widths, net.activation)
    deep_theta = MLP.pack(layers[:q] + [new_layer, out_layer] + layers[q + 1:])
    return Lift(deep, deep_theta, q, len(c_signal), float(c0), eps)


# --------------------------------------------------------------------------------------------
# Gradients of the lifted blocks (chapter section "The lifting operator", F2)
# --------------------------------------------------------------------------------------------
def preactivation_errors(net: MLP, theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
                         layer: int) -> torch.Tensor:
    """``delta_i = dR/dz[layer]_i`` for every sample (rows), by autograd through the tail."""
    z = net.preactivations(theta, x)[layer - 1].detach()
    return grad(lambda zz: risk(net.forward_from(theta, layer, zz), y))(z)


def lifted_block_gradients(lift: Lift, delta: torch.Tensor, x: torch.Tensor) -> dict:
    """The closed-form gradients of the lifted blocks from the shallow errors ``delta``.

    With ``delta_i = dR/dz[q+1]_i`` of the shallow net and ``u_i`` the inserted layer's output:
    ``dR/dW~ = sum_i delta_i u_i^T``, ``dR/db~ = sum_i delta_i``,
    ``dR/d(A, c) = sum_i (W~^T delta_i * sigma'_i) [h_i; 1]^T`` and the error passed upstream,
    ``A^T (W~^T delta_i * sigma'_i)``. (``delta`` already carries the 1/n of R.)
    """
    layers = lift.net.unpack(lift.theta)
    a, c = layers[lift.q]
    w_tilde, _ = layers[lift.q + 1]
    h = lift.net.representations(lift.theta, x)[lift.q]
    pre = h @ a.T + c
    u = lift.net.sigma(pre)
    slope = torch.vmap(torch.vmap(grad(lift.net.sigma)))(pre)
    back = (delta @ w_tilde) * slope  # rows: W~^T delta_i * sigma'_i
    return {"W_tilde": delta.T @ u, "b_tilde": delta.sum(dim=0), "A": back.T @ h,
            "c": back.sum(dim=0), "upstream_error": back @ a}


# --------------------------------------------------------------------------------------------
# F4: the negative-curvature certificate of a constant neuron before the output
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Certificate:
    """F4 for a constant neuron inserted before the (scalar) output of a critical point.

    ``M = 1/n sum_i r_i h~_i h~_i^T``, ``C = 1/n sum_i h~_i h~_i^T``, ``mu`` the eigenvalue of M
    of largest modulus, ``eps_star`` the signed outgoing weight that minimises the upper bound
    on the block's curvature along mu's eigenvector, and ``bound`` that curvature.
    """

    m_tilde: torch.Tensor
    c_tilde: torch.Tensor
    mu: float
    lam_max_c: float
    eps_star: float
    bound: float


def f4_certificate(net: MLP, theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
                   c0: float = -1.0) -> Certificate:
    """F4. The block of the deep Hessian in a constant neuron's (input weights, bias) is

    ``B(eps) = eps sigma''(c0) M~ + eps^2 sigma'(c0)^2 C~`` (see :func:`f4_block`), so along the
    unit eigenvector v of M~ with eigenvalue mu, ``v^T B v <= eps s2 mu + eps^2 s1^2 lam_max(C~)``.
    Minimising over eps: ``eps* = -s2 mu / (2 s1^2 lam_max)`` and the bound
    ``-(s2 mu)^2 / (4 s1^2 lam_max)``. For ELU at c0 < 0, s1 = s2 = e^{c0}:
    ``|eps*| = |mu| / (2 e^{c0} lam_max)`` and bound ``-mu^2 / (4 lam_max)``.
    """
    if net.widths[-1] != 1:
        raise ValueError("F4 is stated for a scalar output")
    h = net.representations(theta, x)[-1]
    h_tilde = torch.cat([h, torch.ones(h.shape[0], 1, dtype=h.dtype)], dim=1)
    residual = (net.forward(theta, x) - y)[:, 0]
    n = h.shape[0]
    m_tilde = (h_tilde * residual[:, None]).T @ h_tilde / n
    c_tilde = h_tilde.T @ h_tilde / n
    eigs = torch.linalg.eigvalsh(m_tilde)
    mu = float(eigs[eigs.abs().argmax()])
    lam_max = float(torch.linalg.eigvalsh(c_tilde)[-1])
    _, s1, s2 = activation_derivatives(net.activation, c0)
    eps_star = -s2 * mu / (2 * s1**2 * lam_max)
    bound = -(s2 * mu) ** 2 / (4 * s1**2 * lam_max)
    return Certificate(m_tilde, c_tilde, mu, lam_max, eps_star, bound)


def f4_block(cert: Certificate, eps: float, activation: str, c0: float) -> torch.Tensor:
    """``eps sigma''(c0) M~ + eps^2 sigma'(c0)^2 C~``: F4's exact Hessian block."""
    _, s1, s2 = activation_derivatives(activation, c0)
    return eps * s2 * cert.m_tilde + eps**2 * s1**2 * cert.c_tilde


# --------------------------------------------------------------------------------------------
# Finding the shallow local minimum (Part 1, base (a))
# --------------------------------------------------------------------------------------------
LOSS_ROUNDING = 1e3 * torch.finfo(torch.float64).eps
"""Relative change of R below which a float64 loss comparison is rounding noise (a mean of
O(100) squared residuals carries ~100 ulps of rounding)."""


def saddle_free_newton(loss_fn, theta0: torch.Tensor, max_iter: int = 60,
                       step_rtol: float = 1e-12) -> tuple[torch.Tensor, list[float]]:
    """Saddle-free Newton: step ``-V |Lambda|^{-1} V^T g`` with backtracking (Part 1, base (a)).

    Replacing the Hessian's eigenvalues by their moduli makes every step a descent direction,
    so the iteration is repelled by saddles and converges quadratically to a local minimum.
    Eigenvalues below 1e-12 of the largest modulus are floored there to keep the step finite.

    Converged when the step is below ``step_rtol`` of ``|theta|``: the distance to the critical
    point in the metric of the curvature, which does not depend on the loss's scale as a
    gradient level does. Backtracking compares losses, so it only runs while the predicted
    decrease ``g^T |H|^{-1} g / 2`` is above the rounding of R; below it the full step is taken
    (a comparison there is noise, and would stall the iteration short of the critical point).
    Returns the last point and the relative step ``|step| / |theta|`` at each iterate.
    """
    theta = theta0.detach().clone()
    relative_steps = []
    for _ in range(max_iter):
        g = grad(loss_fn)(theta)
        # eigh reads one triangle only, so this needs no symmetrising (spectra.dense_hessian)
        lam, vecs = torch.linalg.eigh(hessian(loss_fn)(theta))
        modulus = lam.abs().clamp_min(1e-12 * float(lam.abs().max()))
        step = -vecs @ ((vecs.T @ g) / modulus)
        relative_steps.append(float(step.norm() / theta.norm()))
        if relative_steps[-1] < step_rtol:
            break
        current, t = float(loss_fn(theta)), 1.0
        resolvable = -0.5 * float(g @ step) > LOSS_ROUNDING * abs(current)
        while resolvable and float(loss_fn(theta + t * step)) > current and t > 1e-10:
            t *= 0.5
        theta = theta + t * step
    return theta, relative_steps


# --------------------------------------------------------------------------------------------
# Layer linearization and the size of the lifted manifold
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AffineFit:
    """Per neuron j, the least-squares line ``s(z_j) ~ slope_j z_j + intercept_j`` on the samples,
    its residual ``min_{a,b} ||s(z_j) - a z_j - b||^2`` and the spread ``||s(z_j) - mean||^2``."""

    slope: torch.Tensor
    intercept: torch.Tensor
    residual: torch.Tensor
    spread: torch.Tensor


def affine_fit(z: torch.Tensor, activation) -> AffineFit:
    """The :class:`AffineFit` of ``activation`` on ``z`` (``(..., n, m)``: m neurons, n samples,
    any leading axes, such as one per seed).

    Closed form in float64: slope ``cov(s, z) / var(z)``, residual ``var(s) - cov^2 / var(z)``.
    A neuron whose pre-activation is constant on the data is exactly affine: slope 0, intercept
    its value, residual 0.
    """
    z = z.detach().to(torch.float64)
    s = activation(z)
    zc, sc = z - z.mean(dim=-2, keepdim=True), s - s.mean(dim=-2, keepdim=True)
    var_z, var_s, cov = (zc**2).sum(-2), (sc**2).sum(-2), (zc * sc).sum(-2)
    constant = torch.zeros_like(var_z)
    slope = torch.where(var_z > 0, cov / var_z.clamp_min(1e-300), constant)
    explained = torch.where(var_z > 0, cov**2 / var_z.clamp_min(1e-300), constant)
    return AffineFit(slope, s.mean(-2) - slope * z.mean(-2), (var_s - explained).clamp_min(0),
                     var_s)


def nonlinearity_index(z: torch.Tensor, activation=torch.tanh) -> torch.Tensor:
    """``N = sum_j min_{a,b} ||s(z_j) - a z_j - b||^2 / sum_j ||s(z_j) - mean||^2`` (Part 2).

    ``z`` is ``(..., n, m)``: the pre-activations of one layer's m neurons on the n training
    inputs (one N per leading index). N = 0 means the layer computes an affine map on the
    training set ("layer linearization").
    """
    fit = affine_fit(z, activation)
    total = fit.spread.sum(-1)
    return torch.where(total > 0, fit.residual.sum(-1) / total.clamp_min(1e-300), 0.0)


def linearised_fraction(z: torch.Tensor) -> torch.Tensor:
    """Fraction of ReLU neurons that are single-signed on all inputs (the ReLU extension): such a
    neuron is affine on the training set (identity or zero), linearised by sign, not by scale.
    ``z`` is ``(..., n, m)``, one fraction per leading index."""
    return ((z >= 0).all(dim=-2) | (z <= 0).all(dim=-2)).double().mean(-1)


def fibre_dimension(net: MLP, theta: torch.Tensor, x: torch.Tensor,
                    params: torch.Tensor | None = None, layer: int | None = None,
                    rtol: float = 1e-10) -> int:
    """Dimension of the set of parameters (only ``params`` free) that keep ``z[layer](x_i)`` fixed.

    ``|params| - rank J`` with ``J = d z[layer](x_i) / d theta[params]`` over all samples, the rank
    counting singular values above ``rtol`` times the largest (Part 3). Defaults: every
    parameter, the output layer. At a lifted point this is the dimension of the lifted critical
    manifold through it (F5).
    """
    layer = net.depth if layer is None else layer
    params = torch.arange(net.n_params) if params is None else params

    def z_of(sub: torch.Tensor) -> torch.Tensor:
        return net.preactivations(theta.index_put((params,), sub), x)[layer - 1].reshape(-1)

    jac = jacrev(z_of)(theta[params])
    sv = torch.linalg.svdvals(jac)
    return len(params) - int((sv > rtol * sv[0]).sum())


def f5_dimension(p_block: int, k: int, h: torch.Tensor) -> int:
    """F5: ``P_block - k rank[H 1]``, which is ``P_block - k min(n, m_q + 1)`` for generic data.

    The lifted set is ``{(A, c, W~, b~): W~ A h_i + W~ c + b~ = W h_i + b for all i}`` in the
    affine regime; these are k rank[H 1] independent equations, so every added sample that is not
    an affine combination of the previous ones removes k dimensions until the rank saturates.
    """
    design = torch.cat([h, torch.ones(h.shape[0], 1, dtype=h.dtype)], dim=1)
    return p_block - k * int(torch.linalg.matrix_rank(design))
