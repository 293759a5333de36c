"""The chapters of the book, their configurations, and parameter validation.

Each chapter has one frozen dataclass: its defaults are the ``quick`` mode (CI, about a minute on
2 CPU cores) and ``paper`` is derived from it with ``dataclasses.replace``. A run is configured
only through :func:`make_config`, which rejects unknown names, wrong types and bad values before
any kernel starts (papermill itself would accept a misspelt parameter with only a log line).
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from pathlib import Path

MODES = ("quick", "paper")


class ParameterError(ValueError):
    """A chapter parameter that is unknown, of the wrong type or out of range."""


class UnknownChapterError(KeyError):
    """A chapter name that is not in the book."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return self.args[0]


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ParameterError(message)


# --------------------------------------------------------------------------------------------
# Chapter 1: incremental rank learning (spec: shared/specs/incremental_rank.md, sections 3-4)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IncrementalRankConfig:
    """Symmetric matrix sensing, GD on U U^T from small initialisation (quick = spec section 3)."""

    seed: int = 0  # first seed: the hero figure uses it, claims use seed .. seed + n_seeds - 1
    n_seeds: int = 3
    dim: int = 20  # d
    sigmas: tuple[float, ...] = (1.0, 0.5, 0.25)  # eigenvalues of X*, so r = len(sigmas)
    n_measurements: int = 2000  # m
    width: int = 20  # k, over-parameterised run (k = d)
    width_under: int = 2  # k < r run
    learning_rate: float = 0.1  # mu
    steps: int = 1500  # T
    alpha: float = 1e-6  # init scale of the main run (one of alpha_sweep)
    alpha_sweep: tuple[float, ...] = (1e-2, 1e-4, 1e-6, 1e-8)  # GLRL runs with epsilon = alpha**2
    alphas_large: tuple[float, ...] = (0.1, 1.0)  # runs without stages; A4 contrasts the largest
    best_rank_solver: str = "gd"  # "gd" or "lbfgs" (faster at d = 50) for the rank-s solutions X_s
    # Fig. 5 (spec section 7, Xiong et al.): symmetric k = r, k = d and asymmetric k = d from one
    # init scale, on every seed
    rate_alpha: float = 0.3
    rate_steps: int = 20_000

    def __post_init__(self) -> None:
        _require(self.dim > 0 and self.n_measurements > 0, "dim and n_measurements must be > 0")
        _require(0 < len(self.sigmas) <= self.dim, "need 1 <= len(sigmas) <= dim")
        _require(all(s > 0 for s in self.sigmas), "sigmas must be positive")
        _require(len(self.sigmas) <= self.width <= self.dim, "width must be in [rank, dim]")
        _require(1 <= self.width_under < len(self.sigmas), "width_under must be in [1, rank)")
        _require(self.learning_rate > 0, "learning_rate must be > 0")
        _require(self.steps > 0, "steps must be > 0")
        alphas = (self.alpha, *self.alpha_sweep, *self.alphas_large)
        _require(all(a > 0 for a in alphas), "alphas must be > 0")
        _require(self.alpha in self.alpha_sweep, "alpha must be one of alpha_sweep")
        _require(len(self.alpha_sweep) >= 3, "alpha_sweep needs >= 3 values (slopes, monotonicity)")
        _require(tuple(sorted(self.alpha_sweep, reverse=True)) == self.alpha_sweep,
                 "alpha_sweep must be decreasing")
        _require(len(self.alphas_large) >= 1, "alphas_large needs at least one value")
        _require(self.best_rank_solver in ("gd", "lbfgs"), "best_rank_solver must be gd or lbfgs")
        _require(self.seed >= 0 and self.n_seeds >= 1, "seed must be >= 0 and n_seeds >= 1")
        _require(self.rate_alpha > 0 and self.rate_steps >= 20,
                 "rate_alpha must be > 0 and rate_steps >= 20")

    @property
    def rank(self) -> int:
        return len(self.sigmas)

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(range(self.seed, self.seed + self.n_seeds))


INCREMENTAL_RANK_QUICK = IncrementalRankConfig()
INCREMENTAL_RANK_PAPER = dataclasses.replace(
    INCREMENTAL_RANK_QUICK,
    n_seeds=5,
    dim=50,
    sigmas=(1.0, 0.5, 0.25, 0.125, 0.0625),
    n_measurements=10_000,
    width=50,
    width_under=3,
    steps=5000,
    alpha=1e-8,
    alpha_sweep=(1e-2, 1e-4, 1e-6, 1e-8, 1e-10),
    best_rank_solver="lbfgs",
)


# --------------------------------------------------------------------------------------------
# Chapter 2: the embedding principle in depth (spec: shared/specs/embedding_depth.md, 3-4)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EmbeddingDepthConfig:
    """Critical lifting (Part 1), small-init dynamics (Part 2), lifted dimension (Part 3)."""

    seed: int = 0  # Part 1 data; Part 2 runs seeds seed .. seed + dynamics_seeds - 1
    # Part 1: exact lifting, float64
    n_points_1d: int = 100
    target_noise: float = 0.05
    newton_iterations: int = 60
    n_points_2d: int = 50
    # Part 2: dynamics, float32
    n_train: int = 64
    hidden_width: int = 20
    depths: tuple[int, ...] = (1, 2, 3)
    bn_depths: tuple[int, ...] = (2, 3)
    init_scale: float = 0.1
    learning_rate: float = 1e-3
    steps: int = 4000
    log_every: int = 10
    dynamics_seeds: int = 2  # claims A3 and A4 take the worst seed; figures 3 and 4 show bands
    # Part 3: lifted-manifold dimension against the number of samples, float64
    input_dim: int = 8
    n_outputs: int = 3
    sample_grid: tuple[int, ...] = (1, 2, 3, 5, 7, 9, 12, 16, 24)
    # Layer pruning (section 4, v4): fold the layers with N < prune_threshold of the depth
    # control_depth net of seed `seed`, on the plateau (after prune_step steps) and after `steps`
    prune_step: int = 500
    prune_threshold: float = 1e-3
    # Controls (section 7): LayerNorm at the small init, and no normalisation at standard init
    control_depth: int = 3
    standard_init_scale: float = 1.0
    control_steps: int = 600  # both controls leave the plateau within a few hundred steps
    # Extension (section 7): ReLU sign-type linearization, seeds seed .. seed + relu_seeds - 1
    relu_bias_init: float = 2.0
    relu_init_scale: float = 1.0  # standard init: 80-92% of neurons single-signed (spec 7)
    relu_steps: int = 1000
    relu_seeds: int = 1
    # Exploratory (section 9): does more data shorten the plateau? Depth control_depth tanh nets
    # on a d-dimensional version of the Part 2 task; seeds seed .. seed + data_seeds - 1
    data_input_dim: int = 4
    data_sizes: tuple[int, ...] = (16, 256)
    data_steps: int = 1200
    data_seeds: int = 1

    def __post_init__(self) -> None:
        _require(self.hidden_width > 0 and self.n_train > 1, "hidden_width, n_train must be > 0")
        _require(all(d >= 1 for d in self.depths), "depths must be >= 1")
        _require(all(d >= 2 for d in self.bn_depths), "bn_depths must be >= 2 (see spec pitfalls)")
        _require(self.init_scale > 0 and self.learning_rate > 0, "init_scale, learning_rate > 0")
        _require(min(self.steps, self.relu_steps, self.control_steps) > 0, "steps must be > 0")
        _require(0 < self.log_every <= self.steps, "log_every must be in (0, steps]")
        _require(all(n >= 1 for n in self.sample_grid), "sample_grid entries must be >= 1")
        _require(self.control_depth >= 2, "control_depth must be >= 2 (BN is degenerate at 1)")
        _require(self.standard_init_scale > 0 and self.relu_seeds >= 1,
                 "standard_init_scale must be > 0 and relu_seeds >= 1")
        _require(self.target_noise >= 0 and self.newton_iterations > 0,
                 "target_noise must be >= 0 and newton_iterations > 0")
        _require(self.input_dim >= 1 and self.n_outputs >= 1 and self.n_points_2d > 3,
                 "input_dim, n_outputs must be >= 1 and n_points_2d > 3")
        _require(0 < self.prune_step < self.steps and self.prune_threshold > 0,
                 "prune_step must be in (0, steps) and prune_threshold > 0")
        _require(self.relu_init_scale > 0 and self.dynamics_seeds >= 1,
                 "relu_init_scale must be > 0 and dynamics_seeds >= 1")
        _require(self.data_input_dim >= 1 and self.data_steps > 0 and self.data_seeds >= 1,
                 "data_input_dim, data_steps and data_seeds must be >= 1")
        _require(len(self.data_sizes) >= 2 and all(n >= 2 for n in self.data_sizes),
                 "data_sizes needs >= 2 entries, each >= 2")


EMBEDDING_DEPTH_QUICK = EmbeddingDepthConfig()
EMBEDDING_DEPTH_PAPER = dataclasses.replace(
    EMBEDDING_DEPTH_QUICK,
    n_train=200,
    hidden_width=100,
    depths=(1, 2, 3, 4, 5, 6),
    bn_depths=(2, 3, 4, 5, 6),
    steps=20_000,
    log_every=20,
    dynamics_seeds=10,
    relu_steps=3000,
    relu_seeds=5,
    control_steps=4000,
    data_sizes=(16, 32, 64, 128, 256),
    data_steps=4000,
    data_seeds=4,
)


# --------------------------------------------------------------------------------------------
# Chapter 3: adaptive preconditioners trigger loss spikes in Adam (spec: adam_spikes.md, 3-4)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AdamSpikesConfig:
    """1-D quadratic (A), two-layer tanh net (B), mitigations (C), x^4 (D), extension (E).

    A reconstruction validated on CPU, not the paper's exact hyperparameters (spec section 1).
    """

    seed: int = 0  # network init of Part B; Part C uses seed .. seed + n_seeds_ablation - 1
    # Adam as torch.optim.Adam (Parts A-C, and the x^2 half of the extension)
    beta1: float = 0.9
    eps: float = 1e-8
    # Part A: L = a theta^2 / 2
    curvature: float = 1.0  # a
    theta0: float = 1.0
    lr_1d: float = 0.01
    beta2_1d: float = 0.99
    steps_1d: int = 4000
    # Part B: f(x) = sum_k a_k tanh(w_k x + b_k) + c on sin x + sin 4x
    n_points: int = 40
    width: int = 50
    lr: float = 0.02
    beta2: float = 0.999
    steps: int = 2000
    spikes_examined: int = 2  # dense exact-Hessian diagnostics around the first spikes
    window_before: int = 80  # dense window [t_on - window_before, t_pk + window_after]
    window_after: int = 8
    overview_every: int = 20  # Hessian every this many steps over the whole run (1 = all)
    # Part C: mitigations, loss only
    steps_ablation: int = 3000
    n_seeds_ablation: int = 3
    eps_large: float = 0.1
    beta2_small: float = 0.9
    beta2_counted: tuple[float, ...] = (0.99, 0.95)  # spike counts only (spec section 9)
    bound_every: int = 100  # Hessian every this many steps of the eps_large run
    # Part D: L = x^4 / 4, x0 = 1; Adam with m0 = g0, v0 = g0^2, eps = 0, no bias correction
    lr_poly: float = 1e-3
    beta2_poly: float = 0.93
    momentum_hb: float = 0.9
    steps_poly: int = 20_000
    beta2_regimes: tuple[float, ...] = (0.91, 0.895, 0.8)
    fit_x_min: float = 1e-45  # fit the linear rate while fit_x_min < |x| < fit_x_max
    fit_x_max: float = 1e-10
    # Extension: Adam against AMSGrad on x^2 (Part A settings) and x^4 (Part D settings)
    steps_extension: int = 20_000

    def __post_init__(self) -> None:
        _require(self.lr > 0 and self.lr_1d > 0 and self.lr_poly > 0, "learning rates must be > 0")
        for name in ("beta1", "beta2", "beta2_1d", "beta2_small", "beta2_poly", "momentum_hb"):
            _require(0 <= getattr(self, name) < 1, f"{name} must be in [0, 1)")
        _require(all(0 < b < 1 for b in self.beta2_counted + self.beta2_regimes),
                 "beta2_counted and beta2_regimes must be in (0, 1)")
        _require(self.eps >= 0 and self.eps_large > 0, "eps must be >= 0, eps_large > 0")
        _require(self.curvature > 0 and self.theta0 != 0, "curvature > 0 and theta0 != 0")
        _require(self.width > 0 and self.n_points > 1, "width and n_points must be > 0")
        _require(min(self.steps, self.steps_1d, self.steps_ablation, self.steps_poly,
                     self.steps_extension) > 0, "step counts must be > 0")
        _require(self.steps_1d > 300, "steps_1d must exceed the 300-step pure-decay window")
        _require(self.spikes_examined >= 1 and self.n_seeds_ablation >= 1,
                 "spikes_examined and n_seeds_ablation must be >= 1")
        _require(self.window_before >= 60 and self.window_after >= 5,
                 "window_before >= 60 and window_after >= 5 (claims 4-5 read those steps)")
        _require(self.overview_every >= 1 and self.bound_every >= 1,
                 "overview_every and bound_every must be >= 1")
        _require(0 < self.fit_x_min < self.fit_x_max, "need 0 < fit_x_min < fit_x_max")

    @property
    def ablation_seeds(self) -> tuple[int, ...]:
        return tuple(range(self.seed, self.seed + self.n_seeds_ablation))


ADAM_SPIKES_QUICK = AdamSpikesConfig()
ADAM_SPIKES_PAPER = dataclasses.replace(
    ADAM_SPIKES_QUICK, steps=20_000, spikes_examined=10, overview_every=1, n_seeds_ablation=6,
    steps_poly=100_000)


# --------------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Chapter:
    """One chapter: its notebook source, its configurations and its quick-mode time budget."""

    name: str
    title: str
    modes: dict = field(compare=False)  # {"quick": config, "paper": config}
    budget_s: float  # declared wall time of quick mode on 2 CPU cores, kernel included
    paper_note: str  # the paper-mode configuration in one line (a reconstruction, as quick is)

    @property
    def notebook(self) -> Path:
        return Path("notebooks") / f"{self.name}.py"

    @property
    def config_class(self) -> type:
        return type(self.modes["quick"])


CHAPTERS: dict[str, Chapter] = {
    c.name: c
    for c in (
        Chapter("incremental_rank", "Incremental rank learning",
                {"quick": INCREMENTAL_RANK_QUICK, "paper": INCREMENTAL_RANK_PAPER}, 60,
                "d=50, r=5, m=10000, five seeds"),
        Chapter("embedding_depth", "The embedding principle in depth",
                {"quick": EMBEDDING_DEPTH_QUICK, "paper": EMBEDDING_DEPTH_PAPER}, 60,
                "width 100, depths 1-6, 20k steps"),
        Chapter("adam_spikes", "Adaptive preconditioners trigger loss spikes in Adam",
                {"quick": ADAM_SPIKES_QUICK, "paper": ADAM_SPIKES_PAPER}, 60,
                "20k steps, ten spikes examined, six ablation seeds"),
    )
}


def get_chapter(name: str) -> Chapter:
    """Look a chapter up by name; an unknown name lists the chapters there are."""
    if name not in CHAPTERS:
        raise UnknownChapterError(
            f"unknown chapter '{name}'. Chapters: {', '.join(CHAPTERS)}. "
            "Run 'python -m companion list' to see them with their parameters.")
    return CHAPTERS[name]


def parameter_types(config_class: type) -> dict[str, type]:
    """The declared type of each field of a chapter's config dataclass."""
    hints = typing.get_type_hints(config_class)
    return {f.name: hints[f.name] for f in dataclasses.fields(config_class)}


def _coerce(name: str, declared: type, value):
    """Convert a CLI string or check a Python value against the field's declared type."""
    origin = typing.get_origin(declared)
    if origin is tuple:
        (item_type, _) = typing.get_args(declared)
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)):
            raise ParameterError(f"parameter '{name}' expects a comma-separated list of "
                                 f"{item_type.__name__}, got {value!r}")
        return tuple(_coerce(name, item_type, item) for item in items)
    if isinstance(value, str) and declared is not str:
        text = value.strip()
        try:
            if declared is bool:
                if text.lower() not in ("true", "false"):
                    raise ValueError
                return text.lower() == "true"
            return declared(text)
        except ValueError:
            raise ParameterError(f"parameter '{name}' expects {declared.__name__}, "
                                 f"got {value!r}") from None
    if declared is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, declared) or (declared is int and isinstance(value, bool)):
        raise ParameterError(f"parameter '{name}' expects {declared.__name__}, "
                             f"got {type(value).__name__} {value!r}")
    return value


def make_config(chapter: Chapter, mode: str, overrides: dict | None = None):
    """The validated configuration for ``mode`` with ``overrides`` applied.

    Values may be Python objects (from a notebook) or strings (from the command line). Raises
    :class:`ParameterError` naming the offending parameter and listing the valid ones.
    """
    if mode not in MODES:
        raise ParameterError(f"unknown mode '{mode}'; choose one of {', '.join(MODES)}")
    types = parameter_types(chapter.config_class)
    changes = {}
    for name, value in (overrides or {}).items():
        if name not in types:
            raise ParameterError(
                f"unknown parameter '{name}' for chapter '{chapter.name}'. "
                f"Valid parameters: {', '.join(types)}")
        changes[name] = _coerce(name, types[name], value)
    try:
        return dataclasses.replace(chapter.modes[mode], **changes)
    except ParameterError as error:
        raise ParameterError(f"bad value for chapter '{chapter.name}': {error}") from None
