"""Benchmark: the throughput of a sweep on a local Dask cluster against a serial loop.

    .venv/bin/python benchmarks/sweep.py [CHAPTER] [--workers 2] [--seeds N] [--work PRODUCTS]

Both evaluate the same tasks, every (point, seed) of the chapter's quick grid and each frame of
its explorable figure, with the same functions (``companion.pipeline.sweep.measure`` and
``draw``), in a scratch copy of the repository so that nothing comes from a cache:

* serial: one after the other in this process, as a chapter's author measures a grid;
* sweep, cold: ``sweep_chapter`` end to end, starting the cluster (its workers import torch);
* sweep, warm: the same sweep again into an empty cache, on the cluster already started: the
  steady throughput, which is what a long paper-mode sweep sees.

The serial loop and the warm sweep alternate ``--repeat`` times and the medians are compared,
so that a machine shared with other work slows both alike.

Without CHAPTER it sweeps the test suite's toy chapter over ``--seeds`` seeds, each evaluation
costing ``--work`` products of 200 x 200 matrices in torch (about a second at 300 on the
reference machine's cores): a real chapter's point costs seconds too. Writes
benchmarks/sweep.md with the machine and the commit.
"""

import argparse
import dataclasses
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import companion  # noqa: F401  (first: it pins the numerical environment)
from companion.pipeline.paths import Paths
from companion.pipeline.record import git_state
from companion.pipeline.registry import get_chapter
from companion.pipeline.cluster import Workers
from companion.pipeline.sweep import draw, library_key, measure, plan, sweep_chapter

ROOT = Path(__file__).resolve().parents[1]


def toy_chapter(seeds: int, work: int):
    """The tests' toy chapter, swept over ``seeds`` seeds at ``work`` products per point."""
    sys.path.insert(0, str(ROOT / "tests"))
    from pipeline.toy_chapter import GRID, TOY

    grid = dataclasses.replace(GRID, n_seeds=seeds, base={"work": work})
    return dataclasses.replace(TOY, grids={"quick": grid})


def serial_seconds(chapter, paths: Paths) -> float:
    """Every task of the sweep, one after the other in this process."""
    tasks = plan(chapter, "quick", chapter.grids["quick"], library_key(paths))
    measure(chapter.experiment, tasks[0].config)  # imports, as a live session has them
    started = time.perf_counter()
    for task in tasks:
        if task.kind == "checks":
            measure(chapter.experiment, task.config)
        else:
            draw(chapter.experiment, task.config, task.point)
    return time.perf_counter() - started


def sweep_seconds(chapter, paths: Paths, workers: Workers) -> float:
    """The sweep of every task, from an empty cache."""
    shutil.rmtree(paths.sweeps(chapter.name), ignore_errors=True)
    started = time.perf_counter()
    sweep_chapter(chapter, "quick", paths, workers)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("chapter", nargs="?", help="a chapter with a GRID (default: the toy)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=10, help="toy only")
    parser.add_argument("--work", type=int, default=300, help="toy only")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    chapter = (get_chapter(args.chapter) if args.chapter
               else toy_chapter(args.seeds, args.work))
    with tempfile.TemporaryDirectory() as scratch:
        paths = Paths.scratch(ROOT, Path(scratch))
        tasks = len(plan(chapter, "quick", chapter.grids["quick"], library_key(paths)))
        with Workers(n_workers=args.workers) as workers:
            cold = sweep_seconds(chapter, paths, workers)
            serials, warms = [], []
            for _ in range(args.repeat):
                serials.append(serial_seconds(chapter, paths))
                warms.append(sweep_seconds(chapter, paths, workers))
    what = (f"chapter `{chapter.name}`" if args.chapter else
            f"the toy chapter, {args.seeds} seeds, {args.work} matrix products per point")
    text = report(f"{what}; {tasks} tasks", tasks, args.workers, serials, cold, warms)
    print(text)
    (ROOT / "benchmarks" / "sweep.md").write_text("# Sweep throughput\n\n" + text)


def report(what: str, tasks: int, workers: int, serials: list, cold: float,
           warms: list) -> str:
    """The Markdown table of the three runs, with the machine, its load and the commit."""
    serial, warm = statistics.median(serials), statistics.median(warms)
    git = git_state()
    lines = [f"Measured on {platform.machine()}, {os.cpu_count()} cores (load average "
             f"{os.getloadavg()[0]:.1f} at the end), {time.strftime('%Y-%m-%d')}, at commit "
             f"{git['commit'][:12]}{' (with uncommitted changes)' if git['dirty'] else ''}: "
             f"{what}. Medians of {len(serials)} alternating runs, each run's time in "
             "brackets.", "",
             "| run | wall (s) | tasks/s | vs serial |", "|---|---|---|---|"]
    for name, seconds, each in (
            ("serial loop", serial, serials),
            (f"sweep, {workers} workers, cluster start included (once)", cold, [cold]),
            (f"sweep, {workers} workers, cluster warm", warm, warms)):
        lines.append(f"| {name} | {seconds:.1f} ({', '.join(f'{s:.1f}' for s in each)}) | "
                     f"{tasks / seconds:.2f} | {serial / seconds:.2f}x |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
