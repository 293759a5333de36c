"""Benchmark: wall time of each chapter in quick mode, and of a no-change rebuild.

    make benchmark    (or: .venv/bin/python benchmarks/chapters.py [--repeat 2])

Each chapter is executed with --force (a fresh kernel each time) in a scratch copy of the
repository, so the book's published outputs are not touched. Results are printed as a Markdown
table and written to benchmarks/results.md with the machine they were measured on.
"""

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from companion.pipeline.site import run_all
from companion.pipeline.registry import CHAPTERS
from companion.pipeline.execute import run_chapter
from companion.pipeline.paths import Paths
from companion.pipeline.record import git_state

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        paths = Paths.scratch(ROOT, Path(scratch))
        rows = []
        for chapter in CHAPTERS.values():
            times = [run_chapter(chapter, force=True, paths=paths).wall_s
                     for _ in range(args.repeat)]
            rows.append((chapter.name, times, chapter.budget_s))
        started = time.perf_counter()
        run_all("quick", force=False, paths=paths)
        cached_s = time.perf_counter() - started
    git = git_state()
    lines = [f"Measured on {platform.machine()}, {os.cpu_count()} cores, "
             f"{time.strftime('%Y-%m-%d')}, at commit {git['commit'][:12]}"
             f"{' (with uncommitted changes)' if git['dirty'] else ''}; wall time of a forced "
             f"quick run, kernel start included, {args.repeat} repeats.", "",
             "| chapter | median (s) | runs (s) | budget (s) |", "|---|---|---|---|"]
    lines += [f"| {name} | {statistics.median(t):.1f} | {', '.join(f'{x:.1f}' for x in t)} "
              f"| {budget:g} |" for name, t, budget in rows]
    lines += ["", f"No-change rebuild of every chapter (cache hits, no kernel): {cached_s:.2f} s"]
    text = "\n".join(lines) + "\n"
    print(text)
    (ROOT / "benchmarks" / "results.md").write_text("# Benchmarks\n\n" + text)


if __name__ == "__main__":
    main()
