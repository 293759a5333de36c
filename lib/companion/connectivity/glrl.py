"""Greedy Low-Rank Learning (GLRL, Li, Luo, Lyu, ICLR 2021, arXiv 2012.09839) for completion.

GLRL is the small-initialisation limit of gradient flow on a factorised model: start from the
empty factorisation; in each phase take the top singular pair (u, v) of the negative gradient
-P * (W - M*), the direction in which adding rank lowers the loss fastest, append sqrt(eps) u
to A and sqrt(eps) v to B, and run GD until it converges. It stops when the top singular value
falls below a tolerance (chapter section "Beyond the paper: GLRL on disconnected data").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .dynamics import descend


@dataclass(frozen=True)
class GreedyPath:
    """GLRL's final completion and the completion at the end of each phase."""

    completion: np.ndarray
    phase_ends: tuple[np.ndarray, ...]


def glrl(target: np.ndarray, mask: np.ndarray, learning_rate: float, epsilon: float,
         tolerance: float = 1e-9, check_every: int = 100, max_steps: int = 200_000) -> GreedyPath:
    """GLRL on one square problem. A phase's GD stops at the first check (every
    ``check_every`` steps) where the gradient norm is below ``tolerance``; sqrt(eps) times the
    top singular value must exceed ``tolerance``, or a phase would stop before it starts."""
    observed = np.asarray(mask, dtype=float)
    dim = len(target)
    a, b = np.zeros((1, dim, 0)), np.zeros((1, dim, 0))
    phase_ends = []
    for _ in range(dim):
        u, s, vt = np.linalg.svd(-observed * (a[0] @ b[0].T - target))
        if s[0] <= tolerance:
            break
        a = np.concatenate([a, np.sqrt(epsilon) * u[None, :, :1]], axis=2)
        b = np.concatenate([b, np.sqrt(epsilon) * vt[None, :1, :].swapaxes(1, 2)], axis=2)
        for _ in range(max_steps // check_every):
            run = descend(target, mask, a, b, learning_rate, check_every)
            a, b = run.a, run.b
            residual = observed * (run.w[0] - target)
            gradient = np.hypot(np.linalg.norm(residual @ b[0]), np.linalg.norm(residual.T @ a[0]))
            if gradient < tolerance:
                break
        phase_ends.append(a[0] @ b[0].T)
    return GreedyPath(phase_ends[-1], tuple(phase_ends))
