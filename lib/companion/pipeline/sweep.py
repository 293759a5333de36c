"""Sweep a chapter's checks over the region its claims cover, on Dask.

    python -m companion sweep CHAPTER [--mode paper] [--scheduler ADDRESS] [--workers N]

A chapter declares the region in its config.py: ``GRID`` (``PAPER_GRID`` for paper mode), a
:class:`companion.checks.Grid` of axes, seeds and an explore axis. The sweep evaluates the
chapter's ``experiment.checks(config)`` at every point of the grid for every seed, with
``config = replace(<mode's configuration>, **grid.base, **point, seed=s, n_seeds=1)``, and
``experiment.explore_frame(config)`` once per value of the explore axis (the other axes keep
the mode's values, the seed is the first), drawn by ``experiment.draw_frame(fig, frame,
{axis: value})``. Each evaluation is one Dask task; the experiment module is imported on the
workers, never here. Each result is cached by content (the configuration, the library, the lock
file) as soon as it arrives, so an interrupted sweep resumes where it stopped, and a sweep whose
results are all cached starts no cluster.

    build/sweeps/<chapter>/table.csv         the tidy table: one row per (point, seed, check)
    build/sweeps/<chapter>/sweep.json        provenance, what each check states and covers,
                                             the frames, the failed tasks, the table's SHA-256
    build/sweeps/<chapter>/frames/           the explorable figure, one PNG per explore value
    build/sweeps/<chapter>/cache/<library>/  one file per (point, seed) and two per frame,
                                             computed with this library and lock file

The workers compute as a chapter kernel does, one thread each in the pinned numerical
environment, on a local cluster by default or on an existing one (``--scheduler``): see
:mod:`companion.pipeline.cluster`. Each result records the numerical fingerprint of the worker
that computed it.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import hashlib
import importlib
import io
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from ..numerics import fingerprint, pin_torch
from ..params import ParameterError
from .execute import Interrupted, chapter_lock, content_digest, say
from .paths import Paths
from .publish import sha256
from .record import git_state, parameter_text
from .registry import GRID_VARIABLES, Chapter, make_config

if TYPE_CHECKING:
    from .cluster import Workers

TABLE_COLUMNS = ("seed", "id", "name", "kind", "value", "op", "bound", "passed", "in_scope",
                 "known_failure")  # after one column per axis of the grid
CATALOGUE_FIELDS = ("name", "quantity", "kind", "over", "scope", "why", "known_failure")
FRAME_INCHES = (7.0, 3.6)  # 700 px wide at the book's 100 dpi


class SweepRefused(ParameterError):
    """A grid with a point that is not a valid configuration: refused before any task."""


class SweepFailed(RuntimeError):
    """Some tasks of a sweep raised or lost their worker: its table lacks them."""


@dataclass(frozen=True)
class Task:
    """One evaluation: the checks at one (point, seed), or one frame of the explorable figure."""

    kind: str  # "checks" or "frame"
    point: dict  # the grid axes' values; for a frame, the explore axis only
    seed: int
    config: object
    key: str  # SHA-256 of what the result depends on

    def describe(self) -> str:
        where = ", ".join(f"{name}={parameter_text(v)}" for name, v in self.point.items())
        return f"{'frame at ' if self.kind == 'frame' else ''}{where}, seed {self.seed}"


@dataclass(frozen=True)
class Outcome:
    """What one sweep did, and what its table says about the checks' scopes."""

    chapter: str
    tasks: int
    computed: int
    cached: int
    failed: list  # one line per failed task
    wall_s: float
    in_scope_failures: list  # one line per check failing inside its scope (known ones apart)
    outside_failures: int  # rows failing outside their scope: where the laws stop
    rows: int

    def summary(self, paths: Paths) -> str:
        return (f"{self.chapter}: {self.tasks} tasks, {self.computed} computed, {self.cached} "
                f"from the cache, {len(self.failed)} failed, in {self.wall_s:.1f} s; "
                f"{self.rows} checks, {len(self.in_scope_failures)} failing inside their scope "
                f"and {self.outside_failures} outside it (where the laws stop); table in "
                f"{paths.relative(paths.sweeps(self.chapter) / 'table.csv')}")


# -------------------------------------------------------------------------------------------
# The plan: every task of a sweep, each with its cache key
# -------------------------------------------------------------------------------------------
def plan(chapter: Chapter, mode: str, grid, library: str) -> list[Task]:
    """Every (point, seed) of ``grid`` and every frame of its explore axis, as validated
    configurations keyed with ``library`` (:func:`library_key`); :class:`SweepRefused` names the
    first point that is not valid."""
    first_seed = chapter.modes[mode].seed
    seeds = range(first_seed, first_seed + grid.n_seeds)
    work = [("checks", point, seed) for point in grid.points() for seed in seeds]
    if grid.explore:
        work += [("frame", {grid.explore: value}, first_seed)
                 for value in grid.axes[grid.explore]]
    tasks = []
    for kind, point, seed in work:
        overrides = {**grid.base, **point, "seed": seed, "n_seeds": 1}
        try:
            config = make_config(chapter, mode, overrides)
        except ParameterError as error:
            raise SweepRefused(f"the {mode} grid of chapter '{chapter.name}' has a point that is "
                               f"not a valid configuration ({kind} at {point}, seed {seed}): "
                               f"{error}") from None
        tasks.append(Task(kind, point, seed, config, task_key(library, chapter, kind, config)))
    return tasks


def library_key(paths: Paths) -> str:
    """SHA-256 of the library and the lock file: every task's result depends on them."""
    return content_digest(paths).hexdigest()


def task_key(library: str, chapter: Chapter, kind: str, config) -> str:
    """SHA-256 of everything one task's result depends on."""
    identity = json.dumps({"chapter": chapter.name, "experiment": chapter.experiment,
                           "kind": kind, "config": dataclasses.asdict(config)},
                          sort_keys=True, default=list)
    return hashlib.sha256((library + identity).encode()).hexdigest()


# -------------------------------------------------------------------------------------------
# What runs on a worker
# -------------------------------------------------------------------------------------------
def measure(experiment: str, config) -> dict:
    """The chapter's checks at ``config``, each with its worst value and verdict, with the
    seconds they took and the numerical environment of the worker that measured them."""
    started = time.perf_counter()
    pin_torch()
    checks = importlib.import_module(experiment).checks(config)
    return {"checks": [{**dataclasses.asdict(check),
                        "values": {str(k): float(v) for k, v in check.values.items()},
                        "worst": check.worst, "passed": check.passed} for check in checks],
            "seconds": round(time.perf_counter() - started, 3),
            "fingerprint": worker_fingerprint()}


def draw(experiment: str, config, params: dict) -> tuple[dict, bytes]:
    """The arrays of the chapter's explorable figure at ``config``, and the frame as a PNG."""
    import numpy as np
    from matplotlib.figure import Figure

    from .style import PNG_METADATA, apply_style

    pin_torch()
    apply_style()
    module = importlib.import_module(experiment)
    frame = {name: np.asarray(array) for name, array in module.explore_frame(config).items()}
    figure = Figure(figsize=FRAME_INCHES)
    module.draw_frame(figure, frame, params)
    png = io.BytesIO()
    figure.savefig(png, format="png", metadata=PNG_METADATA)
    return frame, png.getvalue()


@functools.cache
def worker_fingerprint() -> dict:
    """The numerical environment a worker computes in, once torch is pinned as for a task."""
    pin_torch()
    return fingerprint()


# -------------------------------------------------------------------------------------------
# The cache
# -------------------------------------------------------------------------------------------
def _cache(chapter: str, paths: Paths, library: str) -> Path:
    """Where the results computed with ``library`` are cached."""
    return paths.sweeps(chapter) / "cache" / library[:16]


def _prune(cache: Path) -> None:
    """Remove the results cached with other versions of the library: whichever mode they were
    computed in, no task of this version can use them."""
    for other in cache.parent.iterdir():
        if other != cache:
            shutil.rmtree(other, ignore_errors=True)


def cached(task: Task, folder: Path) -> bool:
    """Whether the task's result is cached whole (a frame's PNG is written before its data)."""
    return (folder / f"{task.key}.{'json' if task.kind == 'checks' else 'npz'}").exists()


def store(task: Task, result, folder: Path) -> None:
    """Cache one result, each file written whole by a rename."""
    if task.kind == "checks":
        text = json.dumps({"point": task.point, "seed": task.seed, **result}, default=list)
        _write(folder / f"{task.key}.json", text.encode())
        return
    import numpy as np

    frame, png = result
    _write(folder / f"{task.key}.png", png)
    arrays = io.BytesIO()
    np.savez_compressed(arrays, **frame)
    _write(folder / f"{task.key}.npz", arrays.getvalue())


def _distinct(items) -> list[dict]:
    unique = {json.dumps(item, sort_keys=True): item for item in items}
    return list(unique.values())


def _write(path: Path, content: bytes) -> None:
    partial = path.with_name(f"{path.name}.partial")
    partial.write_bytes(content)
    os.replace(partial, path)


# -------------------------------------------------------------------------------------------
# The sweep
# -------------------------------------------------------------------------------------------
def sweep_chapter(chapter: Chapter, mode: str, paths: Paths, workers: Workers) -> Outcome | None:
    """Sweep one chapter's grid (None, with a one-line note, if it declares none for ``mode``);
    write its table and provenance even if some tasks failed."""
    grid = chapter.grids.get(mode)
    if grid is None:
        say(f"{chapter.name}: no {GRID_VARIABLES[mode]} in its config.py yet: its {mode} sweep "
            "is skipped")
        return None
    library = library_key(paths)
    tasks = plan(chapter, mode, grid, library)
    started = time.perf_counter()
    folder = _cache(chapter.name, paths, library)
    with chapter_lock(f"{chapter.name}.sweep", paths):
        folder.mkdir(parents=True, exist_ok=True)
        missing = [task for task in tasks if not cached(task, folder)]
        try:
            client = workers.client(missing) if missing else None  # before the bar: it says so
            progress = Progress(chapter.name, len(tasks), len(tasks) - len(missing))
            failed = _compute(chapter, missing, folder, client, progress) if missing else []
        except KeyboardInterrupt:
            done = sum(cached(task, folder) for task in tasks)
            raise Interrupted(f"interrupted: the sweep of '{chapter.name}' stopped; {done} of "
                              f"{len(tasks)} results are cached: run it again to resume") from None
        progress.finish()
        wall_s = round(time.perf_counter() - started, 2)
        this_run = {"computed": len(missing) - len(failed),
                    "from_cache": len(tasks) - len(missing), "failed": failed,
                    "wall_s": wall_s, "cluster": workers.describe()}
        rows = write_outputs(chapter, mode, grid, tasks, this_run, library, paths)
        if not failed:
            _prune(folder)
    return Outcome(chapter.name, len(tasks), len(missing) - len(failed),
                   len(tasks) - len(missing), failed, wall_s, in_scope_failures(rows),
                   sum(not row["passed"] and not row["in_scope"] for row in rows), len(rows))


def _compute(chapter: Chapter, tasks: list[Task], folder: Path, client,
             progress: Progress) -> list[str]:
    """Run ``tasks`` on the cluster, caching each result as it arrives; the failures, one line
    each, in the order of the tasks. Ctrl-C cancels what is left; what is cached stays."""
    from distributed import as_completed

    futures = {}
    for task in tasks:
        function, args = ((measure, (chapter.experiment, task.config)) if task.kind == "checks"
                          else (draw, (chapter.experiment, task.config, task.point)))
        futures[client.submit(function, *args, key=f"{chapter.name}-{task.kind}-{task.key}",
                              pure=False)] = task
    failed = {}
    try:
        for future in as_completed(futures):
            task = futures.pop(future)
            try:
                store(task, future.result(), folder)
            except Exception as error:  # raised by the chapter, or its worker was lost
                failed[task.key] = f"{task.describe()}: {type(error).__name__}: {error}"
                progress.advance(failed=True)
            else:
                progress.advance(failed=False)
    except KeyboardInterrupt:
        client.cancel(list(futures))
        raise
    return [failed[task.key] for task in tasks if task.key in failed]


class Progress:
    """The progress bar on stderr: done (of which from the cache), failed, remaining.

    On a terminal it is redrawn in place; in a log, a line is written at every tenth of the
    work and at the end.
    """

    WIDTH = 30

    def __init__(self, label: str, total: int, from_cache: int, stream=None):
        self.label, self.total, self.from_cache = label, total, from_cache
        self.done, self.failed = from_cache, 0
        self.stream = stream or sys.stderr
        self.started = time.perf_counter()
        self._shown_tenth = -1
        self.show()

    @property
    def remaining(self) -> int:
        return self.total - self.done - self.failed

    def advance(self, failed: bool) -> None:
        if failed:
            self.failed += 1
        else:
            self.done += 1
        self.show()

    def line(self) -> str:
        finished = (self.done + self.failed) / self.total if self.total else 1.0
        filled = round(self.WIDTH * finished)
        return (f"[companion] sweep {self.label} [{'#' * filled}{'.' * (self.WIDTH - filled)}] "
                f"{self.done} done ({self.from_cache} from the cache), {self.failed} failed, "
                f"{self.remaining} remaining, {time.perf_counter() - self.started:.0f} s")

    def show(self) -> None:
        if self.stream.isatty():
            print(f"\r{self.line()}", end="", file=self.stream, flush=True)
            return
        tenth = int(10 * (self.done + self.failed) / self.total) if self.total else 10
        if tenth > self._shown_tenth:
            self._shown_tenth = tenth
            print(self.line(), file=self.stream, flush=True)

    def finish(self) -> None:
        if self.stream.isatty():
            print(file=self.stream, flush=True)


def sweep_all(mode: str, paths: Paths, chapters) -> list[Outcome]:
    """Sweep every chapter that declares a grid, on one local cluster started only if some
    result is not cached; :class:`SweepFailed` after all of them if any task failed."""
    from .cluster import Workers

    with Workers() as workers:
        outcomes = [outcome for chapter in chapters
                    if (outcome := sweep_chapter(chapter, mode, paths, workers))]
    for outcome in outcomes:
        say(outcome.summary(paths))
    failures = [f"{o.chapter}: {line}" for o in outcomes for line in o.failed]
    if failures:
        raise SweepFailed(f"{len(failures)} sweep tasks failed:\n" + "\n".join(failures))
    return outcomes


# -------------------------------------------------------------------------------------------
# The outputs: the tidy table and its provenance
# -------------------------------------------------------------------------------------------
def write_outputs(chapter: Chapter, mode: str, grid, tasks: list[Task], this_run: dict,
                  library: str, paths: Paths) -> list[dict]:
    """Write the table, the frames and sweep.json (last, with the table's SHA-256) from the
    cache; return the table's rows. The provenance of the results (the workers' numerical
    environments, the CPU time of the checks) comes from the cache, ``this_run`` says what
    this run computed and where."""
    folder, cache = paths.sweeps(chapter.name), _cache(chapter.name, paths, library)
    rows, catalogue, fingerprints, seconds = [], {}, [], 0.0
    for task in tasks:
        if task.kind != "checks" or not cached(task, cache):
            continue
        result = json.loads((cache / f"{task.key}.json").read_text())
        fingerprints.append(result["fingerprint"])
        seconds += result["seconds"]
        for check in result["checks"]:
            catalogue.setdefault(check["id"], {name: check[name] for name in CATALOGUE_FIELDS})
            rows.append(table_row(task, check))
    columns = [*grid.axes, *TABLE_COLUMNS]
    text = io.StringIO()
    writer = csv.DictWriter(text, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({**row, **{axis: parameter_text(row[axis]) for axis in grid.axes}}
                     for row in rows)
    _write(folder / "table.csv", text.getvalue().encode())
    frames = _write_frames([task for task in tasks if task.kind == "frame"], cache,
                           folder / "frames")
    record = {"chapter": chapter.name, "mode": mode,
              "command": f"python -m companion sweep {chapter.name} --mode {mode}",
              "grid": dataclasses.asdict(grid), "seeds": sorted({t.seed for t in tasks}),
              "tasks": len(tasks), "this_run": this_run, "checks_cpu_s": round(seconds, 1),
              "worker_fingerprints": _distinct(fingerprints),
              **git_state(), "library": library,
              "versions": {name: metadata.version(name) for name in ("dask", "distributed")},
              "checks": catalogue, "frames": frames,
              "table": {"file": "table.csv", "sha256": sha256(folder / "table.csv")}}
    _write(folder / "sweep.json", json.dumps(record, indent=1, default=list).encode())
    return rows


def table_row(task: Task, check: dict) -> dict:
    """One row of the tidy table: the point's parameters, the seed and the check's verdict."""
    return {**task.point, "seed": task.seed, "id": check["id"], "name": check["name"],
            "kind": check["kind"], "value": check["worst"], "op": check["op"],
            "bound": check["bound"], "passed": check["passed"], "in_scope": check["in_scope"],
            "known_failure": bool(check["known_failure"])}


def _write_frames(frames: list[Task], cache: Path, folder: Path) -> list[dict]:
    """Copy the cached frames to ``folder`` in the order of the explore axis."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    written = []
    for index, task in enumerate(frames):
        if cached(task, cache):
            shutil.copyfile(cache / f"{task.key}.png", folder / f"frame-{index:02d}.png")
            (value,) = task.point.values()
            written.append({"value": parameter_text(value),
                            "file": f"frames/frame-{index:02d}.png"})
    return written


def in_scope_failures(rows: list[dict]) -> list[str]:
    """Every check that fails inside its declared scope and is not a known failure."""
    return [f"{row['id']} {row['name']} at " + ", ".join(
                f"{name}={parameter_text(row[name])}" for name in row
                if name not in TABLE_COLUMNS) + f", seed {row['seed']}: {row['value']:.4g} "
            f"{row['op']} {row['bound']:.4g} fails"
            for row in rows if row["in_scope"] and not row["passed"] and not row["known_failure"]]


@dataclass(frozen=True)
class Swept:
    """A chapter's last sweep as written: its record (sweep.json) and its table's rows."""

    record: dict
    rows: list
    folder: Path


def load_sweep(chapter: str, paths: Paths) -> Swept | None:
    """The chapter's last complete sweep, or None if it has none (or its table is not the one
    its record names)."""
    folder = paths.sweeps(chapter)
    try:
        record = json.loads((folder / "sweep.json").read_text())
        table = folder / record["table"]["file"]
        if sha256(table) != record["table"]["sha256"]:
            return None
        with table.open(newline="") as stream:
            rows = [_typed(row) for row in csv.DictReader(stream)]
    except (OSError, ValueError, KeyError):
        return None
    return Swept(record, rows, folder)


def _typed(row: dict) -> dict:
    """A row of table.csv with its numbers and booleans (parameters stay as written)."""
    flags = {name: row[name] == "True" for name in ("passed", "in_scope", "known_failure")}
    return {**row, **flags, "seed": int(row["seed"]), "value": float(row["value"]),
            "bound": float(row["bound"])}
