"""The minimum-nuclear-norm completion N* = min ||X||_* subject to P * X = P * M*.

ADMM on the splitting X = Y, Y feasible, with rho = 1 (chapter section "Setting"):
X <- SVT_{1/rho}(Y - U), Y <- M* on the observed entries and X + U elsewhere, U <- U + X - Y.
Y is always feasible, so ||Y||_* is an upper bound on N*. At a fixed point -rho U is a
subgradient of the nuclear norm supported on the observed entries, so G = P * (-rho U) scaled
into the unit operator-norm ball is dual feasible and <G, M*> / max(1, ||G||_op) is a
certified lower bound: the gap between the two bounds says how far from N* we can be.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .graph import observation_graph


@dataclass(frozen=True)
class MinimumNuclearNorm:
    """Per problem: the feasible completion, its nuclear norm (upper bound on N*), the
    certified lower bound and the iterations ADMM ran."""

    completion: np.ndarray
    upper: np.ndarray
    lower: np.ndarray
    iterations: np.ndarray

    @property
    def value(self) -> np.ndarray:
        return self.upper

    @property
    def gap(self) -> np.ndarray:
        return self.upper - self.lower


def singular_value_threshold(matrices: np.ndarray, threshold: float) -> np.ndarray:
    """The proximal map of threshold * ||.||_*: shrink every singular value by threshold."""
    u, s, vt = np.linalg.svd(matrices)
    return (u * np.maximum(s - threshold, 0.0)[..., None, :]) @ vt


def minimum_nuclear_norm(targets: np.ndarray, masks: np.ndarray, rho: float = 1.0,
                         tolerance: float = 1e-10, check_every: int = 50,
                         max_iterations: int = 20_000) -> MinimumNuclearNorm:
    """ADMM on a batch of problems (problems, d, d); each stops, and is frozen, when both the
    primal residual ||X - Y||_F and the dual residual rho ||Y - Y_prev||_F are below
    ``tolerance`` at a check."""
    targets = np.asarray(targets, dtype=float)
    observed = np.asarray(masks, dtype=bool)
    y = np.where(observed, targets, 0.0)
    u = np.zeros_like(targets)
    iterations = np.full(len(targets), max_iterations)
    active = np.arange(len(targets))
    for iteration in range(1, max_iterations + 1):
        x = singular_value_threshold(y[active] - u[active], 1.0 / rho)
        y_previous = y[active]
        y[active] = np.where(observed[active], targets[active], x + u[active])
        u[active] += x - y[active]
        if iteration % check_every == 0:
            primal = np.linalg.norm(x - y[active], axis=(1, 2))
            dual = rho * np.linalg.norm(y[active] - y_previous, axis=(1, 2))
            converged = (primal < tolerance) & (dual < tolerance)
            iterations[active[converged]] = iteration
            active = active[~converged]
            if not len(active):
                break
    dual_certificate = np.where(observed, -rho * u, 0.0)
    scale = np.maximum(1.0, np.linalg.norm(dual_certificate, ord=2, axis=(1, 2)))
    lower = np.sum(dual_certificate * targets, axis=(1, 2)) / scale
    upper = np.linalg.svd(y, compute_uv=False).sum(axis=-1)
    return MinimumNuclearNorm(y, upper, lower, iterations)


def block_nuclear_norm(target: np.ndarray, mask: np.ndarray) -> float:
    """N* in closed form for a disconnected pattern whose edge components are full blocks:
    the sum of the blocks' nuclear norms (the pinching inequality gives >=, the block-diagonal
    completion gives <=)."""
    observed = np.asarray(mask, dtype=bool)
    components = observation_graph(observed).components
    if not all(observed[np.ix_(rows, columns)].all() for rows, columns in components):
        raise ValueError("the closed form needs every edge component to be a full block")
    return float(sum(np.linalg.svd(target[np.ix_(rows, columns)], compute_uv=False).sum()
                     for rows, columns in components))
