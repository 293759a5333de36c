"""Paper mode, measured: every chapter's paper-mode run through the pipeline, in a scratch copy.

    .venv/bin/python benchmarks/paper.py [CHAPTER ...] [--timeout SECONDS]

Each chapter runs once, forced, in paper mode, in a scratch copy of the repository (the book's
outputs are not touched), with its progress bars on this terminal. Its CPU time (kernel
included) and wall time, its estimate (``Config.estimate()``) and whether every claim passed
are written to ``benchmarks/paper.json`` (read by the execution report) and to the ``paper.py``
section of ``benchmarks/results.md``; chapters not named keep their previous entry.
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

from companion.pipeline.execute import Limits, run_chapter
from companion.pipeline.paths import Paths
from companion.pipeline.record import git_state
from companion.pipeline.registry import CHAPTERS, get_chapter

ROOT = Path(__file__).resolve().parents[1]
TIMES = Path(__file__).with_name("paper.json")
TARGET_S = 600  # a reader's paper-mode run: ten minutes on a two-core machine


def measure(name: str, timeout_s: float) -> dict:
    """One forced paper-mode run of chapter ``name``: its times and its claims."""
    chapter = get_chapter(name)
    with tempfile.TemporaryDirectory() as scratch:
        paths = Paths.scratch(ROOT, Path(scratch))
        cpu, wall = time.process_time() + children_cpu(), time.perf_counter()
        run_chapter(chapter, "paper", force=True, paths=paths, limits=Limits(timeout_s=timeout_s))
        cpu, wall = time.process_time() + children_cpu() - cpu, time.perf_counter() - wall
        claims = json.loads((paths.results(name) / "claims.json").read_text())["claims"]
    git = git_state()
    return {"cpu_s": round(cpu, 1), "wall_s": round(wall, 1),
            "estimate_s": round(chapter.paper.estimate().seconds),
            "claims_passed": sum(c["passed"] for c in claims), "claims": len(claims),
            "claims_failed": [f"{c['claim_id']} {c['name']}: {c['statement']} = {c['value']:.4g}"
                              f" ({c['op']} {c['bound']:.4g})" for c in claims if not c["passed"]],
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "date": time.strftime("%Y-%m-%d"), "commit": git["commit"][:12]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("chapters", nargs="*", default=list(CHAPTERS))
    parser.add_argument("--timeout", type=float, default=4 * 3600)
    args = parser.parse_args()
    times = json.loads(TIMES.read_text()) if TIMES.exists() else {}
    for name in args.chapters:
        times[name] = measure(name, args.timeout)
        TIMES.write_text(json.dumps(times, indent=1) + "\n")
    rows = ["| chapter | CPU (s) | wall (s) | estimate (s) | under 10 min of CPU | claims passed "
            "| measured |", "|---|---|---|---|---|---|---|"]
    for name in CHAPTERS:
        if name in times:
            t = times[name]
            rows.append(f"| {name} | {t['cpu_s']:.0f} | {t['wall_s']:.0f} | {t['estimate_s']} | "
                        f"{'yes' if t['cpu_s'] <= TARGET_S else '**no**'} | "
                        f"{t['claims_passed']} of {t['claims']} | {t['date']}, "
                        f"{t['commit']} |")
    failed = [f"- {name}: {claim}" for name in CHAPTERS for claim in
              times.get(name, {}).get("claims_failed", [])]
    write_section("paper.py", "Paper mode", [measured_on(
        "one forced paper-mode run per chapter through the pipeline; CPU time of every process "
        "(kernel included), single-threaded, so it is what the run takes on a machine where it "
        "has a core to itself."), "", *rows,
        *(["", "Claims that failed in paper mode:", "", *failed] if failed else [])])


if __name__ == "__main__":
    main()
