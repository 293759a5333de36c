"""Curvature of a loss given as a function of one flat parameter vector.

* :func:`dense_hessian` builds the full matrix with ``torch.func.hessian`` (double autodiff:
  fine for the few-dozen-parameter nets of the embedding chapter, hours for thousands);
* :func:`hvp` is a Hessian-vector product, forward-over-reverse (``jvp`` of ``grad``), costing
  about two gradients and never forming the matrix;
* :func:`top_eigenpairs` finds the largest eigenvalue and its eigenvector of many symmetric
  operators at once, each given only through products ``v -> A v`` (a closed-form Hessian-vector
  product, or :func:`hvp`): from a dense eigendecomposition of the columns ``A e_j`` while the
  dimension is small, and above :data:`DENSE_MAX_DIM` by Lanczos, stopping each operator as soon
  as its top Ritz pair has converged. The Hessians of the book's nets have a few outlying
  eigenvalues over a bulk near zero, so Lanczos needs a dozen products where the dense route
  needs the whole matrix and an O(P^3) eigendecomposition (``benchmarks/results.md`` measures
  where the two meet).
"""

from __future__ import annotations

import numpy as np
import torch
from torch.func import grad, hessian, jvp

DENSE_MAX_DIM = 32  # up to this many parameters the dense route is faster (benchmarks/results.md)
LANCZOS_TOL = 1e-12  # stop when ||A u - theta u|| <= LANCZOS_TOL |theta| for the top Ritz pair


def dense_hessian(loss_fn, theta: torch.Tensor) -> torch.Tensor:
    """The (P, P) Hessian of ``loss_fn`` at ``theta``, symmetrised against round-off."""
    matrix = hessian(loss_fn)(theta)
    return 0.5 * (matrix + matrix.T)


def hvp(loss_fn, theta: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``H(theta) v`` as the directional derivative of the gradient: ``d/dt grad(theta + t v)``."""
    return jvp(grad(loss_fn), (theta,), (v,))[1]


def top_eigenpairs(matvec, dim: int, batch: int, seed: int = 0,
                   tol: float = LANCZOS_TOL) -> tuple[np.ndarray, np.ndarray]:
    """``(values, vectors)``: the largest eigenvalue (B,) and a unit eigenvector (B, dim) of each
    of ``batch`` symmetric operators; ``matvec`` maps a (B, dim) array of vectors, row b for
    operator b, to their products."""
    if dim <= DENSE_MAX_DIM:
        columns = np.stack([matvec(np.broadcast_to(e, (batch, dim))) for e in np.eye(dim)], -1)
        values, vectors = np.linalg.eigh(0.5 * (columns + columns.swapaxes(-1, -2)))
        return values[:, -1], vectors[:, :, -1]
    return _lanczos_top(matvec, dim, batch, seed, tol)


def _lanczos_top(matvec, dim: int, batch: int, seed: int,
                 tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Lanczos with full re-orthogonalisation (twice, "twice is enough"), one Krylov basis per
    operator, all from the same random start vector.

    After iteration j the tridiagonal ``T_j = Q_j^T A Q_j`` gives the Ritz pairs; the top one,
    ``(theta, Q_j s)``, has residual ``||A Q_j s - theta Q_j s|| = beta_j |s_j|``. Each operator
    keeps the pair of the first iteration where that residual is within ``tol |theta|`` (or the
    last, j = dim, where the Krylov space is the whole space), so its result does not depend on
    the other operators of the batch.
    """
    start = np.random.default_rng(seed).standard_normal(dim)
    q = np.tile(start / np.linalg.norm(start), (batch, 1))
    basis = np.empty((batch, dim, dim if dim <= 64 else 64))  # columns q_0, q_1, ...
    alphas, betas = np.zeros((batch, dim)), np.zeros((batch, dim))
    values, vectors = np.full(batch, np.nan), np.full((batch, dim), np.nan)
    pending = np.ones(batch, dtype=bool)
    for j in range(dim):
        if j == basis.shape[2]:
            basis = np.concatenate([basis, np.empty_like(basis)], axis=2)[:, :, :dim]
        basis[:, :, j] = q
        w = matvec(q)
        alphas[:, j] = np.einsum("bd,bd->b", q, w)
        current = basis[:, :, :j + 1]
        for _ in range(2):
            w = w - (current @ (current.swapaxes(1, 2) @ w[:, :, None]))[:, :, 0]
        betas[:, j] = np.linalg.norm(w, axis=1)
        ritz, small = np.linalg.eigh(_tridiagonal(alphas[pending, :j + 1],
                                                  betas[pending, :j]))
        residual = betas[pending, j] * np.abs(small[:, -1, -1])
        done = (residual <= tol * np.abs(ritz[:, -1])) | (j == dim - 1)
        members = np.flatnonzero(pending)[done]
        values[members] = ritz[done, -1]
        vectors[members] = (current[members] @ small[done, :, -1:])[:, :, 0]
        pending[members] = False
        if not pending.any():
            break
        q = w / np.maximum(betas[:, j], np.finfo(float).tiny)[:, None]
    return values, vectors


def _tridiagonal(diagonal: np.ndarray, off: np.ndarray) -> np.ndarray:
    """The (B, k, k) symmetric tridiagonal matrices with the given diagonals."""
    k = diagonal.shape[1]
    matrices = np.zeros((len(diagonal), k, k))
    index = np.arange(k)
    matrices[:, index, index] = diagonal
    matrices[:, index[:-1], index[1:]] = matrices[:, index[1:], index[:-1]] = off
    return matrices


def inertia(eigenvalues, rtol: float = 1e-9) -> tuple[int, int, int]:
    """``(# negative, # zero, # positive)``, "zero" meaning ``|lambda| <= rtol max|lambda|``."""
    eigenvalues = np.asarray(eigenvalues)
    threshold = rtol * np.abs(eigenvalues).max()
    negative = int((eigenvalues < -threshold).sum())
    zero = int((np.abs(eigenvalues) <= threshold).sum())
    return negative, zero, len(eigenvalues) - negative - zero
