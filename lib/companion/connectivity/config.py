"""Configuration of the connectivity chapter: GD on W = A B^T for small matrix completions.

Both modes are this book's reconstruction: only the abstract and the figure captions of Bai,
Zhao, Zhang (NeurIPS 2024, arXiv 2405.13721) could be read, so the matrices, step sizes, step
counts and thresholds are the chapter's choices, built on the captions' pattern families (the
nine disconnected 3 x 3 patterns of Fig. 4, the sixteen one-missing 4 x 4 patterns of Fig. 3,
random 4 x 4 masks of every size as in Fig. 1). Quick mode runs in about half a minute on 2
CPU cores; no mode needs a GPU.
"""

import dataclasses
from dataclasses import dataclass

from ..checks import Grid
from ..params import Estimate, check_seeds, param, require

TITLE = "Connectivity and implicit regularization"
RESULT = ("Gradient descent from small initialization completes a matrix with the lowest rank "
          "when the observed entries form a connected pattern, and with the smallest nuclear "
          "norm when the pattern splits into fully observed blocks.")
PAPERS = "Bai, Zhao, Zhang (NeurIPS 2024); Li, Luo, Lyu (ICLR 2021)"
BUDGET_S = 60


@dataclass(frozen=True)
class Config:
    """Every experiment of the chapter, E1 to E7 (notation of the chapter's Setting)."""

    seed: int = param(0, "first initialisation seed; run s of experiment x starts from "
                         "default_rng((x, s))")
    n_seeds: int = param(10, "initialisations per setting in E1, E2, E4, E5 and E6")
    learning_rate: float = param(0.05, "eta of the 2 x 2 and 4 x 4 problems (entries of order 1)")
    blocks_learning_rate: float = param(0.02, "eta of the 3 x 3 problems, whose entries reach 9")
    steps: int = param(6000, "T of E1, E2 and E5 (b, c): both stages are over by step 1000")
    alpha: float = param(1e-8, "the scale at which ranks are asserted (the paper's smallest "
                               "variance, 1e-16); in every alpha sweep")
    alphas: tuple[float, ...] = param(
        (1e-2, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12), "init scales of the 2 x 2 sweep (E1)")
    blocks_alphas: tuple[float, ...] = param((1e-4, 1e-8), "init scales of E2 and E6")
    one_missing_alphas: tuple[float, ...] = param(
        (1.0, 1e-2, 1e-4, 1e-8), "init scales of E3, from large (no bias) to the smallest")
    one_missing_n_seeds: int = param(3, "initialisations per pattern and scale in E3")
    one_missing_steps: int = param(60_000, "T of E3: ill-conditioned patterns converge slowly")
    matrix_seed: int = param(0, "default_rng(matrix_seed) draws U, V of the rank-3 M* of E3-E5")
    trajectory_alphas: tuple[float, ...] = param((1e-4, 1e-8), "init scales of E4")
    trajectory_steps: int = param(30_000, "T of E4 and of each half of E5 (a)")
    log_every: int = param(10, "steps between logged iterates in E2 to E5")
    fit_restarts: int = param(10, "L-BFGS restarts of each best rank-s fit W*_s")
    invariance_alpha: float = param(1e-4, "init scale of E5")
    kick: float = param(1e-10, "scale of the noise put into the zero columns in E5 (a)")
    stages_steps: int = param(3000, "T of E6: the second stage ends near step 930 at 1e-8")
    sweep_sizes: tuple[int, ...] = param(
        tuple(range(3, 13)), "n of E7: a connected 4 x 4 pattern needs n >= 7; from 13 on "
                             "almost every pattern is connected")
    sweep_masks: int = param(20, "random masks per number of observations n in E7")
    sweep_alphas: tuple[float, ...] = param(
        (1e-4, 1e-6, 1e-8, 1e-10), "init scales of E7 (bounded family)")
    sweep_steps: int = param(40_000, "T of E7: slow entries of the Gaussian family need it")
    glrl_epsilon: float = param(1e-16, "GLRL's eps: a new direction starts at alpha^2 = 1e-16")

    def __post_init__(self) -> None:
        check_seeds(self.seed, self.n_seeds)
        check_seeds(self.seed, self.one_missing_n_seeds)
        require(self.learning_rate > 0 and self.blocks_learning_rate > 0,
                "learning rates must be > 0")
        sweeps = (self.alphas, self.blocks_alphas, self.one_missing_alphas,
                  self.trajectory_alphas, self.sweep_alphas)
        for alphas in sweeps:
            require(len(alphas) >= 2 and all(a > 0 for a in alphas),
                    "every alpha sweep needs >= 2 positive values")
            require(tuple(sorted(alphas, reverse=True)) == alphas,
                    "alpha sweeps must be decreasing")
        require(all(self.alpha in alphas for alphas in sweeps),
                "alpha must be in every alpha sweep")
        require(len(self.alphas) >= 3, "alphas needs >= 3 values (a fitted slope)")
        require(sum(a < 1 for a in self.one_missing_alphas) >= 2,
                "one_missing_alphas needs >= 2 values below 1 (claim A3 follows the rank there)")
        steps = (self.steps, self.one_missing_steps, self.trajectory_steps,
                 self.stages_steps, self.sweep_steps)
        require(all(t > 0 for t in steps), "step counts must be > 0")
        require(self.log_every > 0 and self.trajectory_steps % self.log_every == 0,
                "log_every must be > 0 and divide trajectory_steps")
        require(all(1 <= n <= 16 for n in self.sweep_sizes), "sweep_sizes must lie in [1, 16]")
        require(self.fit_restarts >= 1 and self.sweep_masks >= 1,
                "fit_restarts and sweep_masks must be >= 1")
        require(0 < self.invariance_alpha and 0 < self.kick and 0 < self.glrl_epsilon,
                "invariance_alpha, kick and glrl_epsilon must be > 0")

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(range(self.seed, self.seed + self.n_seeds))

    def estimate(self) -> Estimate:
        """Memory and time of a run, from its sizes.

        Every experiment is one batched GD over its runs (float64, d <= 4): a step costs about
        10 us per batch plus 0.1 us per run on 2 cores, so time = steps x (1e-5 + 1e-7 runs)
        summed over E1-E7 (E7 twice: two matrix families), plus 20 s for the kernel, the
        best-rank fits, the nuclear-norm solves and the figures. Quick mode comes to 29 s
        (26-34 s measured). Memory: the logged iterates of E2, E4 and E5, two 4 x 4 factors of
        8 bytes per run and logged step.
        """
        batches = {  # runs and steps of each experiment's batched GD
            "E1": (len(self.alphas) * self.n_seeds, self.steps),
            "E2": (9 * len(self.blocks_alphas) * self.n_seeds, self.steps),
            "E3": (16 * len(self.one_missing_alphas) * self.one_missing_n_seeds,
                   self.one_missing_steps),
            "E4": (len(self.trajectory_alphas) * self.n_seeds, self.trajectory_steps),
            "E5": (4 * self.n_seeds, 2 * self.trajectory_steps + 2 * self.steps),
            "E6": (len(self.blocks_alphas) * self.n_seeds, self.stages_steps),
            "E7": (2 * len(self.sweep_sizes) * self.sweep_masks * len(self.sweep_alphas),
                   self.sweep_steps),
        }
        seconds = 20 + sum(steps * (1e-5 + 1e-7 * runs) for runs, steps in batches.values())
        logged = sum(runs * steps / self.log_every for name, (runs, steps) in batches.items()
                     if name in ("E2", "E4", "E5"))
        return Estimate(memory_bytes=logged * 2 * 16 * 8, seconds=seconds)


QUICK = Config()
PAPER = dataclasses.replace(
    QUICK,
    n_seeds=20,
    one_missing_alphas=(1.0, 10**-0.5, 1e-1, 1e-2, 1e-3, 1e-4, 1e-6, 1e-8),
    one_missing_n_seeds=10,
    one_missing_steps=100_000,
    sweep_masks=50,
    sweep_steps=100_000,
)

GRID = Grid(
    axes={"alpha": (1e-4, 1e-8)},
    n_seeds=20,
    base={"one_missing_n_seeds": 1, "one_missing_alphas": (1.0, 1e-4, 1e-8),
          "trajectory_alphas": (1e-4, 1e-6, 1e-8), "trajectory_steps": 10_000,
          "blocks_alphas": (1e-4, 1e-6, 1e-8), "fit_restarts": 3, "sweep_masks": 8,
          "sweep_steps": 5000},
    explore="alpha",
)
"""The scale at which ranks are asserted, at the paper's smallest variance (alpha = 1e-8) and at
1e-4, outside the rank claims' scope, 20 initialisations each; every other alpha sweep keeps its
own range. The base runs one E3 seed per initialisation at three
scales, 8 masks per size in E7 (bounded family only, 5000 steps: it settles long before) and
E4-E5 for 10 000 steps, so that the grid takes about a minute and a half of CPU."""

PAPER_GRID = Grid(
    axes={"alpha": (1e-4, 1e-6, 1e-8), "learning_rate": (0.02, 0.05, 0.1)},
    n_seeds=20,
    base={"one_missing_n_seeds": 1,
          "one_missing_alphas": (1.0, 10**-0.5, 1e-1, 1e-2, 1e-3, 1e-4, 1e-6, 1e-8),
          "trajectory_alphas": (1e-4, 1e-6, 1e-8), "blocks_alphas": (1e-4, 1e-6, 1e-8),
          "trajectory_steps": 60_000, "sweep_steps": 200_000, "one_missing_steps": 200_000},
    explore="alpha",
)
"""Paper mode's sizes at three scales and three step sizes (eta sets the exponent kappa of F7);
the step counts grow so that eta = 0.02 settles as eta = 0.05 does in quick mode."""
