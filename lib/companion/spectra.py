"""Curvature of a loss given as a function of one flat parameter vector.

Every function takes ``loss_fn: theta -> scalar`` (a 1-D tensor in, a 0-D tensor out), so any
model can use them once its parameters are flattened (``companion.lifting.MLP`` works this way).

* :func:`dense_hessian` builds the full matrix with ``torch.func.hessian`` (P up to a few
  thousand in float64);
* :func:`hvp` is a Hessian-vector product, forward-over-reverse (``jvp`` of ``grad``), costing
  about two gradients and never forming the matrix;
* :func:`lanczos` / :func:`extreme_eigenpairs` find the extreme eigenvalues from HVPs alone. The
  Lanczos iteration here keeps the whole Krylov basis and re-orthogonalises every new vector
  against it (twice, "twice is enough"), which removes the ghost eigenvalues of the plain
  three-term recurrence at the cost of O(P k) memory, fine for the k <= a few hundred used here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.func import grad, hessian, jvp


def dense_hessian(loss_fn, theta: torch.Tensor) -> torch.Tensor:
    """The (P, P) Hessian of ``loss_fn`` at ``theta``, symmetrised against round-off."""
    matrix = hessian(loss_fn)(theta)
    return 0.5 * (matrix + matrix.T)


def hvp(loss_fn, theta: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``H(theta) v`` as the directional derivative of the gradient: ``d/dt grad(theta + t v)``."""
    return jvp(grad(loss_fn), (theta,), (v,))[1]


def hvp_operator(loss_fn, theta: torch.Tensor):
    """``v -> H(theta) v`` with theta fixed, as :func:`lanczos` takes it."""
    theta = theta.detach()
    return lambda v: hvp(loss_fn, theta, v)


@dataclass(frozen=True)
class Ritz:
    """Ritz values (ascending) and vectors (columns) of a Lanczos run."""

    values: np.ndarray
    vectors: np.ndarray
    n_iter: int


def lanczos(matvec, dim: int, n_iter: int, seed: int = 0, dtype=torch.float64) -> Ritz:
    """Lanczos with full re-orthogonalisation on a symmetric operator ``matvec`` of size ``dim``.

    Builds an orthonormal basis Q of the Krylov space of a random start vector and the
    tridiagonal ``T = Q^T A Q``; the eigenpairs of T (Ritz pairs) converge first at both ends of
    the spectrum. Stops early if the Krylov space becomes invariant (then the Ritz values are
    exact eigenvalues of A restricted to it).
    """
    n_iter = min(n_iter, dim)
    rng = np.random.default_rng(seed)
    q = rng.standard_normal(dim)
    basis = np.zeros((dim, n_iter))
    alphas, betas = [], []
    q /= np.linalg.norm(q)
    for j in range(n_iter):
        basis[:, j] = q
        w = matvec(torch.as_tensor(q, dtype=dtype)).detach().cpu().numpy().astype(np.float64)
        alphas.append(float(q @ w))
        for _ in range(2):
            w -= basis[:, :j + 1] @ (basis[:, :j + 1].T @ w)
        beta = float(np.linalg.norm(w))
        if j == n_iter - 1 or beta <= 1e-12 * max(1.0, abs(alphas[-1])):
            break
        betas.append(beta)
        q = w / beta
    k = len(alphas)
    tri = np.diag(alphas) + np.diag(betas[:k - 1], 1) + np.diag(betas[:k - 1], -1)
    values, small = np.linalg.eigh(tri)
    return Ritz(values, basis[:, :k] @ small, k)


def extreme_eigenpairs(loss_fn, theta: torch.Tensor, n_iter: int = 80,
                       seed: int = 0) -> tuple[float, np.ndarray, float, np.ndarray]:
    """``(lambda_min, v_min, lambda_max, v_max)`` of the Hessian at theta, by Lanczos on HVPs."""
    ritz = lanczos(hvp_operator(loss_fn, theta), theta.numel(), n_iter, seed, theta.dtype)
    return ritz.values[0], ritz.vectors[:, 0], ritz.values[-1], ritz.vectors[:, -1]


def inertia(eigenvalues, rtol: float = 1e-9) -> tuple[int, int, int]:
    """``(# negative, # zero, # positive)``, "zero" meaning ``|lambda| <= rtol max|lambda|``."""
    eigenvalues = np.asarray(eigenvalues)
    threshold = rtol * np.abs(eigenvalues).max()
    negative = int((eigenvalues < -threshold).sum())
    zero = int((np.abs(eigenvalues) <= threshold).sum())
    return negative, zero, len(eigenvalues) - negative - zero
