"""Benchmark: what pinning the numerical environment costs in chapter time, and what it changes.

    .venv/bin/python benchmarks/pinning.py [--repeat 2] [--keep DIR]

Every chapter runs in quick mode (forced, a fresh kernel) in scratch copies of the repository,
under three environments (``companion.numerics`` explains the variables):

* native: the libraries choose their instruction sets (``COMPANION_CPU_LEVEL=native``);
* pinned: the book's default, x86-64-v3 in every library;
* torch default: pinned, but torch's kernels restricted to its portable default capability
  (``ATEN_CPU_CAPABILITY=default``), as on a CPU without AVX2;
* MKL AVX2 branch: pinned, but MKL on its AVX2 branch instead of COMPATIBLE (what the pin
  would cost with the faster branch, which MKL runs as AUTO on AMD processors).

Native against pinned CPU times give the cost of pinning. Every figure array of the other
runs is compared with the native run's; the largest difference per figure is
written to benchmarks/pinning.md with the machine and its fingerprints; ``--keep`` keeps the
three results folders and a per-array JSON of the differences.
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from companion.numerics import CPU_LEVEL_ENV, THREADS, X86_64_V3
from companion.pipeline.paths import Paths
from companion.pipeline.record import git_state
from companion.pipeline.regress import fingerprint_difference
from companion.pipeline.registry import CHAPTERS

ROOT = Path(__file__).resolve().parents[1]
ENVIRONMENTS = {
    "native": {CPU_LEVEL_ENV: "native"},
    "pinned": {},
    "torch default": {"ATEN_CPU_CAPABILITY": "default"},
    "MKL AVX2 branch": {"MKL_CBWR": "AVX2"},
}
TIMED = ("native", "pinned", "MKL AVX2 branch")


def run(chapter: str, root: Path, variables: dict) -> float:
    """Execute one chapter under ``root`` in a fresh process that sees only ``variables`` of
    the pinned ones (this process has pinned its own); return the CPU seconds it took, kernel
    included, which other work on a shared machine disturbs far less than wall time."""
    env = {name: value for name, value in os.environ.items()
           if name not in {**THREADS, **X86_64_V3, CPU_LEVEL_ENV: ""}}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-m", "companion", "run", chapter, "--force"], cwd=root,
                   env={**env, **variables}, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def difference(reference: np.ndarray, other: np.ndarray) -> dict:
    """How far ``other`` is from ``reference``: largest absolute difference, largest relative
    one (over entries above 1e-12 of the reference's scale), the share of entries outside
    rtol 1e-5 / atol 1e-8, and whether the two are bit-identical."""
    if reference.shape != other.shape:
        return {"shape": f"{other.shape} vs {reference.shape}", "identical": False}
    a, b = reference.astype(float), other.astype(float)
    gap = np.where(np.isnan(a) & np.isnan(b), 0.0, np.abs(b - a))
    gap = np.where(np.isnan(gap), np.inf, gap)
    scale = np.nanmax(np.abs(a)) if a.size else 0.0
    above = np.abs(a) > 1e-12 * scale
    relative = gap[above] / np.abs(a[above])
    outside = ~np.isclose(b, a, rtol=1e-5, atol=1e-8, equal_nan=True)
    return {"max_abs": float(gap.max(initial=0.0)),
            "max_rel": float(relative.max(initial=0.0)),
            "outside": float(outside.mean()) if a.size else 0.0,
            "identical": bool(np.array_equal(a, b, equal_nan=True))}


def compare_results(reference: Path, other: Path) -> dict:
    """{figure: {array: difference}} for every figure array of two results folders."""
    table = {}
    for path in sorted(reference.glob("*.npz")):
        with np.load(path) as first, np.load(other / path.name) as second:
            table[path.stem] = {key: difference(first[key], second[key]) for key in first}
    return table


def figure_row(chapter: str, figure: str, drifts: dict[str, dict]) -> str:
    """One Markdown row: per environment, how many arrays moved, the largest relative move and
    how many changed length."""
    cells = []
    for arrays in drifts.values():
        moved = [d for d in arrays.values() if not d["identical"]]
        resized = sum("shape" in d for d in moved)
        worst = max((d["max_rel"] for d in moved if "shape" not in d), default=0.0)
        cells.append(f"{len(moved)} of {len(arrays)}" + (f", {worst:.1e}" if moved else "")
                     + (f", {resized} changed length" if resized else ""))
    return f"| {chapter} | {figure} | " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=2, help="timed runs per environment")
    parser.add_argument("--keep", type=Path, help="keep results and differences here")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="pinning-"))
    roots = {name: Paths.scratch(ROOT, scratch / name.replace(" ", "_")).root
             for name in ENVIRONMENTS}
    times = {name: {chapter: [] for chapter in CHAPTERS} for name in ENVIRONMENTS}
    for chapter in CHAPTERS:
        for repeat in range(args.repeat):
            for name, variables in ENVIRONMENTS.items():
                if repeat == 0 or name in TIMED:
                    times[name][chapter].append(run(chapter, roots[name], variables))
    drifts = {name: {chapter: compare_results(Paths(roots["native"]).results(chapter),
                                              Paths(roots[name]).results(chapter))
                     for chapter in CHAPTERS}
              for name in ENVIRONMENTS if name != "native"}
    fingerprints = {name: json.loads((Paths(root).results(next(iter(CHAPTERS)))
                                      / "provenance.json").read_text())["fingerprint"]
                    for name, root in roots.items()}
    write_report(times, drifts, fingerprints)
    if args.keep:
        for name, root in roots.items():
            shutil.copytree(root / "build" / "results", args.keep / name.replace(" ", "_"))
        (args.keep / "differences.json").write_text(json.dumps(drifts, indent=1))
    shutil.rmtree(scratch)


def write_report(times: dict, drifts: dict, fingerprints: dict) -> None:
    git = git_state()
    lines = [f"Measured on {fingerprints['pinned']['machine']} "
             f"({fingerprints['pinned']['cpu_vendor']}), {os.cpu_count()} cores, "
             f"{time.strftime('%Y-%m-%d')}, at commit {git['commit'][:12]}"
             f"{' (with uncommitted changes)' if git['dirty'] else ''}; CPU time of a forced "
             f"quick run, kernel start included: median (runs), interleaved.", "",
             "| chapter | " + " | ".join(f"{name} (CPU s)" for name in TIMED)
             + " | cost of pinning |", "|---|" + "---|" * (len(TIMED) + 1)]
    for chapter in CHAPTERS:
        medians = {name: statistics.median(times[name][chapter]) for name in TIMED}
        cells = [f"{medians[name]:.1f} ({', '.join(f'{t:.1f}' for t in times[name][chapter])})"
                 for name in TIMED]
        lines.append(f"| {chapter} | " + " | ".join(cells) + " | "
                     f"{100 * (medians['pinned'] / medians['native'] - 1):+.0f}% |")
    lines += ["", "Figure arrays that differ from the native run (how many, and the largest "
              "relative difference of those that kept their length):", "",
              "| chapter | figure | " + " | ".join(drifts) + " |",
              "|---|---|" + "---|" * len(drifts)]
    for chapter in CHAPTERS:
        for figure in next(iter(drifts.values()))[chapter]:
            lines.append(figure_row(chapter, figure,
                                    {name: d[chapter][figure] for name, d in drifts.items()}))
    lines += ["", "How the other fingerprints differ from the pinned one:", ""]
    lines += [f"- {name}: " + "; ".join(fingerprint_difference(other, fingerprints["pinned"]))
              for name, other in fingerprints.items() if name != "pinned"]
    lines += ["", "The pinned fingerprint:", "", "```json",
              json.dumps(fingerprints["pinned"], indent=1), "```"]
    text = "\n".join(lines) + "\n"
    print(text)
    (ROOT / "benchmarks" / "pinning.md").write_text(
        "# What pinning the numerical environment costs and changes\n\n" + text)


if __name__ == "__main__":
    main()
