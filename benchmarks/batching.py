"""Batching, measured: where many small runs advance together, against the same runs one at a
time, with the same code (a batch of one is a loop).

    .venv/bin/python benchmarks/batching.py [--repeat 3]

* adam_spikes, Part C: 21 Adam runs (3 seeds x 7 variants), 3000 steps;
* embedding_depth, Part 2: the seeds of one setting (depth 3, BatchNorm), quick and paper size;
* incremental_rank: GD runs sharing one Gram matrix K, its product with R vectors as R BLAS
  symv calls (what the chapter does) or one R-column product (what batching them would do);
* connectivity: 4 x 4 completions, all runs in one batch against one at a time.

CPU time, best of ``--repeat``; written to the ``batching.py`` section of
``benchmarks/results.md``.
"""

from __future__ import annotations

import argparse

import companion  # noqa: F401  (first: it pins the BLAS threads before numpy loads)
import numpy as np
import torch
from report import best_cpu as cpu, measured_on, write_section

from companion.adam_spikes import adam, config as adam_config, experiment as adam_experiment
from companion.adam_spikes import spikes
from companion.connectivity import dynamics
from companion.embedding_depth import plateaus
from companion.incremental_rank import sensing


def adam_ablation(repeat: int) -> tuple[float, float]:
    cfg = adam_config.QUICK
    net = spikes.TanhNet.sine_task(cfg.n_points, cfg.width)
    variants, counted = adam_experiment.mitigation_variants(cfg)
    options = [o for _ in cfg.seeds for o in {**variants, **counted}.values()]
    starts = torch.stack([net.init(seed) for seed in cfg.seeds for _ in range(7)])

    def batched():
        adam.run_adam(net.grad_and_loss, starts, 3000, cfg.learning_rate, options, False)

    def loop():
        for start, option in zip(starts, options):
            adam.run_adam(net.grad_and_loss, start[None], 3000, cfg.learning_rate, [option],
                          False)

    return cpu(batched, repeat), cpu(loop, repeat)


def seeds_of_a_setting(repeat: int, points: int, width: int, seeds: int, steps: int):
    x = torch.linspace(-1, 1, points)[:, None]
    y = 0.8 * x + 0.6 * x * torch.sin(3 * x)

    def train(group):
        plateaus.train_from_scratch(x, y, 3, width, group, 1e-3, steps, 10, norm="bn")

    return (cpu(lambda: train(range(seeds)), repeat),
            cpu(lambda: [train([seed]) for seed in range(seeds)], repeat))


def shared_gram(repeat: int, dim: int, runs: int) -> tuple[float, float]:
    problem = sensing.make_problem(dim, (1.0, 0.5, 0.25), 2000, 0)
    vectors = np.random.default_rng(0).standard_normal((runs, problem.gram.shape[0]))
    many = 200
    return (cpu(lambda: [vectors @ problem.gram for _ in range(many)], repeat) / many,
            cpu(lambda: [[sensing.symmetric_product(problem.gram, v) for v in vectors]
                         for _ in range(many)], repeat) / many)


def completions(repeat: int, runs: int) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    target, a, b = rng.standard_normal((3, runs, 4, 4))
    mask = rng.random((runs, 4, 4)) < 0.6

    def descend(sl):
        dynamics.descend(target[sl], mask[sl], 1e-4 * a[sl], 1e-4 * b[sl], 0.05, 500)

    return (cpu(lambda: descend(slice(None)), repeat),
            cpu(lambda: [descend(slice(i, i + 1)) for i in range(runs)], repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = [("adam_spikes Part C: 21 runs of 3000 steps", adam_ablation(args.repeat), "batched"),
            ("embedding_depth: 2 seeds, depth 3, BatchNorm, 64 points, width 20, 1000 steps",
             seeds_of_a_setting(args.repeat, 64, 20, 2, 1000), "batched"),
            ("embedding_depth: 10 seeds, depth 3, BatchNorm, 200 points, width 100, 100 steps",
             seeds_of_a_setting(args.repeat, 200, 100, 10, 100), "batched"),
            *((f"incremental_rank: K v for {runs} runs sharing K, d = {dim} (per step)",
               shared_gram(args.repeat, dim, runs), "loop: one symv per run")
              for dim in (20, 40) for runs in (2, 7)),
            ("connectivity: 400 completions, 500 steps", completions(args.repeat, 400),
             "batched")]
    lines = [measured_on(f"CPU seconds, best of {args.repeat}."), "",
             "| runs | together (s) | one at a time (s) | ratio | the chapter does |",
             "|---|---|---|---|---|"]
    lines += [f"| {name} | {together:.3g} | {alone:.3g} | {alone / together:.2f} | {choice} |"
              for name, (together, alone), choice in rows]
    write_section("batching.py", "Batching where it wins", lines)


if __name__ == "__main__":
    main()
