"""Paper mode, measured: every chapter's paper-mode run through the pipeline, in a scratch copy.

    .venv/bin/python benchmarks/paper.py [CHAPTER ...] [--timeout SECONDS]
    .venv/bin/python benchmarks/paper.py embedding_depth -p device=cuda   # its GPU path

Each chapter runs once, forced, in paper mode, in a scratch copy of the repository (the book's
outputs are not touched), with its progress bars on this terminal. Its device, CPU time (kernel
included) and wall time, its estimate (``Config.estimate()``) and its claims are written to
``benchmarks/paper.json``, keyed by chapter and overrides (so a GPU run sits beside the CPU
run), and shown by the execution report and in the ``paper.py`` section of
``benchmarks/results.md``; runs not repeated keep their entry.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from report import children_cpu, measured_on, write_section

from companion.__main__ import overrides_of, parse_assignment
from companion.pipeline.execute import Limits, run_chapter
from companion.pipeline.paths import Paths
from companion.pipeline.record import git_state
from companion.params import ParameterError
from companion.pipeline.registry import CHAPTERS, UnknownChapterError, get_chapter, make_config
from companion.pipeline.site import paper_mode_table

ROOT = Path(__file__).resolve().parents[1]
TIMES = Paths(ROOT).paper_times


def measure(name: str, overrides: dict[str, str], timeout_s: float) -> dict:
    """One forced paper-mode run of chapter ``name``: its device, times and claims."""
    chapter = get_chapter(name)
    with tempfile.TemporaryDirectory() as scratch:
        paths = Paths.scratch(ROOT, Path(scratch))
        cpu, wall = time.process_time() + children_cpu(), time.perf_counter()
        run_chapter(chapter, "paper", overrides, force=True, paths=paths,
                    limits=Limits(timeout_s=timeout_s))
        cpu, wall = time.process_time() + children_cpu() - cpu, time.perf_counter() - wall
        claims = json.loads((paths.results(name) / "claims.json").read_text())["claims"]
        device = json.loads((paths.results(name) / "provenance.json").read_text())["device"]
    return {"chapter": name, "overrides": overrides, "device": device,
            "cpu_s": round(cpu, 1), "wall_s": round(wall, 1),
            "estimate_s": round(chapter.paper.estimate().seconds),
            "claims_passed": sum(c["passed"] for c in claims), "claims": len(claims),
            "claims_failed": [f"{c['claim_id']} {c['name']}: {c['statement']} = {c['value']:.4g}"
                              f" ({c['op']} {c['bound']:.4g})" for c in claims if not c["passed"]],
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "date": time.strftime("%Y-%m-%d"), "commit": git_state()["commit"][:12]}


def write_results(times: dict) -> None:
    """The ``paper.py`` section of results.md, from every run in ``times``."""
    write_section("paper.py", "Paper mode", [measured_on(
        "one forced paper-mode run per chapter through the pipeline; CPU time of every process "
        "(kernel included), single-threaded, so it is what the run takes on a machine where it "
        "has a core to itself. Each row names the commit it was measured at."), "",
        *paper_mode_table(times)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("chapters", nargs="*", default=list(CHAPTERS))
    parser.add_argument("-p", "--param", action="append", default=[], type=parse_assignment,
                        metavar="NAME=VALUE", help="override a field (one chapter only)")
    parser.add_argument("--timeout", type=float, default=4 * 3600)
    args = parser.parse_args()
    if args.param and len(args.chapters) != 1:
        parser.error("-p overrides one chapter's configuration: name exactly one chapter")
    times = json.loads(TIMES.read_text()) if TIMES.exists() else {}
    try:
        overrides = overrides_of(args.param)
        for name in args.chapters:
            make_config(get_chapter(name), "paper", overrides)  # refused before any run
        for name in args.chapters:
            key = " ".join([name, *(f"-p {k}={v}" for k, v in overrides.items())])
            times[key] = measure(name, overrides, args.timeout)
            TIMES.write_text(json.dumps(times, indent=1) + "\n")
    except (UnknownChapterError, ParameterError) as error:
        parser.error(str(error))
    write_results(times)


if __name__ == "__main__":
    main()
