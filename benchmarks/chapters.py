"""Benchmark: what the pipeline costs over the chapters' own computation, chapter by chapter
and for the whole book, and what running chapters side by side saves.

    make benchmark    (or: .venv/bin/python benchmarks/chapters.py [--repeat 2])

In one run, interleaved, in a scratch copy of the repository (the book's outputs are not
touched), each repeat measures:

* per chapter, a forced quick run through the pipeline (``run_chapter``: conversion, a fresh
  kernel, papermill, publishing) and the same notebook run as a plain Python script (pure
  compute: the chapter's code, its figures and records, no kernel);
* the whole book, ``run_all`` with one chapter at a time and with one per core.

CPU time is that of every process involved (children included), which other work on a shared
machine disturbs far less than wall time; both are reported. The ratios pipeline / pure compute
(per chapter and for the book) and sequential / parallel wall time are the numbers to watch.
A no-change rebuild (every chapter served from the cache) is timed last.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report import children_cpu, measured_on, write_section

from companion.numerics import pinned_environment
from companion.pipeline.execute import run_chapter
from companion.pipeline.parallel import default_jobs
from companion.pipeline.paths import RESULTS_ENV, Paths
from companion.pipeline.registry import CHAPTERS
from companion.pipeline.site import run_all

ROOT = Path(__file__).resolve().parents[1]


def measure(action) -> tuple[float, float]:
    """(CPU seconds of this process and its children, wall seconds) of ``action()``."""
    cpu, wall = time.process_time() + children_cpu(), time.perf_counter()
    action()
    return time.process_time() + children_cpu() - cpu, time.perf_counter() - wall


def pure_compute(chapter: str, paths: Paths, scratch: Path) -> None:
    """The chapter's notebook as a plain script, in a fresh process, results to scratch."""
    env = {**os.environ, **pinned_environment(), RESULTS_ENV: str(scratch / "pure" / chapter),
           "MPLBACKEND": "Agg"}
    subprocess.run([sys.executable, str(paths.source(chapter))], cwd=paths.root, env=env,
                   check=True, stdout=subprocess.DEVNULL)


def cell(values: list[tuple[float, float]], index: int) -> str:
    picked = [v[index] for v in values]
    return f"{statistics.median(picked):.1f} ({', '.join(f'{v:.1f}' for v in picked)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    jobs = default_jobs()
    times = {name: {"pipeline": [], "pure": []} for name in CHAPTERS}
    book = {"sequential": [], "parallel": []}
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        paths = Paths.scratch(ROOT, scratch / "repo")
        for repeat in range(args.repeat):
            for name, chapter in CHAPTERS.items():
                runs = {"pipeline": lambda: run_chapter(chapter, force=True, paths=paths),
                        "pure": lambda: pure_compute(name, paths, scratch)}
                for kind in (("pipeline", "pure") if repeat % 2 == 0 else ("pure", "pipeline")):
                    times[name][kind].append(measure(runs[kind]))
            for kind in (("sequential", "parallel") if repeat % 2 == 0
                         else ("parallel", "sequential")):
                book[kind].append(measure(lambda: run_all(
                    "quick", force=True, paths=paths, jobs=1 if kind == "sequential" else jobs)))
        cached_s = measure(lambda: run_all("quick", force=False, paths=paths))[1]
    rows = ["| chapter | pipeline CPU (s) | pure compute CPU (s) | ratio | pipeline wall (s) "
            "| budget (s) |", "|---|---|---|---|---|---|"]
    for name, kinds in times.items():
        pipeline, pure = (statistics.median(v[0] for v in kinds[k]) for k in ("pipeline", "pure"))
        rows.append(f"| {name} | {cell(kinds['pipeline'], 0)} | {cell(kinds['pure'], 0)} | "
                    f"{pipeline / pure:.2f} | {cell(kinds['pipeline'], 1)} | "
                    f"{CHAPTERS[name].budget_s:g} |")
    pure_total = sum(statistics.median(v[0] for v in kinds["pure"]) for kinds in times.values())
    sequential, parallel = ([statistics.median(v[i] for v in book[k]) for i in (0, 1)]
                            for k in ("sequential", "parallel"))
    rows += ["", "| whole book (`run_all`, forced) | CPU (s) | wall (s) | CPU / pure compute |",
             "|---|---|---|---|",
             f"| one chapter at a time | {cell(book['sequential'], 0)} | "
             f"{cell(book['sequential'], 1)} | {sequential[0] / pure_total:.2f} |",
             f"| {jobs} at a time (one per core) | {cell(book['parallel'], 0)} | "
             f"{cell(book['parallel'], 1)} | {parallel[0] / pure_total:.2f} |",
             "", f"Pure compute of the four chapters: {pure_total:.1f} s CPU. Side by side the "
             f"book takes {sequential[1] / parallel[1]:.2f}x less wall time than one chapter at "
             f"a time. A no-change rebuild (cache hits, no kernel): {cached_s:.2f} s wall."]
    write_section("chapters.py", "Pipeline against pure compute, quick mode", [measured_on(
        f"median (runs) of {args.repeat} interleaved repeats."), "", *rows])


if __name__ == "__main__":
    main()
