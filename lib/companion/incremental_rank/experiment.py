"""Every run of the incremental-rank chapter, from its configuration to the arrays it plots.

This is the one module of the chapter that reads the configuration (:mod:`.config`). It runs
gradient descent and GLRL on every seed (:func:`run_seeds`), then gathers, section by section
of the chapter, what the figures draw and the per-seed values the claims check: the staircase
(Fig. 1), the initialisation scale (Fig. 2), the under-parameterised run (Fig. 3), GD next to
GLRL (Fig. 4) and the convergence rates (Fig. 5). Claim values are ``{seed: value}`` dicts;
where a claim also ranges over levels s or scales alpha, those are reduced here, per seed.

Each section's ``*_checks`` function turns its values into the chapter's claims and consistency
checks (:class:`~companion.checks.Check`), each with the region of parameters it covers and why
its bound is what it is; the notebook records them, and :func:`checks` measures all of them at
one configuration for ``python -m companion sweep`` over :data:`.config.GRID`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..checks import Check
from ..progress import progress
from ..small_init import predicted_stage_time, stage_time
from . import asymmetric, sensing
from .config import Config

# ---------------------------------------------------------------------------------------------
# The region the claims cover (chapter section "What holds where")
# ---------------------------------------------------------------------------------------------
MAX_GAP_RATIO = 0.7  # sigma_{s+1} / sigma_s: the stages of Jin et al. need an eigenvalue gap
MAX_ALPHA = 1e-2  # "small" initialisation: alpha^2 far below every sigma_s
MEASUREMENTS_PER_DIM = 100  # m >= 100 d: near-isotropic measurements (restricted isometry)
MAX_STEP = 0.1  # mu sigma_1: the small-step regime the continuous-time analyses describe

CONVERGED = 1e-6  # dist_s(T) below which GD has reached X_s
MAX_FINAL_ALPHA = 1e-5  # above, the directions X* lacks are still above CONVERGED at T
TRANSIENT_STEPS = 10  # in units of 1/(mu sigma_r): the 1/t regime of A8 has begun after that
SMALL_INIT_SCOPE = (f"eigenvalue gaps sigma_(s+1)/sigma_s <= {MAX_GAP_RATIO}, every swept "
                    f"alpha <= {MAX_ALPHA:g}, m >= {MEASUREMENTS_PER_DIM} d measurements, "
                    f"mu sigma_1 <= {MAX_STEP}, and T long enough for the smallest alpha to "
                    "finish its last stage: the small-initialisation regime of Jin et al. (2023) "
                    "and Li, Luo, Lyu (2021)")
RATE_SCOPE = (f"m >= {MEASUREMENTS_PER_DIM} d measurements and mu sigma_1 <= {MAX_STEP}, from "
              "alpha = rate_alpha: the setting of Xiong, Ding, Du (2024)")


def gap_ratios(sigmas) -> np.ndarray:
    """rho_s = sigma_(s+1) / sigma_s for s = 1..r-1: how separated consecutive stages are."""
    sigmas = np.asarray(sigmas, dtype=float)
    return sigmas[1:] / sigmas[:-1]


def approach_exponents(sigmas) -> np.ndarray:
    """p_s = 2 (1 - rho_s)^2 / (1 + rho_s): min_t dist_s(t) ~ alpha^(p_s) (chapter section
    "The staircase"). The misalignment with X_s left by the stage decays at rate
    sigma_s - sigma_(s+1) while lambda_(s+1), already alpha^(2 (1 - rho_s)), grows at rate
    2 sigma_(s+1); their sum is smallest at alpha^(p_s)."""
    rho = gap_ratios(sigmas)
    return 2 * (1 - rho) ** 2 / (1 + rho)


def in_rate_regime(config: Config) -> bool:
    """Near-isotropic measurements and small steps: the premises of every claim."""
    return (config.n_measurements >= MEASUREMENTS_PER_DIM * config.dim
            and config.learning_rate * max(config.sigmas) <= MAX_STEP)


def finishing_time(sigma: float, alpha: float, learning_rate: float) -> float:
    """t^(sigma), then the steps that bring the stage's error from sigma down to CONVERGED at
    its slowest linear rate, ln(1 + mu sigma) per step (a column of U turning into the span of
    the learnt eigenvectors, as in claim A7)."""
    rate = np.log1p(learning_rate * sigma)
    return predicted_stage_time(sigma, alpha, learning_rate) + np.log(sigma / CONVERGED) / rate


def past_transient(config: Config) -> bool:
    """T/10 >= TRANSIENT_STEPS / (mu sigma_r): the 1/t regime of claim A8 has begun by T/10."""
    return config.rate_steps / 10 * config.learning_rate * min(config.sigmas) >= TRANSIENT_STEPS


def in_small_init_regime(config: Config) -> bool:
    """Whether ``config`` lies in :data:`SMALL_INIT_SCOPE`."""
    last = finishing_time(min(config.sigmas), min(config.alpha_sweep), config.learning_rate)
    return bool(in_rate_regime(config) and gap_ratios(config.sigmas).max() <= MAX_GAP_RATIO
                and max(config.alpha_sweep) <= MAX_ALPHA and config.steps >= last)


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
    final_distances: dict  # {seed: dist_r(T)}
    next_eigenvalues: dict  # s < r -> {seed: lambda_{s+1}(W_{t_s}) / sigma_{s+1}}


def linear_growth(sigmas: np.ndarray, alpha: float, lr: float, predicted: np.ndarray,
                  steps: np.ndarray) -> tuple:
    """alpha^2 (1 + mu sigma_s)^{2t} for t <= t^_s: the linearised growth of lambda_s (Setting)."""
    curves = []
    for sigma, t_hat in zip(sigmas, predicted):
        growth = steps[steps <= t_hat]
        curves.append((growth, alpha**2 * (1 + lr * sigma) ** (2 * growth)))
    return tuple(curves)


def next_eigenvalue(run: RunSummary, sigmas: np.ndarray, s: int) -> float:
    """lambda_{s+1}(W_{t_s}) / sigma_{s+1}: how far stage s+1 is when stage s arrives (claim
    A2); NaN, a failed claim, if stage s never arrives."""
    t_s = run.stage_times[s - 1]
    return run.eigenvalues[int(t_s), s] / sigmas[s] if np.isfinite(t_s) else np.nan


def staircase(config: Config, runs: tuple[SeedResult, ...]) -> StaircaseResult:
    """Section "The staircase": the main run's curves, its distances to X_s on every seed, and
    the per-seed values of claims A1 (plateaus are X_s) and A2 (one rank at a time)."""
    sigmas, levels = np.array(config.sigmas), range(1, config.rank)
    steps = np.arange(config.steps + 1)
    predicted = predicted_stage_time(sigmas, config.alpha, config.learning_rate)
    main = {res.seed: res.sweep[config.alpha] for res in runs}
    return StaircaseResult(
        steps, main[runs[0].seed], runs[0].best_errors, predicted,
        linear_growth(sigmas, config.alpha, config.learning_rate, predicted, steps),
        np.array([run.distances for run in main.values()]),
        {s: {seed: run.distances[:, s - 1].min() for seed, run in main.items()} for s in levels},
        {seed: run.distances[-1, config.rank - 1] for seed, run in main.items()},
        {s: {seed: next_eigenvalue(run, sigmas, s) for seed, run in main.items()}
         for s in levels})


def approach_checks(claim_id: str, name: str, config: Config, min_distances: dict,
                    suffix: str = "") -> list[Check]:
    """One row per level s: min_t dist_s(t) <= alpha^(p_s) at config.alpha (A1, and A5 for
    s < k)."""
    exponents = approach_exponents(config.sigmas)
    return [Check(claim_id, name, f"min_t dist_{s}(t){suffix}", "<=",
                  float(config.alpha ** exponents[s - 1]), values, scope=SMALL_INIT_SCOPE,
                  in_scope=in_small_init_regime(config),
                  why=f"alpha^(p_{s}) with p_{s} = 2 (1 - rho_{s})^2 / (1 + rho_{s}) = "
                      f"{exponents[s - 1]:.3g}: the misalignment a stage leaves decays while "
                      "the next eigenvalue grows, and the restricted-isometry error, below 1, "
                      "sets their prefactor")
            for s, values in min_distances.items()]


def convergence_check(claim_id: str, name: str, config: Config, level: int, final_distances: dict,
                      suffix: str = "") -> Check:
    """dist_level(T) <= 1e-6: GD ends at X_level (A1 with level = r, A5 with level = k)."""
    return Check(claim_id, name, f"final dist_{level}(T){suffix}", "<=", CONVERGED,
                 final_distances, scope=f"{SMALL_INIT_SCOPE}; alpha <= {MAX_FINAL_ALPHA:g}",
                 in_scope=in_small_init_regime(config) and config.alpha <= MAX_FINAL_ALPHA,
                 why="the scope gives the last stage time to converge to 1e-6 at its linearised "
                     "rate, and keeps below 1e-6 what is left of the directions X* lacks, which "
                     "start at alpha^2 and shrink only like 1/t when k > r (claim A8)")


def staircase_checks(config: Config, stairs: StaircaseResult) -> list[Check]:
    """Claims A1 (the plateaus are the X_s, and GD ends at X*) and A2 (one rank at a time)."""
    rho = gap_ratios(config.sigmas)
    return [
        *approach_checks("A1", "plateau_is_best_rank_s", config, stairs.min_distances),
        convergence_check("A1", "plateau_is_best_rank_s", config, config.rank,
                          stairs.final_distances),
        *[Check("A2", "ordered_one_at_a_time", f"lambda_{s + 1}(W_t) / sigma_{s + 1} at t = t_{s}",
                "<=", float(config.alpha ** (1 - rho[s - 1])), values, scope=SMALL_INIT_SCOPE,
                in_scope=in_small_init_regime(config),
                why=f"linearised, lambda_{s + 1} has grown to alpha^(2 (1 - rho_{s})) sigma_{s}^"
                    f"rho_{s} when stage {s} arrives; alpha^(1 - rho_{s}) leaves a factor "
                    "alpha^-(1 - rho) for the initial overlap and the restricted-isometry shift "
                    "of rho")
          for s, values in stairs.next_eigenvalues.items()]]


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
    approach_slopes: dict  # {seed: min over s < r of (slope of ln min dist_s on ln alpha) / p_s}
    large_alpha_contrasts: dict  # {seed: min_t dist_1 / dist_1(T) at the largest alphas_large}


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
    approach_slopes = np.array([[np.polyfit(np.log(alphas), np.log(dist[:, s]), 1)[0]
                                 for s in range(config.rank - 1)] for dist in intermediate])
    largest = [res.large[alphas_large.max()].distances[:, 0] for res in runs]
    grid = np.linspace(0, log_inv.max() * 1.05, 50)
    return AlphaSweepResult(
        alphas, alphas_large, log_inv,
        np.array([[res.sweep[a].errors for res in runs] for a in alphas]),
        stage_times, grid, predicted_lines(sigmas, lr, grid), min_dist, min_dist_large,
        dict(zip(seeds, time_errors.max(axis=(1, 2)))), dict(zip(seeds, slope_errors.max(axis=1))),
        dict(zip(seeds, (intermediate[:, 1:] / intermediate[:, :-1]).max(axis=(1, 2)))),
        dict(zip(seeds, (approach_slopes / approach_exponents(sigmas)).min(axis=1))),
        {seed: dist.min() / dist[-1] for seed, dist in zip(seeds, largest)})


def alpha_sweep_checks(config: Config, sweep: AlphaSweepResult) -> list[Check]:
    """Claims A3 (stage times scale with ln(1/alpha)) and A4 (smaller alpha, sharper stages)."""
    scope, inside = SMALL_INIT_SCOPE, in_small_init_regime(config)
    swept = ", ".join(f"{a:g}" for a in sweep.alphas[1:])
    rate_error = ("the rate of stage s is the s-th eigenvalue of (1/m) sum_i y_i A_i, which the "
                  "restricted-isometry error moves by up to about 15% of sigma_s at m = 100 d")
    return [
        Check("A3", "timescale_log_inv_alpha", f"max over s, alpha in {{{swept}}} of "
              "|t_s / t^_s - 1|", "<=", 0.2, sweep.stage_time_errors, scope=scope,
              in_scope=inside, why=rate_error + ", and t^_s ignores the O(1) steps of the "
                                   "nonlinear end of a stage"),
        Check("A3", "timescale_log_inv_alpha", "max over s of |slope of t_s on ln(1/alpha) * "
              "ln(1 + mu sigma_s) - 1|", "<=", 0.2, sweep.slope_errors, scope=scope,
              in_scope=inside, why=rate_error),
        Check("A4", "smaller_init_sharper", "max over s < r, consecutive alphas of "
              "min dist_s(next alpha) / min dist_s", "<", 1, sweep.approach_ratios, scope=scope,
              in_scope=inside, why="min_t dist_s ~ alpha^(p_s) with p_s > 0 inside the scope: "
                                   "every smaller alpha comes closer"),
        Check("A4", "smaller_init_sharper", "min over s < r of (slope of ln min dist_s on "
              "ln alpha) / p_s", ">=", 0.5, sweep.approach_slopes, scope=scope, in_scope=inside,
              why="the exponent is p_s for the nominal gap; the restricted-isometry error moves "
                  "each seed's gap ratio by up to 0.1, which can halve p_s"),
        Check("A4", "smaller_init_sharper", f"min_t dist_1(t) / dist_1(T) at alpha="
              f"{sweep.alphas_large.max():g}", ">=", 0.5, sweep.large_alpha_contrasts,
              scope=f"alpha >= 1 (no small initialisation), m >= {MEASUREMENTS_PER_DIM} d and "
                    f"mu sigma_1 <= {MAX_STEP}",
              in_scope=in_rate_regime(config) and max(config.alphas_large) >= 1,
              why="from alpha >= 1 every lambda_s(W_0) already exceeds sigma_s / 2: GD goes to "
                  "X* without visiting X_1, so its closest point to X_1 is about X* itself "
                  "(ratio 1); half of that is the margin")]


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


def under_parameterised(config: Config, runs: tuple[SeedResult, ...]) -> UnderParameterisedResult:
    """Section "Under-parameterised": GD with k < r passes X_1..X_{k-1} and ends at X_k."""
    k = config.width_under
    under = {res.seed: res.under for res in runs}
    return UnderParameterisedResult(
        k, runs[0].under, runs[0].best_errors[k],
        np.array([run.distances for run in under.values()]),
        {seed: run.distances[-1, k - 1] for seed, run in under.items()},
        {s: {seed: run.distances[:, s - 1].min() for seed, run in under.items()}
         for s in range(1, k)})


def under_parameterised_checks(config: Config, under: UnderParameterisedResult) -> list[Check]:
    """Claim A5: with k < r columns GD passes X_1..X_(k-1) and converges to X_k."""
    suffix = f", k={under.width}"
    return [convergence_check("A5", "under_parameterized", config, under.width,
                              under.final_distances, suffix),
            *approach_checks("A5", "under_parameterized", config, under.min_distances, suffix)]


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
    scaled_distances: dict  # {seed: max over alpha of H(alpha) / alpha^(min_s p_s)}


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
        dict(zip(seeds, (h / alphas ** approach_exponents(config.sigmas).min()).max(axis=1))))


def glrl_checks(config: Config, glrl: GLRLComparisonResult) -> list[Check]:
    """Consistency check C1 (GLRL's phases end at the X_s) and claim A6 (GD follows GLRL)."""
    scope, inside = SMALL_INIT_SCOPE, in_small_init_regime(config)
    glrl_scope = (f"m >= {MEASUREMENTS_PER_DIM} d measurements: GLRL's rank-s local minima are "
                  "the global X_s under the restricted isometry (Li, Luo, Lyu 2021)")
    p_min = approach_exponents(config.sigmas).min()
    return [
        Check("C1", "glrl_reaches_best_rank_s", "max over alpha of |number of GLRL phases - r|",
              "<=", 0, glrl.phase_count_errors, kind="consistency", scope=glrl_scope,
              why="GLRL adds a rank while the escape eigenvalue exceeds 1e-6 sigma_1, exactly r "
                  "times for a rank-r X* measured without noise"),
        Check("C1", "glrl_reaches_best_rank_s", "max over alpha, s of ||GLRL phase-s endpoint - "
              "X_s||_F / ||X*||_F", "<=", 1e-6, glrl.endpoint_distances, kind="consistency",
              scope=glrl_scope,
              why="each phase stops at ||grad f|| < 1e-9 and X_s at < 1e-12: at the curvature of "
                  "the rank-s solutions both are within 1e-7 of the same point"),
        Check("A6", "glrl_path", "max over consecutive alphas of H(next alpha) / H(alpha)", "<",
              1, glrl.shrink_ratios, scope=scope, in_scope=inside,
              why="GLRL is the alpha -> 0 limit of the GD path (Li, Luo, Lyu 2021): H shrinks "
                  "with every smaller alpha"),
        Check("A6", "glrl_path", "max over alpha of H(alpha) / alpha^p, p = min_s p_s = "
              f"{p_min:.3g}", "<=", 1, glrl.scaled_distances, scope=scope, in_scope=inside,
              why="the two paths are farthest apart near the plateau that GD approaches least "
                  "closely, at distance about alpha^(p_s) (claim A1)")]


# ---------------------------------------------------------------------------------------------
# Section "How fast is the last stage?": Fig. 5, claims A7 to A9 (Xiong, Ding, Du, ICLR 2024)
# ---------------------------------------------------------------------------------------------
RATE_RUNS = ("symmetric_k_r", "symmetric_k_d", "asymmetric_k_d")


@dataclass(frozen=True)
class ConvergenceRatesResult:
    """Relative errors ||W_t - X*||_F / ||X*||_F of the three runs of Fig. 5 on every seed."""

    t: np.ndarray  # (n,) the plotted steps, log-spaced in 1..T
    errors: dict  # run name (RATE_RUNS) -> (seeds, n) relative errors at those steps
    reference_step: int  # t_ref = T / 10, where the 1/t regime is read from
    one_over_t_steps: np.ndarray  # the plotted steps from t_ref / 20 on
    one_over_t: np.ndarray  # the median symmetric k = d error at t_ref, times t_ref / t
    exact_width_rates: dict  # {seed: decay rate per step of the k = r error / (mu sigma_r)}
    slope_errors: dict  # {seed: |log-log slope over [t_ref, T] + 1|, symmetric k = d}
    asymmetric_ratios: dict  # {seed: error ratio asymmetric / symmetric at T, k = d}
    e_folding_growth: dict  # {seed: asymmetric steps per e-fold, [T/2, T] / [T/4, T/2]}
    e_folding_steps: float  # median over seeds of steps per e-fold, asymmetric, over [T/2, T]


LINEAR_WINDOW = (1e-12, 1e-4)  # errors between which the k = r decay is fitted (A7)


def decay_rate(errors: np.ndarray) -> float:
    """-d ln(error)/dt, fitted over the steps whose error lies in LINEAR_WINDOW: the linear
    rate of claim A7, NaN (a failed claim) if fewer than 10 steps lie there."""
    t = np.flatnonzero((errors > LINEAR_WINDOW[0]) & (errors < LINEAR_WINDOW[1]))
    return -np.polyfit(t, np.log(errors[t]), 1)[0] if len(t) >= 10 else np.nan


def e_folding_steps(errors: np.ndarray, start: int, end: int) -> float:
    """Steps per e-fold of ``errors`` between steps ``start`` and ``end``."""
    return (end - start) / np.log(errors[start] / errors[end])


def convergence_rates(config: Config) -> ConvergenceRatesResult:
    """Section "How fast is the last stage?": symmetric GD at k = r and k = d and asymmetric GD
    at k = d from alpha = rate_alpha, on every seed, with the values claims A7-A9 check."""
    steps, seeds = config.rate_steps, config.seeds
    runs = [asymmetric.rate_runs(
        sensing.make_problem(config.dim, config.sigmas, config.n_measurements, seed),
        config.rate_alpha, config.learning_rate, steps, seed)
        for seed in progress(seeds, "convergence-rate seeds")]
    t = np.unique(np.geomspace(1, steps, 400).astype(int))
    t_ref, quarter, half = steps // 10, steps // 4, steps // 2
    t_late = t[t >= t_ref // 20]
    level_at_t_ref = np.median([run["symmetric_k_d"][t_ref] for run in runs])
    asymmetric_runs = [run["asymmetric_k_d"] for run in runs]
    return ConvergenceRatesResult(
        t, {name: np.array([run[name][t] for run in runs]) for name in RATE_RUNS}, t_ref,
        t_late, level_at_t_ref * t_ref / t_late,
        {seed: decay_rate(run["symmetric_k_r"]) / (config.learning_rate * min(config.sigmas))
         for seed, run in zip(seeds, runs)},
        {seed: abs(asymmetric.loglog_slope(run["symmetric_k_d"], t_ref) + 1)
         for seed, run in zip(seeds, runs)},
        {seed: run["asymmetric_k_d"][-1] / run["symmetric_k_d"][-1]
         for seed, run in zip(seeds, runs)},
        {seed: e_folding_steps(errors, half, steps) / e_folding_steps(errors, quarter, half)
         for seed, errors in zip(seeds, asymmetric_runs)},
        float(np.median([e_folding_steps(errors, half, steps) for errors in asymmetric_runs])))


def convergence_rate_checks(config: Config, rates: ConvergenceRatesResult) -> list[Check]:
    """Claims A7 (exact width: linear), A8 (over-parameterised: 1/t) and A9 (asymmetric beats
    symmetric), after Xiong, Ding, Du (2024)."""
    inside, last = in_rate_regime(config), config.rate_steps
    return [
        Check("A7", "exact_width_linear", "decay rate per step of the k = r error, fitted where "
              f"it lies in [{LINEAR_WINDOW[0]:g}, {LINEAR_WINDOW[1]:g}], / (mu sigma_r)", ">=", 0.5,
              rates.exact_width_rates, scope=RATE_SCOPE, in_scope=inside,
              why="near X* at k = r the slowest direction, a column of U leaving the span of X*, "
                  "contracts by 1 - mu sigma_r per step; half that rate leaves room for the "
                  "restricted-isometry error"),
        Check("A8", "overparameterized_sublinear", f"|log-log slope over [{rates.reference_step}, "
              f"{last}] + 1|, symmetric k = d", "<=", 0.2, rates.slope_errors,
              scope=f"{RATE_SCOPE}, with T/10 >= {TRANSIENT_STEPS:g}/(mu sigma_r)",
              in_scope=inside and past_transient(config),
              why="the excess columns of U shrink like 1/sqrt(t) and the error like 1/t (its "
                  "local slope is -t/(t + t_0)); the scope puts t_ref = T/10 several times t_0, "
                  "about 1/(mu sigma_r), past the start"),
        Check("A9", "asymmetric_beats_symmetric", f"error ratio asymmetric / symmetric at t = "
              f"{last}, k = d", "<", 1, rates.asymmetric_ratios, scope=RATE_SCOPE,
              in_scope=inside,
              why="the asymmetric error decays exponentially at a rate set by the random "
                  "imbalance of F_0 and G_0, which differs between seeds; what holds on every "
                  "seed is that by T it is below the symmetric error, which decays like 1/t")]


# ---------------------------------------------------------------------------------------------
# The sweep: every check at one configuration, and the explorable figure
# ---------------------------------------------------------------------------------------------
def checks(config: Config) -> list[Check]:
    """Every claim and consistency check of the chapter, measured on every seed of ``config``,
    in the order the chapter shows them."""
    runs = run_seeds(config)
    return [*staircase_checks(config, staircase(config, runs)),
            *alpha_sweep_checks(config, alpha_sweep(config, runs)),
            *under_parameterised_checks(config, under_parameterised(config, runs)),
            *glrl_checks(config, glrl_comparison(config, runs)),
            *convergence_rate_checks(config, convergence_rates(config))]


def explore_frame(config: Config) -> dict[str, np.ndarray]:
    """The first seed's main run (k = width, alpha = config.alpha): its top eigenvalues and its
    distances to every X_s, the staircase whose sharpness the spectrum's gaps set."""
    problem = sensing.make_problem(config.dim, config.sigmas, config.n_measurements, config.seed)
    solutions = sensing.best_rank_solutions(problem, config.best_rank_solver)
    u0 = sensing.initial_factor(config.dim, config.width, config.alpha, config.seed)
    trajectory = sensing.gradient_descent(problem, u0, config.learning_rate, config.steps)
    run = summarise(problem, solutions, trajectory, config.alpha, config.width)
    shown = min(config.rank + 1, config.width)
    return {"eigenvalues": run.eigenvalues[:, :shown], "distances": run.distances,
            "sigmas": np.array(config.sigmas), "alpha": np.array(config.alpha)}


def draw_frame(fig, frame: dict, params: dict) -> None:
    """Two panels on ``fig``: the eigenvalues of W_t (log scale, the sigma_s dashed) and
    dist_s(t), for the frame of :func:`explore_frame` at ``params``."""
    sigmas, steps = frame["sigmas"], np.arange(len(frame["distances"]))
    colors = [f"C{s}" for s in range(frame["eigenvalues"].shape[1])]
    eigen_axes, distance_axes = fig.subplots(1, 2)
    for i, color in enumerate(colors):
        eigen_axes.semilogy(steps, frame["eigenvalues"][:, i], c=color if i < len(sigmas)
                            else "0.6")
    for sigma in sigmas:
        eigen_axes.axhline(sigma, ls="--", c="0.5", lw=0.7)
    floor = min(1e-14, float(frame["alpha"]) ** 2 / 10)
    eigen_axes.set(ylim=(floor, 2), xlabel="step t", ylabel=r"$\lambda_i(W_t)$",
                   title="eigenvalues")
    for s, color in enumerate(colors[:len(sigmas)]):
        distance_axes.semilogy(steps, frame["distances"][:, s], c=color,
                               label=rf"$\mathrm{{dist}}_{s + 1}$")
    distance_axes.set(xlabel="step t", ylabel=r"$\|W_t-X_s\|_F/\|X^*\|_F$",
                      title="distance to $X_s$")
    distance_axes.legend(fontsize=8)
    fig.suptitle(", ".join(f"{name} = {value}" for name, value in params.items()), fontsize=9)
