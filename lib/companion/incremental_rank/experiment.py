"""Every run of the incremental-rank chapter, from its configuration to the arrays it plots.

This is the one module of the chapter that reads the configuration (:mod:`.config`). It runs
gradient descent and GLRL on every seed (:func:`run_seeds`), then gathers, section by section
of the chapter, what the figures draw and the per-seed values the claims check: the staircase
(Fig. 1), the initialisation scale (Fig. 2), the under-parameterised run (Fig. 3), GD next to
GLRL (Fig. 4) and the convergence rates (Fig. 5). Claim values are ``{seed: value}`` dicts;
where a claim also ranges over levels s or scales alpha, those are reduced here, per seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..progress import progress
from ..small_init import predicted_stage_time, stage_time
from . import asymmetric, sensing
from .config import Config


# ---------------------------------------------------------------------------------------------
# One seed: every GD and GLRL run of the chapter (Sections "The staircase" to "GLRL")
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunSummary:
    """What the chapter keeps of one GD run: curves over t = 0..T, without the d x d path."""

    alpha: float
    width: int
    errors: np.ndarray  # (T+1,) E(W_t)
    eigenvalues: np.ndarray  # (T+1, k) decreasing
    distances: np.ndarray  # (T+1, r): dist_s(t) = ||W_t - X_s||_F / n*, s = 1..r
    coordinates: np.ndarray  # (T+1, r): q_j^T W_t q_j
    stage_times: np.ndarray  # (r,) t_s, NaN if never reached


@dataclass(frozen=True)
class GLRLSummary:
    """One GLRL run with epsilon = alpha^2, next to the GD run at alpha."""

    n_phases: int
    endpoint_distances: np.ndarray  # (min(phases, r),) ||endpoint_s - X_s||_F / n*
    coordinates: np.ndarray  # (n, r) q_j^T W q_j along the GLRL path
    path_distance: float  # H between this GLRL path (epsilon = alpha^2) and the GD path at alpha


@dataclass(frozen=True)
class SeedResult:
    """The problem of one seed, its best rank-s solutions and every run on it."""

    seed: int
    best_errors: np.ndarray  # (r+1,) E(X_0), ..., E(X_r)
    best_coordinates: np.ndarray  # (r+1, r) q_j^T X_s q_j
    sweep: dict  # alpha -> RunSummary, k = width
    large: dict  # alpha -> RunSummary, k = width, large initialisation
    under: RunSummary  # k = width_under, alpha = config.alpha
    glrl: dict  # alpha -> GLRLSummary, epsilon = alpha^2


def stage_times(eigenvalues: np.ndarray, sigmas) -> np.ndarray:
    """t_s = first step with lambda_s(W_t) >= sigma_s / 2 for s = 1..r; NaN where it never
    happens or k < s (the chapter's "Stage times")."""
    return np.array([stage_time(eigenvalues[:, s], sigma) if s < eigenvalues.shape[1] else np.nan
                     for s, sigma in enumerate(sigmas)], dtype=float)


def summarise(problem: sensing.SensingProblem, solutions: list, trajectory: sensing.Trajectory,
              alpha: float, width: int) -> RunSummary:
    """The curves of Figs. 1-4 of one GD trajectory: dist_s(t) to every X_s, s = 1..r, the
    coordinates q_j^T W_t q_j and the stage times t_s (chapter Setting)."""
    norm = problem.norm_star
    dist = np.stack([sensing.distances(trajectory.path, x, norm) for x in solutions[1:]], axis=1)
    return RunSummary(alpha, width, trajectory.errors, trajectory.eigenvalues, dist,
                      sensing.eigen_coordinates(trajectory.path, problem.q),
                      stage_times(trajectory.eigenvalues, problem.sigmas))


def compare_with_glrl(problem: sensing.SensingProblem, solutions: list,
                      trajectory: sensing.Trajectory, lr: float, alpha: float) -> GLRLSummary:
    """GLRL with epsilon = alpha^2 (Li, Luo, Lyu 2021, Algorithm 1), its phase endpoints against
    X_s and its path distance H to the GD trajectory at alpha (chapter section on GLRL)."""
    greedy = sensing.glrl(problem, lr, epsilon=alpha**2)
    endpoint_distances = np.array([np.linalg.norm(w - x) / problem.norm_star
                                   for w, x in zip(greedy.endpoints, solutions[1:])])
    return GLRLSummary(len(greedy.endpoints), endpoint_distances,
                       sensing.eigen_coordinates(greedy.path, problem.q),
                       sensing.path_distance(trajectory.path, greedy.path, problem.norm_star))


def run_seed(config: Config, seed: int) -> SeedResult:
    """Every run the chapter needs for one seed.

    The problem and X_0..X_r; GD with k = width for each alpha of the sweep and of alphas_large;
    GD with k = width_under at config.alpha; GLRL with epsilon = alpha^2 for each swept alpha and
    its path distance H to the GD path. The d x d paths are dropped once summarised.
    """
    problem = sensing.make_problem(config.dim, config.sigmas, config.n_measurements, seed)
    solutions = sensing.best_rank_solutions(problem, config.best_rank_solver)
    lr = config.learning_rate

    def gd(alpha: float, width: int) -> sensing.Trajectory:
        u0 = sensing.initial_factor(config.dim, width, alpha, seed)
        return sensing.gradient_descent(problem, u0, lr, config.steps)

    sweep, glrl_runs = {}, {}
    for alpha in config.alpha_sweep:
        trajectory = gd(alpha, config.width)
        sweep[alpha] = summarise(problem, solutions, trajectory, alpha, config.width)
        glrl_runs[alpha] = compare_with_glrl(problem, solutions, trajectory, lr, alpha)
    large = {alpha: summarise(problem, solutions, gd(alpha, config.width), alpha, config.width)
             for alpha in config.alphas_large}
    under = summarise(problem, solutions, gd(config.alpha, config.width_under), config.alpha,
                      config.width_under)
    return SeedResult(seed, np.array([sensing.error(problem, sensing.svec(x)) for x in solutions]),
                      sensing.eigen_coordinates(sensing.svec(np.array(solutions)), problem.q),
                      sweep, large, under, glrl_runs)


def run_seeds(config: Config) -> tuple[SeedResult, ...]:
    """:func:`run_seed` for every seed of the configuration, the first seed first."""
    return tuple(run_seed(config, seed) for seed in progress(config.seeds, "seeds"))


# ---------------------------------------------------------------------------------------------
# Section "The staircase": Fig. 1, claims A1 and A2
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StaircaseResult:
    """The main run (k = width, alpha = config.alpha): Fig. 1 draws the first seed's curves and
    every seed's dist_s(t); the dicts hold each seed's value of a claim."""

    steps: np.ndarray  # (T+1,) t = 0..T
    main: RunSummary  # the first seed's run
    best_errors: np.ndarray  # (r+1,) E(X_s) of the first seed
    predicted_stage_times: np.ndarray  # (r,) t^_s
    linear_growth: tuple  # per s: (t <= t^_s, alpha^2 (1 + mu sigma_s)^{2t})
    distances: np.ndarray  # (seeds, T+1, r) dist_s(t)
    min_distances: dict  # s < r -> {seed: min_t dist_s(t)}
    plateau_error_gaps: dict  # s < r -> {seed: |E(W_t*) / E(X_s) - 1|, t* = argmin dist_s}
    final_distances: dict  # {seed: dist_r(T)}
    stage_gaps: dict  # {seed: min over s of t_{s+1} - t_s}
    next_eigenvalues: dict  # {seed: max over s < r of lambda_{s+1}(W_{t_s}) / sigma_{s+1}}


def linear_growth(sigmas: np.ndarray, alpha: float, lr: float, predicted: np.ndarray,
                  steps: np.ndarray) -> tuple:
    """alpha^2 (1 + mu sigma_s)^{2t} for t <= t^_s: the linearised growth of lambda_s (Setting)."""
    curves = []
    for sigma, t_hat in zip(sigmas, predicted):
        growth = steps[steps <= t_hat]
        curves.append((growth, alpha**2 * (1 + lr * sigma) ** (2 * growth)))
    return tuple(curves)


def plateau_error_gap(run: RunSummary, best_error: float, s: int) -> float:
    """|E(W_t*) / E(X_s) - 1| at t* = argmin_t dist_s(t): the plateau has the loss of X_s (A1)."""
    t_star = run.distances[:, s - 1].argmin()
    return abs(run.errors[t_star] / best_error - 1)


def next_eigenvalue(run: RunSummary, sigmas: np.ndarray) -> float:
    """max over s < r of lambda_{s+1}(W_{t_s}) / sigma_{s+1}: how far the next stage is when
    stage s arrives (claim A2); NaN, a failed claim, where a stage never arrives."""
    ratios = [run.eigenvalues[int(t_s), s] / sigmas[s] if np.isfinite(t_s) else np.nan
              for s, t_s in enumerate(run.stage_times[:-1], start=1)]
    return float(np.max(ratios))


def staircase(config: Config, runs: tuple[SeedResult, ...]) -> StaircaseResult:
    """Section "The staircase": the main run's curves, its distances to X_s on every seed, and
    the per-seed values of claims A1 (plateaus are X_s) and A2 (one rank at a time)."""
    sigmas, levels = np.array(config.sigmas), range(1, config.rank)
    steps = np.arange(config.steps + 1)
    predicted = predicted_stage_time(sigmas, config.alpha, config.learning_rate)
    main = {res.seed: res.sweep[config.alpha] for res in runs}
    best = {res.seed: res.best_errors for res in runs}
    return StaircaseResult(
        steps, main[runs[0].seed], runs[0].best_errors, predicted,
        linear_growth(sigmas, config.alpha, config.learning_rate, predicted, steps),
        np.array([run.distances for run in main.values()]),
        {s: {seed: run.distances[:, s - 1].min() for seed, run in main.items()} for s in levels},
        {s: {seed: plateau_error_gap(run, best[seed][s], s) for seed, run in main.items()}
         for s in levels},
        {seed: run.distances[-1, config.rank - 1] for seed, run in main.items()},
        {seed: np.min(np.diff(run.stage_times)) for seed, run in main.items()},
        {seed: next_eigenvalue(run, sigmas) for seed, run in main.items()})


@dataclass(frozen=True)
class PlateauHeightResult:
    """Section "Not asserted": the plateau errors E(X_s) next to the population tails."""

    population_tails: np.ndarray  # (r-1,) sum_{i>s} sigma_i^2, s = 1..r-1
    ratios: np.ndarray  # (seeds, r-1) E(X_s) / sum_{i>s} sigma_i^2


def plateau_heights(config: Config, runs: tuple[SeedResult, ...]) -> PlateauHeightResult:
    """E(X_s) / sum_{i>s} sigma_i^2 on every seed: 1 if the measurements were isotropic, so that
    X_s were the truncated eigendecomposition of X* (chapter section "Not asserted")."""
    sigmas = np.array(config.sigmas)
    tails = np.array([np.sum(sigmas[s:] ** 2) for s in range(1, config.rank)])
    best = np.array([res.best_errors[1:config.rank] for res in runs])
    return PlateauHeightResult(tails, best / tails)


# ---------------------------------------------------------------------------------------------
# Section "The initialisation scale": Fig. 2, claims A3 and A4
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AlphaSweepResult:
    """GD at k = width for every swept alpha and every seed: Fig. 2 and claims A3, A4."""

    alphas: np.ndarray  # (a,) the swept scales, decreasing
    alphas_large: np.ndarray  # (b,) scales of order one, with no stages
    log_inv_alpha: np.ndarray  # (a,) ln(1/alpha)
    errors: np.ndarray  # (a, seeds, T+1) E(W_t)
    stage_times: np.ndarray  # (seeds, a, r) t_s
    prediction_grid: np.ndarray  # (g,) ln(1/alpha) on which t^_s is drawn
    predicted_lines: np.ndarray  # (r, g) t^_s on that grid
    min_distances: np.ndarray  # (seeds, a, r) min_t dist_s(t)
    min_distances_large: np.ndarray  # (seeds, b, r) min_t dist_s(t) at the large alphas
    stage_time_errors: dict  # {seed: max over s, alpha < alphas[0] of |t_s / t^_s - 1|}
    slope_errors: dict  # {seed: max over s of |slope of t_s on ln(1/alpha) ln(1 + mu sigma_s) - 1|}
    approach_ratios: dict  # {seed: max over s < r, consecutive alphas of the min dist_s ratio}
    approach_drops: dict  # {seed: min over s < r of min dist_s at alphas[0] / at alphas[-1]}
    large_alpha_distances: dict  # {seed: min_t dist_1 at the largest alpha of alphas_large}


def predicted_lines(sigmas: np.ndarray, lr: float, log_inv_alpha: np.ndarray) -> np.ndarray:
    """t^_s = (ln sigma_s + 2 ln(1/alpha)) / (2 ln(1 + mu sigma_s)) as lines in ln(1/alpha)."""
    return np.array([(np.log(sigma) + 2 * log_inv_alpha) / (2 * np.log1p(lr * sigma))
                     for sigma in sigmas])


def alpha_sweep(config: Config, runs: tuple[SeedResult, ...]) -> AlphaSweepResult:
    """Section "The initialisation scale": stage times against ln(1/alpha) (claim A3) and the
    closest approach to each X_s against alpha (claim A4), on every seed."""
    sigmas, lr, seeds = np.array(config.sigmas), config.learning_rate, config.seeds
    alphas, alphas_large = np.array(config.alpha_sweep), np.array(config.alphas_large)
    log_inv = np.log(1 / alphas)
    stage_times = np.array([[res.sweep[a].stage_times for a in alphas] for res in runs])
    min_dist = np.array([[res.sweep[a].distances.min(axis=0) for a in alphas] for res in runs])
    min_dist_large = np.array([[res.large[a].distances.min(axis=0) for a in alphas_large]
                               for res in runs])
    predicted = np.array([predicted_stage_time(sigmas, a, lr) for a in alphas])
    time_errors = np.abs(stage_times[:, 1:, :] / predicted[None, 1:, :] - 1)
    slopes = np.array([[np.polyfit(log_inv, times[:, s], 1)[0] for s in range(config.rank)]
                       for times in stage_times])
    slope_errors = np.abs(slopes * np.log1p(lr * sigmas) - 1)
    intermediate = min_dist[:, :, : config.rank - 1]
    grid = np.linspace(0, log_inv.max() * 1.05, 50)
    return AlphaSweepResult(
        alphas, alphas_large, log_inv,
        np.array([[res.sweep[a].errors for res in runs] for a in alphas]),
        stage_times, grid, predicted_lines(sigmas, lr, grid), min_dist, min_dist_large,
        dict(zip(seeds, time_errors.max(axis=(1, 2)))), dict(zip(seeds, slope_errors.max(axis=1))),
        dict(zip(seeds, (intermediate[:, 1:] / intermediate[:, :-1]).max(axis=(1, 2)))),
        dict(zip(seeds, (intermediate[:, 0] / intermediate[:, -1]).min(axis=1))),
        dict(zip(seeds, min_dist_large[:, alphas_large.argmax(), 0])))


# ---------------------------------------------------------------------------------------------
# Section "Under-parameterised": Fig. 3, claim A5
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UnderParameterisedResult:
    """GD at k = width_under < r and alpha = config.alpha: Fig. 3 and claim A5."""

    width: int  # k
    run: RunSummary  # the first seed's run
    best_error: float  # E(X_k) of the first seed
    distances: np.ndarray  # (seeds, T+1, r) dist_s(t)
    final_distances: dict  # {seed: dist_k(T)}
    min_distances: dict  # s < k -> {seed: min_t dist_s(t)}
    final_error_gaps: dict  # {seed: |E(W_T) / E(X_k) - 1|}


def under_parameterised(config: Config, runs: tuple[SeedResult, ...]) -> UnderParameterisedResult:
    """Section "Under-parameterised": GD with k < r passes X_1..X_{k-1} and ends at X_k."""
    k = config.width_under
    under = {res.seed: res.under for res in runs}
    best = {res.seed: res.best_errors[k] for res in runs}
    return UnderParameterisedResult(
        k, runs[0].under, runs[0].best_errors[k],
        np.array([run.distances for run in under.values()]),
        {seed: run.distances[-1, k - 1] for seed, run in under.items()},
        {s: {seed: run.distances[:, s - 1].min() for seed, run in under.items()}
         for s in range(1, k)},
        {seed: abs(run.errors[-1] / best[seed] - 1) for seed, run in under.items()})


# ---------------------------------------------------------------------------------------------
# Section "GD next to Greedy Low-Rank Learning": Fig. 4, claim A6
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GLRLComparisonResult:
    """GD against GLRL with epsilon = alpha^2 for every swept alpha: Fig. 4 and claim A6."""

    alphas: np.ndarray  # (a,) the swept scales, decreasing
    path_distances: np.ndarray  # (seeds, a) H(alpha)
    gd_coordinates: np.ndarray  # (a, T+1, r) q_j^T W_t q_j of GD, first seed
    glrl_coordinates: np.ndarray  # (n, r) q_j^T W q_j of GLRL at config.alpha, first seed
    corners: np.ndarray  # (r-1, r) q_j^T X_s q_j for X_1..X_{r-1}, first seed
    phase_count_errors: dict  # {seed: max over alpha of |number of GLRL phases - r|}
    endpoint_distances: dict  # {seed: max over alpha, s of ||phase-s endpoint - X_s|| / n*}
    shrink_ratios: dict  # {seed: max over consecutive alphas of H(next alpha) / H(alpha)}
    main_distances: dict  # {seed: H(config.alpha)}
    largest_distances: dict  # {seed: H(alphas[0])}


def glrl_comparison(config: Config, runs: tuple[SeedResult, ...]) -> GLRLComparisonResult:
    """Section on GLRL: the path distance H(alpha) on every seed, the first seed's paths in the
    eigen-coordinates of X*, and the per-seed values of claim A6."""
    alphas, rank, seeds = np.array(config.alpha_sweep), config.rank, config.seeds
    h = np.array([[res.glrl[a].path_distance for a in alphas] for res in runs])
    hero = runs[0]
    return GLRLComparisonResult(
        alphas, h, np.array([hero.sweep[a].coordinates for a in alphas]),
        hero.glrl[config.alpha].coordinates, hero.best_coordinates[1:rank],
        {res.seed: max(abs(res.glrl[a].n_phases - rank) for a in alphas) for res in runs},
        {res.seed: max(res.glrl[a].endpoint_distances.max() for a in alphas) for res in runs},
        dict(zip(seeds, (h[:, 1:] / h[:, :-1]).max(axis=1))),
        dict(zip(seeds, h[:, config.alpha_sweep.index(config.alpha)])),
        dict(zip(seeds, h[:, 0])))


# ---------------------------------------------------------------------------------------------
# Section "How fast is the last stage?": Fig. 5, claims A7 to A9 (Xiong, Ding, Du, ICLR 2024)
# ---------------------------------------------------------------------------------------------
RATE_RUNS = ("symmetric_k_r", "symmetric_k_d", "asymmetric_k_d")


@dataclass(frozen=True)
class ConvergenceRatesResult:
    """Relative errors ||W_t - X*||_F / ||X*||_F of the three runs of Fig. 5 on every seed."""

    t: np.ndarray  # (n,) the plotted steps, log-spaced in 1..T
    errors: dict  # run name (RATE_RUNS) -> (seeds, n) relative errors at those steps
    reference_step: int  # t_ref = T / 10, where the claims read the errors
    one_over_t_steps: np.ndarray  # the plotted steps from t_ref / 20 on
    one_over_t: np.ndarray  # the median symmetric k = d error at t_ref, times t_ref / t
    exact_width_errors: dict  # {seed: error at t_ref, symmetric k = r}
    slope_errors: dict  # {seed: |log-log slope over [t_ref, T] + 1|, symmetric k = d}
    asymmetric_ratios: dict  # {seed: error ratio asymmetric / symmetric at T, k = d}
    e_folding_steps: float  # median over seeds of steps per e-fold, asymmetric, over [T/2, T]


def convergence_rates(config: Config) -> ConvergenceRatesResult:
    """Section "How fast is the last stage?": symmetric GD at k = r and k = d and asymmetric GD
    at k = d from alpha = rate_alpha, on every seed, with the values claims A7-A9 check."""
    steps, seeds = config.rate_steps, config.seeds
    runs = [asymmetric.rate_runs(
        sensing.make_problem(config.dim, config.sigmas, config.n_measurements, seed),
        config.rate_alpha, config.learning_rate, steps, seed)
        for seed in progress(seeds, "convergence-rate seeds")]
    t = np.unique(np.geomspace(1, steps, 400).astype(int))
    t_ref, half = steps // 10, steps // 2
    t_late = t[t >= t_ref // 20]
    level_at_t_ref = np.median([run["symmetric_k_d"][t_ref] for run in runs])
    return ConvergenceRatesResult(
        t, {name: np.array([run[name][t] for run in runs]) for name in RATE_RUNS}, t_ref,
        t_late, level_at_t_ref * t_ref / t_late,
        {seed: run["symmetric_k_r"][t_ref] for seed, run in zip(seeds, runs)},
        {seed: abs(asymmetric.loglog_slope(run["symmetric_k_d"], t_ref) + 1)
         for seed, run in zip(seeds, runs)},
        {seed: run["asymmetric_k_d"][-1] / run["symmetric_k_d"][-1]
         for seed, run in zip(seeds, runs)},
        float(np.median([half / np.log(run["asymmetric_k_d"][half] / run["asymmetric_k_d"][-1])
                         for run in runs])))
