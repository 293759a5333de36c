"""Toy chapters in a temporary repository root, for the pipeline tests.

A toy chapter uses the recorder API of the real chapters (``companion.pipeline.record.start``)
and draws one line. Its ``fault`` parameter makes a cell fail the way a real chapter can: raise,
kill its kernel, hang, find the disk full or never call ``finish()``; ``toy_<fault>`` is a
chapter whose quick configuration does so. Its ``size`` scales the cost it estimates, so a test
can ask for a run too big for the machine without running it. The kernel imports this module
(its folder is put on ``sys.path``), so the notebooks and the tests share one definition.

It is also the experiment module of a swept chapter (``GRID``, :func:`checks`,
:func:`explore_frame`, :func:`draw_frame`): its claim holds for slopes of at least one, which is
the scope it declares, and each evaluation costs ``work`` matrix products.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np

from companion.checks import Check, Grid
from companion.params import Estimate, param, require
from companion.pipeline.execute import run_chapter
from companion.pipeline.paths import Paths
from companion.pipeline import registry
from companion.pipeline.registry import Chapter

FAULTS = ("", "raise", "exit", "hang", "disk_full", "no_finish")

TOY_SOURCE = '''\
# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
mode = "quick"
overrides = {}

# %%
import errno
import os
import sys
import time

import numpy as np

sys.path.insert(0, TESTS_FOLDER)
from toy_chapter import TOYS
from companion import plotting
from companion.pipeline import registry
from companion.pipeline.record import start
from companion.pipeline.tolerance import Exact

name = CHAPTER_NAME
registry.CHAPTERS[name] = TOYS[name]
run = start(name, mode, overrides)

# %%
fault = run.config.fault
if fault == "raise":
    raise RuntimeError("deliberate failure")
if fault == "exit":
    os._exit(3)
if fault == "hang":
    time.sleep(600)
if fault == "disk_full":
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(run.results_dir / "line.npz"))

# %%
x = np.linspace(0, 1, 11)
fig, ax = plotting.figure(2.0)
ax.plot(x, run.config.slope * x)
run.figure("line", fig, {"x": x, "y": run.config.slope * x}, {"*": Exact()},
           "A line of the configured slope.")
run.claim("T1", "toy_slope", "slope of the line", run.config.slope, ">=", 1.0)
if fault != "no_finish":
    run.finish()
'''.replace("TESTS_FOLDER", repr(str(Path(__file__).parent)))


@dataclasses.dataclass(frozen=True)
class ToyConfig:
    seed: int = param(0, "unused: every chapter has one")
    slope: float = param(1.0, "slope of the line")
    fault: str = param("", "how a cell fails: one of FAULTS")
    size: int = param(1, "scales the estimated memory (1 MB each) and time (1 s each)")
    sigmas: tuple[float, ...] = param((1.0, 0.5), "a tuple, like a chapter's spectrum")
    n_seeds: int = param(1, "seeds of the claim, from seed on")
    work: int = param(0, "matrix products per evaluation of the checks: what a point costs")

    def __post_init__(self) -> None:
        require(self.fault in FAULTS, f"fault must be one of {FAULTS}")

    def estimate(self) -> Estimate:
        """One megabyte and one second per unit of ``size``."""
        return Estimate(memory_bytes=1e6 * self.size, seconds=1.0 * self.size)


GRID = Grid(axes={"slope": (0.5, 1.0, 2.0), "sigmas": ((1.0, 0.5), (1.0, 0.7, 0.4))},
            n_seeds=3, explore="slope")


def checks(config: ToyConfig) -> list[Check]:
    """The toy's claim, a slope of at least one, measured on each seed (seed s adds s/100),
    and a consistency check that cannot fail; ``fault="raise"`` raises like a broken chapter."""
    if config.fault == "raise":
        raise RuntimeError("deliberate failure")
    busy(config.work)
    seeds = range(config.seed, config.seed + config.n_seeds)
    return [Check("A1", "toy_slope", "slope of the line", ">=", 1.0,
                  {seed: config.slope + seed / 100 for seed in seeds}, scope="slope >= 1",
                  in_scope=config.slope >= 1, why="the toy's law holds for steep lines only"),
            Check("C1", "through_origin", "|y(0)|", "<=", 1e-12, {seed: 0.0 for seed in seeds},
                  kind="consistency")]


def busy(products: int) -> None:
    """``products`` products of 200 x 200 matrices in torch, on one thread like a chapter."""
    import torch

    matrix = torch.full((200, 200), 1 / 200, dtype=torch.float64)
    for _ in range(products):
        matrix = torch.tanh(matrix @ matrix)


def explore_frame(config: ToyConfig) -> dict:
    x = np.linspace(0, 1, 11)
    return {"x": x, "y": config.slope * x}


def draw_frame(fig, frame: dict, params: dict) -> None:
    ax = fig.add_subplot()
    ax.plot(frame["x"], frame["y"])
    ax.set_ylim(0, 2.5)
    ax.set_title(f"slope = {params['slope']}")


TOY = Chapter("toy", "Toy", "a line", "nobody", 30, ToyConfig(), ToyConfig(), {"quick": GRID},
              __name__)
# toy_hang's budget makes its quick-mode time limit 14 s: room for the kernel to reach the hang
TOYS = {TOY.name: TOY, **{
    f"toy_{fault}": dataclasses.replace(TOY, name=f"toy_{fault}", quick=ToyConfig(fault=fault),
                                        budget_s=7 if fault == "hang" else TOY.budget_s)
    for fault in ("exit", "hang", "disk_full")}}


def make_toy_root(root: Path) -> Paths:
    """A repository root holding the toy chapters and a stand-in library (for the cache key)."""
    (root / "notebooks").mkdir(parents=True)
    for name in TOYS:
        (root / "notebooks" / f"{name}.py").write_text(
            TOY_SOURCE.replace("CHAPTER_NAME", repr(name)))
    (root / "lib" / "companion").mkdir(parents=True)
    (root / "lib" / "companion" / "science.py").write_text("RATE = 1\n")
    return Paths(root)


def executed_toy_root(root: Path) -> Paths:
    """:func:`make_toy_root`, with the toy chapter executed and published once."""
    paths = make_toy_root(root)
    assert run_chapter(TOY, paths=paths).status == "executed"
    return paths


def command_line(paths: Paths, chapters: dict, monkeypatch, capsys):
    """``python -m companion ...`` run in this process on the root ``paths`` with ``chapters``
    registered: a function of the arguments that returns the exit code, stdout and stderr."""
    from companion.__main__ import main

    for name, chapter in chapters.items():
        monkeypatch.setitem(registry.CHAPTERS, name, chapter)
    monkeypatch.setattr(Paths, "checkout", classmethod(lambda cls, caller: paths))

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def fingerprint(paths: Paths) -> dict[str, str]:
    """SHA-256 of every published file under the root: notebooks, results and baselines."""
    folders = [paths.executed(TOY.name).parent, paths.results(TOY.name).parent,
               paths.baselines(TOY.name).parent]
    files = sorted(path for folder in folders for path in folder.rglob("*") if path.is_file())
    return {str(paths.relative(path)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in files}
