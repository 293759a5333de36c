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

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .lifting import (ACTIVATIONS, affine_design, affine_least_squares, linearised_fraction,
                      nonlinearity_index, risk)

NORMS = ("none", "bn", "ln")


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


def train(model: NormedMLP, x: torch.Tensor, y: torch.Tensor, lr: float, steps: int,
          log_every: int) -> TrainingLog:
    """Full-batch Adam on ``R = 1/(2n) sum ||f - y||^2`` (float32), logging at steps 0, k, 2k..."""
    ls = least_squares_fit(x, y)
    fit_norm = float(ls.fit.norm())
    # fused: Adam in one kernel per step, 40% faster here than the default per-tensor loop; it
    # rounds differently, so the trajectory agrees with that loop to float32 precision (tested)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    rows = []
    for step in range(steps + 1):
        out, zs = model(x)
        loss = risk(out, y)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        if step % log_every == 0:
            indices = [nonlinearity_index(z, model.sigma) for z in zs]
            grad_norm = torch.cat([p.grad.reshape(-1) for p in model.parameters()]).norm()
            rows.append((step, loss.item(), max(indices), min(indices),
                         float((out.detach().double() - ls.fit).norm()) / fit_norm,
                         float(grad_norm), linearised_fraction(torch.cat(zs, dim=1).detach())))
        if step < steps:
            optimiser.step()
    columns = np.array(rows, dtype=np.float64).T
    return TrainingLog(*columns)


def build(d_in: int, width: int, depth: int, d_out: int, seed: int, norm: str = "none",
          activation: str = "tanh", init_scale: float = 0.1,
          hidden_bias: float = 0.0) -> NormedMLP:
    """A :class:`NormedMLP` whose initial weights are drawn from ``torch.manual_seed(seed)``."""
    torch.manual_seed(seed)
    return NormedMLP(d_in, width, depth, d_out, norm, activation, init_scale, hidden_bias)


def train_from_scratch(x: torch.Tensor, y: torch.Tensor, depth: int, width: int, seed: int,
                       lr: float, steps: int, log_every: int, norm: str = "none",
                       activation: str = "tanh", init_scale: float = 0.1,
                       hidden_bias: float = 0.0) -> TrainingLog:
    """:func:`build` a net for ``(x, y)`` and :func:`train` it; the log only."""
    model = build(x.shape[1], width, depth, y.shape[1], seed, norm, activation, init_scale,
                  hidden_bias)
    return train(model, x, y, lr, steps, log_every)


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
