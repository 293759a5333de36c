"""Every run of the Adam-spikes chapter, from its configuration to what its figures and claims read.

This is the one module of the chapter that reads the configuration (:mod:`.config`); the science
it calls (:mod:`.adam`, :mod:`.spikes`, :mod:`.power_loss`) takes plain values. One function per
part of the chapter: :func:`quadratic` (Part A), :func:`network` with :func:`spike_checks` and
:func:`spike_zooms` (Part B), :func:`mitigations` (Part C, every run in one batch),
:func:`degenerate` (Part D), :func:`double_edged` (the extension), :func:`warning_scores` and
:func:`secant_proxy` (the negative results); each ``*_checks`` function turns a part's result
into its claims, each ``*_measures`` function into what the chapter shows without asserting. A
value a claim checks on every seed or spike is a ``{seed: value}`` or
``{spike number: value}`` dict (spike 1 is the first), as ``run.claim`` takes it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch

from ..checks import Check, Measured
from ..spectra import top_eigenpairs
from . import adam, power_loss, spikes
from .config import Config

DECAY_WINDOW = 300  # Part A: steps before the first crossing where the pure decay is checked
QUADRATIC_CURVATURE = 1.0
"""a of Part A. Adam's trajectory is the same for every a (it scales g and sqrt(v_hat) alike,
up to eps), so the chapter fixes it; GD's threshold 2/a is far above every eta used."""
ENVELOPE_WIDTH = 10  # running maximum that hides the sign flips of a 1-D Adam loss
DEGREE = 4  # Part D and the extension: the degenerate loss x^4 / 4
COMPANION_ADAM = dict(eps=0.0, bias_correction=False, start_from_gradient=True)
"""Adam as Bai, Zhao, Zhou, Xu and Zhang run it (arXiv 2603.09581): m0 = g0, v0 = g0^2."""


# --------------------------------------------------------------------------------------------
# Part A: a 1-D quadratic
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QuadraticResult:
    """Adam and GD with the same eta on ``a theta^2 / 2``, and Adam's first spike (Part A)."""

    adam: power_loss.Trace
    gd: power_loss.Trace
    spike: power_loss.QuadraticSpike  # indices are array rows: step = row + 1
    t_star: float  # step of the first crossing predicted from v_hat DECAY_WINDOW steps before it
    decay_g2_over_v: float  # max over that window of g^2 / v_hat
    pure_decay: np.ndarray  # v_hat(t_decay) b2^(t - t_decay): Fig. 1c's reference line

    def figure_data(self) -> dict:
        """The arrays of Fig. 1: losses, envelope, ``H_hat eta/2``, ``v_hat``, ``g^2`` and the
        steps where stages 2, 3-4 and 5 begin and where ``g^2`` overtakes ``v_hat``."""
        s = self.spike
        return {"loss_adam": self.adam.loss, "loss_gd": self.gd.loss, "envelope": s.envelope,
                "h_hat": s.h_hat, "v_hat": self.adam.v_hat, "grad_sq": self.adam.grad ** 2,
                "stage_edges": np.array([s.t_decay, s.t_cross, s.t_down]) + 1,
                "t_jump": s.t_jump + 1}


def quadratic(cfg: Config) -> QuadraticResult:
    """Part A: both runs, the anatomy of the first spike, the crossing time ``t*`` predicted
    from the pure decay of ``v_hat``, and the gradient's share of ``v_hat`` before it (A1)."""
    lr, beta1, beta2 = cfg.quadratic_learning_rate, cfg.beta1, cfg.quadratic_beta2
    trace = power_loss.adam(2, cfg.theta0, cfg.quadratic_steps, lr, beta1, beta2, cfg.eps,
                            curvature=QUADRATIC_CURVATURE)
    gd = power_loss.gradient_descent(2, cfg.theta0, cfg.quadratic_steps, lr,
                                     curvature=QUADRATIC_CURVATURE)
    spike = power_loss.quadratic_spike(trace, lr, beta1, QUADRATIC_CURVATURE, ENVELOPE_WIDTH)
    t0, t_c = spike.t_cross - DECAY_WINDOW, spike.t_cross
    return QuadraticResult(
        trace, gd, spike,
        t_star=adam.crossing_time_1d(t0 + 1, trace.v_hat[t0], QUADRATIC_CURVATURE, lr, beta1,
                                     beta2),
        decay_g2_over_v=float((trace.grad ** 2 / trace.v_hat)[t0:t_c].max()),
        pure_decay=trace.v_hat[spike.t_decay] * beta2 ** (trace.steps
                                                          - trace.steps[spike.t_decay]))


QUADRATIC_SCOPE = ("the 1-D quadratic with 0.99 <= quadratic_beta2 <= 0.995 and "
                   "quadratic_learning_rate <= 0.1 (checked at 1e-3, 1e-2, 1e-1): v_hat decays for "
                   "the 300 steps before the crossing only once the descent is over (at "
                   "beta2 = 0.95 it crosses within 400 steps), and theta must not underflow "
                   "before it crosses (at beta2 = 0.999, eta = 0.01 it does)")


def quadratic_checks(cfg: Config, part_a: QuadraticResult) -> list[Check]:
    """Part A: v_hat decays purely and predicts the crossing (A1); the loss turns up at the
    crossing and peaks where v_hat has caught up, more than ten decades up (A2)."""
    s = part_a.spike
    claim = dict(scope=QUADRATIC_SCOPE, in_scope=0.99 <= cfg.quadratic_beta2 <= 0.995
                 and cfg.quadratic_learning_rate <= 0.1)
    return [
        Check("A1", "vhat_pure_decay_1d", "max over [t_c-300, t_c) of g^2 / v^", "<", 1e-6,
              {"": part_a.decay_g2_over_v},
              why="v_hat_t / v_hat_t-1 differs from the pure decay by (1 - b2) g^2 / v_hat: "
                  "below 1e-6 the prediction t* cannot be off by a step", **claim),
        Check("A1", "vhat_pure_decay_1d", "|t_c - t*|, t* predicted from t_c - 300", "<=", 2,
              {"": abs(s.t_cross + 1 - part_a.t_star)},
              why="t* is a real number and t_c a step; the bias correction of v_hat that t* "
                  "leaves out moves it by less than one more", **claim),
        Check("A2", "spike_at_crossing_1d", "|argmin(10-step envelope) - t_c|", "<=", 10,
              {"": abs(s.t_env_min - s.t_cross)},
              why="the envelope is a 10-step running maximum: it lags the loss by up to 10",
              **claim),
        Check("A2", "spike_at_crossing_1d", "|t_pk - t_down|", "<=", 2,
              {"": abs(s.t_pk - s.t_down)},
              why="the loss grows while H_hat eta/2 > 1 and falls once v_hat has caught up; "
                  "momentum carries it a step or two", **claim),
        Check("A2", "spike_at_crossing_1d", "log10(L(t_pk) / min envelope)", ">", 10,
              {"": s.log10_amplitude},
              why="a spike, not a wiggle: the loss rises geometrically for tens of steps", **claim),
    ]


# --------------------------------------------------------------------------------------------
# Part B: the two-layer tanh network
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NetworkResult:
    """Adam on the tanh network: its spikes and the curvature around and between them (Part B)."""

    learning_rate: float
    train: adam.AdamTrajectory
    found: list[spikes.Spike]  # every detected spike, in order
    stories: list[spikes.SpikeStory]  # the first spikes_examined, with dense exact Hessians
    overview: spikes.CurvatureSeries  # every overview_every steps over the whole run

    def figure_data(self) -> dict:
        """The arrays of Fig. 2: the loss, the spike peaks and the sampled sharpness (raw and
        preconditioned, times eta/2); steps are 1-based."""
        scale = self.learning_rate / 2
        return {"loss": self.train.loss,
                "spike_peaks": np.array([s.t_pk for s in self.found], dtype=int) + 1,
                "overview_steps": self.overview.index + 1,
                "lam_max_hat": self.overview.lam_max_hat * scale,
                "lam_max_raw": self.overview.lam_max_raw * scale}


def network(cfg: Config) -> NetworkResult:
    """Part B: train with Adam, detect the spikes, follow the first ones with an exact Hessian
    at every step of ``[t_on - window_before, t_pk + window_after]`` and sample the curvature
    every ``overview_every`` steps."""
    net = spikes.TanhNet.sine_task(cfg.n_points, cfg.width)
    lr, betas = cfg.learning_rate, (cfg.beta1, cfg.beta2)
    train, = adam.run_adam(net.grad_and_loss, net.init(cfg.seed)[None], cfg.steps, lr,
                           [adam.AdamOptions(betas, cfg.eps)])
    found = spikes.detect_spikes(train.loss)
    stories, previous_end = [], 0
    for spike in found[:cfg.spikes_examined]:
        stories.append(spikes.spike_story(net, train, spike, previous_end, lr, *betas,
                                          cfg.window_before, cfg.window_after))
        previous_end = spike.end
    sampled = range(cfg.overview_every - 1, cfg.steps, cfg.overview_every)
    overview = spikes.curvature_series(net, train, sampled, *betas)
    return NetworkResult(lr, train, found, stories, overview)


@dataclass(frozen=True)
class SpikeChecks:
    """What claims A3-A5 read off each spike, and the two readings of ``lambda_grad``:
    ``{spike number: value}`` each. Curvatures are times eta/2 (threshold 1); a difference of
    crossing steps is NaN when either signal never crossed before the onset."""

    rise_after_grad_crossing: dict  # t_rise - t_cross(lambda^B_grad(H^))
    onset_after_max_crossing: dict  # t_on - t_cross(lambda_max(H^))
    min_cos_before_onset: dict  # min cos_t over [t_on - 5, t_on]
    lam_max_hat_after_peak: dict  # lambda_max(H^) at t_pk + 5
    lam_max_raw: dict  # max of lambda_max(H) over the window
    calm_g2_over_v: dict  # median u1^2-weighted g^2 / v_hat, calm window
    lam_grad_gap: dict  # max over [t_on - 10, t_on] of |lambda^A_grad - lambda^B_grad|
    onset_lead: dict  # t_on - t_cross(lambda^B_grad)


def _spike_values(story: spikes.SpikeStory, scale: float) -> dict:
    """The :class:`SpikeChecks` fields of one spike (claims A3-A5)."""
    s, series = story.spike, story.series
    crossed = story.cross_grad >= 0 and story.cross_max >= 0
    to_onset = series.index <= s.t_on
    calm = story.pre_spike()
    return dict(
        rise_after_grad_crossing=s.t_rise - story.cross_grad if crossed else np.nan,
        onset_after_max_crossing=s.t_on - story.cross_max if crossed else np.nan,
        min_cos_before_onset=series.cos_top[(series.index >= s.t_on - 5) & to_onset].min(),
        lam_max_hat_after_peak=series.at(s.t_pk + 5, "lam_max_hat") * scale,
        lam_max_raw=series.lam_max_raw.max() * scale,
        calm_g2_over_v=np.median(series.g2_over_v[calm]),
        lam_grad_gap=np.abs(series.lam_grad_a - series.lam_grad_b)[
            (series.index >= s.t_on - 10) & to_onset].max() * scale,
        onset_lead=s.t_on - story.cross_grad)


def spike_checks(stories: list[spikes.SpikeStory], lr: float) -> SpikeChecks:
    """:class:`SpikeChecks` over ``stories`` (Part B, claims A3-A5)."""
    rows = [_spike_values(story, lr / 2) for story in stories]
    return SpikeChecks(**{f.name: {n: float(row[f.name]) for n, row in enumerate(rows, start=1)}
                          for f in dataclasses.fields(SpikeChecks)})


NETWORK_SCOPE = ("beta2 >= 0.999 and learning_rate <= 0.02, every seed and width: v_hat "
                 "remembers 1/(1 - beta2) >= 1000 steps, long against the time between spikes, "
                 "so each spike is preceded by a calm phase in which it only forgets (A5); at "
                 "beta2 = 0.995 or eta = 0.04 the next spike comes before the calm does")


def network_checks(cfg: Config, checks: SpikeChecks) -> list[Check]:
    """Part B (A3-A5) on each examined spike: the rise starts at the crossing of
    ``lambda^B_grad(H^)``, which ``lambda_max(H^)`` heralds; the gradient is on the top mode as
    the loss turns; the raw Hessian stays far below the threshold while v_hat forgets."""
    claim = dict(over="spikes", scope=NETWORK_SCOPE,
                 in_scope=cfg.beta2 >= 0.999 and cfg.learning_rate <= 0.02)
    rows = [  # id, name, quantity, field, op, bound, why
        ("A3", "grad_curvature_triggers", "t_rise - t_cross(lambda^B_grad)",
         "rise_after_grad_crossing", ">=", 0,
         "to second order the loss cannot grow along -Pg before lambda_grad(H^) passes 2/eta"),
        ("A3", "grad_curvature_triggers", "t_rise - t_cross(lambda^B_grad)",
         "rise_after_grad_crossing", "<=", 3,
         "the step is along P m_hat, whose momentum lags the gradient by a few steps"),
        ("A3", "grad_curvature_triggers", "t_on - t_cross(lambda_max(H^))",
         "onset_after_max_crossing", ">=", 10,
         "an early warning: lambda_max(H^) >= lambda_grad(H^) crosses first, here by 10+ steps"),
        ("A4", "alignment_and_recovery", "min cos over [t_on-5, t_on]", "min_cos_before_onset",
         ">=", 0.9, "within 25 degrees of the top mode at every step of the turn; calm windows "
                    "fall to cos 0.1 and below"),
        ("A4", "alignment_and_recovery", "lambda_max(H^) eta/2 at t_pk+5",
         "lam_max_hat_after_peak", "<", 1, "the refilled v_hat puts H^ back below threshold"),
        ("A5", "preconditioner_not_hessian", "max over the window of lambda_max(H) eta/2",
         "lam_max_raw", "<", 0.5, "half the threshold: the raw Hessian could not cause a spike"),
        ("A5", "preconditioner_not_hessian", "pre-spike median u1^2-weighted g^2/v^",
         "calm_g2_over_v", "<", 0.5, "v_hat shrinks at (1 - b2)(1 - g^2/v_hat) per step: below "
                                     "0.5, forgetting drives at least half of its fall"),
    ]
    return [Check(claim_id, name, quantity, op, bound, getattr(checks, field), why=why, **claim)
            for claim_id, name, quantity, field, op, bound, why in rows]


@dataclass(frozen=True)
class SpikeZoom:
    """Fig. 3's arrays for one spike over its diagnostics window: 1-based steps, curvatures
    times eta/2, and the steps of four events (crossings of lambda_max(H^) and lambda^B_grad,
    t_min, t_pk)."""

    steps: np.ndarray
    loss: np.ndarray
    lam_max_hat: np.ndarray
    lam_grad_a: np.ndarray
    lam_grad_b: np.ndarray
    lam_max_raw: np.ndarray
    cos: np.ndarray
    g2_over_v: np.ndarray
    v_ratio_residual: np.ndarray
    events: np.ndarray


def spike_zooms(result: NetworkResult, count: int) -> list[SpikeZoom]:
    """The first ``count`` examined spikes as Fig. 3 draws them (Part B)."""
    scale, zooms = result.learning_rate / 2, []
    for story in result.stories[:count]:
        s, series = story.spike, story.series
        zooms.append(SpikeZoom(
            series.index + 1, result.train.loss[series.index[0]:series.index[-1] + 1],
            series.lam_max_hat * scale, series.lam_grad_a * scale, series.lam_grad_b * scale,
            series.lam_max_raw * scale, series.cos_top, series.g2_over_v,
            series.v_ratio_residual,
            np.array([story.cross_max, story.cross_grad, s.t_min, s.t_pk]) + 1))
    return zooms


def zoom_data(zooms: list[SpikeZoom], n_found: int) -> dict:
    """The arrays of Fig. 3, ``spike<j>_<field>`` for the j-th zoom (from 0), and the number of
    detected spikes (so that the data is never empty)."""
    data = {"spikes_detected": n_found}
    for j, zoom in enumerate(zooms):
        data.update({f"spike{j}_{f.name}": getattr(zoom, f.name)
                     for f in dataclasses.fields(SpikeZoom)})
    return data


# --------------------------------------------------------------------------------------------
# Part C: mitigations
# --------------------------------------------------------------------------------------------
def largest_local_amplitude(found: list) -> float:
    """The largest of a run's detected spikes over its local baseline (1 for a run without)."""
    return max((s.local_amplitude for s in found), default=1.0)


@dataclass(frozen=True)
class ReversalResult:
    """Adam and the small beta2 at ``reversal_learning_rate`` (Part C): losses and spikes."""

    learning_rate: float
    loss: dict  # (seed, variant name) -> loss curve
    found: dict  # (seed, variant name) -> detected spikes

    @property
    def counts(self) -> dict:
        """``{variant name: {seed: spike count}}``."""
        counts = {}
        for (seed, name), detected in self.found.items():
            counts.setdefault(name, {})[seed] = len(detected)
        return counts

    def seeds_reversed(self, small: str) -> int:
        """Seeds on which the small beta2 spikes at least as often as Adam."""
        adam_counts, small_counts = self.counts["Adam"], self.counts[small]
        return sum(small_counts[s] >= adam_counts[s] for s in adam_counts)

    def median_largest_amplitude(self, variant: str) -> float:
        """Median over the seeds of :func:`largest_local_amplitude`."""
        return float(np.median([largest_local_amplitude(detected)
                                for (_, name), detected in self.found.items() if name == variant]))


@dataclass(frozen=True)
class MitigationResult:
    """The loss of every (seed, variant) run of Part C and its detected spikes."""

    seeds: tuple[int, ...]
    variants: tuple[str, ...]  # asserted: Adam, large eps, small beta2, AMSGrad on v_hat
    counted: tuple[str, ...]  # spikes counted, not asserted: more beta2 values, torch AMSGrad
    loss: dict  # (seed, variant) -> loss curve
    found: dict  # (seed, variant) -> detected spikes
    eps_bound: dict  # seed -> max over t >= 2 along the large-eps run of c_t lam_max eta / (2 eps)
    eps_bound_first_step: dict  # seed -> c_1 lambda_max(H_1) eta / (2 eps), c_1 = 1/(1+b1)
    reversal: ReversalResult | None = None  # the runs at reversal_learning_rate, if made

    @property
    def large_eps(self) -> str:
        return self.variants[1]

    @property
    def small_beta2(self) -> str:
        return self.variants[2]

    def spike_counts(self, variant: str) -> dict:
        """``{seed: number of spikes}`` of one variant."""
        return {seed: len(self.found[seed, variant]) for seed in self.seeds}

    def max_local_amplitude(self, variant: str) -> dict:
        """``{seed: largest spike over its local baseline}`` of one variant (1 without spikes)."""
        return {seed: largest_local_amplitude(self.found[seed, variant]) for seed in self.seeds}

    def amplitude_ratio(self) -> dict:
        """``{seed: largest local amplitude with the small beta2 / with Adam}``."""
        small, default = (self.max_local_amplitude(v) for v in (self.small_beta2, "Adam"))
        return {seed: small[seed] / default[seed] for seed in self.seeds}

    def final_loss(self, variant: str) -> dict:
        """``{seed: loss at the last step}`` of one variant."""
        return {seed: self.loss[seed, variant][-1] for seed in self.seeds}

    @property
    def seed_range(self) -> str:
        return f"seeds {self.seeds[0]}..{self.seeds[-1]}"


def mitigation_variants(cfg: Config) -> tuple[dict, dict]:
    """Part C's optimiser options by name: the asserted variants and the counted ones."""
    betas, eps = (cfg.beta1, cfg.beta2), cfg.eps
    variants = {"Adam": adam.AdamOptions(betas, eps),
                f"eps = {cfg.eps_large:g}": adam.AdamOptions(betas, cfg.eps_large),
                f"beta2 = {cfg.beta2_small:g}": adam.AdamOptions((cfg.beta1, cfg.beta2_small), eps),
                "AMSGrad": adam.AdamOptions(betas, eps, amsgrad="v_hat")}
    counted = {f"beta2 = {b:g}": adam.AdamOptions((cfg.beta1, b), eps) for b in cfg.beta2_counted}
    counted["torch AMSGrad"] = adam.AdamOptions(betas, eps, amsgrad="torch")
    return variants, counted


def variant_key(name: str) -> str:
    """A variant's name as a key of figure data and results: 'beta2 = 0.9' -> 'beta2_0.9'."""
    return name.replace(" = ", "_").replace(" ", "_")


def sharpness(net: spikes.TanhNet, thetas: np.ndarray) -> np.ndarray:
    """``lambda_max(H)`` at each row of ``thetas``, from exact Hessian-vector products."""
    return top_eigenpairs(net.hessian_terms(thetas).matvec, thetas.shape[1], len(thetas))[0]


def mitigations(cfg: Config, reversal: bool = True) -> MitigationResult:
    """Part C: every variant from every seed's initialisation, all runs advancing in one batch,
    their spikes, and along each large-eps run the bound ``c_t lambda_max(H_t) eta / (2 eps)``
    (Hessian at steps 1, 2 and every bound_every steps; ``c_t`` falls from ``1/(1+b1)`` at
    t = 1 to ``(1-b1)/(1+b1)``). With ``reversal``, the batch also carries Adam and the small
    beta2 at ``reversal_learning_rate`` (:class:`ReversalResult`, counted, not claimed)."""
    net = spikes.TanhNet.sine_task(cfg.n_points, cfg.width)
    variants, counted = mitigation_variants(cfg)
    options = {**variants, **counted}
    eps_name, scale = list(variants)[1], cfg.learning_rate / 2  # the runs whose states are kept
    runs = [(seed, name, cfg.learning_rate) for seed in cfg.seeds for name in options]
    if reversal:
        runs += [(seed, name, cfg.reversal_learning_rate)
                 for name in ("Adam", f"beta2 = {cfg.beta2_small:g}") for seed in cfg.seeds]
    trajectories = adam.run_adam(
        net.grad_and_loss, torch.stack([net.init(seed) for seed, _, _ in runs]),
        cfg.ablation_steps, [lr for _, _, lr in runs], [options[name] for _, name, _ in runs],
        keep_state=[name == eps_name for _, name, _ in runs])
    n_claimed = len(cfg.seeds) * len(options)  # the runs at learning_rate come first
    loss = {(seed, name): trajectory.loss
            for (seed, name, _), trajectory in zip(runs[:n_claimed], trajectories)}
    found = {key: spikes.detect_spikes(curve) for key, curve in loss.items()}
    rows = np.array([0, 1, *range(cfg.bound_every, cfg.ablation_steps, cfg.bound_every)])
    kept = [trajectory.theta[rows] for (_, name, _), trajectory
            in zip(runs[:n_claimed], trajectories) if name == eps_name]  # one per seed, in order
    lam = sharpness(net, np.concatenate(kept)).reshape(len(cfg.seeds), len(rows))
    bound = lam * (adam.momentum_factor(rows + 1, cfg.beta1) * scale / cfg.eps_large)
    reversed_loss = {(seed, name): trajectory.loss
                     for (seed, name, _), trajectory in zip(runs[n_claimed:],
                                                            trajectories[n_claimed:])}
    return MitigationResult(
        cfg.seeds, tuple(variants), tuple(counted), loss, found,
        {seed: row[1:].max() for seed, row in zip(cfg.seeds, bound)},
        {seed: row[0] for seed, row in zip(cfg.seeds, bound)},
        ReversalResult(cfg.reversal_learning_rate, reversed_loss,
                       {key: spikes.detect_spikes(curve) for key, curve in reversed_loss.items()})
        if reversal else None)


def mitigation_checks(cfg: Config, part_c: MitigationResult) -> list[Check]:
    """Part C on every seed: a large eps and AMSGrad remove the spikes (A6); the small beta2's
    largest spike, over its local baseline, is less than half of Adam's (A7)."""
    eps_name = part_c.large_eps
    removed = dict(scope="every seed and beta2, learning_rate <= 0.1: there the large eps caps "
                         "H^ eta/2 at c lambda_max(H) eta / (2 eps) < 1 (lambda_max(H) ~ 20), "
                         "and AMSGrad's v_hat never decays",
                   in_scope=cfg.learning_rate <= 0.1)
    smaller = dict(scope="beta2 >= 0.999 against the small beta2, learning_rate >= 0.02 "
                         "(checked at 0.02): there Adam's spikes rise 30-280x over their local "
                         "baseline; at eta = 0.01 they rise only 3-20x, and the small beta2's "
                         "chatter, 2-4x, can reach half of that",
                   in_scope=cfg.beta2 >= 0.999 and cfg.learning_rate >= 0.02)
    return [
        Check("A6", "mitigations_remove_spikes", f"spike count, {eps_name}", "<=", 0,
              part_c.spike_counts(eps_name), why="a spike needs H^ eta/2 > 1, which the cap "
                                                  "below forbids", **removed),
        Check("A6", "mitigations_remove_spikes", f"max over t >= 2 along the {eps_name} run of "
              "c_t lambda_max(H) eta / (2 eps)", "<", 1, part_c.eps_bound,
              why="the stability threshold of H^ eta/2 (at t = 1, c_1 = 1/(1+b1) is 10x c and "
                  "the bound is 1.1: one step above, too short to grow a spike)", **removed),
        Check("A6", "mitigations_remove_spikes", "spike count, AMSGrad", "<=", 0,
              part_c.spike_counts("AMSGrad"), why="without decay, H^ can only grow with the "
                                                  "Hessian itself, which stays far below (A5)",
              **removed),
        Check("A7", "small_beta2_smaller_spikes", f"largest local amplitude ({part_c.small_beta2})"
              " / largest local amplitude (Adam)", "<", 0.5, part_c.amplitude_ratio(),
              why="v_hat that tracks g^2 within ~10 steps catches an instability early: its "
                  "spikes stay a fraction of Adam's", **smaller),
    ]


# --------------------------------------------------------------------------------------------
# Part D: Adam on a degenerate minimum
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DegenerateResult:
    """GD, heavy ball and Adam on ``x^4 / 4`` from x0 = 1, with the theory lines (Part D)."""

    adam: power_loss.Trace  # COMPANION_ADAM at quartic_beta2
    gd: power_loss.Trace
    heavy_ball: power_loss.Trace
    regimes: dict  # beta2 -> Adam trace, one beta2 per regime
    regime_names: dict  # beta2 -> "linear", "spiking" or "oscillating"
    slope: float  # fitted per-step slope of ln L, Adam, while fit_x_min < |x| < fit_x_max
    rate: float  # its prediction k ln b2 / (2 (k-2)) = ln b2
    linear_theory: np.ndarray  # the loss along that rate through the first fitted step
    flow_gd: np.ndarray  # x of the gradient flow at eta t
    flow_heavy_ball: np.ndarray  # ... at eta t / (1 - mu)
    power_from: int  # first step of the power-law fits
    gd_power: float  # fitted exponent of L_GD in t
    heavy_ball_power: float

    def figure_data(self) -> dict:
        """The arrays of Fig. 5: every loss and both flows."""
        return {"loss_gd": self.gd.loss, "loss_hb": self.heavy_ball.loss,
                "loss_adam": self.adam.loss, "flow_gd": self.flow_gd,
                "flow_hb": self.flow_heavy_ball,
                **{f"loss_regime_{b:g}": t.loss for b, t in self.regimes.items()}}


def degenerate(cfg: Config) -> DegenerateResult:
    """Part D: the runs, the fitted linear rate of Adam against ``ln b2`` and the sublinear
    power laws of GD and heavy ball against their gradient flows (arXiv 2603.09581)."""
    k, lr, steps, beta1 = DEGREE, cfg.quartic_learning_rate, cfg.quartic_steps, cfg.beta1
    mu = cfg.heavy_ball_momentum
    quartic = power_loss.adam(k, 1.0, steps, lr, beta1, cfg.quartic_beta2, **COMPANION_ADAM)
    gd = power_loss.gradient_descent(k, 1.0, steps, lr)
    heavy_ball = power_loss.gradient_descent(k, 1.0, steps, lr, mu)
    regimes = {b: power_loss.adam(k, 1.0, steps, lr, beta1, b, **COMPANION_ADAM)
               for b in cfg.beta2_regimes}
    rate = power_loss.adam_linear_rate(k, cfg.quartic_beta2)
    anchor = np.argmax(np.abs(quartic.x) < cfg.fit_x_max)
    power_from = steps // 10
    return DegenerateResult(
        quartic, gd, heavy_ball, regimes,
        {b: power_loss.adam_regime(k, beta1, b) for b in regimes},
        slope=power_loss.fitted_log_slope(quartic, cfg.fit_x_min, cfg.fit_x_max), rate=rate,
        linear_theory=quartic.loss[anchor] * np.exp(rate * (quartic.steps
                                                            - quartic.steps[anchor])),
        flow_gd=power_loss.gradient_flow(gd.steps - 1, k, lr),
        flow_heavy_ball=power_loss.gradient_flow(heavy_ball.steps - 1, k, lr / (1 - mu)),
        power_from=power_from, gd_power=power_loss.fitted_power(gd, power_from),
        heavy_ball_power=power_loss.fitted_power(heavy_ball, power_from))


def degenerate_checks(cfg: Config, part_d: DegenerateResult) -> list[Check]:
    """Part D (A8): Adam's loss falls at the linear rate ln b2 per step on x^4, while GD follows
    its sublinear gradient flow."""
    return [
        Check("A8", "degenerate_linear_rate", "|fitted slope of ln L / ln b2 - 1|, Adam on x^4",
              "<", 1e-6, {"": abs(part_d.slope / part_d.rate - 1)},
              scope="quartic_beta2 in Adam's linear regime, beta1 < quartic_beta2 at k = 4 (the "
                    "companion paper's fixed point is stable there)",
              in_scope=power_loss.adam_regime(DEGREE, cfg.beta1, cfg.quartic_beta2) == "linear",
              why="at the stable fixed point the rate is exact; 1e-6 leaves room for the fit's "
                  "start in the transient"),
        Check("A8", "degenerate_linear_rate", "|GD x_T / (1 + 2 eta T)^(-1/2) - 1|", "<=",
              10 * cfg.quartic_learning_rate,
              {"": abs(part_d.gd.x[-1] / part_d.flow_gd[-1] - 1)},
              scope="quartic_learning_rate <= 0.01: eta times the largest curvature (3 at x0 = 1) "
                    "far below GD's threshold 2", in_scope=cfg.quartic_learning_rate <= 0.01,
              why="GD is the forward-Euler discretisation of the flow: its relative error is "
                  "O(eta)"),
    ]


# --------------------------------------------------------------------------------------------
# Beyond the paper: v_hat decay is double-edged
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DoubleEdgedResult:
    """Adam and AMSGrad (on v_hat) on ``x^2`` (Part A's settings) and ``x^4`` (Part D's)."""

    traces: dict  # (problem, method) -> trace; problem "x^2" or "x^4", method "Adam"/"AMSGrad"
    rises: dict  # ("x^2", method) -> per episode of H_hat eta/2 > 1, the log10 rise of the loss
    h_hat: dict  # ("x^2", method) -> H_hat eta / 2
    adam_slope: float  # fitted per-step slope of ln L, Adam on x^4
    amsgrad_power: float  # fitted exponent of L in t, AMSGrad on x^4, from a tenth of the run
    flow_power: float  # the same fit of the gradient flow at eta over the same steps

    def figure_data(self) -> dict:
        """The arrays of Fig. 6: the four losses and ``H_hat eta/2`` on ``x^2``."""
        return {**{f"loss_{p.replace('^', '')}_{m}": t.loss for (p, m), t in self.traces.items()},
                **{f"h_hat_x2_{m}": h for (_, m), h in self.h_hat.items()}}


def double_edged(cfg: Config) -> DoubleEdgedResult:
    """The extension: both optimisers for extension_steps on both losses, every episode of
    ``H_hat eta/2 > 1`` on ``x^2``, and the rates on ``x^4``."""
    steps, beta1, lr = cfg.extension_steps, cfg.beta1, cfg.quadratic_learning_rate
    methods = {"Adam": None, "AMSGrad": "v_hat"}
    traces = {("x^2", m): power_loss.adam(2, cfg.theta0, steps, lr, beta1, cfg.quadratic_beta2,
                                          cfg.eps, QUADRATIC_CURVATURE, amsgrad=amsgrad)
              for m, amsgrad in methods.items()}
    traces.update({("x^4", m): power_loss.adam(DEGREE, 1.0, steps, cfg.quartic_learning_rate,
                                               beta1, cfg.quartic_beta2, amsgrad=amsgrad,
                                               **COMPANION_ADAM)
                   for m, amsgrad in methods.items()})
    h_hat = {("x^2", m): adam.momentum_factor(traces["x^2", m].steps, beta1)
             * QUADRATIC_CURVATURE * traces["x^2", m].precond * lr / 2 for m in methods}
    return DoubleEdgedResult(
        traces, {key: power_loss.episode_rises(traces[key], h, ENVELOPE_WIDTH)
                 for key, h in h_hat.items()}, h_hat,
        power_loss.fitted_log_slope(traces["x^4", "Adam"], cfg.fit_x_min, cfg.fit_x_max),
        power_loss.fitted_power(traces["x^4", "AMSGrad"], steps // 10),
        power_loss.flow_power(DEGREE, cfg.quartic_learning_rate, steps // 10,
                              len(traces["x^4", "AMSGrad"].loss)))


def double_edged_checks(cfg: Config, extension: DoubleEdgedResult) -> list[Check]:
    """The extension (A9): Adam's loss rises at every crossing of the threshold on x^2, and
    without the decay (AMSGrad) x^4 keeps only the gradient flow's sublinear rate."""
    rises = extension.rises["x^2", "Adam"]
    return [
        Check("A9", "vhat_decay_double_edged", f"min over all {len(rises)} episodes of "
              "log10(loss peak before the next crossing / envelope at the crossing), Adam on x^2",
              ">", 0, {"": min(rises, default=np.nan)}, scope=QUADRATIC_SCOPE, in_scope=0.99 <= cfg.quadratic_beta2 <= 0.995
              and cfg.quadratic_learning_rate <= 0.1,
              why="each time v_hat has decayed past the threshold the loss turns up; at "
                  "beta2 = 0.99 some episodes last 1-2 steps and rise by a few percent"),
        Check("A9", "vhat_decay_double_edged", "|fitted loss exponent of AMSGrad - the gradient "
              "flow's, over the same steps|, x^4", "<=", 0.05,
              {"": abs(extension.amsgrad_power - extension.flow_power)},
              scope="Part D's settings (quartic_learning_rate <= 0.01): AMSGrad's v_hat holds "
                    "g_1^2 = 1, so it is GD with step eta", in_scope=cfg.quartic_learning_rate
              <= 0.01, why="GD's flow reaches its asymptote -2 only once eta t >> 1; the run is "
                           "compared with the flow's own exponent over the same steps"),
    ]


# --------------------------------------------------------------------------------------------
# Negative and unasserted results
# --------------------------------------------------------------------------------------------
WARNING_SIGNALS = {"lam_max_hat": "lambda_max(H^)", "lam_grad_b": "lambda^B_grad(H^)",
                   "lam_max_raw": "lambda_max(H)"}  # overview field -> its name in the tables


def warning_scores(result: NetworkResult) -> dict:
    """Each sampled curvature signal of Part B's overview read as a spike predictor: signal
    name -> :class:`spikes.WarningScore` at the threshold ``2 / eta``."""
    overview = result.overview
    return {name: spikes.warning_score(overview.index, getattr(overview, name),
                                       2 / result.learning_rate, result.found)
            for name in WARNING_SIGNALS}


@dataclass(frozen=True)
class SecantResult:
    """The Hessian-free secant curvature read around each examined spike: ``{spike number:
    value}`` each (the negative results)."""

    at_grad_crossing: dict  # secant eta/2 where lambda^B_grad crosses 2/eta (NaN if it never does)
    peak_offset: dict  # |step of the secant's maximum over [t_on - 80, t_pk] - t_on|
    log_correlation: dict  # corr(log secant, log lambda^B_grad) over the window up to t_on


def _secant_values(story: spikes.SpikeStory, secant: np.ndarray, scale: float) -> tuple:
    """The :class:`SecantResult` fields of one spike; ``secant`` has one row per step."""
    s, series = story.spike, story.series
    window = secant[series.index]
    at_crossing = secant[story.cross_grad] * scale if story.cross_grad >= 0 else np.nan
    before_peak = series.index <= s.t_pk
    peak = series.index[before_peak][np.argmax(window[before_peak])]
    keep = (series.index <= s.t_on) & (window > 0) & (series.lam_grad_b > 0)
    correlation = np.corrcoef(np.log(window[keep]), np.log(series.lam_grad_b[keep]))[0, 1]
    return at_crossing, abs(peak - s.t_on), correlation


def secant_proxy(result: NetworkResult, beta1: float) -> SecantResult:
    """:func:`adam.secant_curvature` along Part B's run, read at each examined spike."""
    train = result.train
    secant = adam.secant_curvature(train.theta, train.grad, train.precond, beta1)  # row i: step i+1
    rows = [_secant_values(story, secant, result.learning_rate / 2) for story in result.stories]
    return SecantResult(*({n: float(row[i]) for n, row in enumerate(rows, start=1)}
                          for i in range(3)))


# --------------------------------------------------------------------------------------------
# What each part shows without asserting
# --------------------------------------------------------------------------------------------
def spike_measures(cfg: Config, result: NetworkResult) -> list[Measured]:
    """Part B over every examined spike: each claim's worst value beyond the claimed spikes (in
    paper mode), how far apart the two readings of lambda_grad are, and how long before the
    onset lambda^B_grad crosses 2/eta."""
    examined, n_examined = spike_checks(result.stories, cfg.learning_rate), len(result.stories)
    beyond = [] if n_examined <= CLAIMED_SPIKES else [
        Measured(f"all_spikes_{check.name}_{row}", f"worst of all {n_examined} examined spikes: "
                 f"{check.quantity} (claim bound {check.op} {check.bound:g})", check.worst)
        for row, check in enumerate(network_checks(cfg, examined))]
    return [*beyond,
            Measured("lam_grad_a_vs_b", "max over examined spikes and [t_on-10, t_on] of "
                     "|lambda^A_grad - lambda^B_grad| eta/2", max(examined.lam_grad_gap.values())),
            Measured("lead_lam_grad_onset_min", "min over examined spikes of t_on - "
                     "t_cross(lambda^B_grad)", min(examined.onset_lead.values())),
            Measured("lead_lam_grad_onset_max", "max over examined spikes of t_on - "
                     "t_cross(lambda^B_grad)", max(examined.onset_lead.values()))]


def mitigation_measures(part_c: MitigationResult) -> list[Measured]:
    """Part C: the small beta2's amplitudes, final losses and spike counts against Adam's (at
    the chapter's learning rate and at the reversal one), the eps bound at t = 1, and AMSGrad."""
    small, seeds, over, at_reversal = (part_c.small_beta2, part_c.seeds, part_c.seed_range,
                                       part_c.reversal)
    final_adam, final_small = part_c.final_loss("Adam"), part_c.final_loss(small)
    final_amsgrad = part_c.final_loss("AMSGrad")
    return [
        Measured("amplitude_ratio_median", f"median over {over} of the largest local amplitude "
                 f"({small}) / (Adam)", np.median(list(part_c.amplitude_ratio().values()))),
        Measured("small_beta2_final_loss_ratio", f"median over {over} of final loss ({small}) "
                 "/ (Adam)", np.median([final_small[s] / final_adam[s] for s in seeds])),
        Measured("reversal_seeds", f"seeds of {over} on which {small} has at least as many "
                 f"spikes as Adam at learning rate {at_reversal.learning_rate:g}",
                 at_reversal.seeds_reversed(small)),
        *(Measured(f"reversal_amplitude_{variant_key(name)}", f"median over {over} of the "
                   f"largest local amplitude, {name} at learning rate "
                   f"{at_reversal.learning_rate:g}", at_reversal.median_largest_amplitude(name))
          for name in ("Adam", small)),
        Measured("eps_bound_first_step", "max over seeds of c_1 lambda_max(H_1) eta / (2 eps) at "
                 "t = 1, where c_1 = 1/(1+b1) still carries the bias correction",
                 max(part_c.eps_bound_first_step.values())),
        Measured("amsgrad_final_loss_ratio", "min over seeds of final loss AMSGrad / Adam",
                 min(final_amsgrad[s] / final_adam[s] for s in seeds)),
        Measured("torch_amsgrad_spikes", "max over seeds of spike count with "
                 "torch.optim.Adam(amsgrad=True) semantics (max of raw v)",
                 max(part_c.spike_counts("torch AMSGrad").values()))]


def spike_count_measures(cfg: Config, part_c: MitigationResult) -> list[Measured]:
    """Part C's spike counts over the seeds, fewest and most, for every beta2 run."""
    every_beta2 = ("Adam", part_c.small_beta2, *part_c.counted[:-1])  # the last: torch AMSGrad
    measures = []
    for name in every_beta2:
        counts = part_c.spike_counts(name).values()
        measures += [Measured(f"spike_count_{variant_key(name)}_{extreme}",
                              f"{extreme} over {part_c.seed_range} of the spike count, {name} "
                              f"({cfg.ablation_steps} steps)", value)
                     for extreme, value in (("min", min(counts)), ("max", max(counts)))]
    return measures


def degenerate_measures(part_d: DegenerateResult) -> list[Measured]:
    """Part D: heavy ball against its flow, the fitted power laws, each regime's losses."""
    regimes = [measure for b, trace in part_d.regimes.items() for measure in (
        Measured(f"regime_{b:g}_min_loss", f"min loss, beta2 = {b:g} "
                 f"({part_d.regime_names[b]})", trace.loss.min()),
        Measured(f"regime_{b:g}_final_loss", f"final loss, beta2 = {b:g}", trace.loss[-1]))]
    return [Measured("heavy_ball_vs_flow", "HB x_T / flow at eta/(1-mu)",
                     part_d.heavy_ball.x[-1] / part_d.flow_heavy_ball[-1]),
            Measured("gd_power", f"fitted exponent of L_GD in t from step {part_d.power_from} "
                     f"(asymptote {power_loss.sublinear_exponent(DEGREE):g})", part_d.gd_power),
            Measured("heavy_ball_power", "fitted exponent of L_HB in t from step "
                     f"{part_d.power_from}", part_d.heavy_ball_power),
            *regimes]


def double_edged_measures(cfg: Config, extension: DoubleEdgedResult) -> list[Measured]:
    """The extension: where AMSGrad's losses stand on both problems."""
    amsgrad_x2, amsgrad_x4 = extension.traces["x^2", "AMSGrad"], extension.traces["x^4", "AMSGrad"]
    return [Measured("amsgrad_x2_loss_5000", "AMSGrad loss on x^2 at step 5000",
                     amsgrad_x2.loss[min(4999, cfg.extension_steps - 1)]),
            Measured("amsgrad_x4_final_loss", "AMSGrad loss on x^4 at the last step",
                     amsgrad_x4.loss[-1])]


def warning_measures(result: NetworkResult) -> list[Measured]:
    """:func:`warning_scores` as the chapter shows them: how often each signal is above 2/eta,
    in how many episodes, and how many of those contain an onset and the reverse."""
    scores, n_found = warning_scores(result), len(result.found)
    measures = []
    for field, label in WARNING_SIGNALS.items():
        score = scores[field]
        measures += [
            Measured(f"{field}_steps_above", f"overview samples with {label} > 2/eta "
                     f"(of {len(result.overview.index)})", score.steps_above),
            Measured(f"{field}_episodes", f"episodes of {label} > 2/eta", score.episodes),
            *([Measured(f"{field}_precision", f"fraction of {label} episodes containing an "
                        "onset", score.precision)] if score.episodes else []),
            Measured(f"{field}_recall", f"fraction of the {n_found} spikes whose onset is "
                     f"inside a {label} episode", score.recall)]
    return [*measures, Measured(
        "false_alarm_ratio", "steps above: lambda_max(H^) / lambda^B_grad(H^) (paper 1010/77)",
        scores["lam_max_hat"].steps_above / max(scores["lam_grad_b"].steps_above, 1))]


def secant_measures(result: NetworkResult, beta1: float) -> list[Measured]:
    """:func:`secant_proxy` as the chapter shows it: its worst spike on each reading."""
    secant = secant_proxy(result, beta1)
    return [Measured("secant_at_grad_crossing", "max over spikes of secant eta/2 at the step "
                     "lambda^B_grad crosses 2/eta (1 would be a forecast)",
                     max(secant.at_grad_crossing.values())),
            Measured("secant_peak_minus_onset", "max over spikes of |argmax secant - t_on| in "
                     "[t_on-80, t_pk] (0: it peaks at the onset)",
                     max(secant.peak_offset.values())),
            Measured("secant_log_correlation", "min over spikes of corr(log secant, log "
                     "lambda^B_grad) over [t_on-80, t_on]", min(secant.log_correlation.values()))]


# --------------------------------------------------------------------------------------------
# The robustness sweep: the claims at one configuration, and the explorable figure
# --------------------------------------------------------------------------------------------
CLAIMED_SPIKES = 2  # claims A3-A5 read the first two spikes; paper mode examines more
EXPLORE_EVERY = 25  # steps between the curvature samples of the explorable figure


def checks(cfg: Config) -> list[Check]:
    """Every claim of the chapter at ``cfg``, in the order shown (what ``python -m companion
    sweep`` evaluates at each grid point); the negative results are shown, not checked."""
    part_b = network(cfg)
    return [*quadratic_checks(cfg, quadratic(cfg)),
            *network_checks(cfg, spike_checks(part_b.stories[:CLAIMED_SPIKES],
                                              cfg.learning_rate)),
            *mitigation_checks(cfg, mitigations(cfg, reversal=False)),
            *degenerate_checks(cfg, degenerate(cfg)),
            *double_edged_checks(cfg, double_edged(cfg))]


def explore_frame(cfg: Config) -> dict[str, np.ndarray]:
    """Fig. 2 at ``cfg`` (first seed): the loss with its spikes, and every EXPLORE_EVERY steps
    the preconditioned and the raw sharpness, times eta/2."""
    net = spikes.TanhNet.sine_task(cfg.n_points, cfg.width)
    betas = (cfg.beta1, cfg.beta2)
    train, = adam.run_adam(net.grad_and_loss, net.init(cfg.seed)[None], cfg.steps,
                           cfg.learning_rate, [adam.AdamOptions(betas, cfg.eps)])
    overview = spikes.curvature_series(
        net, train, range(EXPLORE_EVERY - 1, cfg.steps, EXPLORE_EVERY), *betas)
    return NetworkResult(cfg.learning_rate, train, spikes.detect_spikes(train.loss), [],
                         overview).figure_data()


def draw_frame(fig, frame: dict[str, np.ndarray], params: dict) -> None:
    """Draw :func:`explore_frame`'s arrays on an empty figure: the loss with its spikes (top)
    and the two sharpnesses against the threshold 1 (bottom)."""
    ax_loss, ax_curvature = fig.subplots(2, 1, sharex=True)
    steps = np.arange(1, len(frame["loss"]) + 1)
    ax_loss.semilogy(steps, frame["loss"], c="C0", lw=0.8)
    ax_loss.plot(frame["spike_peaks"], frame["loss"][frame["spike_peaks"] - 1], "v", c="C3",
                 ms=4, label=f"{len(frame['spike_peaks'])} spikes")
    ax_loss.set(ylabel="loss")
    ax_loss.legend(fontsize=8)
    ax_curvature.plot(frame["overview_steps"], frame["lam_max_hat"], c="C3",
                      label=r"$\lambda_{\max}(\hat H)\,\eta/2$")
    ax_curvature.plot(frame["overview_steps"], frame["lam_max_raw"], c="k",
                      label=r"$\lambda_{\max}(H)\,\eta/2$")
    ax_curvature.axhline(1, c="k", lw=0.8, ls="--")
    ax_curvature.set(xlabel="step t", ylabel=r"curvature $\times\,\eta/2$")
    ax_curvature.legend(fontsize=8, loc="upper left")
    fig.suptitle(", ".join(f"{name} = {value:g}" for name, value in params.items()))
