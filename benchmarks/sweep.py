"""Benchmark: the throughput of a sweep on a local Dask cluster against a serial loop.

    .venv/bin/python benchmarks/sweep.py [CHAPTER] [--workers 2] [--seeds N] [--work PRODUCTS]

Both evaluate the same tasks, every (point, seed) of the chapter's quick grid and each frame of
its explorable figure, with the same functions (``companion.pipeline.sweep.measure`` and
``draw``), in a scratch copy of the repository so that nothing comes from a cache:

* serial: one after the other in this process, as a chapter's author measures a grid;
* sweep, cold: ``sweep_chapter`` end to end, starting the cluster (its workers import torch);
* sweep, warm: the same sweep again into an empty cache, on the cluster already started: the
  steady throughput, which is what a long paper-mode sweep sees;
* plain processes: the tasks dealt to as many fresh processes as workers, each running its
  share serially once its imports are done: what the machine itself gives for this work in
  parallel, without Dask (two virtual cores need not give twice one).

The serial loop, the warm sweep and the plain processes alternate ``--repeat`` times and the
medians are compared, so that a machine shared with other work slows all of them alike.

Without CHAPTER it sweeps the test suite's toy chapter over ``--seeds`` seeds, each evaluation
costing ``--work`` products of 200 x 200 matrices in torch (about a second at 300 on the
reference machine's cores): a real chapter's point costs seconds too. Writes
benchmarks/sweep.md with the machine and the commit.
"""

import argparse
import concurrent.futures
import dataclasses
import multiprocessing
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


def serial_seconds(experiment: str, tasks: list) -> float:
    """``tasks`` one after the other in this process, once their imports are done (as in a
    live session): one task of each kind runs first, untimed."""
    for first in {task.kind: task for task in reversed(tasks)}.values():
        evaluate(experiment, first)
    started = time.perf_counter()
    for task in tasks:
        evaluate(experiment, task)
    return time.perf_counter() - started


def evaluate(experiment: str, task) -> None:
    if task.kind == "checks":
        measure(experiment, task.config)
    else:
        draw(experiment, task.config, task.point)


def plain_processes_seconds(experiment: str, tasks: list, processes: int) -> float:
    """``tasks`` dealt to ``processes`` fresh processes, each running its share serially: the
    longest share's time."""
    shares = [tasks[index::processes] for index in range(processes)]
    spawn = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(processes, mp_context=spawn) as pool:
        return max(pool.map(serial_seconds, [experiment] * processes, shares))


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
        tasks = plan(chapter, "quick", chapter.grids["quick"], library_key(paths))
        runs = {"serial": [], "warm": [], "plain": []}
        with Workers(n_workers=args.workers) as workers:
            cold = sweep_seconds(chapter, paths, workers)
            for _ in range(args.repeat):
                runs["serial"].append(serial_seconds(chapter.experiment, tasks))
                runs["warm"].append(sweep_seconds(chapter, paths, workers))
                runs["plain"].append(plain_processes_seconds(chapter.experiment, tasks,
                                                             args.workers))
    what = (f"chapter `{chapter.name}`" if args.chapter else
            f"the toy chapter, {args.seeds} seeds, {args.work} matrix products per point")
    text = report(f"{what}; {len(tasks)} tasks", len(tasks), args.workers, runs, cold)
    print(text)
    (ROOT / "benchmarks" / "sweep.md").write_text("# Sweep throughput\n\n" + text)


def report(what: str, tasks: int, workers: int, runs: dict, cold: float) -> str:
    """The Markdown table of the runs, with the machine, its load and the commit."""
    serial = statistics.median(runs["serial"])
    git = git_state()
    lines = [f"Measured on {platform.machine()}, {os.cpu_count()} cores (load average "
             f"{os.getloadavg()[0]:.1f} at the end), {time.strftime('%Y-%m-%d')}, at commit "
             f"{git['commit'][:12]}{' (with uncommitted changes)' if git['dirty'] else ''}: "
             f"{what}. Medians of {len(runs['serial'])} alternating runs, each run's time in "
             "brackets.", "",
             "| run | wall (s) | tasks/s | vs serial |", "|---|---|---|---|"]
    for name, each in (
            ("serial loop", runs["serial"]),
            (f"sweep, {workers} workers, cluster start included (once)", [cold]),
            (f"sweep, {workers} workers, cluster warm", runs["warm"]),
            (f"{workers} plain processes, no Dask (the machine's own parallelism)",
             runs["plain"])):
        seconds = statistics.median(each)
        lines.append(f"| {name} | {seconds:.1f} ({', '.join(f'{s:.1f}' for s in each)}) | "
                     f"{tasks / seconds:.2f} | {serial / seconds:.2f}x |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
