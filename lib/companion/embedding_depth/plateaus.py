"""Training plateaus at lifted critical points: small-initialisation MLPs under Adam.

The chapter's Part 2, its batch-normalisation controls and its ReLU extension. A
small-initialisation tanh net of any depth computes an almost affine function, so full-batch
training first fits the best affine map (the least-squares line) and stalls there: that point
is (approximately) the depth-1 net's critical point lifted into the deeper net, with every layer
linearised (N ~ 0). Normalisation layers change how close the hidden layers can get to linear.
This module trains such nets (float32) and logs the quantities the chapter reads off: loss,
nonlinearity index N per layer, distance to the least-squares fit, gradient norm, and the
fraction of single-signed (linearised) ReLU neurons.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..progress import progress
from .lifting import (ACTIVATIONS, affine_design, affine_least_squares, linearised_fraction,
                      nonlinearity_index, risk)

NORMS = ("none", "bn", "ln")
NORM_EPS = 1e-5  # BatchNorm1d's and LayerNorm's default


class NormedMLP(nn.Module):
    """``Linear -> [BatchNorm1d | LayerNorm] -> activation`` per hidden layer, then ``Linear``.

    Weights are drawn from N(0, scale^2 / fan_in), hidden biases set to ``hidden_bias`` (0 for the
    tanh runs, +2 for the ReLU sign-linearization runs of the ReLU extension), the output bias to
    0.
    Normalisation layers keep PyTorch's defaults (gain 1, shift 0) and BN runs in training mode
    on the full batch, so it always centres each neuron over the training set.
    """

    def __init__(self, d_in: int, width: int, depth: int, d_out: int = 1, norm: str = "none",
                 activation: str = "tanh", init_scale: float = 0.1, hidden_bias: float = 0.0):
        super().__init__()
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}")
        widths = [d_in] + [width] * depth + [d_out]
        self.norm = norm
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        norm_layer = {"none": lambda m: nn.Identity(), "bn": nn.BatchNorm1d,
                      "ln": nn.LayerNorm}[norm]
        self.norms = nn.ModuleList(norm_layer(width) for _ in range(depth))
        self.sigma = ACTIVATIONS[activation]
        with torch.no_grad():
            for i, linear in enumerate(self.linears):
                linear.weight.normal_(0.0, init_scale / linear.in_features**0.5)
                linear.bias.fill_(hidden_bias if i < depth else 0.0)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The output and the activation inputs ``z`` of each hidden layer (after the norm)."""
        zs, h = [], x
        for linear, norm in zip(self.linears[:-1], self.norms):
            zs.append(norm(linear(h)))
            h = self.sigma(zs[-1])
        return self.linears[-1](h), zs


@dataclass(frozen=True)
class LeastSquares:
    """The best affine fit ``f_LS`` of the targets and its risk ``L_lin`` (the plateau level)."""

    fit: torch.Tensor
    loss: float


def least_squares_fit(x: torch.Tensor, y: torch.Tensor) -> LeastSquares:
    """``f_LS = [x 1] [x 1]^+ y`` and ``L_lin = R(f_LS)``, computed in float64."""
    x64, y64 = x.double(), y.double()
    fit = affine_design(x64) @ affine_least_squares(x64, y64)
    return LeastSquares(fit, float(risk(fit, y64)))


@dataclass(frozen=True)
class TrainingLog:
    """Quantities logged every ``log_every`` steps, before the update of that step."""

    steps: np.ndarray
    loss: np.ndarray
    n_max: np.ndarray  # max over hidden layers of the nonlinearity index N: ~0 = all linear
    n_min: np.ndarray  # min over hidden layers: > 0 = no layer linear
    d_lin: np.ndarray  # ||f - f_LS|| / ||f_LS||
    grad_norm: np.ndarray
    linearised: np.ndarray  # fraction of hidden neurons single-signed on all inputs


class SeedStack:
    """The :class:`NormedMLP` of several seeds (one architecture) as one float32 tensor
    ``theta`` (seeds, P), each row a seed's parameters, so that one batched product per layer
    advances every seed and one Adam update the whole stack.

    The forward pass is :meth:`NormedMLP.forward` seed by seed: ``Linear`` as a batched product,
    BatchNorm by torch's own kernel (each seed's neuron is one channel, normalised over the
    training set), LayerNorm over each sample's neurons. The seeds never mix: the summed risk
    has each seed's gradient in its own row.
    """

    def __init__(self, models: list[NormedMLP], device: str = "cpu"):
        self.template = copy.deepcopy(models[0])  # the architecture, for :meth:`model`
        self.norm, self.sigma = models[0].norm, models[0].sigma
        rows = [torch.cat([p.detach().reshape(-1) for p in self._ordered(m)]) for m in models]
        self.theta = torch.stack(rows).to(device).requires_grad_()
        self.shapes = [p.shape for p in self._ordered(models[0])]

    @staticmethod
    def _ordered(model: NormedMLP) -> list[torch.Tensor]:
        """The parameters in the layout of a row of theta: weights, biases, gains, shifts."""
        return [*(l.weight for l in model.linears), *(l.bias for l in model.linears),
                *(n.weight for n in model.norms if model.norm != "none"),
                *(n.bias for n in model.norms if model.norm != "none")]

    def unpack(self, theta: torch.Tensor) -> tuple[list[torch.Tensor], ...]:
        """Weights, biases, gains and shifts, each (seeds, *shape), as views of ``theta``."""
        sizes = [shape.numel() for shape in self.shapes]
        views = [chunk.reshape(len(theta), *shape)
                 for chunk, shape in zip(theta.split(sizes, dim=1), self.shapes)]
        layers = len(self.template.linears)
        norms = (len(views) - 2 * layers) // 2
        return (views[:layers], views[layers:2 * layers], views[2 * layers:2 * layers + norms],
                views[2 * layers + norms:])

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Outputs (seeds, n, d_out) and the activation inputs ``z`` of each hidden layer
        (seeds, n, width), after the norm."""
        weights, biases, gains, shifts = self.unpack(self.theta)
        zs, h = [], x.expand(len(self.theta), *x.shape)
        for layer, (weight, bias) in enumerate(zip(weights[:-1], biases[:-1])):
            z = torch.baddbmm(bias[:, None, :], h, weight.transpose(1, 2))
            zs.append(self._normalise(z, gains[layer], shifts[layer]) if gains else z)
            h = self.sigma(zs[-1])
        return torch.baddbmm(biases[-1][:, None, :], h, weights[-1].transpose(1, 2)), zs

    def _normalise(self, z: torch.Tensor, gain: torch.Tensor, shift: torch.Tensor):
        if self.norm == "bn":
            seeds, n, width = z.shape
            channels = z.transpose(0, 1).reshape(n, seeds * width)
            normalised = F.batch_norm(channels, None, None, gain.reshape(-1), shift.reshape(-1),
                                      training=True, eps=NORM_EPS)
            return normalised.reshape(n, seeds, width).transpose(0, 1)
        return (F.layer_norm(z, z.shape[-1:], eps=NORM_EPS) * gain[:, None, :]
                + shift[:, None, :])

    def model(self, seed_index: int) -> NormedMLP:
        """One seed's net as a :class:`NormedMLP` on the CPU (for folding its layers)."""
        model = copy.deepcopy(self.template)
        with torch.no_grad():
            for parameter, value in zip(self._ordered(model),
                                        (v[seed_index] for group in self.unpack(self.theta)
                                         for v in group)):
                parameter.copy_(value)
        return model


@dataclass
class Adam:
    """``torch.optim.Adam`` with its default betas and eps on one tensor: the operations and their
    order of its single-tensor loop (``lerp_``, ``addcmul_``, ``sqrt() / sqrt(bc2) + eps``,
    ``addcdiv_``), without the optimiser's per-step bookkeeping, which costs more than the update
    itself at these sizes."""

    lr: float
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    t: int = 0
    m: torch.Tensor | None = None
    v: torch.Tensor | None = None

    def step(self, theta: torch.Tensor, grad: torch.Tensor) -> None:
        """Update ``theta`` in place with the gradient of step ``t + 1``."""
        beta1, beta2 = self.betas
        if self.m is None:
            self.m, self.v = torch.zeros_like(theta), torch.zeros_like(theta)
        self.t += 1
        self.m.lerp_(grad, 1 - beta1)
        self.v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        bias_correction1 = 1 - beta1 ** self.t
        bias_correction2 = 1 - beta2 ** self.t
        denom = (self.v.sqrt() / bias_correction2 ** 0.5).add_(self.eps)
        with torch.no_grad():
            theta.addcdiv_(self.m, denom, value=-self.lr / bias_correction1)


def train(nets: SeedStack, x: torch.Tensor, y: torch.Tensor, lr: float, steps: int,
          log_every: int) -> list[TrainingLog]:
    """Full-batch Adam on ``R = 1/(2n) sum ||f - y||^2`` (float32) for every seed of the stack at
    once, logging at steps 0, k, 2k, ...; one log per seed."""
    x, y = x.to(nets.theta.device), y.to(nets.theta.device)
    ls = least_squares_fit(x, y)
    fit_norm = ls.fit.norm()
    optimiser = Adam(lr)
    rows = []
    label = f"{len(nets.template.norms)} hidden layers, norm {nets.norm}, {len(nets.theta)} seeds"
    for step in progress(range(steps + 1), label):
        out, zs = nets.forward(x)
        loss = risk(out, y)
        nets.theta.grad = None
        loss.sum().backward()
        if step % log_every == 0:
            rows.append(_log_row(nets, step, loss, out, zs, ls.fit, fit_norm))
        if step < steps:
            optimiser.step(nets.theta, nets.theta.grad)
    columns = torch.stack(rows, dim=1).cpu().numpy()  # (seeds, logged steps, 7)
    return [TrainingLog(*seed.T) for seed in columns]


def _log_row(nets: SeedStack, step: int, loss, out, zs, fit, fit_norm) -> torch.Tensor:
    """The :class:`TrainingLog` row of every seed at one step, (seeds, 7), without leaving the
    device (no synchronisation with a GPU until the run ends)."""
    indices = torch.stack([nonlinearity_index(z, nets.sigma) for z in zs], dim=1)
    return torch.stack([torch.full_like(indices[:, 0], step), loss.detach().double(),
                        indices.max(1).values, indices.min(1).values,
                        (out.detach().double() - fit).norm(dim=(1, 2)) / fit_norm,
                        nets.theta.grad.norm(dim=1).double(),
                        linearised_fraction(torch.cat(zs, dim=2).detach())], dim=1)


def build(d_in: int, width: int, depth: int, d_out: int, seed: int, norm: str = "none",
          activation: str = "tanh", init_scale: float = 0.1,
          hidden_bias: float = 0.0) -> NormedMLP:
    """A :class:`NormedMLP` whose initial weights are drawn from ``torch.manual_seed(seed)``."""
    torch.manual_seed(seed)
    return NormedMLP(d_in, width, depth, d_out, norm, activation, init_scale, hidden_bias)


def train_from_scratch(x: torch.Tensor, y: torch.Tensor, depth: int, width: int, seeds,
                       lr: float, steps: int, log_every: int, norm: str = "none",
                       activation: str = "tanh", init_scale: float = 0.1,
                       hidden_bias: float = 0.0, device: str = "cpu") -> list[TrainingLog]:
    """:func:`build` a net for ``(x, y)`` from each seed and :func:`train` them together; the
    logs only, one per seed."""
    nets = SeedStack([build(x.shape[1], width, depth, y.shape[1], seed, norm, activation,
                            init_scale, hidden_bias) for seed in seeds], device)
    return train(nets, x, y, lr, steps, log_every)


def plateau_mask(log: TrainingLog, l_lin: float, tol: float = 0.05) -> np.ndarray:
    """Logged steps where ``|R - L_lin| / L_lin < tol``: the net sits at the lifted LS point."""
    return np.abs(log.loss - l_lin) / l_lin < tol


def plateau_steps(log: TrainingLog, l_lin: float, tol: float = 0.05) -> int:
    """Number of steps spent on the plateau (logged steps in the mask times the log interval)."""
    interval = int(log.steps[1] - log.steps[0]) if len(log.steps) > 1 else 1
    return int(plateau_mask(log, l_lin, tol).sum()) * interval


def t_half(log: TrainingLog, l_lin: float) -> float:
    """First logged step with ``R < L_lin / 2`` (the net has left the plateau); inf if never."""
    below = np.nonzero(log.loss < 0.5 * l_lin)[0]
    return float(log.steps[below[0]]) if len(below) else float("inf")


@dataclass(frozen=True)
class PlateauSummary:
    """What claims A3 and A4 read off one training run (Part 2 and its BN section)."""

    plateau_steps: int
    t_half: float
    n_on_plateau: float  # median over the plateau of max-over-layers N; nan if no plateau
    d_lin_on_plateau: float  # median over the plateau of d_lin; nan if no plateau
    n_min: float  # min over time and layers of N: > 0 means no layer was ever linear

    def row(self) -> str:
        return (f"plateau steps {self.plateau_steps:5d}, t_half {self.t_half:6.0f}, "
                f"N on plateau {self.n_on_plateau:.2e}, d_lin {self.d_lin_on_plateau:.3f}, "
                f"min N {self.n_min:.2e}")


def summarise(log: TrainingLog, l_lin: float) -> PlateauSummary:
    """The :class:`PlateauSummary` of ``log`` against the least-squares level ``l_lin``."""
    on = plateau_mask(log, l_lin)

    def median_on_plateau(values: np.ndarray) -> float:
        return float(np.median(values[on])) if on.any() else float("nan")

    return PlateauSummary(plateau_steps(log, l_lin), t_half(log, l_lin),
                          median_on_plateau(log.n_max), median_on_plateau(log.d_lin),
                          float(log.n_min.min()))
