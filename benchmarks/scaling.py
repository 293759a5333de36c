"""Scaling: how each chapter's main step grows with its main size, against its operation count.

    .venv/bin/python benchmarks/scaling.py [--repeat 3]

For each chapter, the CPU time of its dominant step at four or five sizes (best of
``--repeat``), the exponent of a least-squares fit of log time on log size, and the exponent the
operation count predicts for large sizes (fixed per-step costs flatten the small sizes). Also
the two curvature routes of :func:`companion.spectra.top_eigenpairs` on the Adam chapter's net,
to place the size where Lanczos overtakes the dense eigendecomposition, and a width-400
curvature series. Written to the ``scaling`` section of ``benchmarks/results.md``.
"""

from __future__ import annotations

import argparse

import companion  # noqa: F401  (first: it pins the BLAS threads before numpy loads)
import numpy as np
import torch
from report import best_cpu as cpu, measured_on, write_section

from companion import spectra
from companion.adam_spikes import adam, spikes
from companion.connectivity import dynamics
from companion.embedding_depth import plateaus
from companion.incremental_rank import asymmetric, sensing


def adam_run(width: int, steps: int) -> adam.AdamTrajectory:
    net = spikes.TanhNet.sine_task(40, width)
    return adam.run_adam(net.grad_and_loss, net.init(0)[None], steps, 0.02,
                         [adam.AdamOptions((0.9, 0.999), 1e-8)])[0]


def top_pair_routes(net: spikes.TanhNet, thetas, repeat: int) -> tuple[float, float]:
    """CPU time per Hessian of its top eigenpair by the dense route and by Lanczos (both from
    the closed-form products of :meth:`spikes.TanhNet.hessian_terms`)."""
    terms, dim = net.hessian_terms(thetas), thetas.shape[1]

    def route(limit: int):
        def solve():
            saved, spectra.DENSE_MAX_DIM = spectra.DENSE_MAX_DIM, limit
            try:
                spectra.top_eigenpairs(terms.matvec, dim, len(thetas))
            finally:
                spectra.DENSE_MAX_DIM = saved
        return solve

    return cpu(route(dim), repeat) / len(thetas), cpu(route(0), repeat) / len(thetas)


def adam_rows(repeat: int) -> dict:
    """Per step: Adam on one run, the curvature series (closed-form HVPs, Lanczos), and the
    top eigenpair of 64 Hessians along the run by the dense route and by Lanczos."""
    rows = {}
    for width in (25, 50, 100, 200, 400):
        net, run = spikes.TanhNet.sine_task(40, width), adam_run(width, 200)
        rows[width] = (cpu(lambda: adam_run(width, 100), repeat) / 100,
                       cpu(lambda: spikes.curvature_series(net, run, range(100, 200), 0.9, 0.999),
                           repeat) / 100,
                       *top_pair_routes(net, run.theta[-64:], repeat))
    return rows


def crossover_rows(repeat: int) -> dict:
    """The two routes at small sizes, P from 13 to 100 parameters (128 Hessians each)."""
    rows = {}
    for width in (4, 8, 10, 13, 20, 33):
        net = spikes.TanhNet.sine_task(40, width)
        rows[3 * width + 1] = top_pair_routes(
            net, np.stack([net.init(seed).numpy() for seed in range(128)]), repeat)
    return rows


def sensing_rows(repeat: int) -> dict:
    """Per step at k = d: symmetric GD (recording path and spectrum) and asymmetric GD."""
    rows = {}
    for dim in (10, 20, 30, 40):
        problem = sensing.make_problem(dim, (1.0, 0.5, 0.25), 2000, 0)
        gram = asymmetric.measurement_gram(dim, 2000, 0)
        u0 = sensing.initial_factor(dim, dim, 0.3, 0)
        f0, g0 = asymmetric.initial_factors(dim, dim, 0.3, 0)
        rows[dim] = (cpu(lambda: sensing.gradient_descent(problem, u0, 0.1, 300), repeat) / 300,
                     cpu(lambda: asymmetric.relative_errors(gram, problem.x_star, f0, g0, 0.1,
                                                            300), repeat) / 300)
    return rows


def training_rows(repeat: int) -> dict:
    """Per step of 10 seeds of a depth-3 tanh net on 200 points, plain and BatchNorm."""
    x = torch.linspace(-1, 1, 200)[:, None]
    y = 0.8 * x + 0.6 * x * torch.sin(3 * x)
    return {width: tuple(cpu(lambda: plateaus.train_from_scratch(
        x, y, 3, width, range(10), 1e-3, 50, 25, norm=norm), repeat) / 50
        for norm in ("none", "bn")) for width in (25, 50, 100, 200)}


def completion_rows(repeat: int) -> dict:
    """Per step of batched GD on 4 x 4 completions, by the number of runs."""
    rng = np.random.default_rng(0)
    rows = {}
    for runs in (100, 400, 1600, 6400):
        target, a, b = rng.standard_normal((3, runs, 4, 4))
        mask = rng.random((runs, 4, 4)) < 0.6
        rows[runs] = (cpu(lambda: dynamics.descend(target, mask, 1e-4 * a, 1e-4 * b, 0.05, 200),
                          repeat) / 200,)
    return rows


def exponent(sizes, times) -> float:
    return float(np.polyfit(np.log(sizes), np.log(times), 1)[0])


def table(title: str, size_name: str, rows: dict, columns: list[tuple[str, int, str]],
          scale: float = 1e3, unit: str = "ms") -> list[str]:
    """A Markdown table: one row per size, then the fitted and predicted exponents."""
    head = f"| {size_name} | " + " | ".join(f"{name} ({unit})" for name, _, _ in columns) + " |"
    lines = [f"**{title}**", "", head, "|---" * (len(columns) + 1) + "|"]
    lines += [f"| {size} | " + " | ".join(f"{values[i] * scale:.3g}" for _, i, _ in columns)
              + " |" for size, values in rows.items()]
    sizes = list(rows)
    lines.append("| fitted exponent | " + " | ".join(
        f"{exponent(sizes, [rows[s][i] for s in sizes]):.2f}" for _, i, _ in columns) + " |")
    lines.append("| operation count | " + " | ".join(p for _, _, p in columns) + " |")
    return lines + [""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    adam_table = adam_rows(args.repeat)
    series_net, series_run = spikes.TanhNet.sine_task(40, 400), adam_run(400, 2000)
    series_s = cpu(lambda: spikes.curvature_series(series_net, series_run, range(2000), 0.9,
                                                   0.999), 1)
    crossover = crossover_rows(args.repeat)
    crossing = next((p for p, (dense, lanczos) in crossover.items() if lanczos < dense), None)
    lines = [measured_on(f"CPU time per step, best of {args.repeat}."), "",
             *table("adam_spikes: the tanh net, by width m (P = 3m + 1 parameters)", "m",
                    adam_table, [("Adam step, one run", 0, "1 (n m)"),
                                 ("curvature series", 1, "1 (Lanczos: a dozen n m products)"),
                                 ("top pair, dense route", 2, "3 (P^3 eigh)"),
                                 ("top pair, Lanczos", 3, "1 (n m per product)")]),
             *table("the top eigenpair of one Hessian, by the number of parameters P", "P",
                    crossover, [("dense route", 0, "3"), ("Lanczos", 1, "1")], 1e6, "us"),
             f"Lanczos is faster from P = {crossing} on (`spectra.DENSE_MAX_DIM` = "
             f"{spectra.DENSE_MAX_DIM}: the dense route up to there). A curvature series at "
             f"width 400 (1201 parameters) at every one of 2000 steps: {series_s:.1f} s "
             f"({1e3 * series_s / 2000:.2f} ms a step; double autodiff and a dense eigh take "
             f"about 1.3 s a step).", "",
             *table("incremental_rank: one GD step at k = d, m = 2000, by dimension d", "d",
                    sensing_rows(args.repeat),
                    [("symmetric, recorded", 0, "4 (K: p^2, p = d(d+1)/2) + 3 (eigh)"),
                     ("asymmetric", 1, "4 (K: d^4)")]),
             *table("embedding_depth: one step of 10 seeds, depth 3, 200 points, by width",
                    "width", training_rows(args.repeat),
                    [("plain", 0, "2 (n width^2 products)"), ("BatchNorm", 1, "2")]),
             *table("connectivity: one batched GD step of 4 x 4 completions, by number of runs",
                    "runs", completion_rows(args.repeat), [("step", 0, "1")], 1e6, "us")]
    write_section("scaling.py", "Scaling with each chapter's main size", lines)


if __name__ == "__main__":
    main()
