"""The chapter's seven experiments, E1 to E7, from its configuration to plain results.

This is the only module of the chapter that reads the configuration; the science modules take
plain values. Each experiment runs all its seeds, patterns and initialisation scales as one
batch of GD runs (``dynamics.descend``), and returns a frozen dataclass of arrays whose
leading axes are, in this order, logged step, alpha, pattern or instance, seed. Run s of
experiment x starts from the N(0, 1) draw of ``default_rng((x, s))`` scaled by alpha.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..small_init import predicted_stage_time, stage_time
from . import dynamics, graph, nuclear, theory
from .config import Config
from .dynamics import Descent
from .fits import best_rank_fit
from .glrl import glrl

CURVE_POINTS = 600  # logged points of E3's loss curves: enough for a plot, small in memory


def descend_scaled(target, masks, keys, alphas, learning_rate: float, steps: int,
                   log_every: int = 0) -> Descent:
    """GD from alpha (A_0, B_0) for every alpha, every mask of ``masks`` (patterns, d, d) and
    every run of ``keys``, in one batch. ``target`` is one matrix or one per pattern. The
    arrays come back with the axes (alpha, pattern, seed, d, d) after any logged-step axis."""
    masks = np.asarray(masks)
    dim = masks.shape[-1]
    target = np.asarray(target, dtype=float)
    a0, b0 = dynamics.initial_factors(keys, dim, dim)
    scale = np.asarray(alphas, dtype=float)[:, None, None, None, None]
    shape = (len(alphas), len(masks), len(keys), dim, dim)
    flat = [np.broadcast_to(x, shape).reshape(-1, dim, dim) for x in
            (target if target.ndim == 2 else target[:, None], masks[:, None], scale * a0,
             scale * b0)]
    run = dynamics.descend(*flat, learning_rate, steps, log_every)
    logs = (len(run.logged_steps), *shape)
    return Descent(run.a.reshape(shape), run.b.reshape(shape), run.logged_steps,
                   run.a_log.reshape(logs), run.b_log.reshape(logs))


# ---------------------------------------------------------------------------------------------
# E1: the connected 2 x 2 example
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TwoByTwoResult:
    """E1: [[1, 2], [2, ?]] completed by GD at every alpha and seed, against the minimum-rank
    (x = 4) and minimum-nuclear-norm completions, GLRL and the exponent kappa."""

    target: np.ndarray
    mask: np.ndarray
    alphas: np.ndarray
    seeds: tuple[int, ...]
    completions: np.ndarray  # (alpha, seed, 2, 2)
    min_norm: nuclear.MinimumNuclearNorm
    glrl_completion: np.ndarray
    kappa: float

    @property
    def x(self) -> np.ndarray:
        return self.completions[..., 1, 1]

    @property
    def x_min_rank(self) -> float:
        return float(self.target[1, 1])

    @property
    def x_min_norm(self) -> float:
        return float(self.min_norm.completion[0, 1, 1])

    @property
    def median_error(self) -> np.ndarray:
        """Median over seeds of |x - 4| at each alpha."""
        return np.median(np.abs(self.x - self.x_min_rank), axis=1)

    @property
    def slope(self) -> float:
        """Least-squares slope of log median |x - 4| on log alpha, the largest alpha left out
        (it is outside the small-initialisation regime)."""
        return float(np.polyfit(np.log(self.alphas[1:]), np.log(self.median_error[1:]), 1)[0])


def two_by_two(cfg: Config) -> TwoByTwoResult:
    target = np.array([[1.0, 2.0], [2.0, 4.0]])
    mask = np.array([[True, True], [True, False]])
    run = descend_scaled(target, mask[None], [(1, s) for s in cfg.seeds], cfg.alphas,
                         cfg.learning_rate, cfg.steps)
    data = dynamics.singular_values(mask * target)
    return TwoByTwoResult(
        target, mask, np.array(cfg.alphas), cfg.seeds, run.w[:, 0],
        nuclear.minimum_nuclear_norm(target[None], mask[None]),
        glrl(target, mask, cfg.learning_rate, cfg.glrl_epsilon).completion,
        float(theory.contamination_exponent(data[0], data[1], cfg.learning_rate)))


# ---------------------------------------------------------------------------------------------
# E2: the nine disconnected 3 x 3 patterns (paper Fig. 4)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BlocksResult:
    """E2: M* = u u^T, u = (1, 2, 3), observed on a single entry (i, j) and the full block of
    the other rows and columns; pattern (i, j) at index 3 i + j."""

    target: np.ndarray
    masks: np.ndarray  # (pattern, 3, 3)
    alphas: np.ndarray
    seeds: tuple[int, ...]
    run: Descent  # factors (alpha, pattern, seed, 3, 3), logged every log_every steps
    closed_form: np.ndarray  # sum of the blocks' nuclear norms, per pattern
    min_norm: nuclear.MinimumNuclearNorm
    glrl_completions: np.ndarray  # (pattern, 3, 3)

    @property
    def completions(self) -> np.ndarray:
        return self.run.w

    @property
    def losses(self) -> np.ndarray:
        return dynamics.loss(self.completions, self.target, self.masks[:, None])

    @property
    def cross_ratios(self) -> np.ndarray:
        """W_ij' W_i'j / (M*_ij M*_i'j') for the first block row i' and column j' (F6)."""
        ratios = []
        for index, mask in enumerate(self.masks):
            i, j = divmod(index, 3)
            block_row, block_col = (np.flatnonzero(mask[:, j] == 0)[0],
                                    np.flatnonzero(mask[i] == 0)[0])
            w = self.completions[:, index]
            ratios.append(w[..., i, block_col] * w[..., block_row, j]
                          / (self.target[i, j] * self.target[block_row, block_col]))
        return np.stack(ratios, axis=1)

    @property
    def cross_entries(self) -> np.ndarray:
        """The unobserved entries of every run, (alpha, pattern, seed, 4)."""
        return np.stack([self.completions[:, index][..., ~mask]
                         for index, mask in enumerate(self.masks)], axis=1)


def blocks_target() -> np.ndarray:
    """M* = u u^T with u = (1, 2, 3): rank 1, entries from 1 to 9."""
    return np.outer([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])


def blocks(cfg: Config) -> BlocksResult:
    target = blocks_target()
    masks = graph.singleton_and_block_masks(3)
    run = descend_scaled(target, masks, [(2, s) for s in cfg.seeds], cfg.blocks_alphas,
                         cfg.blocks_learning_rate, cfg.steps, cfg.log_every)
    return BlocksResult(
        target, masks, np.array(cfg.blocks_alphas), cfg.seeds, run,
        np.array([nuclear.block_nuclear_norm(target, mask) for mask in masks]),
        nuclear.minimum_nuclear_norm(np.broadcast_to(target, masks.shape), masks),
        np.array([glrl(target, mask, cfg.blocks_learning_rate, cfg.glrl_epsilon).completion
                  for mask in masks]))


# ---------------------------------------------------------------------------------------------
# E3: the sixteen one-missing 4 x 4 patterns (paper Fig. 3)
# ---------------------------------------------------------------------------------------------
def rank_three_target(seed: int) -> np.ndarray:
    """M* = U V^T / sqrt(3) with U, V iid N(0, 1) of size 4 x 3 from default_rng(seed)."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((4, 3)) @ rng.standard_normal((4, 3)).T / np.sqrt(3)


@dataclass(frozen=True)
class OneMissingResult:
    """E3: the rank-3 M* with one entry unobserved, pattern (i, j) missing at index 4 i + j."""

    target: np.ndarray
    masks: np.ndarray
    alphas: np.ndarray
    seeds: tuple[int, ...]
    completions: np.ndarray  # (alpha, pattern, seed, 4, 4)
    logged_steps: np.ndarray
    losses: np.ndarray  # (logged step, alpha, pattern, seed)

    @property
    def missing(self) -> np.ndarray:
        """x, the learned value at the missing entry, (alpha, pattern, seed)."""
        rows, cols = np.divmod(np.arange(len(self.masks)), self.masks.shape[-1])
        return np.moveaxis(self.completions[:, np.arange(len(self.masks)), :, rows, cols], 0, 1)

    @property
    def errors(self) -> np.ndarray:
        """|x - x*|, x* = M*_ij the unique rank-3 completion, (alpha, pattern, seed)."""
        return np.abs(self.missing - self.target.ravel()[:, None])

    @property
    def ranks(self) -> np.ndarray:
        return dynamics.effective_rank(self.completions)

    @property
    def singular_values(self) -> np.ndarray:
        return dynamics.singular_values(self.completions)


def one_missing(cfg: Config) -> OneMissingResult:
    target = rank_three_target(cfg.matrix_seed)
    masks = graph.one_missing_masks(4)
    seeds = tuple(range(cfg.seed, cfg.seed + cfg.one_missing_n_seeds))
    run = descend_scaled(target, masks, [(3, s) for s in seeds], cfg.one_missing_alphas,
                         cfg.learning_rate, cfg.one_missing_steps,
                         max(1, cfg.one_missing_steps // CURVE_POINTS))
    return OneMissingResult(target, masks, np.array(cfg.one_missing_alphas), seeds, run.w,
                            run.logged_steps, dynamics.loss(run.w_log, target, masks[:, None]))


# ---------------------------------------------------------------------------------------------
# E4: one trajectory through the saddles W*_1, W*_2 (paper Fig. 3)
# ---------------------------------------------------------------------------------------------
def trajectory_mask() -> np.ndarray:
    """E4's and E5's pattern: every entry observed but (2, 1) (0-based)."""
    mask = np.ones((4, 4), dtype=bool)
    mask[2, 1] = False
    return mask


@dataclass(frozen=True)
class TrajectoryResult:
    """E4: GD on E3's matrix with entry (2, 1) missing, logged, against the best fits."""

    target: np.ndarray
    mask: np.ndarray
    alphas: np.ndarray
    seeds: tuple[int, ...]
    best_fits: np.ndarray  # W*_0 = 0, W*_1, ..., W*_{r-1}
    run: Descent  # logged factors (logged step, alpha, seed, 4, 4)

    @property
    def losses(self) -> np.ndarray:
        return dynamics.loss(self.run.w_log, self.target, self.mask)

    @property
    def best_losses(self) -> np.ndarray:
        return dynamics.loss(self.best_fits, self.target, self.mask)

    @property
    def distances(self) -> np.ndarray:
        """||W_t - W*_s||_F / ||M*||_F for s = 1 .. r-1, (logged step, alpha, seed, s)."""
        gaps = self.run.w_log[..., None, :, :] - self.best_fits[1:]
        return np.linalg.norm(gaps, axis=(-2, -1)) / np.linalg.norm(self.target)

    @property
    def closest(self) -> np.ndarray:
        """Index of the logged step closest to W*_s, (alpha, seed, s)."""
        return self.distances.argmin(axis=0)

    def at_closest(self, values: np.ndarray) -> np.ndarray:
        """``values`` (logged step, alpha, seed, ...) at the step closest to each W*_s."""
        alpha, seed = np.indices(self.closest.shape[:2])
        return np.stack([values[self.closest[..., s], alpha, seed]
                         for s in range(self.closest.shape[-1])], axis=2)

    @property
    def closest_loss_gaps(self) -> np.ndarray:
        """|L(W_t*) / L(W*_s) - 1| at the step t* closest to W*_s, (alpha, seed, s)."""
        return np.abs(self.at_closest(self.losses) / self.best_losses[1:] - 1)

    @property
    def closest_rank_errors(self) -> np.ndarray:
        """max over s and over A, B, [A; B] (judged on their Gram matrices) and W of
        |effective rank - s| at the step closest to W*_s, (alpha, seed)."""
        stacked = np.concatenate([self.run.a_log, self.run.b_log], axis=-2)
        ranks = np.stack([self.at_closest(dynamics.gram_rank(factor))
                          for factor in (self.run.a_log, self.run.b_log, stacked)]
                         + [self.at_closest(dynamics.effective_rank(self.run.w_log))], axis=-1)
        return np.abs(ranks - np.arange(1, len(self.best_fits))[:, None]).max(axis=(-2, -1))

    @property
    def stage_times(self) -> np.ndarray:
        """First logged step with sigma_s(W_t) >= sigma_s(M*) / 2, (alpha, seed, s)."""
        values = dynamics.singular_values(self.run.w_log)
        levels = dynamics.singular_values(self.target)
        return np.stack([stage_time(values[..., s], levels[s], self.run.logged_steps)
                         for s in range(len(self.best_fits))], axis=-1)


def trajectory(cfg: Config) -> TrajectoryResult:
    target = rank_three_target(cfg.matrix_seed)
    mask = trajectory_mask()
    run = descend_scaled(target, mask[None], [(4, s) for s in cfg.seeds], cfg.trajectory_alphas,
                         cfg.learning_rate, cfg.trajectory_steps, cfg.log_every)
    fits = np.array([best_rank_fit(target, mask, rank, cfg.fit_restarts, cfg.seed)
                     for rank in range(3)])
    squeezed = Descent(run.a[:, 0], run.b[:, 0], run.logged_steps, run.a_log[:, :, 0],
                       run.b_log[:, :, 0])  # one pattern
    return TrajectoryResult(target, mask, np.array(cfg.trajectory_alphas), cfg.seeds, fits,
                            squeezed)


# ---------------------------------------------------------------------------------------------
# E5: the invariant manifolds
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class InvarianceResult:
    """E5 (a): E4 started on the rank-s manifold (columns s.. of A_0, B_0 zero), run to its
    end, then kicked off it; (b): E2's pattern (0, 0) with row 0 of A_0 and B_0 zero; (c): two
    runs of (b)'s pattern whose starts differ only in row 0."""

    ranks: tuple[int, ...]
    best_fits: np.ndarray  # W*_s for s = 0 .. 2, as in E4
    logged_steps: np.ndarray  # of (a): the restricted run, then the kicked run
    manifold_losses: np.ndarray  # (a): (logged step, rank, seed)
    zero_columns: np.ndarray  # (a): max |entry| of the zero columns at the end, (rank, seed)
    endpoints: np.ndarray  # (a): ||W_T - W*_s||_F / ||M*||_F, (rank, seed)
    kicked_losses: np.ndarray  # (a): final loss after the kick, (rank, seed)
    zero_rows: np.ndarray  # (b): max |entry| of row 0 of A and B over the run, (seed,)
    row_steps: np.ndarray  # (b, c): the logged steps
    row_losses: np.ndarray  # (b): (logged step, row 0 zero or plain start, seed)
    block_differences: np.ndarray  # (c): max |W[1:, 1:] difference| over time, (seed,)
    cross_differences: np.ndarray  # (c): final ||difference of the unobserved entries||_F


def _manifold_runs(cfg: Config, target: np.ndarray, mask: np.ndarray, rank: int):
    """E5 (a) for one rank s: GD from a start whose columns s.. are exactly zero, then GD again
    after putting ``kick`` times N(0, 1) noise into those columns."""
    off = np.arange(4) >= rank  # the columns that start at zero
    a0, b0 = dynamics.initial_factors([(5, rank, s) for s in cfg.seeds], 4, 4)
    a0[..., off], b0[..., off] = 0.0, 0.0
    steps = (cfg.learning_rate, cfg.trajectory_steps, cfg.log_every)
    on = dynamics.descend(target, mask, cfg.invariance_alpha * a0, cfg.invariance_alpha * b0,
                          *steps)
    noise_a, noise_b = dynamics.initial_factors([(5, rank, s, 1) for s in cfg.seeds], 4, 4)
    kicked = dynamics.descend(target, mask, np.where(off, cfg.kick * noise_a, on.a),
                              np.where(off, cfg.kick * noise_b, on.b), *steps)
    return on, kicked, off


def _row_runs(cfg: Config) -> Descent:
    """E5 (b, c) on E2's pattern (0, 0), one batch of three groups of runs: row 0 of A_0 and
    B_0 zero; the plain start; the plain start with row 0 drawn again."""
    target, mask = blocks_target(), graph.singleton_and_block_masks(3)[0]
    a0, b0 = dynamics.initial_factors([(5, 0, s) for s in cfg.seeds], 3, 3)
    a1, b1 = dynamics.initial_factors([(5, 0, s, 1) for s in cfg.seeds], 3, 3)
    zero_a, zero_b, other_a, other_b = a0.copy(), b0.copy(), a0.copy(), b0.copy()
    zero_a[:, 0], zero_b[:, 0] = 0.0, 0.0
    other_a[:, 0], other_b[:, 0] = a1[:, 0], b1[:, 0]
    return dynamics.descend(target, mask,
                            cfg.invariance_alpha * np.concatenate([zero_a, a0, other_a]),
                            cfg.invariance_alpha * np.concatenate([zero_b, b0, other_b]),
                            cfg.blocks_learning_rate, cfg.steps, cfg.log_every)


def invariance(cfg: Config, best_fits: np.ndarray) -> InvarianceResult:
    """E5; ``best_fits`` are E4's W*_s, the endpoints the restricted runs should reach."""
    target = rank_three_target(cfg.matrix_seed)
    mask = trajectory_mask()
    ranks = tuple(range(1, len(best_fits)))
    losses, zero_columns, endpoints, kicked_losses = [], [], [], []
    for rank in ranks:
        on, kicked, off = _manifold_runs(cfg, target, mask, rank)
        losses.append(np.concatenate([dynamics.loss(on.w_log, target, mask),
                                      dynamics.loss(kicked.w_log[1:], target, mask)]))
        zero_columns.append(np.abs(np.concatenate([on.a[..., off], on.b[..., off]], axis=1))
                            .max(axis=(1, 2)))
        endpoints.append(np.linalg.norm(on.w - best_fits[rank], axis=(1, 2))
                         / np.linalg.norm(target))
        kicked_losses.append(dynamics.loss(kicked.w, target, mask))
    rows = _row_runs(cfg)
    zero, plain, other = np.split(rows.w_log, 3, axis=1)
    unobserved = ~graph.singleton_and_block_masks(3)[0]
    return InvarianceResult(
        ranks, best_fits,
        np.concatenate([on.logged_steps, cfg.trajectory_steps + kicked.logged_steps[1:]]),
        np.stack(losses, axis=1), np.array(zero_columns), np.array(endpoints),
        np.array(kicked_losses),
        np.abs(np.concatenate([rows.a_log[:, :len(cfg.seeds), 0],
                               rows.b_log[:, :len(cfg.seeds), 0]], axis=-1)).max(axis=(0, 2)),
        rows.logged_steps, dynamics.loss(np.stack([zero, plain], axis=1), blocks_target(),
                                         ~unobserved),
        np.abs(plain[..., 1:, 1:] - other[..., 1:, 1:]).max(axis=(0, 2, 3)),
        np.linalg.norm(plain[-1][:, unobserved] - other[-1][:, unobserved], axis=-1))


# ---------------------------------------------------------------------------------------------
# E6: the stages of a disconnected pattern
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StagesResult:
    """E6: E2's pattern (0, 0), logged at every step. Its two edge components are the 2 x 2
    block (singular value 13) and the single entry (singular value 1), learned one after the
    other; each is tracked by its own singular value, since sigma_s(W) mixes the blocks."""

    alphas: np.ndarray
    seeds: tuple[int, ...]
    learning_rate: float
    sigmas: np.ndarray  # (block, singleton)
    block_values: np.ndarray  # (step, alpha, seed, component)
    losses: np.ndarray  # (step, alpha, seed)

    @property
    def predicted(self) -> np.ndarray:
        """t^(sigma) of each component at each alpha, (alpha, component)."""
        return np.array([predicted_stage_time(self.sigmas, alpha, self.learning_rate)
                         for alpha in self.alphas])

    @property
    def stage_times(self) -> np.ndarray:
        """First step at which each component's singular value reaches half its sigma."""
        return np.stack([stage_time(self.block_values[..., c], sigma)
                         for c, sigma in enumerate(self.sigmas)], axis=-1)

    @property
    def loss_between(self) -> np.ndarray:
        """The loss halfway between the two stages, (alpha, seed)."""
        middle = self.stage_times.mean(axis=-1).astype(int)
        alpha, seed = np.indices(middle.shape)
        return self.losses[middle, alpha, seed]


def stages(cfg: Config) -> StagesResult:
    target, mask = blocks_target(), graph.singleton_and_block_masks(3)[0]
    run = descend_scaled(target, mask[None], [(6, s) for s in cfg.seeds], cfg.blocks_alphas,
                         cfg.blocks_learning_rate, cfg.stages_steps, log_every=1)
    w = run.w_log[:, :, 0]
    block_values = np.stack([dynamics.singular_values(w[..., 1:, 1:])[..., 0],
                             np.abs(w[..., 0, 0])], axis=-1)
    sigmas = np.array([dynamics.singular_values(target[1:, 1:])[0], abs(target[0, 0])])
    return StagesResult(np.array(cfg.blocks_alphas), cfg.seeds, cfg.blocks_learning_rate, sigmas,
                        block_values, dynamics.loss(w, target, mask))


# ---------------------------------------------------------------------------------------------
# E7: the transition as observations grow (paper Fig. 1)
# ---------------------------------------------------------------------------------------------
SWEEP_DIM = 4
NORM_TOLERANCE = 1e-3  # "reaches N*": far above the solver's gap, far below the margins seen


@dataclass(frozen=True)
class FamilyResult:
    """GD and the minimum nuclear norm on every E7 instance for one family of rank-1 M*."""

    targets: np.ndarray  # (instance, d, d)
    alphas: np.ndarray
    completions: np.ndarray  # (alpha, instance, d, d)
    min_norm: nuclear.MinimumNuclearNorm
    kappa: np.ndarray  # predicted exponent of sigma_2(W_inf), per instance

    @property
    def singular_values(self) -> np.ndarray:
        return dynamics.singular_values(self.completions)

    @property
    def ranks(self) -> np.ndarray:
        return dynamics.effective_rank(self.completions)

    @property
    def norm_ratios(self) -> np.ndarray:
        """||W||_* / N*, (alpha, instance)."""
        return self.singular_values.sum(axis=-1) / self.min_norm.value

    @property
    def slopes(self) -> np.ndarray:
        """Least-squares slope of log sigma_2(W_inf) on log alpha, per instance."""
        return np.polyfit(np.log(self.alphas), np.log(self.singular_values[..., 1]), 1)[0]

    @property
    def at_min_rank(self) -> np.ndarray:
        """GD's effective rank is 1, the minimum rank of rank-1 data, (alpha, instance)."""
        return self.ranks == 1

    @property
    def at_min_norm(self) -> np.ndarray:
        """GD's nuclear norm is N* within a relative NORM_TOLERANCE, (alpha, instance)."""
        return np.abs(self.norm_ratios - 1) <= NORM_TOLERANCE


@dataclass(frozen=True)
class SweepResult:
    """E7: random d x d masks with n = 3 .. 12 observed entries, ``sweep_masks`` per n, and two
    rank-1 families on the same masks: bounded factors at every alpha, Gaussian ones at the
    chapter's alpha."""

    n_observed: np.ndarray  # (instance,)
    masks: np.ndarray
    categories: np.ndarray  # 'connected', 'complete' or 'other', per instance
    n_components: np.ndarray  # edge components, per instance
    exact_connected: np.ndarray  # P(connected) for n = 0 .. d^2, by enumeration
    bounded: FamilyResult
    gaussian: FamilyResult

    @property
    def sizes(self) -> np.ndarray:
        return np.unique(self.n_observed)

    def by_size(self, flags: np.ndarray) -> np.ndarray:
        """The mean of ``flags`` (per instance) over the instances of each size n."""
        return np.array([np.mean(flags[self.n_observed == n]) for n in self.sizes])

    def outcomes(self, family: FamilyResult, alpha_index: int) -> np.ndarray:
        """The fraction of each category (``graph.CATEGORIES``) at which GD reaches the minimum
        rank and the minimum nuclear norm, (category, bias)."""
        return np.array([[np.mean(reached[alpha_index, self.categories == kind])
                          for reached in (family.at_min_rank, family.at_min_norm)]
                         for kind in graph.CATEGORIES])

    def block_norms(self, family: FamilyResult) -> np.ndarray:
        """N* in closed form on the instances with complete components (NaN elsewhere)."""
        return np.array([nuclear.block_nuclear_norm(target, mask) if kind == "complete"
                         else np.nan for target, mask, kind
                         in zip(family.targets, self.masks, self.categories)])


def sweep_instance(n_observed: int, rep: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Instance ``rep`` with n observed entries, from default_rng((0, n, rep)): the mask, then
    M* = u v^T with bounded factors (u_i, v_i uniform in [0.5, 1.5] with a random sign), then
    with Gaussian ones (u_i, v_i iid N(0, 1))."""
    rng = np.random.default_rng((0, n_observed, rep))
    mask = graph.random_mask(rng, SWEEP_DIM, n_observed)
    u, v = rng.uniform(0.5, 1.5, (2, SWEEP_DIM)) * rng.choice([-1.0, 1.0], (2, SWEEP_DIM))
    g, h = rng.standard_normal((2, SWEEP_DIM))
    return mask, np.outer(u, v), np.outer(g, h)


def _family(targets, masks, alphas, keys, learning_rate: float, steps: int) -> FamilyResult:
    run = descend_scaled(targets, masks, keys, alphas, learning_rate, steps)
    data = dynamics.singular_values(masks * targets)
    return FamilyResult(targets, np.array(alphas), run.w[:, :, 0],
                        nuclear.minimum_nuclear_norm(targets, masks),
                        theory.contamination_exponent(data[:, 0], data[:, 1], learning_rate))


def transition(cfg: Config) -> SweepResult:
    sizes = np.repeat(cfg.sweep_sizes, cfg.sweep_masks)
    masks, bounded, gaussian = (np.array(parts) for parts in zip(
        *[sweep_instance(n, rep) for n in cfg.sweep_sizes for rep in range(cfg.sweep_masks)]))
    graphs = [graph.observation_graph(mask) for mask in masks]
    keys = [(7, cfg.seed)]
    return SweepResult(
        sizes, masks, np.array([g.category for g in graphs]),
        np.array([len(g.components) for g in graphs]), graph.exact_connected_fraction(SWEEP_DIM),
        _family(bounded, masks, cfg.sweep_alphas, keys, cfg.learning_rate, cfg.sweep_steps),
        _family(gaussian, masks, (cfg.alpha,), keys, cfg.learning_rate, cfg.sweep_steps))
