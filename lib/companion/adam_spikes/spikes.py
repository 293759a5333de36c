"""Loss spikes of Adam on a two-layer tanh network: the model, the detector, the per-spike story.

The network is the paper's first experiment (Bai et al., arXiv 2506.04805): a width-m tanh layer
fitting ``sin x + sin 4x`` on 40 points, full batch, float64; the widths, learning rate and step
counts here are this book's reconstruction (chapter Part B). The detector and the per-spike
diagnostics follow the chapter's Part B.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..progress import progress
from .adam import AdamTrajectory, preconditioned_curvature, pure_decay_ratio


# --------------------------------------------------------------------------------------------
# The network, on one flat parameter vector theta = (a, w, b, c), P = 3m + 1
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TanhNet:
    """``f(x) = sum_k a_k tanh(w_k x + b_k) + c`` and ``L = mean((f - y)^2) / 2``."""

    x: torch.Tensor
    y: torch.Tensor
    width: int

    @classmethod
    def sine_task(cls, n_points: int, width: int) -> "TanhNet":
        """The paper's target ``sin x + sin 4x`` on ``linspace(-pi, pi, n_points)``."""
        x = torch.linspace(-math.pi, math.pi, n_points, dtype=torch.float64)
        return cls(x, torch.sin(x) + torch.sin(4 * x), width)

    def init(self, seed: int) -> torch.Tensor:
        """``w, b ~ N(0, 1)``, ``a ~ N(0, 1/m)``, ``c = 0`` (drawn in that order from ``seed``)."""
        generator = torch.Generator().manual_seed(seed)
        w, b, a = (torch.randn(self.width, generator=generator, dtype=torch.float64)
                   for _ in range(3))
        return torch.cat([a / math.sqrt(self.width), w, b, torch.zeros(1, dtype=torch.float64)])

    def _unpack(self, theta: torch.Tensor):
        m = self.width
        return theta[..., :m], theta[..., m:2 * m], theta[..., 2 * m:3 * m], theta[..., 3 * m]

    def loss(self, theta: torch.Tensor) -> torch.Tensor:
        """The training loss at one point; differentiable, so ``torch.func`` gives its exact
        Hessian."""
        a, w, b, c = self._unpack(theta)
        residual = torch.tanh(torch.outer(self.x, w) + b) @ a + c - self.y
        return 0.5 * (residual ** 2).mean()

    def grad_and_loss(self, thetas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Hand-derived gradients and losses at each row of ``thetas`` (runs, P), all runs in one
        batched product (2x faster than autograd for one run; tested against it). A batch of
        one run gives the gradient of the unbatched products bit for bit; in larger batches the
        products round differently (by 1e-16).

        With ``h = tanh(x w^T + b)`` and ``r = (f - y)/n``: ``dL/da = h^T r``,
        ``dL/dw = a * ((1-h^2)^T (r x))``, ``dL/db = a * ((1-h^2)^T r)``, ``dL/dc = sum r``.
        """
        a, w, b, c = self._unpack(thetas)
        h = torch.tanh(self.x[:, None] * w[:, None, :] + b[:, None, :])
        r = ((h @ a[:, :, None])[:, :, 0] + c[:, None] - self.y) / len(self.x)
        s = (1 - h * h) * r[:, :, None]
        grad = torch.cat([(r[:, None, :] @ h)[:, 0], (self.x @ s) * a, s.sum(1) * a,
                          r.sum(1, keepdim=True)], dim=1)
        return grad, 0.5 * len(self.x) * (r * r).sum(1)

    def hessian_terms(self, thetas: np.ndarray) -> "HessianTerms":
        """The exact Hessian at each row of ``thetas`` (B, P), as :class:`HessianTerms`."""
        x, y = self.x.numpy(), self.y.numpy()
        a, w, b, c = self._unpack(thetas)
        h = np.tanh(x[None, :, None] * w[:, None, :] + b[:, None, :])
        s = 1 - h * h
        r = ((h @ a[:, :, None])[:, :, 0] + c[:, None] - y) / len(x)  # (f - y) / n
        rs, u = r[:, :, None] * s, -2 * r[:, :, None] * h * s  # r tanh', r tanh''
        return HessianTerms(x, a, h, s, aw=np.einsum("bnm,n->bm", rs, x), ab=rs.sum(1),
                            ww=a * np.einsum("bnm,n->bm", u, x * x),
                            wb=a * np.einsum("bnm,n->bm", u, x), bb=a * u.sum(1))


@dataclass(frozen=True)
class HessianTerms:
    """The exact Hessian of :class:`TanhNet`'s loss at B points, in closed form (chapter Part B).

    ``H = (1/n) sum_i (J_i^T J_i + r_i grad^2 f_i)``: ``J_i = df_i/dtheta`` is
    ``(tanh_ik, a_k tanh'_ik x_i, a_k tanh'_ik, 1)`` and the second derivatives of ``f_i`` couple
    only the three parameters ``(a_k, w_k, b_k)`` of one neuron: ``d2f/da dw = tanh' x``,
    ``d2f/da db = tanh'``, ``d2f/dw2 = a tanh'' x^2``, ``d2f/dw db = a tanh'' x``,
    ``d2f/db2 = a tanh''`` (``tanh'' = -2 tanh tanh'``). The fields ``aw .. bb`` are those
    blocks summed over the points with weights ``r_i / n``. :meth:`matvec` applies H in
    O(B n m) without forming the (P, P) matrix; it agrees with ``torch.func.hessian`` to
    rounding (tested).
    """

    x: np.ndarray  # (n,)
    a: np.ndarray  # (B, m)
    h: np.ndarray  # (B, n, m) tanh(w_k x_i + b_k)
    s: np.ndarray  # (B, n, m) 1 - h^2
    aw: np.ndarray  # (B, m) each
    ab: np.ndarray
    ww: np.ndarray
    wb: np.ndarray
    bb: np.ndarray

    def matvec(self, v: np.ndarray) -> np.ndarray:
        """``H_b v_b`` for each row ``v_b`` of ``v`` (B, P)."""
        m, n = self.a.shape[1], len(self.x)
        va, vw, vb, vc = v[:, :m], v[:, m:2 * m], v[:, 2 * m:3 * m], v[:, 3 * m:]
        along = self.s @ np.stack([self.a * vw, self.a * vb], axis=2)  # (B, n, 2)
        jv = (self.h @ va[:, :, None])[:, :, 0] + self.x * along[:, :, 0] + along[:, :, 1] + vc
        u = jv / n
        back = self.s.swapaxes(1, 2) @ np.stack([u * self.x, u], axis=2)  # (B, m, 2)
        return np.concatenate([
            (self.h.swapaxes(1, 2) @ u[:, :, None])[:, :, 0] + self.aw * vw + self.ab * vb,
            self.a * back[:, :, 0] + self.aw * va + self.ww * vw + self.wb * vb,
            self.a * back[:, :, 1] + self.ab * va + self.wb * vw + self.bb * vb,
            u.sum(1, keepdims=True)], axis=1)


# --------------------------------------------------------------------------------------------
# The spike detector
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Spike:
    """One spike episode; all fields are array indices (step ``t = index + 1``)."""

    start: int  # first index with L > rise x running minimum
    end: int  # first index back below fall x running minimum (last index if never)
    t_min: int  # argmin L between the previous spike's end and the peak
    t_on: int  # first index after t_min with L > fall x L(t_min): the onset
    t_pk: int  # argmax L in the episode
    amplitude: float  # L(t_pk) / L(t_min)
    t_rise: int  # first index of the monotone rise that ends at the peak
    local_amplitude: float  # L(t_pk) over the median L of [t_on - 50, t_on - 10]: the baseline


def detect_spikes(loss: np.ndarray, first: int = 100, rise: float = 3.0, fall: float = 1.5,
                  merge: int = 20) -> list[Spike]:
    """Spike episodes of a loss curve (chapter Part B, "Spike detector").

    An episode starts when ``L > rise x`` the running minimum (looked for from index ``first``,
    after the initial transient) and ends when ``L < fall x`` the running minimum; an episode
    starting within ``merge`` steps of the previous end is merged into it. The running minimum
    is over the whole past, so the detector suits a loss that trends down (the network); a loss
    that climbs for good after one spike (the 1-D problems) gives one endless episode. An
    episode's ``local_amplitude`` measures its peak against the loss shortly before its onset,
    so a loss that chatters for hundreds of steps is not measured against its deepest dip.
    """
    running_min = np.minimum.accumulate(loss)
    episodes: list[list[int]] = []
    start = None
    for i in range(first, len(loss)):
        if start is None and loss[i] > rise * running_min[i]:
            start = i
        elif start is not None and loss[i] < fall * running_min[i]:
            if episodes and start - episodes[-1][1] <= merge:
                episodes[-1][1] = i
            else:
                episodes.append([start, i])
            start = None
    if start is not None:
        episodes.append([start, len(loss) - 1])
    spikes, previous_end = [], 0
    for start, end in episodes:
        t_pk = start + int(np.argmax(loss[start:end + 1]))
        t_min = previous_end + int(np.argmin(loss[previous_end:t_pk + 1]))
        t_on = t_min + int(np.argmax(loss[t_min:t_pk + 1] > fall * loss[t_min]))
        baseline = np.median(loss[max(t_on - 50, 0):max(t_on - 9, 1)])
        spikes.append(Spike(start, end, t_min, t_on, t_pk, loss[t_pk] / loss[t_min],
                            rise_start(loss, t_pk), loss[t_pk] / baseline))
        previous_end = end
    return spikes


def rise_start(loss: np.ndarray, t_pk: int) -> int:
    """The first index of the monotone rise that ends at ``t_pk``: the loss grows at every step
    from there to the peak. Unlike ``t_min``, it does not wander in a flat, wiggly valley."""
    falls = np.flatnonzero(np.diff(loss[:t_pk + 1]) <= 0)
    return int(falls[-1]) + 1 if len(falls) else 0


def running_max(values: np.ndarray, width: int) -> np.ndarray:
    """``max(values[i-width+1 .. i])``: the envelope that hides the 1-D loss's sign flips."""
    padded = np.concatenate([np.full(width - 1, -np.inf), values])
    return np.lib.stride_tricks.sliding_window_view(padded, width).max(axis=1)


def last_upward_crossing(signal: np.ndarray, threshold: float, until: int) -> int:
    """The last index ``i <= until`` where ``signal`` goes from ``<= threshold`` to above it.

    That is the start of the last run above the threshold that begins by ``until``. If the signal
    is already above at index 0 and never re-crosses, 0 is returned (a lower bound on the true
    crossing); -1 if it is never above by ``until``.
    """
    above = signal[:until + 1] > threshold
    starts = np.flatnonzero(above & ~np.concatenate([[False], above[:-1]]))
    return int(starts[-1]) if len(starts) else -1


# --------------------------------------------------------------------------------------------
# Curvature along a trajectory
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CurvatureSeries:
    """Curvature quantities at ``index`` (array indices into a trajectory), ``*_hat`` with c_t.

    ``v_ratio_residual`` is ``sum_i u1_i^2 v_hat_t,i / v_hat_t-1,i`` minus the pure-decay ratio
    and ``g2_over_v`` is ``sum_i u1_i^2 g_i^2 / v_hat_i``: both read in the top mode ``u1`` of
    ``P^1/2 H P^1/2``, the direction that goes unstable.
    """

    index: np.ndarray
    lam_max_hat: np.ndarray
    lam_grad_a: np.ndarray
    lam_grad_b: np.ndarray
    lam_max_raw: np.ndarray
    cos_top: np.ndarray
    v_ratio_residual: np.ndarray
    g2_over_v: np.ndarray

    def at(self, i: int, name: str) -> float:
        """Value of field ``name`` at trajectory index ``i`` (which must have been evaluated)."""
        return float(getattr(self, name)[np.searchsorted(self.index, i)])


CURVATURE_BATCH = 128  # steps whose curvature is computed together (memory ~ 64 P x batch)


def curvature_series(net: TanhNet, run: AdamTrajectory, indices, beta1: float,
                     beta2: float) -> CurvatureSeries:
    """Exact Hessian-vector products (:meth:`TanhNet.hessian_terms`) and
    :func:`preconditioned_curvature` at each index of a stored Adam run, in batches of steps."""
    index = np.asarray(indices, dtype=int)
    parts = []
    for lo in progress(range(0, len(index), CURVATURE_BATCH), "curvature, step batches"):
        i = index[lo:lo + CURVATURE_BATCH]
        k = preconditioned_curvature(net.hessian_terms(run.theta[i]).matvec, run.grad[i],
                                     run.precond[i], i + 1, beta1)
        previous = np.where(i > 0, i - 1, 0)
        ratio = np.where(i > 0, np.einsum("bp,bp->b", k.top_weights,
                                          run.v_hat[i] / run.v_hat[previous]), np.nan)
        parts.append((i, k.lam_max_hat, k.lam_grad_a, k.lam_grad_b, k.lam_max_raw, k.cos_top,
                      ratio - pure_decay_ratio(i + 1, beta2),
                      np.einsum("bp,bp->b", k.top_weights, run.grad[i] ** 2 / run.v_hat[i])))
    return CurvatureSeries(*(np.concatenate(column) for column in zip(*parts)))


@dataclass(frozen=True)
class SpikeStory:
    """One spike with its diagnostics window ``[t_on - before, t_pk + after]`` (claims A3-A5).

    Crossing indices are of the threshold ``2/lr``; ``cross_max`` is a lower bound when
    ``lambda_max(H_hat)`` was already above at the window's first index.
    """

    spike: Spike
    previous_end: int
    series: CurvatureSeries
    cross_max: int  # last upward crossing of lambda_max(H_hat) by t_on
    cross_grad: int  # last upward crossing of lambda_grad^B(H_hat) by t_on

    def pre_spike(self) -> np.ndarray:
        """Mask of the calm window ``[max(prev_end + 5, t_on - 60), t_on - 10]``."""
        lo = max(self.previous_end + 5, self.spike.t_on - 60)
        return (self.series.index >= lo) & (self.series.index <= self.spike.t_on - 10)


def spike_story(net: TanhNet, run: AdamTrajectory, spike: Spike, previous_end: int, lr: float,
                beta1: float, beta2: float, before: int, after: int) -> SpikeStory:
    """Dense diagnostics around one spike and the threshold crossings that precede it."""
    lo, hi = max(spike.t_on - before, 1), min(spike.t_pk + after, len(run.loss) - 1)
    series = curvature_series(net, run, range(lo, hi + 1), beta1, beta2)
    threshold, until = 2 / lr, spike.t_on - lo

    def crossing(signal: np.ndarray) -> int:
        i = last_upward_crossing(signal, threshold, until)
        return lo + i if i >= 0 else -1

    return SpikeStory(spike, previous_end, series, crossing(series.lam_max_hat),
                      crossing(series.lam_grad_b))


def runs_above(signal: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """Maximal runs ``(first, last)`` of consecutive positions with ``signal > threshold``."""
    above = np.concatenate([[False], signal > threshold, [False]])
    edges = np.flatnonzero(above[1:] != above[:-1])
    return [(int(first), int(stop) - 1) for first, stop in zip(edges[::2], edges[1::2])]


@dataclass(frozen=True)
class WarningScore:
    """A curvature signal read as a spike predictor (the chapter's negative results)."""

    steps_above: int  # sampled steps with the signal above the threshold
    episodes: int  # runs of consecutive samples above it
    precision: float  # fraction of episodes containing a spike onset
    recall: float  # fraction of spikes whose onset lies in an episode


def warning_score(index: np.ndarray, signal: np.ndarray, threshold: float,
                  found: list[Spike]) -> WarningScore:
    """Score a signal sampled at trajectory rows ``index``: an episode ``(first, last)`` of
    samples above ``threshold`` warns of a spike if its onset lies in
    ``[index[first], index[last] + spacing]`` (spacing = the sampling step)."""
    spacing = int(index[1] - index[0]) if len(index) > 1 else 1
    windows = [(index[a], index[b] + spacing) for a, b in runs_above(signal, threshold)]
    onsets = np.array([s.t_on for s in found])
    hits = [np.any((onsets >= lo) & (onsets <= hi)) for lo, hi in windows]
    caught = [any(lo <= t <= hi for lo, hi in windows) for t in onsets]
    return WarningScore(int((signal > threshold).sum()), len(windows),
                        float(np.mean(hits)) if hits else np.nan,
                        float(np.mean(caught)) if len(caught) else np.nan)
