"""Symmetric matrix sensing: gradient descent on U U^T from small initialisation, and GLRL.

Implements the setting of Jin, Li, Lyu, Du, Lee, "Understanding Incremental Learning of
Gradient Descent: A Fine-grained Analysis of Matrix Sensing" (ICML 2023, arXiv 2301.11500) and
the Greedy Low-Rank Learning of Li, Luo, Lyu (ICLR 2021, arXiv 2012.09839), in the notation of
the chapter's Setting.

Symmetric d x d matrices are stored by their isometric half-vectorisation ``svec`` (diagonal,
then sqrt(2) times the upper triangle), so that <A, B> = svec(A) . svec(B) and Frobenius
distances are Euclidean distances. The measurements are noiseless, y_i = <A_i, X*>, so the
residuals are r_i = <A_i, W - X*> and everything GD needs passes through one p x p matrix
K = (1/m) sum_i svec(A_i) svec(A_i)^T (p = d(d+1)/2): the m measurements never enter the loop.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import scipy.optimize
from scipy.linalg import blas

from ..progress import progress

PROBLEM_SEED_OFFSET = 0  # default_rng(seed) draws the problem
INIT_SEED_OFFSET = 10_000  # default_rng(10000 + seed) draws U_0


# ---------------------------------------------------------------------------------------------
# Half-vectorisation
# ---------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _svec_layout(dim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Flat indices of the upper triangle and their sqrt(2) weights, and the inverse map."""
    rows, cols = np.triu_indices(dim)
    scale = np.where(rows == cols, 1.0, math.sqrt(2.0))
    position = np.empty((dim, dim), dtype=np.intp)
    position[rows, cols] = position[cols, rows] = np.arange(len(rows))
    return rows * dim + cols, scale, position, 1.0 / scale[position]


def svec(matrices: np.ndarray) -> np.ndarray:
    """Isometric half-vectorisation of symmetric matrices (..., d, d) -> (..., d(d+1)/2)."""
    dim = matrices.shape[-1]
    upper, scale, _, _ = _svec_layout(dim)
    return matrices.reshape(*matrices.shape[:-2], dim * dim)[..., upper] * scale


def unsvec(vector: np.ndarray, dim: int) -> np.ndarray:
    """Inverse of :func:`svec` for one vector: the symmetric d x d matrix."""
    _, _, position, inverse_scale = _svec_layout(dim)
    return vector[position] * inverse_scale


# ---------------------------------------------------------------------------------------------
# The problem (chapter Setting; Jin et al. 2023, Section 6)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SensingProblem:
    """Ground truth X* = Q diag(sigmas) Q^T and the measurement Gram matrix K = A*A / m.

    ``gram`` acts on svec coordinates: svec((1/m) sum_i <A_i, M> A_i) = gram @ svec(M).
    """

    x_star: np.ndarray  # (d, d)
    q: np.ndarray  # (d, r) orthonormal eigenvectors of X*
    sigmas: np.ndarray  # (r,) eigenvalues of X*, decreasing
    gram: np.ndarray  # (p, p)
    n_measurements: int

    @property
    def dim(self) -> int:
        return self.x_star.shape[0]

    @functools.cached_property
    def w_star(self) -> np.ndarray:
        return svec(self.x_star)

    @property
    def norm_star(self) -> float:
        """n* = ||X*||_F, the normaliser of every distance."""
        return float(np.linalg.norm(self.x_star))


def gaussian_measurements(rng: np.random.Generator, n_measurements: int, dim: int,
                          chunk: int = 1000):
    """Yield svec(A_i) in chunks, A_i = (G_i + G_i^T)/2 with G_i iid N(0,1)^{d x d} (Setting).

    Chunks draw the same stream as one call for all m matrices, and bound the memory at
    d = 50, m = 10 000 (the full stack would take 200 MB).
    """
    for start in range(0, n_measurements, chunk):
        g = rng.standard_normal((min(chunk, n_measurements - start), dim, dim))
        yield svec((g + g.transpose(0, 2, 1)) / 2)


def mean_outer_product(chunks, size: int) -> np.ndarray:
    """``(1/m) sum_i a_i a_i^T`` over the rows a_i of every chunk: a Gram matrix K, exactly
    symmetric. BLAS syrk fills one triangle (half the flops of ``a.T @ a``); it is mirrored."""
    gram, count = np.zeros((size, size), order="F"), 0
    for a in chunks:
        gram = blas.dsyrk(1.0, a.T, beta=1.0, c=gram, overwrite_c=1)  # the upper triangle
        count += len(a)
    return (np.triu(gram) + np.triu(gram, 1).T) / count


def symmetric_product(gram: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``K v`` for a symmetric K, by BLAS symv: it reads one triangle, half the memory traffic of
    ``K @ v``, which bounds the speed of every GD step once K outgrows the cache. K equals its
    transpose, a Fortran-ordered view that BLAS reads without a copy."""
    return blas.dsymv(1.0, gram.T, v)


def make_problem(dim: int, sigmas, n_measurements: int, seed: int) -> SensingProblem:
    """The sensing problem of the chapter's Setting, drawn from default_rng(seed).

    Q = QR(N(0,1)^{d x r}) is drawn first, then the m measurement matrices.
    """
    sigmas = np.asarray(sigmas, dtype=np.float64)
    rng = np.random.default_rng(PROBLEM_SEED_OFFSET + seed)
    q, _ = np.linalg.qr(rng.standard_normal((dim, len(sigmas))))
    x_star = (q * sigmas) @ q.T
    gram = mean_outer_product(gaussian_measurements(rng, n_measurements, dim),
                              dim * (dim + 1) // 2)
    return SensingProblem(x_star, q, sigmas, gram, n_measurements)


def error(problem: SensingProblem, w: np.ndarray) -> float:
    """Train error E(W) = (1/m) sum_i r_i^2 = svec(W - X*)^T K svec(W - X*), for W = unsvec(w).

    Its expectation over the measurements is ||W - X*||_F^2 (Setting).
    """
    diff = w - problem.w_star
    return float(diff @ symmetric_product(problem.gram, diff))


def residual_matrix(problem: SensingProblem, w: np.ndarray) -> np.ndarray:
    """G(W) = (1/m) sum_i r_i A_i, the gradient of E/4 with respect to W."""
    return unsvec(symmetric_product(problem.gram, w - problem.w_star), problem.dim)


def gradient(problem: SensingProblem, u: np.ndarray) -> np.ndarray:
    """Hand-derived gradient of f(U) = (1/4m) sum_i (<A_i, UU^T> - y_i)^2: (1/m) sum_i r_i A_i U."""
    return residual_matrix(problem, svec(u @ u.T)) @ u


def spectral_matrix(problem: SensingProblem) -> np.ndarray:
    """(1/m) sum_i y_i A_i = A*A(X*) / m, the spectral initialiser of the rank-s solutions."""
    return unsvec(symmetric_product(problem.gram, problem.w_star), problem.dim)


def initial_factor(dim: int, width: int, alpha: float, seed: int) -> np.ndarray:
    """U_0 = alpha Gbar / sqrt(d), Gbar iid N(0,1)^{d x k} from default_rng(10000 + seed)."""
    g = np.random.default_rng(INIT_SEED_OFFSET + seed).standard_normal((dim, width))
    return alpha * g / math.sqrt(dim)


# ---------------------------------------------------------------------------------------------
# Gradient descent (chapter Setting)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Trajectory:
    """GD iterates t = 0..T: svec(W_t), E(W_t) and the eigenvalues of W_t (decreasing)."""

    path: np.ndarray  # (T+1, p)
    errors: np.ndarray  # (T+1,)
    eigenvalues: np.ndarray  # (T+1, k): the nonzero spectrum of W_t = U_t U_t^T


def iterates(problem: SensingProblem, u0: np.ndarray, lr: float, steps: int):
    """Gradient descent U <- U - lr (1/m) sum_i r_i A_i U: yield ``(U_t, svec(W_t), K svec(W_t -
    X*))`` for t = 0..steps (the last is the residual that the next step would apply).

    A run that converges linearly (k = r) reaches, after a few thousand steps, a fixed point of
    the floating-point map: a step that leaves every entry of U unchanged. Every later iterate
    is then that one, so it is yielded again without being recomputed (the same numbers).
    """
    u = u0.copy()
    for t in range(steps + 1):
        w = svec(u @ u.T)
        g = symmetric_product(problem.gram, w - problem.w_star)
        yield u, w, g
        if t < steps:
            following = u - lr * unsvec(g, problem.dim) @ u
            if np.array_equal(following, u):
                for _ in range(t + 1, steps + 1):
                    yield u, w, g
                return
            u = following


def gradient_descent(problem: SensingProblem, u0: np.ndarray, lr: float,
                     steps: int) -> Trajectory:
    """:func:`iterates` for ``steps`` steps, recording every W_t, E(W_t) and its spectrum."""
    path = np.empty((steps + 1, problem.gram.shape[0]))
    errors = np.empty(steps + 1)
    eigenvalues = np.empty((steps + 1, u0.shape[1]))
    for t, (u, w, g) in enumerate(progress(iterates(problem, u0, lr, steps),
                                           f"GD, k = {u0.shape[1]}", total=steps + 1)):
        path[t] = w
        errors[t] = (w - problem.w_star) @ g
        # U^T U has the nonzero eigenvalues of U U^T, and no rounding noise in the zero ones
        eigenvalues[t] = np.linalg.eigvalsh(u.T @ u)[::-1]
    return Trajectory(path, errors, eigenvalues)


def _descend_to_stationarity(problem: SensingProblem, u: np.ndarray, lr: float,
                             grad_tol: float, max_steps: int, path: list | None = None,
                             min_eigenvalue: float = 0.0):
    """Plain GD (:func:`iterates`) until ||grad f(U)||_F < grad_tol; appends svec(W) of every
    iterate to ``path``.

    The test counts only once the smallest eigenvalue of U^T U is >= ``min_eigenvalue``. A GLRL
    phase starts at a saddle, where the gradient can already be below grad_tol (the new column
    contributes sqrt(epsilon) lambda, 1e-11 at epsilon = 1e-20), so it must not stop before the
    new direction has been learnt.
    """
    learnt = min_eigenvalue <= 0
    for t, (u, w, g) in enumerate(iterates(problem, u, lr, max_steps)):
        if t == max_steps:
            break
        if path is not None:
            path.append(w)
        learnt = learnt or np.linalg.eigvalsh(u.T @ u)[0] >= min_eigenvalue
        if learnt and np.linalg.norm(unsvec(g, problem.dim) @ u) < grad_tol:
            return u
    raise RuntimeError(f"GD did not reach ||grad|| < {grad_tol:g} in {max_steps} steps")


# ---------------------------------------------------------------------------------------------
# Best rank-s solutions (chapter Setting)
# ---------------------------------------------------------------------------------------------
def best_rank_solution(problem: SensingProblem, rank: int, method: str = "gd", lr: float = 0.2,
                       grad_tol: float = 1e-12, max_steps: int = 200_000) -> np.ndarray:
    """X_s = argmin f over PSD matrices of rank <= s, as U U^T with U in R^{d x s}.

    Starts from the top-s eigenpairs of (1/m) sum_i y_i A_i (eigenvectors scaled by sqrt of the
    eigenvalue). ``method="gd"`` runs plain GD; ``"lbfgs"`` first runs scipy's L-BFGS (much faster
    at d = 50, the paper-mode size). Both end with GD until ||grad f|| < grad_tol, so they stop by
    the same rule.
    """
    if rank == 0:
        return np.zeros((problem.dim, problem.dim))
    values, vectors = np.linalg.eigh(spectral_matrix(problem))
    u = vectors[:, -rank:] * np.sqrt(np.clip(values[-rank:], 0.0, None))
    if method == "lbfgs":
        shape = u.shape

        def loss_and_grad(flat):
            v = flat.reshape(shape)
            return error(problem, svec(v @ v.T)) / 4, gradient(problem, v).ravel()

        result = scipy.optimize.minimize(
            loss_and_grad, u.ravel(), jac=True, method="L-BFGS-B",
            options={"maxiter": 100_000, "maxcor": 30, "ftol": 0.0, "gtol": grad_tol})
        u = result.x.reshape(shape)
    elif method != "gd":
        raise ValueError(f"unknown method '{method}': use 'gd' or 'lbfgs'")
    u = _descend_to_stationarity(problem, u, lr, grad_tol, max_steps)
    return u @ u.T


def best_rank_solutions(problem: SensingProblem, method: str = "gd") -> list[np.ndarray]:
    """[X_0, X_1, ..., X_r] with X_0 = 0 and X_r = X* (the measurements are noiseless)."""
    return [best_rank_solution(problem, s, method) for s in range(len(problem.sigmas) + 1)]


# ---------------------------------------------------------------------------------------------
# Stages
# ---------------------------------------------------------------------------------------------
def distances(path: np.ndarray, target: np.ndarray, norm: float) -> np.ndarray:
    """dist(t) = ||W_t - target||_F / norm for every svec(W_t) on the path."""
    return np.linalg.norm(path - svec(target), axis=1) / norm


def eigen_coordinates(path: np.ndarray, q: np.ndarray) -> np.ndarray:
    """(q_j^T W_t q_j)_j for every W_t on the path: coordinates along the eigenvectors of X*."""
    return path @ svec(np.einsum("ij,kj->jik", q, q)).T


# ---------------------------------------------------------------------------------------------
# Greedy Low-Rank Learning (Li, Luo, Lyu 2021, Algorithm 1, depth 2)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GLRLResult:
    path: np.ndarray  # (n, p): svec of every iterate, phases concatenated, starting at W = 0
    endpoints: list  # W at the end of each phase, d x d
    phase_starts: np.ndarray  # index into path where each phase begins


def glrl(problem: SensingProblem, lr: float, epsilon: float, grad_tol: float = 1e-9,
         escape_tol: float = 1e-6, error_tol: float = 1e-16,
         max_steps: int = 200_000) -> GLRLResult:
    """Greedy Low-Rank Learning: grow U one column at a time from the top escape direction.

    From U empty: take v, the top eigenvector of -G(W) with G the residual matrix; stop if its
    eigenvalue is below escape_tol * sigma_1; else append sqrt(epsilon) v as a new column of U and
    run GD (same lr) until ||grad f|| < grad_tol, counted once lambda_min(U^T U) has reached half
    the escape eigenvalue (the new direction has been learnt). Stop once E(W) < error_tol.
    """
    u = np.zeros((problem.dim, 0))
    path = [svec(u @ u.T)]
    endpoints, starts = [], []
    while True:
        values, vectors = np.linalg.eigh(-residual_matrix(problem, svec(u @ u.T)))
        if values[-1] < escape_tol * problem.sigmas.max():
            break
        u = np.hstack([u, math.sqrt(epsilon) * vectors[:, -1:]])
        starts.append(len(path))
        u = _descend_to_stationarity(problem, u, lr, grad_tol, max_steps, path,
                                     min_eigenvalue=values[-1] / 2)
        endpoints.append(u @ u.T)
        if error(problem, path[-1]) < error_tol:
            break
    return GLRLResult(np.array(path), endpoints, np.array(starts))


# ---------------------------------------------------------------------------------------------
# Distance between two paths (chapter section on GLRL)
# ---------------------------------------------------------------------------------------------
def polyline_distances(points: np.ndarray, vertices: np.ndarray,
                       block: int = 256) -> np.ndarray:
    """Euclidean distance of each point to the polyline through ``vertices`` (rows).

    Each point is projected on every segment [a, b] (parameter clipped to [0, 1]), not only on the
    vertices: coarse GLRL steps in fast transitions would otherwise inflate the distance.
    """
    if len(vertices) == 1:
        vertices = np.vstack([vertices, vertices])
    a = vertices[:-1]
    e = vertices[1:] - a
    ee = np.einsum("ij,ij->i", e, e)
    aa = np.einsum("ij,ij->i", a, a)
    ae = np.einsum("ij,ij->i", a, e)
    inverse_ee = np.divide(1.0, ee, out=np.zeros_like(ee), where=ee > 0)
    out = np.empty(len(points))
    for start in range(0, len(points), block):
        p = points[start:start + block]
        pv = p @ vertices.T  # one product serves <p, a> and <p, e> = <p, b> - <p, a>
        along = pv[:, 1:] - pv[:, :-1] - ae  # <p - a, e>
        t = np.clip(along * inverse_ee, 0.0, 1.0)
        # ||p - a - t e||^2 = ||p||^2 - 2<p, a> + ||a||^2 + t (t ||e||^2 - 2 <p - a, e>)
        d2 = aa - 2 * pv[:, :-1] + t * (t * ee - 2 * along)
        # the Gram expansion finds the nearest segment; the distance to it is recomputed from
        # differences, since the expansion loses digits when the distance is small
        nearest = d2.argmin(axis=1)
        rows = np.arange(len(p))
        foot = a[nearest] + t[rows, nearest, None] * e[nearest]
        out[start:start + block] = np.linalg.norm(p - foot, axis=1)
    return out


def path_distance(path_a: np.ndarray, path_b: np.ndarray, norm: float) -> float:
    """H = max of the two one-sided point-to-polyline distances between the paths, / norm."""
    return max(polyline_distances(path_a, path_b).max(),
               polyline_distances(path_b, path_a).max()) / norm
