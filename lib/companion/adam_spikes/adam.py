"""Instrumented Adam and the preconditioned-Hessian quantities of Bai et al. (arXiv 2506.04805).

Everything is float64. The chapter's section "Adam, its preconditioner, and the threshold"
states the definitions these functions implement.

* :class:`InstrumentedAdam` performs exactly the arithmetic of ``torch.optim.Adam`` (its CPU
  single-tensor path) on one flat parameter vector and keeps what the optimiser hides: the
  moments, the bias-corrected second moment ``v_hat`` and the diagonal preconditioner ``P_t``
  that was actually applied at step ``t`` (so ``v_hat_t`` already contains ``g_t``).
* :func:`preconditioned_curvature` turns Hessians (through their products with vectors),
  gradients and ``P_t`` into the quantities the paper compares with ``2 / lr``:
  ``lambda_max(H_hat)``, the gradient-directional curvature (two readings, A and B), the
  alignment of the preconditioned gradient with the top mode.
* Closed forms used as predictions: the pure-decay ratio of ``v_hat``, the 1-D crossing time
  ``t*`` and the frozen-preconditioner 2x2 map whose eigenvalue passes -1 at the threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..progress import progress
from ..spectra import top_eigenpairs


# --------------------------------------------------------------------------------------------
# The optimiser
# --------------------------------------------------------------------------------------------
AMSGRAD_VARIANTS = (None, "torch", "v_hat")


@dataclass(frozen=True)
class AdamOptions:
    """One run's Adam settings besides the learning rate; ``amsgrad`` says where AMSGrad keeps
    its running maximum, if anywhere (see :class:`InstrumentedAdam`)."""

    betas: tuple[float, float]
    eps: float
    amsgrad: str | None = None

    def __post_init__(self) -> None:
        if self.amsgrad not in AMSGRAD_VARIANTS:
            raise ValueError(f"amsgrad must be one of {AMSGRAD_VARIANTS}, got {self.amsgrad!r}")


class InstrumentedAdam:
    """``torch.optim.Adam`` on a batch of flat float64 vectors (the rows of ``theta``), each run
    with its own :class:`AdamOptions` (and learning rate, if ``lr`` is a list), with ``m``,
    ``v_hat`` and ``P_t`` exposed.

    ``m_t = b1 m + (1-b1) g``, ``v_t = b2 v + (1-b2) g^2``,
    ``theta -= lr * m_hat_t / (sqrt(v_hat_t) + eps)``. The operations and their order copy
    torch's ``_single_tensor_adam`` (``lerp_``, ``addcmul_`` of ``(1-b2) g`` and ``g``,
    ``sqrt() / sqrt(bc2) + eps``, ``addcdiv_``'s ``(value m) / denom``, the bias corrections in
    Python floats) so the parameters agree with ``torch.optim.Adam`` to the last bit on the test
    problems (tests/test_adam.py allows 1e-12 over 300 steps). Runs of a batch advance together
    (one tensor operation for all of them, the chapter's Part C) and never mix.

    ``amsgrad`` keeps a running maximum of the second moment, in one of two places:

    * ``"torch"``, as ``torch.optim.Adam(amsgrad=True)``: the maximum of the *raw* ``v``, then
      bias-corrected. ``v_hat`` can still shrink, by ``(1-b2^t)/(1-b2^(t+1))`` per step, which
      at b2 = 0.999 is a factor ~10 over the first few thousand steps;
    * ``"v_hat"``, ``v_hat <- max(v_hat_max, v_hat)`` on the bias-corrected moment (the chapter's
      Part C): the applied ``v_hat`` never decreases, so ``P_t`` never grows.
    """

    def __init__(self, theta: torch.Tensor, lr: float | list[float], options: list[AdamOptions]):
        if len(options) != len(theta):
            raise ValueError(f"{len(theta)} runs need as many options, got {len(options)}")
        self.lrs = [float(lr)] * len(options) if np.ndim(lr) == 0 else [float(x) for x in lr]
        if len(self.lrs) != len(theta):
            raise ValueError(f"{len(theta)} runs need as many learning rates, got {len(self.lrs)}")
        self.theta = theta.detach().clone()
        self.options = options
        self.beta1, self.beta2, self.eps = (self._per_run([o.betas[0] for o in options]),
                                            self._per_run([o.betas[1] for o in options]),
                                            self._per_run([o.eps for o in options]))
        self.max_of_v = self._per_run([o.amsgrad == "torch" for o in options], torch.bool)
        self.max_of_v_hat = self._per_run([o.amsgrad == "v_hat" for o in options], torch.bool)
        self.m = torch.zeros_like(self.theta)
        self.v = torch.zeros_like(self.theta)
        self.v_max = torch.zeros_like(self.theta)  # running max of v (or of v_hat)
        self.t = 0
        self.v_hat = torch.zeros_like(self.theta)  # second moment applied at the last step
        self.precond = torch.zeros_like(self.theta)  # diag of P_t applied at the last step

    @staticmethod
    def _per_run(values: list, dtype=torch.float64) -> torch.Tensor:
        """One value per run as a column, to broadcast against (runs, P)."""
        return torch.tensor(values, dtype=dtype)[:, None]

    def step(self, grad: torch.Tensor) -> torch.Tensor:
        """Apply step ``t`` with gradients ``g_t`` (taken at the current ``theta``); return theta."""
        self.t += 1
        self.m.lerp_(grad, 1 - self.beta1)
        self.v.mul_(self.beta2).addcmul_((1 - self.beta2) * grad, grad)
        bias_corrections = [(1 - o.betas[0] ** float(self.t), 1 - o.betas[1] ** float(self.t))
                            for o in self.options]
        step_size = self._per_run([-lr / first for lr, (first, _) in
                                   zip(self.lrs, bias_corrections)])
        bias_correction2 = self._per_run([second for _, second in bias_corrections])
        root2 = self._per_run([second ** 0.5 for _, second in bias_corrections])
        torch.maximum(self.v_max, torch.where(self.max_of_v_hat, self.v / bias_correction2,
                                              self.v), out=self.v_max)
        second = torch.where(self.max_of_v, self.v_max, self.v)
        denom = torch.where(self.max_of_v_hat, self.v_max.sqrt() + self.eps,
                            second.sqrt() / root2 + self.eps)
        self.v_hat = torch.where(self.max_of_v_hat, self.v_max, second / bias_correction2)
        self.precond = 1.0 / denom
        self.theta.add_(step_size * self.m / denom)
        return self.theta


@dataclass(frozen=True)
class AdamTrajectory:
    """One Adam run, indexed by step ``t = 1..T`` (array row ``t - 1``).

    ``theta[t-1]`` is the point where ``g_t`` was taken, ``loss[t-1] = L(theta[t-1])``, and
    ``v_hat``/``precond`` are the ones applied at step ``t``. Only ``loss`` is kept when the run
    was made with ``keep_state=False``; the other fields are then ``None``.
    """

    loss: np.ndarray
    theta: np.ndarray | None
    grad: np.ndarray | None
    v_hat: np.ndarray | None
    precond: np.ndarray | None

    @property
    def steps(self) -> np.ndarray:
        return np.arange(1, len(self.loss) + 1)


def run_adam(grad_and_loss, starts: torch.Tensor, steps: int, lr: float | list[float],
             options: list[AdamOptions], keep_state=True) -> list[AdamTrajectory]:
    """Full-batch Adam for ``steps`` steps from each row of ``starts`` with its options (and its
    learning rate, where ``lr`` is a list), all runs at once (``grad_and_loss`` maps (runs, P)
    to gradients and losses); one trajectory per run, recording the loss, and the state of the
    runs ``keep_state`` selects (all, none, or one bool per run)."""
    adam = InstrumentedAdam(starts, lr, options)
    kept = torch.from_numpy(np.flatnonzero(np.broadcast_to(keep_state, len(options))))
    rows = {name: [] for name in ("loss", "theta", "grad", "v_hat", "precond")}
    for _ in progress(range(steps), f"Adam, {len(options)} runs"):
        grad, loss = grad_and_loss(adam.theta)
        rows["loss"].append(loss)
        rows["theta"].append(adam.theta[kept])
        rows["grad"].append(grad[kept])
        adam.step(grad)
        rows["v_hat"].append(adam.v_hat[kept])
        rows["precond"].append(adam.precond[kept])
    stacked = {name: torch.stack(rows[name], dim=1).numpy() for name in rows}  # (runs, T, ...)
    states = dict(zip(kept.tolist(), range(len(kept))))
    return [AdamTrajectory(stacked["loss"][run], *(
        stacked[name][states[run]] if run in states else None
        for name in ("theta", "grad", "v_hat", "precond"))) for run in range(len(options))]


# --------------------------------------------------------------------------------------------
# The preconditioned Hessian
# --------------------------------------------------------------------------------------------
def momentum_factor(t, beta1: float):
    """``c_t = (1-b1)/(1+b1) / (1-b1^t)``: folds momentum and its bias correction into H_hat.

    With it the stability threshold of ``H_hat = c_t P_t H_t`` is ``2/lr``, the threshold of
    plain GD (derived for this chapter from the 2x2 map, :func:`frozen_adam_map`).
    """
    return (1 - beta1) / (1 + beta1) / (1 - beta1 ** np.asarray(t, dtype=float))


def frozen_adam_map(alpha: float, curvature: float, beta1: float) -> np.ndarray:
    """Adam on ``L = a theta^2 / 2`` with the preconditioner frozen, as a map on (theta, m).

    Effective step ``alpha = lr / (sqrt(v_hat) + eps)``, bias corrections dropped:
    ``m' = b1 m + (1-b1) a theta``, ``theta' = theta - alpha m'``. Its determinant is ``b1`` and
    an eigenvalue passes -1 exactly when ``alpha (1-b1) a = 2 (1+b1)`` (derived in the chapter).
    """
    a = curvature
    return np.array([[1 - alpha * (1 - beta1) * a, -alpha * beta1],
                     [(1 - beta1) * a, beta1]])


def frozen_map_threshold(curvature: float, beta1: float) -> float:
    """The ``alpha`` at which :func:`frozen_adam_map` loses stability: ``2(1+b1)/((1-b1) a)``."""
    return 2 * (1 + beta1) / ((1 - beta1) * curvature)


@dataclass(frozen=True)
class Curvature:
    """The curvature quantities at B steps, one entry per step; ``*_hat`` include ``c_t``
    (threshold ``2/lr``)."""

    lam_max_hat: np.ndarray  # c_t lambda_max(P^1/2 H P^1/2)
    lam_grad_a: np.ndarray  # c_t g^T P H g / |g|^2 (literal reading)
    lam_grad_b: np.ndarray  # c_t (Pg)^T H (Pg) / g^T P g (loss change along -Pg); used in claims
    lam_max_raw: np.ndarray  # lambda_max(H), no preconditioner
    cos_top: np.ndarray  # |<P^1/2 g, u1>| / |P^1/2 g|, u1 the top eigenvector of P^1/2 H P^1/2
    top_weights: np.ndarray  # (B, P) u1^2: weights of the coordinates in the top mode (sum 1)


def preconditioned_curvature(hessian_times, grad: np.ndarray, precond: np.ndarray, t,
                             beta1: float) -> Curvature:
    """``lambda_max(H_hat)``, ``lambda_grad^{A,B}(H_hat)`` and ``cos_t`` at B steps t, for
    symmetric Hessians given through ``hessian_times`` ((B, P) vectors -> their products, row b
    with the Hessian of step b), gradients and preconditioners (B, P).

    These are the chapter's definitions (section "Adam, its preconditioner, and the threshold").
    ``lambda_max(H_hat) = c_t lambda_max(P^1/2 H P^1/2)``: ``P H`` is similar to the symmetric
    ``P^1/2 H P^1/2``, so a symmetric eigensolver applies (:func:`companion.spectra.top_eigenpairs`,
    which needs only products). Reading B is the Rayleigh quotient of that matrix at
    ``P^1/2 g``, hence ``lambda_grad^B <= lambda_max(H_hat)``.
    """
    c = momentum_factor(t, beta1)
    batch, dim = grad.shape
    root = np.sqrt(precond)
    top_hat, top = top_eigenpairs(lambda v: root * hessian_times(root * v), dim, batch)
    pg = precond * grad
    scaled_grad = root * grad
    return Curvature(
        lam_max_hat=c * top_hat,
        lam_grad_a=c * _dot(pg, hessian_times(grad)) / _dot(grad, grad),
        lam_grad_b=c * _dot(pg, hessian_times(pg)) / _dot(grad, pg),
        lam_max_raw=top_eigenpairs(hessian_times, dim, batch)[0],
        cos_top=np.abs(_dot(scaled_grad, top)) / np.linalg.norm(scaled_grad, axis=1),
        top_weights=top ** 2,
    )


def _dot(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Row-wise inner products of two (B, P) arrays."""
    return np.einsum("bp,bp->b", u, v)


# --------------------------------------------------------------------------------------------
# Predictions while the gradient is negligible
# --------------------------------------------------------------------------------------------
def pure_decay_ratio(t, beta2: float):
    """``v_hat_t / v_hat_{t-1}`` when ``g_t^2 << v``: ``b2 (1-b2^(t-1)) / (1-b2^t)``.

    The bias correction matters: at t = 1400, b2 = 0.999 this is 0.99867, not 0.999.
    """
    t = np.asarray(t, dtype=float)
    return beta2 * (1 - beta2 ** (t - 1)) / (1 - beta2 ** t)


def crossing_time_1d(t0: int, v_hat_t0: float, curvature: float, lr: float, beta1: float,
                     beta2: float) -> float:
    """When ``c a lr / (2 sqrt(v_hat_t))`` reaches 1 on ``L = a theta^2/2`` under pure decay.

    ``t* = t0 + ln(v*/v_hat_t0) / ln b2`` with ``v* = (c a lr / 2)^2`` and ``c`` the
    large-t momentum factor; ``eps`` and the bias corrections (already < 1e-6 in the decay phase
    of Part A) are neglected.
    """
    c = (1 - beta1) / (1 + beta1)
    v_star = (c * curvature * lr / 2) ** 2
    return t0 + math.log(v_star / v_hat_t0) / math.log(beta2)


def secant_curvature(theta: np.ndarray, grad: np.ndarray, precond: np.ndarray,
                     beta1: float) -> np.ndarray:
    """Hessian-free curvature along the step taken (the chapter's negative results).

    ``c_t (g_{t+1} - g_t)^T d / (d^T P_t^{-1} d)`` with ``d = theta_{t+1} - theta_t``, for rows
    ``t = 1..T-1`` of a stored run: the secant version of the Rayleigh quotient of ``H_hat``
    along the momentum step. It tracks ``lambda_grad^B`` but crosses ``2/lr`` only at the onset.
    """
    step = np.diff(theta, axis=0)
    grad_change = np.diff(grad, axis=0)
    t = np.arange(1, len(theta))
    return (momentum_factor(t, beta1) * np.einsum("ij,ij->i", grad_change, step)
            / np.einsum("ij,ij->i", step, step / precond[:-1]))
