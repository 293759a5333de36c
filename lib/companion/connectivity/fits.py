"""Best low-rank fits to the observed entries: W*_s = argmin over rank(W) <= s of L(W).

L-BFGS on rank-s factors W = A B^T from several N(0, 1) restarts, keeping the lowest loss
(chapter section "Plateaus at the best rank-s fits"): the rank-s problem is not convex, and a
single start can end in a worse local minimum.
"""

from __future__ import annotations

import numpy as np
import scipy.optimize

from .dynamics import loss


def _loss_and_gradient(flat: np.ndarray, target: np.ndarray, observed: np.ndarray, rank: int):
    a, b = flat.reshape(2, len(target), rank)
    residual = observed * (a @ b.T - target)
    return 0.5 * np.sum(residual**2), np.concatenate([(residual @ b).ravel(),
                                                       (residual.T @ a).ravel()])


def best_rank_fit(target: np.ndarray, mask: np.ndarray, rank: int, restarts: int = 10,
                  seed: int = 0) -> np.ndarray:
    """W*_s of a square target for s = ``rank`` (the zero matrix for rank 0): the best of
    ``restarts`` L-BFGS runs on rank-s factors, started from N(0, 1) draws of default_rng(seed)."""
    if rank == 0:
        return np.zeros_like(target, dtype=float)
    observed = np.asarray(mask, dtype=float)
    rng = np.random.default_rng(seed)
    best, best_loss = None, np.inf
    for _ in range(restarts):
        start = rng.standard_normal(2 * len(target) * rank)
        solution = scipy.optimize.minimize(
            _loss_and_gradient, start, args=(target, observed, rank), jac=True,
            method="L-BFGS-B", options={"maxiter": 20_000, "ftol": 0.0, "gtol": 1e-13})
        a, b = solution.x.reshape(2, len(target), rank)
        fit = a @ b.T
        if loss(fit, target, observed) < best_loss:
            best, best_loss = fit, loss(fit, target, observed)
    return best
