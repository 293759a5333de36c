"""Before and after: the workloads this branch made faster, timed under an older commit's
library and under the current one, interleaved.

    .venv/bin/python benchmarks/speedups.py [--base COMMIT] [--repeat 3]

The base library is extracted with ``git archive`` into a scratch folder and put first on
``PYTHONPATH``; every timing is a fresh process that imports its library, sets up, then
measures the CPU time of the workload alone (imports and set-up excluded). The median over the
repeats, base and current alternating, is written to the ``speedups`` section of
``benchmarks/results.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from report import measured_on, write_section

ROOT = Path(__file__).resolve().parents[1]
BASE = "a72aca9"  # main before this branch

TRAJECTORY = """
import numpy as np, torch
from companion.adam_spikes import adam, spikes
data = np.load(TRAJECTORY_FILE)
run = adam.AdamTrajectory(*(data[k] for k in ("loss", "theta", "grad", "v_hat", "precond")))
net = spikes.TanhNet.sine_task(40, int(data["width"]))
"""
TANH_TASK = """
import torch
from companion.embedding_depth import plateaus
x = torch.linspace(-1, 1, 200)[:, None]
y = 0.8 * x + 0.6 * x * torch.sin(3 * x)
"""
# name: (per, set-up, base workload, current workload); "per" divides the time (a unit)
WORKLOADS = {
    "Adam: curvature series at width 50 (quick), per step (ms)": (
        100 / 1000, TRAJECTORY.replace("TRAJECTORY_FILE", "W50"),
        "spikes.curvature_series(net, run, range(19, 2000, 20), 0.9, 0.999)", None),
    "Adam: curvature series at width 400, per step (ms)": (
        (2 / 1000, 100 / 1000), TRAJECTORY.replace("TRAJECTORY_FILE", "W400"),
        "spikes.curvature_series(net, run, [999, 1999], 0.9, 0.999)",
        "spikes.curvature_series(net, run, range(19, 2000, 20), 0.9, 0.999)"),
    "Adam: Part B, train and curvature (quick)": (
        1, "from companion.adam_spikes import config, experiment",
        "experiment.network(config.QUICK)", None),
    "Adam: Part C, 21 ablation runs (quick)": (
        1, "from companion.adam_spikes import config, experiment",
        "experiment.mitigations(config.QUICK)", None),
    "incremental rank: rate runs at d = 40, one seed": (
        1, "import dataclasses\nfrom companion.incremental_rank import config, experiment\n"
           "cfg = dataclasses.replace(config.QUICK, dim=40, width=40, n_seeds=1)",
        "experiment.convergence_rates(cfg)", None),
    "incremental rank: GD and GLRL runs at d = 40, one seed": (
        1, "import dataclasses\nfrom companion.incremental_rank import config, experiment\n"
           "cfg = dataclasses.replace(config.QUICK, dim=40, width=40, n_seeds=1)",
        "experiment.run_seed(cfg, 0)", None),
    "incremental rank: every run of quick mode": (
        1, "from companion.incremental_rank import config, experiment\ncfg = config.QUICK",
        "experiment.run_seeds(cfg); experiment.convergence_rates(cfg)", None),
    "embedding: Part 2 training (quick)": (
        1, "from companion.embedding_depth import config, experiment\ncfg = config.QUICK\n"
           "task = experiment.plateau_task(cfg)",
        "experiment.train_dynamics(cfg, task)", None),
    "embedding: depth 6, width 100, 200 points, 10 seeds, per step (ms)": (
        50 / 1000, TANH_TASK,
        "[plateaus.train_from_scratch(x, y, 6, 100, s, 1e-3, 50, 20) for s in range(10)]",
        "plateaus.train_from_scratch(x, y, 6, 100, range(10), 1e-3, 50, 20)"),
}
PROGRAM = """
import companion, json, time, torch
torch.set_num_threads(1)
{setup}
started = time.process_time()
{workload}
print(json.dumps(time.process_time() - started))
"""


def save_trajectories(folder: Path) -> dict[str, Path]:
    """Part B's Adam run at widths 50 and 400 (2000 steps), stored for both libraries."""
    import numpy as np

    from companion.adam_spikes import adam, spikes
    files = {}
    for width in (50, 400):
        net = spikes.TanhNet.sine_task(40, width)
        run, = adam.run_adam(net.grad_and_loss, net.init(0)[None], 2000, 0.02,
                             [adam.AdamOptions((0.9, 0.999), 1e-8)])
        files[f"W{width}"] = folder / f"trajectory_{width}.npz"
        np.savez(files[f"W{width}"], width=width, loss=run.loss, theta=run.theta, grad=run.grad,
                 v_hat=run.v_hat, precond=run.precond)
    return files


def timed(library: Path, setup: str, workload: str, files: dict) -> float:
    """CPU seconds of ``workload`` in a fresh process importing ``library``."""
    for name, path in files.items():
        setup = setup.replace(name, repr(str(path)))
    result = subprocess.run([sys.executable, "-c", PROGRAM.format(setup=setup,
                                                                  workload=workload)],
                            env={**os.environ, "PYTHONPATH": str(library)},
                            cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default=BASE)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", help="run the workloads whose name contains this")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        archive = subprocess.run(["git", "archive", args.base, "lib"], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(scratch)], input=archive, check=True)
        libraries = {"base": scratch / "lib", "current": ROOT / "lib"}
        files = save_trajectories(scratch)
        workloads = {name: w for name, w in WORKLOADS.items()
                     if not args.only or args.only in name}
        times = {name: {"base": [], "current": []} for name in workloads}
        for _ in range(args.repeat):
            for name, (per, setup, before, after) in workloads.items():
                for version, code in (("base", before), ("current", after or before)):
                    unit = per if not isinstance(per, tuple) else per[version == "current"]
                    times[name][version].append(
                        timed(libraries[version], setup, code, files) / unit)
    rows = ["| workload | before | after | speed-up |", "|---|---|---|---|"]
    for name, runs in times.items():
        before, after = (statistics.median(runs[v]) for v in ("base", "current"))
        rows.append(f"| {name} | {before:.3g} ({', '.join(f'{t:.3g}' for t in runs['base'])})"
                    f" | {after:.3g} ({', '.join(f'{t:.3g}' for t in runs['current'])}) "
                    f"| {before / after:.1f}x |")
    write_section("speedups.py", "Before and after this branch", [measured_on(
        f"CPU seconds (or ms per step where the workload says so), median (runs) of "
        f"{args.repeat} interleaved repeats; before: commit {args.base}."), "", *rows])


if __name__ == "__main__":
    main()
