"""Every run of the Adam-spikes chapter, from its configuration to what its figures and claims read.

This is the one module of the chapter that reads the configuration (:mod:`.config`); the science
it calls (:mod:`.adam`, :mod:`.spikes`, :mod:`.power_loss`) takes plain values. One function per
part of the chapter: :func:`quadratic` (Part A), :func:`network` with :func:`spike_checks` and
:func:`spike_zooms` (Part B), :func:`mitigations` (Part C), :func:`degenerate` (Part D),
:func:`double_edged` (the extension), :func:`warning_scores` and :func:`secant_proxy` (the
negative results). A value a claim checks on every seed or spike is a ``{seed: value}`` or
``{spike number: value}`` dict (spike 1 is the first), as ``run.claim`` takes it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch

from ..spectra import top_eigenpairs
from . import adam, power_loss, spikes
from .config import Config

DECAY_WINDOW = 300  # Part A: steps before the first crossing where the pure decay is checked
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
    decay_ratio_error: float  # max over that window of |v_hat_t / v_hat_t-1 - pure decay ratio|
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
    from the pure decay of ``v_hat``, and the decay checks of claim A1."""
    lr, beta1, beta2 = cfg.quadratic_learning_rate, cfg.beta1, cfg.quadratic_beta2
    trace = power_loss.adam(2, cfg.theta0, cfg.quadratic_steps, lr, beta1, beta2, cfg.eps,
                            curvature=cfg.curvature)
    gd = power_loss.gradient_descent(2, cfg.theta0, cfg.quadratic_steps, lr,
                                     curvature=cfg.curvature)
    spike = power_loss.quadratic_spike(trace, lr, beta1, cfg.curvature, ENVELOPE_WIDTH)
    t0, t_c = spike.t_cross - DECAY_WINDOW, spike.t_cross
    ratio_error = np.abs(trace.v_hat[1:] / trace.v_hat[:-1]
                         - adam.pure_decay_ratio(trace.steps[1:], beta2))  # row i: step i + 2
    return QuadraticResult(
        trace, gd, spike,
        t_star=adam.crossing_time_1d(t0 + 1, trace.v_hat[t0], cfg.curvature, lr, beta1, beta2),
        decay_ratio_error=float(ratio_error[t0 - 1:t_c - 1].max()),
        decay_g2_over_v=float((trace.grad ** 2 / trace.v_hat)[t0:t_c].max()),
        pure_decay=trace.v_hat[spike.t_decay] * beta2 ** (trace.steps
                                                          - trace.steps[spike.t_decay]))


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

    min_after_grad_crossing: dict  # t_min - t_cross(lambda^B_grad(H^))
    onset_after_max_crossing: dict  # t_on - t_cross(lambda_max(H^))
    grad_after_max_crossing: dict  # t_cross(lambda^B_grad) - t_cross(lambda_max(H^))
    max_cos_before_onset: dict  # max cos_t over [t_on - 5, t_on]
    lam_max_hat_after_peak: dict  # lambda_max(H^) at t_pk + 5
    lam_max_raw: dict  # max of lambda_max(H) over the window
    calm_v_ratio_residual: dict  # median |v_hat ratio along u1 - pure decay|, calm window
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
        min_after_grad_crossing=s.t_min - story.cross_grad if crossed else np.nan,
        onset_after_max_crossing=s.t_on - story.cross_max if crossed else np.nan,
        grad_after_max_crossing=story.cross_grad - story.cross_max if crossed else np.nan,
        max_cos_before_onset=series.cos_top[(series.index >= s.t_on - 5) & to_onset].max(),
        lam_max_hat_after_peak=series.at(s.t_pk + 5, "lam_max_hat") * scale,
        lam_max_raw=series.lam_max_raw.max() * scale,
        calm_v_ratio_residual=np.median(np.abs(series.v_ratio_residual[calm])),
        calm_g2_over_v=np.median(series.g2_over_v[calm]),
        lam_grad_gap=np.abs(series.lam_grad_a - series.lam_grad_b)[
            (series.index >= s.t_on - 10) & to_onset].max() * scale,
        onset_lead=s.t_on - story.cross_grad)


def spike_checks(stories: list[spikes.SpikeStory], lr: float) -> SpikeChecks:
    """:class:`SpikeChecks` over ``stories`` (Part B, claims A3-A5)."""
    rows = [_spike_values(story, lr / 2) for story in stories]
    return SpikeChecks(**{f.name: {n: float(row[f.name]) for n, row in enumerate(rows, start=1)}
                          for f in dataclasses.fields(SpikeChecks)})


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
@dataclass(frozen=True)
class MitigationResult:
    """The loss of every (seed, variant) run of Part C and its detected spikes."""

    seeds: tuple[int, ...]
    variants: tuple[str, ...]  # asserted: Adam, large eps, small beta2, AMSGrad on v_hat
    counted: tuple[str, ...]  # spikes counted, not asserted: more beta2 values, torch AMSGrad
    loss: dict  # (seed, variant) -> loss curve
    found: dict  # (seed, variant) -> detected spikes
    eps_bound: dict  # seed -> max along the large-eps run of c lambda_max(H) eta / (2 eps)
    eps_bound_first_step: dict  # seed -> c_1 lambda_max(H_1) eta / (2 eps), c_1 = 1/(1+b1)

    @property
    def large_eps(self) -> str:
        return self.variants[1]

    @property
    def small_beta2(self) -> str:
        return self.variants[2]

    def spike_counts(self, variant: str) -> dict:
        """``{seed: number of spikes}`` of one variant."""
        return {seed: len(self.found[seed, variant]) for seed in self.seeds}

    def max_amplitude(self, variant: str) -> dict:
        """``{seed: largest L(t_pk) / L(t_min)}`` of one variant (1 without spikes)."""
        return {seed: max((s.amplitude for s in self.found[seed, variant]), default=1.0)
                for seed in self.seeds}

    def final_loss(self, variant: str) -> dict:
        """``{seed: loss at the last step}`` of one variant."""
        return {seed: self.loss[seed, variant][-1] for seed in self.seeds}


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


def mitigations(cfg: Config) -> MitigationResult:
    """Part C: every variant from every seed's initialisation, all runs advancing together,
    their spikes, and along each large-eps run the bound ``c lambda_max(H) eta / (2 eps)``
    (Hessian every bound_every steps; ``c = (1-b1)/(1+b1)`` once the bias correction has faded,
    ``1/(1+b1)`` at t = 1)."""
    net = spikes.TanhNet.sine_task(cfg.n_points, cfg.width)
    variants, counted = mitigation_variants(cfg)
    options = {**variants, **counted}
    runs = [(seed, name) for seed in cfg.seeds for name in options]
    eps_name, scale = list(variants)[1], cfg.learning_rate / 2  # the runs whose states are kept
    trajectories = dict(zip(runs, adam.run_adam(
        net.grad_and_loss, torch.stack([net.init(seed) for seed, _ in runs]), cfg.ablation_steps,
        cfg.learning_rate, [options[name] for _, name in runs],
        keep_state=[name == eps_name for _, name in runs])))
    loss = {run: trajectory.loss for run, trajectory in trajectories.items()}
    eps_bound, first_step = {}, {}
    for seed in cfg.seeds:
        lam = sharpness(net, trajectories[seed, eps_name].theta[::cfg.bound_every])
        c_late = (1 - cfg.beta1) / (1 + cfg.beta1)
        eps_bound[seed] = c_late * lam.max() / cfg.eps_large * scale
        first_step[seed] = adam.momentum_factor(1, cfg.beta1) * lam[0] / cfg.eps_large * scale
    found = {key: spikes.detect_spikes(curve) for key, curve in loss.items()}
    return MitigationResult(cfg.seeds, tuple(variants), tuple(counted), loss, found, eps_bound,
                            first_step)


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


# --------------------------------------------------------------------------------------------
# Beyond the paper: v_hat decay is double-edged
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DoubleEdgedResult:
    """Adam and AMSGrad (on v_hat) on ``x^2`` (Part A's settings) and ``x^4`` (Part D's)."""

    traces: dict  # (problem, method) -> trace; problem "x^2" or "x^4", method "Adam"/"AMSGrad"
    found: dict  # ("x^2", method) -> spikes detected on the loss envelope
    h_hat: dict  # ("x^2", method) -> H_hat eta / 2
    adam_slope: float  # fitted per-step slope of ln L, Adam on x^4
    amsgrad_power: float  # fitted exponent of L in t, AMSGrad on x^4, from a tenth of the run

    def figure_data(self) -> dict:
        """The arrays of Fig. 6: the four losses and ``H_hat eta/2`` on ``x^2``."""
        return {**{f"loss_{p.replace('^', '')}_{m}": t.loss for (p, m), t in self.traces.items()},
                **{f"h_hat_x2_{m}": h for (_, m), h in self.h_hat.items()}}


def double_edged(cfg: Config) -> DoubleEdgedResult:
    """The extension: both optimisers for extension_steps on both losses, the spike detector
    on the ``x^2`` envelopes, and the rates on ``x^4``."""
    steps, beta1, lr = cfg.extension_steps, cfg.beta1, cfg.quadratic_learning_rate
    methods = {"Adam": None, "AMSGrad": "v_hat"}
    traces = {("x^2", m): power_loss.adam(2, cfg.theta0, steps, lr, beta1, cfg.quadratic_beta2,
                                          cfg.eps, curvature=cfg.curvature, amsgrad=amsgrad)
              for m, amsgrad in methods.items()}
    traces.update({("x^4", m): power_loss.adam(DEGREE, 1.0, steps, cfg.quartic_learning_rate,
                                               beta1, cfg.quartic_beta2, amsgrad=amsgrad,
                                               **COMPANION_ADAM)
                   for m, amsgrad in methods.items()})
    quadratic_keys = [("x^2", m) for m in methods]
    return DoubleEdgedResult(
        traces,
        {key: spikes.detect_spikes(spikes.running_max(traces[key].loss, ENVELOPE_WIDTH))
         for key in quadratic_keys},
        {key: adam.momentum_factor(traces[key].steps, beta1) * cfg.curvature
         * traces[key].precond * lr / 2 for key in quadratic_keys},
        power_loss.fitted_log_slope(traces["x^4", "Adam"], cfg.fit_x_min, cfg.fit_x_max),
        power_loss.fitted_power(traces["x^4", "AMSGrad"], steps // 10))


# --------------------------------------------------------------------------------------------
# Negative and unasserted results
# --------------------------------------------------------------------------------------------
WARNING_SIGNALS = ("lam_max_hat", "lam_grad_b", "lam_max_raw")


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
