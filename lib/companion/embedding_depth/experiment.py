"""The chapter's experiments: every loop over lifts, sample counts, depths, seeds and variants.

Bai, Luo, Xu, Zhang, *Embedding Principle in Depth for the Loss Landscape Analysis of Deep
Neural Networks*, arXiv 2205.13283. This is the one module of the chapter that reads its
configuration (:class:`~.config.Config`); the science in :mod:`.lifting`, :mod:`.plateaus` and
:mod:`.pruning` takes plain values. Each section of the chapter calls a function here that
returns a frozen ``...Result`` holding what its figures and claims need. Every section draws from
its own seeded generator (and every training run from ``torch.manual_seed`` of its seed), so the
sections give the same numbers in any order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import spectra
from ..checks import Check
from . import lifting, plateaus, pruning
from .config import SMALL_INIT, Config
from .lifting import MLP, Certificate, Lift
from .plateaus import PlateauSummary, TrainingLog

F64 = torch.float64


# --------------------------------------------------------------------------------------------
# Part 1: exact lifts and their Hessians (float64)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """A shallow net at a critical point ``theta`` of its risk on the data ``(x, y)``."""

    net: MLP
    theta: torch.Tensor
    x: torch.Tensor
    y: torch.Tensor


@dataclass(frozen=True)
class Curvature:
    """Gradient norm, ascending Hessian eigenvalues and the eigenvector of the smallest one."""

    grad_norm: float
    eigenvalues: np.ndarray
    v_min: torch.Tensor


def curvature(net: MLP, theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> Curvature:
    """The :class:`Curvature` of R at ``theta``, from the dense Hessian (F2-F4)."""
    loss_fn = net.loss_fn(x, y)
    lam, vecs = torch.linalg.eigh(spectra.dense_hessian(loss_fn, theta))
    return Curvature(float(torch.func.grad(loss_fn)(theta).norm()), lam.numpy(), vecs[:, 0])


@dataclass(frozen=True)
class LiftCheck:
    """One lift of Part 1 beside the shallow point it came from: F1 and the curvatures."""

    lift: Lift
    base: Problem
    shallow: Curvature
    deep: Curvature
    max_delta_f: float  # max_i |f_deep(x_i) - f_shallow(x_i)|: F1

    @property
    def curvature_ratio(self) -> float:
        """``lambda_min / lambda_max`` of the deep Hessian: clearly negative at a strict saddle."""
        return self.deep.eigenvalues[0] / self.deep.eigenvalues[-1]

    def row(self, name: str) -> str:
        """One printed line: sizes, gradient, output change, extreme eigenvalues, inertia."""
        lam = self.deep.eigenvalues
        return (f"{name:16s} P {self.base.net.n_params:2d} -> {self.lift.net.n_params:2d}  "
                f"|grad| {self.deep.grad_norm:.1e}  max|df| {self.max_delta_f:.1e}  "
                f"lam_min {lam[0]: .2e}  lam_max {lam[-1]:.2e}  "
                f"(neg, zero, pos) = {spectra.inertia(lam)}")

    def drawings(self) -> dict[str, tuple[list[list[str]], list[np.ndarray]]]:
        """``{"shallow", "deep"}: (roles, weights)``, what ``plotting.network_diagram`` draws."""
        base, lift = self.base, self.lift
        return {"shallow": (lifting.neuron_roles(base.net),
                            [w.numpy() for w, _ in base.net.unpack(base.theta)]),
                "deep": (lifting.neuron_roles(lift.net, lift),
                         [w.numpy() for w, _ in lift.net.unpack(lift.theta)])}


def check_lift(lift: Lift, base: Problem) -> LiftCheck:
    """Measure F1 and the gradient and Hessian spectrum of ``lift`` and of its shallow point."""
    x, y = base.x, base.y
    delta_f = lift.net.forward(lift.theta, x) - base.net.forward(base.theta, x)
    return LiftCheck(lift, base, curvature(base.net, base.theta, x, y),
                     curvature(lift.net, lift.theta, x, y), float(delta_f.abs().max()))


def nonlinear_base(cfg: Config, gen: torch.Generator) -> Problem:
    """Base (a): ELU ``[1, 2, 1]`` fitted to a noisy teacher with two well-separated neurons,
    at the local minimum saddle-free Newton reaches from the teacher."""
    x = torch.linspace(-1, 1, cfg.n_points_1d, dtype=F64)[:, None]
    net = MLP((1, 2, 1), "elu")
    teacher = MLP.pack([(torch.tensor([[3.0], [-3.0]], dtype=F64),
                         torch.tensor([0.5, 0.5], dtype=F64)),
                        (torch.tensor([[1.0, 1.0]], dtype=F64), torch.zeros(1, dtype=F64))])
    y = net.forward(teacher, x) + cfg.target_noise * torch.randn(
        cfg.n_points_1d, 1, generator=gen, dtype=F64)
    theta, _ = lifting.saddle_free_newton(net.loss_fn(x, y), teacher, cfg.newton_iterations)
    return Problem(net, theta, x, y)


def linear_base(cfg: Config, gen: torch.Generator) -> Problem:
    """Base (b): the exact least-squares fit of a depth-1 net to a smooth 2-D target."""
    x = torch.rand(cfg.n_points_2d, 2, generator=gen, dtype=F64) * 2 - 1
    y = (torch.sin(2 * x[:, 0]) + 0.5 * x[:, 1] ** 2 + 0.3 * x[:, 0] * x[:, 1])[:, None]
    return Problem(MLP((2, 1), "elu"), lifting.least_squares_linear(x, y), x, y)


def lifts_of_nonlinear_base(cfg: Config, gen: torch.Generator) -> dict[str, tuple[Lift, Problem]]:
    """(a) pure (two identity signal neurons) and (a) generic (plus two constant neurons),
    both inserted after the hidden layer (q = 1)."""
    base = nonlinear_base(cfg, gen)
    eye = torch.eye(2, dtype=F64)
    eps = lifting.alternating(0.5 * torch.randn(2, generator=gen, dtype=F64).abs())
    return {"(a) pure": (lifting.critical_lift(base.net, base.theta, base.x, 1, eye), base),
            "(a) generic": (lifting.critical_lift(base.net, base.theta, base.x, 1, eye, eps=eps),
                            base)}


def lifts_of_linear_base(cfg: Config, gen: torch.Generator,
                         ) -> tuple[dict[str, tuple[Lift, Problem]], Certificate]:
    """(b) at q = 0 with a Gaussian signal matrix and two constant neurons at F4's
    ``+-eps*``; (b) lifted once more at q = 1; (c) as (b) in ReLU with ``c0 = +1``, where ReLU
    is affine. Returns the lifts and the F4 certificate of base (b)."""
    base = linear_base(cfg, gen)
    cert = lifting.f4_certificate(base.net, base.theta, base.x, base.y, c0=-1.0)
    signal = torch.randn(3, 2, generator=gen, dtype=F64)
    pair = (cert.eps_star, -cert.eps_star)
    once = lifting.critical_lift(base.net, base.theta, base.x, 0, signal, eps=pair)
    eps = lifting.alternating(0.5 * torch.randn(2, generator=gen, dtype=F64).abs())
    twice = lifting.critical_lift(once.net, once.theta, base.x, 1, torch.eye(5, dtype=F64),
                                  eps=eps)
    relu = Problem(MLP((2, 1), "relu"), base.theta, base.x, base.y)
    return {"(b) certificate": (once, base), "(b) 2-step": (twice, base),
            "(c) ReLU": (lifting.critical_lift(relu.net, relu.theta, relu.x, 0, signal, eps=pair,
                                               c0=1.0), relu)}, cert


@dataclass(frozen=True)
class LineSearch:
    """R along ``v_min``, the most negative Hessian direction of a lift, against
    ``1/2 lambda_min t^2`` (the gradient is zero there)."""

    t: np.ndarray
    loss_drop: np.ndarray  # R(theta' + t v_min) - R(theta')
    quadratic: np.ndarray
    t_model: float  # 0.1 sqrt(|lambda_min| / lambda_max): the quadratic term dominates there
    model_ratio: float  # mean drop at +-t_model over 1/2 lambda_min t_model^2

    def arrays(self) -> dict[str, np.ndarray]:
        """The curves of figure 2's right panel."""
        return {"t": self.t, "loss_drop": self.loss_drop, "quadratic": self.quadratic}


def line_search(check: LiftCheck) -> LineSearch:
    """:class:`LineSearch` of a lift for ``|t| <= 0.02``, and the drop at ``+-t_model`` against
    the quadratic model (averaging both signs cancels the cubic term)."""
    loss = check.lift.net.loss_fn(check.base.x, check.base.y)
    theta, v_min, lam = check.lift.theta, check.deep.v_min, check.deep.eigenvalues

    def drop(s: float) -> float:
        return float(loss(theta + s * v_min) - loss(theta))

    t = np.linspace(-0.02, 0.02, 41)
    t_model = 0.1 * np.sqrt(abs(lam[0]) / lam[-1])
    return LineSearch(t, np.array([drop(s) for s in t]), 0.5 * lam[0] * t**2, t_model,
                      (drop(t_model) + drop(-t_model)) / (lam[0] * t_model**2))


def constant_neuron_block_min(check: LiftCheck) -> float:
    """Smallest eigenvalue of the Hessian block of the first constant neuron (F4)."""
    hess = spectra.dense_hessian(check.lift.net.loss_fn(check.base.x, check.base.y),
                                 check.lift.theta)
    idx = check.lift.constant_neuron_indices(0)
    return float(torch.linalg.eigvalsh(hess[idx][:, idx])[0])


@dataclass(frozen=True)
class LiftsResult:
    """Part 1: every lift checked, the F4 certificate of base (b), the smallest eigenvalue of
    the certificate lift's constant-neuron block, and the line search of the generic lift."""

    checks: dict[str, LiftCheck]
    certificate: Certificate
    block_min: float
    line: LineSearch

    def spectra(self) -> dict[str, np.ndarray]:
        """Figure 2's Hessian spectra: the shallow minimum (a), its pure and generic lifts, and
        the 2-step lift of (b)."""
        return {"shallow min (a)": self.checks["(a) pure"].shallow.eigenvalues,
                **{name: self.checks[name].deep.eigenvalues
                   for name in ("(a) pure", "(a) generic", "(b) 2-step")}}

    def sizes(self) -> list[str]:
        """Figure 1's tick labels: per lift its name and ``P shallow→deep`` below it."""
        return [f"{name}\nP {check.base.net.n_params}→{check.lift.net.n_params}"
                for name, check in self.checks.items()]

    @property
    def output_changes(self) -> dict[str, float]:
        """``{lift: max_i |f_deep(x_i) - f_shallow(x_i)|}`` (F1)."""
        return {name: check.max_delta_f for name, check in self.checks.items()}

    @property
    def deep_gradients(self) -> dict[str, float]:
        """``{lift: ||grad R_deep||}`` (F2)."""
        return {name: check.deep.grad_norm for name, check in self.checks.items()}

    def report(self) -> str:
        """The printed summary: one row per lift, the line search and the certificate."""
        rows = [check.row(name) for name, check in self.checks.items()]
        lam_certificate = self.checks["(b) certificate"].deep.eigenvalues[0]
        rows.append(f"R(theta' +- t v_min) - R(theta') at t = {self.line.t_model:.2e}: "
                    f"{self.line.model_ratio:.4f} x 1/2 lambda_min t^2")
        rows.append(f"certificate: lambda_min(H) = {lam_certificate:.3e} <= block "
                    f"{self.block_min:.3e} <= bound {self.certificate.bound:.3e}  "
                    f"(eps* = {self.certificate.eps_star:.3f})")
        return "\n".join(rows)


def exact_lifts(cfg: Config) -> LiftsResult:
    """Part 1: the lifts of bases (a), (b), (c), each checked against its shallow point."""
    gen = torch.Generator().manual_seed(cfg.seed)  # one stream for the part: (a) draws first
    lifts = lifts_of_nonlinear_base(cfg, gen)
    linear, cert = lifts_of_linear_base(cfg, gen)
    checks = {name: check_lift(lift, base) for name, (lift, base) in {**lifts, **linear}.items()}
    return LiftsResult(checks, cert, constant_neuron_block_min(checks["(b) certificate"]),
                       line_search(checks["(a) generic"]))


def newton_distance(base: Problem) -> float:
    """``|H^-1 grad R| / |theta|`` at a shallow point: its distance to the exact critical point
    relative to its size, in the metric of the curvature (the Newton solver's stopping rule)."""
    loss_fn = base.net.loss_fn(base.x, base.y)
    step = torch.linalg.solve(spectra.dense_hessian(loss_fn, base.theta),
                              torch.func.grad(loss_fn)(base.theta))
    return float(step.norm() / base.theta.norm())


EVERY_DRAW = ("every seed (draw of the data, the teacher's noise and the lifts' random weights) "
              "with 0 < target_noise <= 0.05: F1-F4 hold at any critical point that does not "
              "interpolate and for any lift the operator builds; with more noise the minimum "
              "lies far from the teacher, where the Newton solve that finds it can fail")


def part1_in_scope(cfg: Config) -> bool:
    """Whether ``cfg`` lies in :data:`EVERY_DRAW`."""
    return 0 < cfg.target_noise <= 0.05


def exactness_checks(cfg: Config, part1: LiftsResult) -> list[Check]:
    """Part 1, first half: the shallow points are strict minima found to rounding (C1, C2), and
    every lift keeps the outputs and the criticality (A1: F1, F2)."""
    bases = {name: part1.checks[lift] for name, lift in (("(a)", "(a) generic"),
                                                         ("(b)", "(b) certificate"))}
    claim = dict(over="lifts", scope=EVERY_DRAW, in_scope=part1_in_scope(cfg))
    return [
        Check("C1", "shallow_points_critical", "|H_sh^-1 grad R_sh| / |theta_sh|", "<", 1e-10,
              {name: newton_distance(c.base) for name, c in bases.items()},
              kind="consistency", over="bases",
              why="the Newton solve stops at 1e-12 and (b) is a closed-form fit; every lift "
                  "inherits the shallow point's residual gradient"),
        Check("C2", "shallow_points_minima", "lambda_min(H_sh) / lambda_max(H_sh)", ">", 0.0,
              {name: c.shallow.eigenvalues[0] / c.shallow.eigenvalues[-1]
               for name, c in bases.items()},
              kind="consistency", over="bases",
              why="a saddle after lifting is only news if the shallow point is a strict minimum"),
        Check("A1", "lift_exact", "max_i |f_deep - f_shallow|", "<", 1e-12, part1.output_changes,
              why="outputs are O(1) and float64 rounds them at 1e-16; an inexact construction "
                  "(a signal neuron on ELU's curved part) shows at 1e-3", **claim),
        Check("A1", "lift_exact", "||grad R_deep||", "<", 1e-10, part1.deep_gradients,
              why="F2 makes the lift's gradient a combination of the shallow stationarity "
                  "equations, zero to rounding (1e-15) once C1 holds", **claim),
    ]


def saddle_checks(cfg: Config, part1: LiftsResult) -> list[Check]:
    """Part 1, second half (A2): a constant neuron on ELU's curved part makes a strict saddle,
    at least as negative as F4's bound; lifts of affine neurons only stay PSD (F3)."""
    claim = dict(scope=EVERY_DRAW, in_scope=part1_in_scope(cfg))
    return [
        Check("A2", "strict_saddle", "(a) generic: lambda_min(H_deep) / lambda_max(H_deep)", "<",
              -2e-6 * cfg.target_noise, {"": part1.checks["(a) generic"].curvature_ratio},
              why="the curved neuron's eigenvalue is eps sigma''(c0) mu to first order (F4), and "
                  "the residual moment mu grows with the teacher's noise", **claim),
        Check("A2", "strict_saddle", "(a) generic: mean of R(theta' +- t v_min) - R(theta') over "
              "1/2 lambda_min t^2, t = 0.1 sqrt(|lambda_min| / lambda_max)", ">=", 0.9,
              {"": part1.line.model_ratio},
              why="the loss really falls as lambda_min predicts: at that t the quartic term is "
                  "~1e-2 of the quadratic one, and the two signs cancel the cubic one", **claim),
        Check("A2", "strict_saddle", "(b) block eigenvalue / (F4 bound (1 - 1e-9))", ">=", 1.0,
              {"": part1.block_min / (part1.certificate.bound * (1 - 1e-9))},
              why="F4's inequality, with 1e-9 of relative slack for rounding", **claim),
        *(Check("A2", "strict_saddle", f"{name} (affine only, F3): lambda_min / lambda_max", ">=",
                -1e-9, {"": part1.checks[name].curvature_ratio},
                why="an affine-only lift reparameterises the shallow minimum, so its Hessian is "
                    "PSD: only rounding (1e-16) may make it negative", **claim)
          for name in ("(a) pure", "(c) ReLU")),
    ]


# --------------------------------------------------------------------------------------------
# Part 2: deep nets stall at a lifted point (float32), BN and its controls
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Task:
    """Part 2's 1-D regression task, its least-squares level and the level of f = 0."""

    x: torch.Tensor
    y: torch.Tensor
    l_lin: float
    l_0: float


def plateau_task(cfg: Config) -> Task:
    """``x`` on a uniform grid of ``n_train`` points in [-1, 1], ``y = 0.8 x + 0.6 x sin 3x``."""
    x = torch.linspace(-1, 1, cfg.n_train)[:, None]
    y = 0.8 * x + 0.6 * x * torch.sin(3 * x)
    return Task(x, y, plateaus.least_squares_fit(x, y).loss, float(0.5 * (y.double() ** 2).mean()))


def train_tanh(cfg: Config, task: Task, depth: int, seeds, norm: str = "none",
               init_scale: float | None = None, steps: int | None = None) -> list[TrainingLog]:
    """Full-batch Adam runs of a tanh net of width ``hidden_width`` on the Part 2 task, one per
    seed, trained together; by default at the small initialisation for ``steps`` steps."""
    return plateaus.train_from_scratch(
        task.x, task.y, depth, cfg.hidden_width, seeds, cfg.learning_rate,
        cfg.steps if steps is None else steps, cfg.log_every, norm=norm,
        init_scale=cfg.init_scale if init_scale is None else init_scale, device=cfg.device)


@dataclass(frozen=True)
class DynamicsResult:
    """Part 2: plain and BN runs by depth (one log per seed), the two controls (LayerNorm, and
    no normalisation at the standard initialisation) and a summary of every run."""

    seeds: tuple[int, ...]
    plain: dict[int, list[TrainingLog]]
    bn: dict[int, list[TrainingLog]]
    controls: dict[str, list[TrainingLog]]
    summaries: dict[tuple[str, int], list[PlateauSummary]]  # ("plain" | "BN", depth)
    control_t_half: dict[str, list[float]]

    @property
    def steps(self) -> np.ndarray:
        """The logged steps of the plain and BN runs."""
        return next(iter(self.plain.values()))[0].steps

    @property
    def control_steps(self) -> np.ndarray:
        """The logged steps of the (shorter) control runs."""
        return self.controls["ln"][0].steps

    def over_depths(self, label: str, field: str, reduce) -> dict[int, float]:
        """``{seed: reduce over the depths trained as label of one PlateauSummary field}``."""
        by_depth = [rows for (name, _), rows in self.summaries.items() if name == label]
        return {seed: reduce(getattr(rows[i], field) for rows in by_depth)
                for i, seed in enumerate(self.seeds)}

    def t_half_ratio(self) -> dict[int, float]:
        """``{seed: max over the BN depths of t_half(BN) / t_half(plain)}``, a plain run that
        never reaches ``L_lin / 2`` counted at the last step (so the ratio is an upper bound)."""
        last = self.steps[-1]
        return {seed: max(self.summaries[("BN", depth)][i].t_half
                          / min(self.summaries[("plain", depth)][i].t_half, last)
                          for depth in self.bn)
                for i, seed in enumerate(self.seeds)}

    def median_t_half(self, label: str, depth: int) -> float:
        """Median over seeds of t_half of the ``label`` ("plain" or "BN") runs of ``depth``."""
        return float(np.median([row.t_half for row in self.summaries[(label, depth)]]))

    def report(self) -> str:
        """One printed row per run, then t_half per seed of every setting."""
        rows = [f"{label:5s} L={depth} seed {seed}: {row.row()}"
                for (label, depth), summaries in self.summaries.items()
                for seed, row in zip(self.seeds, summaries)]
        t_half = {f"{label} L={depth}": [row.t_half for row in summaries]
                  for (label, depth), summaries in self.summaries.items()}
        return "\n".join(rows + [f"t_half per seed: {t_half} {self.control_t_half}"])


def train_dynamics(cfg: Config, task: Task) -> DynamicsResult:
    """Part 2 and its BN section: every depth plain, the BN depths with BatchNorm, and the
    controls at ``control_depth``, each over ``n_seeds`` seeds."""
    seeds = cfg.seeds
    plain = {depth: train_tanh(cfg, task, depth, seeds) for depth in cfg.depths}
    bn = {depth: train_tanh(cfg, task, depth, seeds, "bn") for depth in cfg.bn_depths}
    controls = {
        "ln": train_tanh(cfg, task, cfg.control_depth, seeds, "ln", steps=cfg.control_steps),
        "standard_init": train_tanh(cfg, task, cfg.control_depth, seeds,
                                    init_scale=cfg.standard_init_scale, steps=cfg.control_steps)}
    summaries = {(label, depth): [plateaus.summarise(log, task.l_lin) for log in logs]
                 for label, runs in (("plain", plain), ("BN", bn))
                 for depth, logs in runs.items()}
    control_t_half = {name: [plateaus.t_half(log, task.l_lin) for log in logs]
                      for name, logs in controls.items()}
    return DynamicsResult(seeds, plain, bn, controls, summaries, control_t_half)


SMALL_INIT_SCOPE = (f"small initialisation, init_scale <= {SMALL_INIT:g}: the net starts so "
                    "close to linear that it first fits the least-squares line, every seed")


def plateau_checks(cfg: Config, dynamics: DynamicsResult) -> list[Check]:
    """Part 2 (A3): every plain depth stalls on the lifted least-squares point: long near
    ``L_lin``, every layer linear there, and the function the least-squares line."""
    claim = dict(scope=SMALL_INIT_SCOPE, in_scope=cfg.init_scale <= SMALL_INIT)
    return [
        Check("A3", "plateau_universal", "min over depths of plateau steps (plain)", ">=", 300,
              dynamics.over_depths("plain", "plateau_steps", min),
              why="a stall: ten times the steps a run passing through L_lin spends within 5% "
                  "of it (BN: at most 20)", **claim),
        Check("A3", "plateau_universal", "max over depths of median_plateau max-layer N", "<",
              2e-3, dynamics.over_depths("plain", "n_on_plateau", max),
              why="N is ~1e-4 at a lifted point and never below 6e-3 under BN, where no layer "
                  "is linear: 2e-3 separates the two", **claim),
        Check("A3", "plateau_universal", "max over depths of median_plateau d_lin", "<", 0.1,
              dynamics.over_depths("plain", "d_lin_on_plateau", max),
              why="within 10% of f_LS: the plateau is the lifted least-squares point, not just "
                  "any function with the same loss", **claim),
    ]


def batchnorm_checks(cfg: Config, dynamics: DynamicsResult) -> list[Check]:
    """Part 2's BN section (A4): BN leaves ``L_lin`` at least four times sooner than the plain
    net of the same depth and seed, hardly stops there, and never has a linear layer."""
    claim = dict(scope=SMALL_INIT_SCOPE + " (BN removes a plateau that the plain net has)",
                 in_scope=cfg.init_scale <= SMALL_INIT)
    return [
        Check("A4", "bn_removes_plateau", "max over depths of t_half(BN) / t_half(plain)", "<=",
              0.25, dynamics.t_half_ratio(),
              why="removed, not shortened: BN is past L_lin / 2 before the plain net, four "
                  "times slower, has even settled on its plateau", **claim),
        Check("A4", "bn_removes_plateau", "max over depths of BN plateau steps", "<=", 100,
              dynamics.over_depths("BN", "plateau_steps", max),
              why="a third of A3's least plateau: BN passes L_lin without stalling", **claim),
        Check("A4", "bn_removes_plateau", "min over depths, time and layers of N under BN", ">",
              2e-3, dynamics.over_depths("BN", "n_min", min),
              why="A3's bound for a linear layer: under BN no layer is ever linear", **claim),
    ]


# --------------------------------------------------------------------------------------------
# Part 3: more data, smaller lifted manifold (float64)
# --------------------------------------------------------------------------------------------
SAMPLE_POOL = 32  # Part 3's fit uses the first n of these samples
INNER_WIDTHS = (3, 12, 2)  # the random-feature net lifted after its hidden layer
INNER_SAMPLES = (1, 3, 5, 8, 11)  # n <= 12: the net interpolates, so it is a critical point


@dataclass(frozen=True)
class DimensionResult:
    """Dimension of the lifted set against the number of samples n: measured as
    ``P - rank J`` (:func:`lifting.fibre_dimension`), predicted by F5, and (where computed)
    the nullity of the Hessian at the lift."""

    n: np.ndarray
    dimension: np.ndarray
    formula: np.ndarray
    hessian_nullity: np.ndarray | None = None

    def arrays(self) -> dict[str, np.ndarray]:
        """Every measured array by name (figure 5's data)."""
        return {name: values for name, values in vars(self).items() if values is not None}

    def report(self) -> str:
        """The printed table: one row per quantity, one column per n."""
        return "\n".join(f"{name:15s} {values}" for name, values in self.arrays().items())


def lifted_dimensions(cfg: Config) -> DimensionResult:
    """Part 3: the least-squares fit of a linear ``[d, k]`` net on the first n samples, lifted
    at q = 0 through a Gaussian ``(d + 2) x d`` signal matrix. That lift changes every
    parameter, so F5's ``P_block`` is the whole P."""
    d, k = cfg.input_dim, cfg.n_outputs
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    x_all = torch.randn(SAMPLE_POOL, d, generator=gen, dtype=F64)
    y_all = torch.randn(SAMPLE_POOL, k, generator=gen, dtype=F64)
    signal = torch.randn(d + 2, d, generator=gen, dtype=F64)
    dims, formula, nullity = [], [], []
    for n in cfg.sample_grid:
        x, y = x_all[:n], y_all[:n]
        lift = lifting.critical_lift(MLP((d, k), "elu"), lifting.least_squares_linear(x, y), x,
                                     0, signal)
        dims.append(lifting.fibre_dimension(lift.net, lift.theta, x))
        formula.append(lifting.f5_dimension(lift.net.n_params, k, x))
        lam = torch.linalg.eigvalsh(spectra.dense_hessian(lift.net.loss_fn(x, y), lift.theta))
        nullity.append(spectra.inertia(lam.numpy(), rtol=1e-10)[1])
    return DimensionResult(np.array(cfg.sample_grid), np.array(dims), np.array(formula),
                           np.array(nullity))


def inner_lifted_dimensions(cfg: Config) -> DimensionResult:
    """Part 3, F5 inside a nonlinear net: an ELU random-feature net (random first layer, output
    layer fitted exactly) lifted after its hidden layer through a Gaussian
    ``(m_q + 2) x m_q`` signal matrix; the free parameters are the new block only."""
    d, m, k = INNER_WIDTHS
    gen = torch.Generator().manual_seed(cfg.seed + 2)
    w_features = torch.randn(m, d, generator=gen, dtype=F64)
    b_features = torch.randn(m, generator=gen, dtype=F64)
    x_all = torch.randn(max(INNER_SAMPLES), d, generator=gen, dtype=F64)
    y_all = torch.randn(len(x_all), k, generator=gen, dtype=F64)
    signal = torch.randn(m + 2, m, generator=gen, dtype=F64)
    dims, formula = [], []
    for n in INNER_SAMPLES:
        x, y = x_all[:n], y_all[:n]
        h = torch.nn.functional.elu(x @ w_features.T + b_features)
        readout = MLP((m, k)).unpack(lifting.least_squares_linear(h, y))
        theta = MLP.pack([(w_features, b_features)] + readout)
        lift = lifting.critical_lift(MLP(INNER_WIDTHS, "elu"), theta, x, 1, signal)
        block = lift.block_indices()
        dims.append(lifting.fibre_dimension(lift.net, lift.theta, x, params=block))
        formula.append(lifting.f5_dimension(len(block), k, h))
    return DimensionResult(np.array(INNER_SAMPLES), np.array(dims), np.array(formula))


def dimension_checks(dims: DimensionResult, inner: DimensionResult) -> list[Check]:
    """Part 3 (A5): the lifted set's dimension is F5's at every n, for the lift of a linear fit
    and for a lift inside a nonlinear net (F5 falls by k per sample up to n = m_q + 1)."""
    claim = dict(scope="every seed and sample count: F5 is exact", in_scope=True,
                 why="dimensions are integers: F5 holds exactly or not at all")
    return [Check("A5", "data_shrinks_manifold", "max_n |dim(n) - F5 formula|", "<=", 0,
                  {"": np.abs(dims.dimension - dims.formula).max()}, **claim),
            Check("A5", "data_shrinks_manifold", "inner lift of [3,12,2] at q=1: max_n |dim - F5|",
                  "<=", 0, {"": np.abs(inner.dimension - inner.formula).max()}, **claim)]


# --------------------------------------------------------------------------------------------
# Application: folding linearised layers away (paper v4)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fold:
    """Part 2's depth-``control_depth`` net (first seed) after some steps, folded two ways."""

    layers_left: int  # hidden layers left after folding those with N < prune_threshold
    risk: float
    risk_folded: float  # R after folding the layers with N < prune_threshold
    risk_all_folded: float  # R after folding every hidden layer

    def row(self) -> str:
        """One printed line: layers left and the three losses."""
        return (f"hidden layers left {self.layers_left}, R {self.risk:.4g}, R after folding "
                f"N < threshold {self.risk_folded:.4g}, R after folding every layer "
                f"{self.risk_all_folded:.4g}")


def fold_after(cfg: Config, task: Task, steps: int) -> Fold:
    """Train for ``steps``, then fold the linearised layers (and, apart, every layer)."""
    nets = plateaus.SeedStack([plateaus.build(1, cfg.hidden_width, cfg.control_depth, 1,
                                              cfg.seed, init_scale=cfg.init_scale)], cfg.device)
    plateaus.train(nets, task.x, task.y, cfg.learning_rate, steps, log_every=steps)
    model = nets.model(0)
    pruned = pruning.prune_linearised(model, task.x, cfg.prune_threshold)
    every_layer_folded = pruning.prune_linearised(model, task.x, threshold=float("inf"))
    with torch.no_grad():
        return Fold(len(pruned.norms), *(float(lifting.risk(net(task.x)[0], task.y))
                                         for net in (model, pruned, every_layer_folded)))


@dataclass(frozen=True)
class FoldingResult:
    """The fold on the plateau (after ``prune_step`` steps) and at the end of training."""

    plateau: Fold
    end: Fold

    def report(self) -> str:
        """The two folds, one line each."""
        return f"plateau  {self.plateau.row()}\nend      {self.end.row()}"


def fold_linearised_layers(cfg: Config, task: Task) -> FoldingResult:
    """The application: fold on the plateau and at the end of training."""
    return FoldingResult(fold_after(cfg, task, cfg.prune_step), fold_after(cfg, task, cfg.steps))


def fold_checks(cfg: Config, task: Task, plateau: Fold) -> list[Check]:
    """The application (A6): on the plateau every layer of the net is linear enough to fold,
    and the folded affine map is the least-squares line."""
    claim = dict(scope=SMALL_INIT_SCOPE + ", folded at prune_step, on the plateau",
                 in_scope=cfg.init_scale <= SMALL_INIT)
    return [
        Check("A6", "linearised_layers_fold", f"plateau (step {cfg.prune_step}): hidden layers "
              f"left after folding those with N < {cfg.prune_threshold:g}", "<=", 0,
              {cfg.seed: plateau.layers_left},
              why="on the lifted point every layer is linear (A3), so the rule folds them all",
              **claim),
        Check("A6", "linearised_layers_fold", "plateau: |R(folded) - L_lin| / L_lin", "<", 0.05,
              {cfg.seed: abs(plateau.risk_folded - task.l_lin) / task.l_lin},
              why="A3's plateau tolerance: an affine map has R >= L_lin, with equality only at "
                  "the least-squares line", **claim),
    ]


# --------------------------------------------------------------------------------------------
# Extension: sign-type linearization in ReLU nets
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReluResult:
    """ReLU runs with hidden biases ``relu_bias_init``: one log per seed for each norm."""

    seeds: tuple[int, ...]
    logs: dict[str, list[TrainingLog]]  # "none" | "bn" | "ln"
    l_lin: float

    def arrays(self) -> dict[str, np.ndarray]:
        """Figure 6's data: the logged steps, and per norm the linearised fraction and the loss
        (one row per seed)."""
        data = {"steps": self.logs["none"][0].steps}
        for norm, logs in self.logs.items():
            data[f"linearised_{norm}"] = np.array([log.linearised for log in logs])
            data[f"loss_{norm}"] = np.array([log.loss for log in logs])
        return data

    def linearised_at_init(self, norm: str) -> dict[int, float]:
        """``{seed: fraction of single-signed neurons at initialisation}``."""
        return {seed: log.linearised[0] for seed, log in zip(self.seeds, self.logs[norm])}

    def report(self) -> str:
        """Per norm, one value per seed: linearised fractions at init and end, t_half and the
        final loss."""
        data = self.arrays()
        return "\n".join(
            f"{norm:4s}: linearised at init {data[f'linearised_{norm}'][:, 0]}, at end "
            f"{data[f'linearised_{norm}'][:, -1]}, t_half "
            f"{[plateaus.t_half(log, self.l_lin) for log in logs]}, final loss "
            f"{data[f'loss_{norm}'][:, -1]}" for norm, logs in self.logs.items())


def relu_extension(cfg: Config, task: Task) -> ReluResult:
    """The ReLU extension: depth ``control_depth``, standard init, without norm, BN and LN."""
    seeds = tuple(range(cfg.seed, cfg.seed + cfg.relu_n_seeds))
    logs = {norm: plateaus.train_from_scratch(
        task.x, task.y, cfg.control_depth, cfg.hidden_width, seeds, cfg.learning_rate,
        cfg.relu_steps, cfg.log_every, norm=norm, activation="relu",
        init_scale=cfg.relu_init_scale, hidden_bias=cfg.relu_bias_init, device=cfg.device)
        for norm in ("none", "bn", "ln")}
    return ReluResult(seeds, logs, task.l_lin)


# --------------------------------------------------------------------------------------------
# Exploratory: does more data shorten the plateau?
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MoreDataResult:
    """Per sample count n: the least-squares level and t_half of each seed (capped at
    ``data_steps`` for a run that never reaches ``L_lin / 2``)."""

    levels: dict[int, float]
    t_half: dict[int, list[float]]

    def median_t_half(self, n: int) -> float:
        """Median over seeds of t_half with n samples."""
        return float(np.median(self.t_half[n]))

    def report(self) -> str:
        """One printed line per sample count: its L_lin and t_half per seed."""
        return "\n".join(f"n = {n:4d}: L_lin = {self.levels[n]:.3e}, t_half per seed "
                         f"{self.t_half[n]}" for n in self.levels)


def more_data(cfg: Config) -> MoreDataResult:
    """Part 2's task along one direction of a ``data_input_dim``-cube, x ~ U[-1, 1]^d,
    ``u = x . 1 / sqrt(d)``, ``y = 0.8 u + 0.6 u sin 3u``; the first n samples of one pool."""
    gen = torch.Generator().manual_seed(cfg.seed + 3)
    d = cfg.data_input_dim
    x_pool = torch.rand(max(cfg.data_sizes), d, generator=gen) * 2 - 1
    u_pool = x_pool @ torch.full((d,), d**-0.5)
    y_pool = (0.8 * u_pool + 0.6 * u_pool * torch.sin(3 * u_pool))[:, None]
    levels, t_half = {}, {}
    for n in cfg.data_sizes:
        x, y = x_pool[:n], y_pool[:n]
        levels[n] = plateaus.least_squares_fit(x, y).loss
        t_half[n] = [min(plateaus.t_half(log, levels[n]), cfg.data_steps)
                     for log in plateaus.train_from_scratch(
                         x, y, cfg.control_depth, cfg.hidden_width,
                         range(cfg.seed, cfg.seed + cfg.data_n_seeds), cfg.learning_rate,
                         cfg.data_steps, cfg.log_every, init_scale=cfg.init_scale,
                         device=cfg.device)]
    return MoreDataResult(levels, t_half)


# --------------------------------------------------------------------------------------------
# The robustness sweep: the claims at one configuration, and the explorable figure
# --------------------------------------------------------------------------------------------
def checks(cfg: Config) -> list[Check]:
    """Every claim and consistency check of the chapter at ``cfg``, in the order shown (what
    ``python -m companion sweep`` evaluates at each grid point); the controls, the ReLU extension
    and the more-data runs are shown, not checked, and are not run beyond what ``cfg`` asks."""
    part1, task = exact_lifts(cfg), plateau_task(cfg)
    dynamics = train_dynamics(cfg, task)
    return [*exactness_checks(cfg, part1), *saddle_checks(cfg, part1),
            *plateau_checks(cfg, dynamics), *batchnorm_checks(cfg, dynamics),
            *dimension_checks(lifted_dimensions(cfg), inner_lifted_dimensions(cfg)),
            *fold_checks(cfg, task, fold_after(cfg, task, cfg.prune_step))]


def explore_frame(cfg: Config) -> dict[str, np.ndarray]:
    """The explorable figure at ``cfg``: loss and max-layer N of the first seed's plain and BN
    runs (Part 2), and the plateau level ``L_lin``."""
    task = plateau_task(cfg)
    runs = {**{f"plain L={depth}": train_tanh(cfg, task, depth, [cfg.seed])[0]
               for depth in cfg.depths},
            **{f"BN L={depth}": train_tanh(cfg, task, depth, [cfg.seed], "bn")[0]
               for depth in cfg.bn_depths}}
    frame = {"steps": next(iter(runs.values())).steps, "l_lin": np.array([task.l_lin])}
    for label, log in runs.items():
        frame[f"loss {label}"], frame[f"N {label}"] = log.loss, log.n_max
    return frame


def draw_frame(fig, frame: dict[str, np.ndarray], params: dict) -> None:
    """Draw :func:`explore_frame`'s arrays on an empty figure: loss (left) and max-layer N
    (right) against the step; plain runs solid, BN dashed."""
    ax_loss, ax_n = fig.subplots(1, 2)
    labels = [key.removeprefix("loss ") for key in frame if key.startswith("loss ")]
    for i, label in enumerate(labels):
        style = dict(color=f"C{i}", ls="--" if label.startswith("BN") else "-", label=label)
        ax_loss.plot(frame["steps"], frame[f"loss {label}"], **style)
        ax_n.plot(frame["steps"], frame[f"N {label}"], **style)
    ax_loss.axhline(frame["l_lin"][0], color="0.5", ls=":", lw=1)
    ax_loss.set(yscale="log", xlabel="step", ylabel="loss R (dotted: L_lin)")
    ax_n.set(yscale="log", xlabel="step", ylabel="max over layers of N")
    ax_loss.legend(fontsize=7)
    fig.suptitle(", ".join(f"{name} = {value:g}" for name, value in params.items()))
