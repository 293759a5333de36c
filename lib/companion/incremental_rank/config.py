"""Configuration of the incremental-rank chapter: symmetric matrix sensing, GD on U U^T.

Both modes are this book's reconstruction on the setting of Jin et al. (ICML 2023, Section 6):
PSD ground truth, Gaussian measurements, U_0 = alpha * G / sqrt(d). Quick mode runs in about
half a minute on 2 CPU cores; paper mode is the larger problem.
"""

import dataclasses
from dataclasses import dataclass

from ..checks import Grid
from ..params import Estimate, check_seeds, param, require

TITLE = "Incremental rank learning"
RESULT = ("Gradient descent from small initialization learns a low-rank matrix one rank at a "
          "time, and follows Greedy Low-Rank Learning as the initialization shrinks; "
          "over-parameterization slows the last stage unless the factorization is asymmetric.")
PAPERS = "Jin, Li, Lyu, Du, Lee (ICML 2023); Li, Luo, Lyu (ICLR 2021); Xiong, Ding, Du (ICLR 2024)"
BUDGET_S = 60


@dataclass(frozen=True)
class Config:
    """Matrix sensing and every GD run of the chapter (notation of the chapter's Setting)."""

    seed: int = param(0, "first seed: the hero figure uses it; claims use n_seeds seeds")
    n_seeds: int = param(3, "seeds per claim; each draws a new X*, measurements and U_0")
    dim: int = param(20, "d: large enough for four separated stages, small for a fast K")
    sigmas: tuple[float, ...] = param(
        (1.0, 0.5, 0.25), "eigenvalues of X* (r = their number); halving separates the stages")
    n_measurements: int = param(2000, "m: well above d r, so the rank-s solutions are unique")
    width: int = param(20, "k of the over-parameterised run (k = d)")
    width_under: int = param(2, "k of the under-parameterised run (k < r)")
    learning_rate: float = param(0.1, "mu: stable (mu sigma_1 << 1) and fast")
    steps: int = param(1500, "T: the smallest alpha reaches X_r well before T")
    alpha: float = param(1e-6, "init scale of the main run (one of alpha_sweep)")
    alpha_sweep: tuple[float, ...] = param(
        (1e-2, 1e-4, 1e-6, 1e-8), "init scales of the sweep; GLRL runs with epsilon = alpha^2")
    alphas_large: tuple[float, ...] = param(
        (0.1, 1.0), "init scales with no stages; the largest is the contrast of claim A4")
    best_rank_solver: str = param(
        "gd", "how X_s is computed: 'gd', or 'lbfgs' (faster at d = 50)")
    rate_alpha: float = param(
        0.3, "init scale of the convergence-rate runs (Xiong, Ding, Du, ICLR 2024)")
    rate_steps: int = param(20_000, "steps of the convergence-rate runs")

    def __post_init__(self) -> None:
        require(self.dim > 0 and self.n_measurements > 0, "dim and n_measurements must be > 0")
        require(0 < len(self.sigmas) <= self.dim, "need 1 <= len(sigmas) <= dim")
        require(all(s > 0 for s in self.sigmas), "sigmas must be positive")
        require(len(self.sigmas) <= self.width <= self.dim, "width must be in [rank, dim]")
        require(1 <= self.width_under < len(self.sigmas), "width_under must be in [1, rank)")
        require(self.learning_rate > 0, "learning_rate must be > 0")
        require(self.steps > 0, "steps must be > 0")
        alphas = (self.alpha, *self.alpha_sweep, *self.alphas_large)
        require(all(a > 0 for a in alphas), "alphas must be > 0")
        require(self.alpha in self.alpha_sweep, "alpha must be one of alpha_sweep")
        require(len(self.alpha_sweep) >= 3, "alpha_sweep needs >= 3 values (slopes, monotonicity)")
        require(tuple(sorted(self.alpha_sweep, reverse=True)) == self.alpha_sweep,
                "alpha_sweep must be decreasing")
        require(len(self.alphas_large) >= 1, "alphas_large needs at least one value")
        require(self.best_rank_solver in ("gd", "lbfgs"), "best_rank_solver must be gd or lbfgs")
        check_seeds(self.seed, self.n_seeds)
        require(self.rate_alpha > 0 and self.rate_steps >= 20,
                "rate_alpha must be > 0 and rate_steps >= 20")

    @property
    def rank(self) -> int:
        return len(self.sigmas)

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(range(self.seed, self.seed + self.n_seeds))

    def estimate(self) -> Estimate:
        """Memory and time of a run, from its sizes (float64 throughout; p = d(d+1)/2).

        Time, measured on one core, per seed: building the two Gram matrices (m p^2 and m d^4
        multiply-adds by BLAS syrk, at 1e10 a second); a recorded GD step (its path and the
        spectrum of U^T U: 20 us + 0.1 ns p^2 for the product with K + 0.8 ns k^3), with GLRL
        counted as one more recorded run per swept alpha; a step of the symmetric rate runs
        (20 us + 0.1 ns p^2) and of the asymmetric one (15 us + 0.2 ns d^4: its K no longer
        fits the cache at d = 40). Plus 10 s of kernel start and figures. Quick mode comes to
        17 s of CPU (17 s measured), paper mode to 5 minutes.
        Memory: the two Gram matrices K, the m x d^2 measurements and the d^2 x d^2 Gram
        matrix of the asymmetric runs, and two recorded GD paths, (T+1) x p each.
        """
        d, m, p, k = self.dim, self.n_measurements, self.dim * (self.dim + 1) // 2, self.width
        recorded = (2 * len(self.alpha_sweep) + len(self.alphas_large) + 1) * self.steps
        per_seed = (recorded * (2e-5 + 1e-10 * p**2 + 8e-10 * k**3)
                    + 2 * self.rate_steps * (2e-5 + 1e-10 * p**2)
                    + self.rate_steps * (1.5e-5 + 2e-10 * d**4) + m * (p**2 + d**4) / 1e10)
        return Estimate(memory_bytes=8 * (2 * p**2 + m * d**2 + d**4 + 2 * (self.steps + 1) * p),
                        seconds=10 + self.n_seeds * per_seed)


QUICK = Config()
PAPER = dataclasses.replace(
    QUICK,
    n_seeds=5,
    dim=50,
    sigmas=(1.0, 0.5, 0.25, 0.125, 0.0625),
    n_measurements=10_000,
    width=50,
    width_under=3,
    steps=6000,
    alpha=1e-8,
    alpha_sweep=(1e-2, 1e-4, 1e-6, 1e-8, 1e-10),
    best_rank_solver="lbfgs",
)

GRID = Grid(
    axes={"sigmas": ((1.0, 0.5, 0.25), (1.0, 0.7, 0.4), (1.0, 0.85, 0.7))},
    n_seeds=20,
    base={"dim": 10, "n_measurements": 1000, "width": 10, "alpha_sweep": (1e-2, 1e-5, 1e-8),
          "alpha": 1e-8, "alphas_large": (1.0,), "rate_steps": 4000},
    explore="sigmas",
)
"""Gap ratios sigma_(s+1)/sigma_s of 0.5, 0.7 (inside the rank claims' scope) and 0.85 (outside
it), 20 seeds each. The base keeps m/d = 100 as in the chapter at d = 10, sweeps alpha down to
1e-8 and shortens the convergence-rate runs to 4000 steps, still 10/(mu sigma_r) past their
transient, so that the whole grid takes about a minute on 2 cores."""

PAPER_GRID = Grid(
    axes={"sigmas": ((1.0, 0.5, 0.25, 0.125, 0.0625), (1.0, 0.7, 0.49, 0.343, 0.2401),
                     (1.0, 0.85, 0.7225, 0.614, 0.522)),
          "learning_rate": (0.1, 0.05)},
    n_seeds=20,
    base={"alpha_sweep": (1e-2, 1e-4, 1e-6, 1e-8, 1e-10), "steps": 11_000,
          "rate_steps": 40_000},
    explore="sigmas",
)
"""Paper mode's problem (d = 50, r = 5) at the same three gap ratios and at two learning rates,
alpha down to 1e-10; 11 000 steps let the last stage at alpha = 1e-10 and mu = 0.05 arrive and
converge, and 40 000 rate steps put T/10 past the transient at mu = 0.05."""
