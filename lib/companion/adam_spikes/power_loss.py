"""One-dimensional losses ``L = a x^k / k``: Part A (k = 2) and Part D (k = 4) of the chapter.

Scalar loops in Python floats (float64): at one parameter they are ~30x faster than tensors and
need no vectorisation.

* k = 2 is the 1-D quadratic of Bai et al. (arXiv 2506.04805): GD with ``a lr << 2`` converges
  monotonically, Adam spikes once ``v_hat`` has decayed enough.
* k >= 3 is the degenerate polynomial of Bai, Zhao, Zhou, Xu, Zhang (arXiv 2603.09581): GD and
  heavy ball converge sublinearly, Adam (``m0 = g0``, ``v0 = g0^2``, ``eps = 0``, no bias
  correction) linearly, at a per-step log-loss slope ``k ln b2 / (2 (k-2))``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .adam import momentum_factor
from .spikes import running_max, runs_above


@dataclass(frozen=True)
class Trace:
    """A 1-D run indexed by step ``t = 1..T`` (array row ``t - 1``): ``x[t-1]`` is where ``g_t``
    was taken. For Adam, ``v_hat``/``precond`` are those applied at step t (else empty)."""

    x: np.ndarray
    loss: np.ndarray
    grad: np.ndarray
    v_hat: np.ndarray
    precond: np.ndarray

    @property
    def steps(self) -> np.ndarray:
        return np.arange(1, len(self.loss) + 1)


def _trace(rows: list[tuple]) -> Trace:
    """Rows ``(x, L, g[, v_hat, P])`` to a Trace; GD rows leave ``v_hat``/``precond`` empty."""
    columns = [np.array(c) for c in zip(*rows)]
    return Trace(*columns, *[np.empty(0)] * (5 - len(columns)))


def power_loss(x: float, k: int, curvature: float = 1.0) -> tuple[float, float]:
    """``(L, dL/dx)`` of ``L = a x^k / k`` (with ``|x|^k`` so that odd k stays bounded below)."""
    return curvature * abs(x) ** k / k, curvature * abs(x) ** (k - 1) * math.copysign(1.0, x)


def adam(k: int, x0: float, steps: int, lr: float, beta1: float, beta2: float, eps: float,
         curvature: float = 1.0, bias_correction: bool = True, start_from_gradient: bool = False,
         amsgrad: str | None = None) -> Trace:
    """Adam on ``a x^k / k``, the recursion of :class:`companion.adam.InstrumentedAdam`.

    ``bias_correction=True, start_from_gradient=False`` is ``torch.optim.Adam`` (Part A).
    ``bias_correction=False, start_from_gradient=True, eps=0`` is the companion paper's Adam
    (Part D, its section 4): ``m_0 = g_0``, ``v_0 = g_0^2``. ``amsgrad`` is ``None``,
    ``"torch"`` (running maximum of the raw ``v``) or ``"v_hat"`` (of the bias-corrected one).

    In float64, ``v`` reaches the subnormal range once Adam has converged ~300 decades; the run
    then stops early (fewer than ``steps`` rows) rather than divide by an underflowed ``v_hat``.
    """
    x = x0
    _, g0 = power_loss(x0, k, curvature)
    m, v = (g0, g0 * g0) if start_from_gradient else (0.0, 0.0)
    v_max = v_hat_max = v
    rows = []
    for t in range(1, steps + 1):
        loss, g = power_loss(x, k, curvature)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        bc1, bc2 = (1 - beta1 ** t, 1 - beta2 ** t) if bias_correction else (1.0, 1.0)
        v_max = max(v_max, v)
        v_hat_max = max(v_hat_max, v / bc2)
        v_hat = {None: v / bc2, "torch": v_max / bc2, "v_hat": v_hat_max}[amsgrad]
        if v_hat < np.finfo(float).tiny and eps == 0:
            break
        precond = 1.0 / (math.sqrt(v_hat) + eps)
        rows.append((x, loss, g, v_hat, precond))
        x = x - lr * (m / bc1) * precond
    return _trace(rows)


def gradient_descent(k: int, x0: float, steps: int, lr: float, momentum: float = 0.0,
                     curvature: float = 1.0) -> Trace:
    """GD, or heavy ball in torch's SGD form ``b = mu b + g``, ``x -= lr b`` (``momentum=mu``)."""
    x, buffer, rows = x0, 0.0, []
    for _ in range(steps):
        loss, g = power_loss(x, k, curvature)
        rows.append((x, loss, g))
        buffer = momentum * buffer + g
        x = x - lr * buffer
    return _trace(rows)


# --------------------------------------------------------------------------------------------
# Predictions (arXiv 2603.09581)
# --------------------------------------------------------------------------------------------
def adam_linear_rate(k: int, beta2: float) -> float:
    """Per-step slope of ``ln L`` for Adam at ``x^k/k``: ``k ln b2 / (2 (k-2))`` (ln b2 at k=4).

    At the linear fixed point ``x_{t+1}/x_t = q`` the update must keep ``m / sqrt(v)``
    proportional to x: ``v ~ b2^t`` (pure decay) forces ``q^(k-2) = sqrt(b2)``.
    """
    return k * math.log(beta2) / (2 * (k - 2))


def gradient_flow(t, k: int, lr: float, x0: float = 1.0):
    """Gradient flow of ``x^k/k`` at time ``lr t``: ``x = (x0^-(k-2) + (k-2) lr t)^(-1/(k-2))``.

    GD with a small step follows it; heavy ball with momentum mu follows it at ``lr/(1-mu)``.
    """
    t = np.asarray(t, dtype=float)
    return (x0 ** -(k - 2) + (k - 2) * lr * t) ** (-1.0 / (k - 2))


def sublinear_exponent(k: int) -> float:
    """Asymptotic power of the loss under gradient flow: ``L ~ t^(-k/(k-2))`` (-2 at k=4)."""
    return -k / (k - 2)


def adam_regime(k: int, beta1: float, beta2: float) -> str:
    """Which of the three regimes (chapter Part D) Adam with these betas is in on ``x^k/k``.

    The linear fixed point is stable iff ``b1 < b2^(k/(2(k-2)))`` and exists iff
    ``b1 < b2^((k-1)/(2(k-2)))``: "linear" (stable), "spiking" (exists, unstable) or
    "oscillating" (no fixed point: SignGD-like bouncing).
    """
    if beta1 < beta2 ** (k / (2 * (k - 2))):
        return "linear"
    if beta1 < beta2 ** ((k - 1) / (2 * (k - 2))):
        return "spiking"
    return "oscillating"


def fitted_log_slope(trace: Trace, x_low: float, x_high: float) -> float:
    """Least-squares slope of ``ln L`` against the step, over the steps with ``x_low < |x| <
    x_high`` (Part D fits while ``|x| > 1e-45``, above float64 underflow of ``g^2``)."""
    keep = (np.abs(trace.x) > x_low) & (np.abs(trace.x) < x_high)
    return float(np.polyfit(trace.steps[keep], np.log(trace.loss[keep]), 1)[0])


def flow_power(k: int, lr: float, first_step: int, last_step: int) -> float:
    """:func:`fitted_power` of the gradient flow's loss over steps ``first_step..last_step``:
    the exponent a run of that length can show (``-k/(k-2)`` only once ``lr t >> 1``)."""
    t = np.arange(first_step, last_step + 1)
    return float(np.polyfit(np.log(t), np.log(gradient_flow(t - 1, k, lr) ** k / k), 1)[0])


def fitted_power(trace: Trace, first_step: int) -> float:
    """Least-squares slope of ``ln L`` against ``ln t`` from ``first_step`` to the end."""
    keep = trace.steps >= first_step
    return float(np.polyfit(np.log(trace.steps[keep]), np.log(trace.loss[keep]), 1)[0])


# --------------------------------------------------------------------------------------------
# Part A: anatomy of the first spike on a quadratic (chapter Part A)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QuadraticSpike:
    """The first spike of Adam on ``a x^2 / 2``; indices are array rows (step = index + 1).

    ``h_hat`` is ``H_hat_t lr / 2 = c_t a P_t lr / 2`` (threshold 1). ``t_cross`` is its first
    upward crossing of 1, ``t_down`` the next downward one, ``t_next`` the one after (or the
    end); the spike's peak is the loss maximum in ``[t_cross, t_next)``. ``envelope`` is the
    10-step running maximum of the loss, which hides the zeros of the oscillating iterate.
    """

    h_hat: np.ndarray
    envelope: np.ndarray
    t_cross: int
    t_down: int
    t_pk: int
    t_env_min: int  # argmin of the envelope before the peak: where the loss starts to rise
    t_jump: int  # first index after t_cross with g^2 > v_hat: the gradient takes over v_hat
    t_decay: int  # first index with g^2 / v_hat < 1e-3: the pure-decay phase begins
    log10_amplitude: float  # log10(L(t_pk) / envelope(t_env_min))


def episode_rises(trace: Trace, h_hat: np.ndarray, envelope_width: int = 10) -> np.ndarray:
    """Per episode of ``h_hat > 1``: log10 of the loss peak before the next episode over the
    ``envelope_width``-step envelope at its start. Part A's spike, cycle after cycle."""
    starts = [first for first, _ in runs_above(h_hat, 1.0)]
    envelope = running_max(trace.loss, envelope_width)
    return np.array([np.log10(trace.loss[a:b].max() / envelope[a])
                     for a, b in zip(starts, starts[1:] + [len(h_hat)])])


def quadratic_spike(trace: Trace, lr: float, beta1: float, curvature: float,
                    envelope_width: int = 10) -> QuadraticSpike:
    """Locate the first spike of a Part A run and the events around it."""
    h_hat = momentum_factor(trace.steps, beta1) * curvature * trace.precond * lr / 2
    above = h_hat > 1
    t_cross = int(np.argmax(above))
    t_down = t_cross + int(np.argmax(~above[t_cross:]))
    later = np.flatnonzero(above[t_down:])
    t_next = t_down + int(later[0]) if len(later) else len(above)
    t_pk = t_cross + int(np.argmax(trace.loss[t_cross:t_next]))
    envelope = running_max(trace.loss, envelope_width)
    t_env_min = int(np.argmin(envelope[:t_pk]))
    ratio = trace.grad ** 2 / trace.v_hat
    return QuadraticSpike(
        h_hat=h_hat, envelope=envelope, t_cross=t_cross, t_down=t_down, t_pk=t_pk,
        t_env_min=t_env_min, t_jump=t_cross + int(np.argmax(ratio[t_cross:] > 1)),
        t_decay=int(np.argmax(ratio < 1e-3)),
        log10_amplitude=float(np.log10(trace.loss[t_pk] / envelope[t_env_min])))
