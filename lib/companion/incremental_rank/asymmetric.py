"""Asymmetric matrix sensing, W = F G^T: the convergence-rate check of the incremental-rank
chapter (Fig. 5).

After Xiong, Ding, Du (ICLR 2024, arXiv 2310.01769). With the same ground truth X* as
:mod:`.sensing`, gradient descent on the symmetric factorisation U U^T converges linearly when
the width is exact (k = r) but only as ||W_t - X*||_F ~ 1/t when it is over-parameterised
(k = d); the asymmetric factorisation F G^T at k = d converges linearly again.

The measurements A_i are *non-symmetric* Gaussian matrices: with symmetrised A_i the
antisymmetric part of F G^T is unobservable and the runs stall at an O(alpha) error. As in
``sensing``, everything gradient descent needs passes through the Gram matrix of the vec(A_i).
"""

from __future__ import annotations

import math

import numpy as np

from ..progress import progress
from . import sensing

MEASUREMENT_SEED_OFFSET = 20_000  # default_rng(20000 + seed) draws the A_i
INIT_SEED_OFFSET = 30_000  # default_rng(30000 + seed) draws F_0, then G_0


def measurement_gram(dim: int, n_measurements: int, seed: int) -> np.ndarray:
    """``K = (1/m) sum_i vec(A_i) vec(A_i)^T`` for A_i iid N(0,1)^{d x d} (row-major vec)."""
    a = np.random.default_rng(MEASUREMENT_SEED_OFFSET + seed).standard_normal(
        (n_measurements, dim * dim))
    return sensing.mean_outer_product([a], dim * dim)


def initial_factors(dim: int, width: int, alpha: float, seed: int) -> tuple[np.ndarray, ...]:
    """``F_0, G_0 = alpha N(0,1)^{d x k} / sqrt(d)``, the scale of ``sensing.initial_factor``."""
    rng = np.random.default_rng(INIT_SEED_OFFSET + seed)
    return tuple(alpha * rng.standard_normal((dim, width)) / math.sqrt(dim) for _ in range(2))


def gradients(gram: np.ndarray, residual: np.ndarray, f: np.ndarray,
              g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hand-derived gradient of ``L(F, G) = (1/2m) sum_i <A_i, F G^T - X*>^2`` at the residual
    ``F G^T - X*``: ``(M G, M^T F)`` with ``M = (1/m) sum_i r_i A_i = unvec(K vec(F G^T - X*))``."""
    dim = residual.shape[0]
    m = sensing.symmetric_product(gram, residual.reshape(-1)).reshape(dim, dim)
    return m @ g, m.T @ f


def relative_errors(gram: np.ndarray, x_star: np.ndarray, f0: np.ndarray, g0: np.ndarray,
                    lr: float, steps: int) -> np.ndarray:
    """Gradient descent on (F, G) from (f0, g0); ``||F_t G_t^T - X*||_F / ||X*||_F``, t = 0..T."""
    f, g = f0.copy(), g0.copy()
    norm = np.linalg.norm(x_star)
    errors = np.empty(steps + 1)
    for t in progress(range(steps + 1), "asymmetric GD"):
        residual = f @ g.T - x_star
        errors[t] = np.linalg.norm(residual) / norm
        if t < steps:
            grad_f, grad_g = gradients(gram, residual, f, g)
            f, g = f - lr * grad_f, g - lr * grad_g
    return errors


def loglog_slope(errors: np.ndarray, start: int) -> float:
    """Least-squares slope of ln(error) on ln(t) for t = start..T: -1 for an error ~ 1/t."""
    t = np.arange(start, len(errors))
    return float(np.polyfit(np.log(t), np.log(errors[start:]), 1)[0])


def relative_errors_symmetric(problem: sensing.SensingProblem, u0: np.ndarray, lr: float,
                              steps: int) -> np.ndarray:
    """``||U_t U_t^T - X*||_F / ||X*||_F``, t = 0..T, of gradient descent on U from u0."""
    errors = np.empty(steps + 1)
    for t, (_, w, _) in enumerate(progress(sensing.iterates(problem, u0, lr, steps),
                                           f"GD, k = {u0.shape[1]}", total=steps + 1)):
        errors[t] = np.linalg.norm(w - problem.w_star)
    return errors / problem.norm_star


def rate_runs(problem: sensing.SensingProblem, alpha: float, lr: float, steps: int,
              seed: int) -> dict[str, np.ndarray]:
    """The three runs of Fig. 5: relative errors ``||W_t - X*||_F / ||X*||_F`` of symmetric GD
    at width r and d, and of asymmetric GD at width d, all from scale ``alpha``."""
    dim, rank = problem.dim, len(problem.sigmas)
    errors = {name: relative_errors_symmetric(
        problem, sensing.initial_factor(dim, width, alpha, seed), lr, steps)
        for name, width in (("symmetric_k_r", rank), ("symmetric_k_d", dim))}
    gram = measurement_gram(dim, problem.n_measurements, seed)
    errors["asymmetric_k_d"] = relative_errors(gram, problem.x_star,
                                               *initial_factors(dim, dim, alpha, seed), lr, steps)
    return errors
