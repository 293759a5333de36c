"""Configuration of the embedding-principle chapter: exact lifts, plateaus, lifted dimension.

Every network, data set and training setting is this book's reconstruction, validated on a CPU
(no official code is known; Bai, Luo, Xu, Zhang give no exact constants for these experiments).
"""

import dataclasses
from dataclasses import dataclass

from ..checks import Grid
from ..params import Estimate, check_seeds, param, require

TITLE = "The embedding principle in depth"
RESULT = ("Critical points of shallow networks lift to critical points of deeper ones; what "
          "that means for plateaus, for batch normalization and for pruning linearized layers.")
PAPERS = "Bai, Luo, Xu, Zhang (2022)"
BUDGET_S = 60
SMALL_INIT = 0.1
"""Largest init_scale of the small-initialisation regime the plateau claims are stated for."""


@dataclass(frozen=True)
class Config:
    """Part 1 (exact lifts), Part 2 (dynamics), Part 3 (lifted dimension) and extensions."""

    seed: int = param(0, "Part 1 data; Part 2 runs seeds seed .. seed + n_seeds - 1")
    # Part 1: exact lifting, float64
    n_points_1d: int = param(100, "inputs of the nonlinear base net (a)")
    target_noise: float = param(0.05, "teacher noise of (a): the minimum must not interpolate")
    newton_iterations: int = param(
        100, "cap on the saddle-free Newton steps to the minimum of (a): 12-67 on seeds 0-39")
    n_points_2d: int = param(50, "inputs of the linear bases (b) and (c)")
    # Part 2: dynamics, float32
    n_train: int = param(64, "training points of the 1-D task")
    hidden_width: int = param(20, "neurons per hidden layer")
    depths: tuple[int, ...] = param((1, 2, 3), "hidden layers of the plain tanh nets")
    bn_depths: tuple[int, ...] = param((2, 3), "depths trained with BatchNorm (BN needs >= 2)")
    init_scale: float = param(0.1, "small initialisation: weights N(0, init_scale^2 / fan-in)")
    learning_rate: float = param(1e-3, "Adam's step size in Part 2 and its extensions")
    steps: int = param(4000, "Part 2 training steps: every depth leaves the plateau by then")
    log_every: int = param(10, "steps between logged points")
    n_seeds: int = param(2, "Part 2 seeds; claims take the worst, figures show bands")
    # Part 3: lifted-manifold dimension against the number of samples, float64
    input_dim: int = param(8, "inputs of the Part 3 linear fit")
    n_outputs: int = param(3, "outputs of the Part 3 linear fit")
    sample_grid: tuple[int, ...] = param(
        (1, 2, 3, 5, 7, 9, 12, 16, 24), "sample counts n; the dimension saturates at d + 1")
    # Layer pruning (paper v4, Section 4): fold the layers with N < prune_threshold
    prune_step: int = param(500, "steps before the on-plateau fold (the plateau holds by then)")
    prune_threshold: float = param(1e-3, "fold a layer when its nonlinearity index N is below")
    # Controls: LayerNorm at the small init, and no normalisation at standard init
    control_depth: int = param(3, "depth of the controls, the pruning net and the extensions")
    standard_init_scale: float = param(1.0, "init scale of the no-normalisation control")
    control_steps: int = param(600, "both controls leave the plateau within a few hundred steps")
    # Extension: ReLU sign-type linearization
    relu_bias_init: float = param(2.0, "hidden biases: most neurons start active on every input")
    relu_init_scale: float = param(1.0, "standard init: 80-92% of neurons start single-signed")
    relu_steps: int = param(1000, "training steps of the ReLU extension")
    relu_n_seeds: int = param(1, "seeds of the ReLU extension")
    # Exploratory: does more data shorten the plateau?
    data_input_dim: int = param(4, "inputs of the d-dimensional version of the Part 2 task")
    data_sizes: tuple[int, ...] = param((16, 256), "sample counts compared")
    data_steps: int = param(1200, "training steps per size (a run not done is cut here)")
    data_n_seeds: int = param(1, "seeds per size")
    # Where the float32 training of Part 2, its controls and extensions runs
    device: str = param("cpu", "'cpu', or 'cuda' for paper mode on a GPU (other rounding)")

    def __post_init__(self) -> None:
        require(self.hidden_width > 0 and self.n_train > 1, "hidden_width, n_train must be > 0")
        require(all(d >= 1 for d in self.depths), "depths must be >= 1")
        require(all(d >= 2 for d in self.bn_depths),
                "bn_depths must be >= 2 (BN after the only hidden layer makes it constant)")
        require(self.init_scale > 0 and self.learning_rate > 0, "init_scale, learning_rate > 0")
        require(min(self.steps, self.relu_steps, self.control_steps) > 0, "steps must be > 0")
        require(0 < self.log_every <= self.steps, "log_every must be in (0, steps]")
        require(all(n >= 1 for n in self.sample_grid), "sample_grid entries must be >= 1")
        require(self.control_depth >= 2, "control_depth must be >= 2 (BN is degenerate at 1)")
        require(self.standard_init_scale > 0, "standard_init_scale must be > 0")
        require(self.target_noise >= 0 and self.newton_iterations > 0,
                "target_noise must be >= 0 and newton_iterations > 0")
        require(self.input_dim >= 1 and self.n_outputs >= 1 and self.n_points_2d > 3,
                "input_dim, n_outputs must be >= 1 and n_points_2d > 3")
        require(0 < self.prune_step < self.steps and self.prune_threshold > 0,
                "prune_step must be in (0, steps) and prune_threshold > 0")
        require(self.relu_init_scale > 0, "relu_init_scale must be > 0")
        require(self.data_input_dim >= 1 and self.data_steps > 0,
                "data_input_dim and data_steps must be >= 1")
        require(len(self.data_sizes) >= 2 and all(n >= 2 for n in self.data_sizes),
                "data_sizes needs >= 2 entries, each >= 2")
        for n in (self.n_seeds, self.relu_n_seeds, self.data_n_seeds):
            check_seeds(self.seed, n)
        require(self.device in ("cpu", "cuda"), "device must be 'cpu' or 'cuda'")

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(range(self.seed, self.seed + self.n_seeds))

    def estimate(self) -> Estimate:
        """Memory and time of a run, from the sizes of Part 2, its controls and extensions.

        Every training run advances all its seeds together (one batched product per layer).
        Time, measured on one core of the reference machine: a step of S seeds of depth L on n
        points takes 0.2 ms + 60 us L + S (50 us + 3 ns per hidden activation, n width L,
        + 0.1 ns per multiply-add of the (L - 1) width x width products, 3 n width^2 each
        forward and back); plus 10 s for the kernel start, Parts 1 and 3 (fixed sizes) and the
        figures. Quick mode comes to 25 s of CPU (26 s measured). Paper mode is compute-bound
        (72 trillion float32 operations), about 77 minutes on one core: run it with
        ``-p device=cuda`` on a machine with a GPU.
        Memory (float32): each stack's parameters, gradients and Adam moments, its activations
        forward and backward, and the logs.
        """
        width = self.hidden_width
        runs = [(self.steps, depth, self.n_train, self.n_seeds)
                for depth in self.depths + self.bn_depths]
        runs += 2 * [(self.control_steps, self.control_depth, self.n_train, self.n_seeds)]
        runs += [(self.prune_step + self.steps, self.control_depth, self.n_train, 1)]
        runs += 3 * [(self.relu_steps, self.control_depth, self.n_train, self.relu_n_seeds)]
        runs += [(self.data_steps, self.control_depth, n, self.data_n_seeds)
                 for n in self.data_sizes]

        def step_s(depth: int, n: int, seeds: int) -> float:
            return 2e-4 + 6e-5 * depth + seeds * (
                5e-5 + 3e-9 * n * width * depth + 1e-10 * 3 * (depth - 1) * n * width**2)

        def stack_bytes(depth: int, n: int, seeds: int) -> float:
            return 4 * seeds * depth * (4 * (width**2 + 3 * width) + 6 * n * width)

        logged = 8 * 7 * self.n_seeds * len(runs) * (self.steps // self.log_every + 1)
        return Estimate(
            memory_bytes=max(stack_bytes(*run[1:]) for run in runs) + logged,
            seconds=10 + sum(steps * step_s(*run) for steps, *run in runs))


QUICK = Config()
PAPER = dataclasses.replace(
    QUICK,
    n_train=200,
    hidden_width=100,
    depths=(1, 2, 3, 4, 5, 6),
    bn_depths=(2, 3, 4, 5, 6),
    steps=20_000,
    log_every=20,
    n_seeds=10,
    relu_steps=3000,
    relu_n_seeds=5,
    control_steps=4000,
    data_sizes=(16, 32, 64, 128, 256),
    data_steps=4000,
    data_n_seeds=4,
)

GRID = Grid(
    axes={"init_scale": (0.1, 0.3, 1.0)}, n_seeds=20, explore="init_scale",
    # the plateau claims read the deepest net (depth 3), which settles on its plateau by step
    # 500; the LayerNorm and standard-init controls are shown, not checked
    base=dict(depths=(3,), bn_depths=(3,), steps=1000, log_every=50, control_steps=10))
"""The default sweep: from the small initialisation the plateau claims are stated for, through
0.3, to the standard initialisation, where there is no plateau left to stall on or remove."""
PAPER_GRID = Grid(
    axes={"init_scale": (0.01, 0.03, 0.1, 0.3, 1.0), "hidden_width": (20, 100)}, n_seeds=20,
    explore="init_scale")
"""The paper-mode sweep (a cluster's work): every depth at two widths and five init scales."""
