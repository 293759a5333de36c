"""Run a chapter: validate, estimate, lock, convert, execute in a kernel, publish, cache by content.

The path of one run (the layout is `companion.pipeline.paths`):

    notebooks/<chapter>.py  --jupytext-->  build/notebooks/<chapter>.ipynb
        --papermill (cwd = repo root)-->   build/staging/<chapter>-XXXX/  (notebook + results)
        --on success, publish-->           book/chapters/<chapter>.ipynb, build/results/<chapter>/

Bad parameters, and a run whose estimated memory or time exceeds the limits (:class:`Limits`),
are refused before any kernel starts. Nothing is written to the published places until the
kernel has finished without error, and then the notebook and the results are published as one
unit (`companion.pipeline.publish`), so a chapter that raises, a kernel that dies or times out,
a full disk or an interrupted run leaves the last good outputs as they were; the staging folder
is removed, and the failed notebook and the reason are kept in ``build/failures/``. A run whose
inputs (chapter source, library source, mode, parameters, locked versions) hash to the key of
the published run, and whose published files hash to its record, is served without a kernel.
One run of a chapter at a time: a second one waits for the first, saying who holds the lock.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..numerics import pinned_environment
from ..params import ParameterError
from ..progress import PROGRESS_ENV
from .paths import DOWNLOADS_FROM_CHAPTER_PAGE, RESULTS_ENV, Paths
from .publish import InvalidPublish, check_files, publish, read_record
from .registry import Chapter, make_config
from .tables import verdict_admonition

BUDGET_FACTOR = 2.0  # a quick run over this many times its budget has failed
PAPER_TIMEOUT_S = 12 * 3600.0  # paper mode: the longest chapter is estimated at a few hours
KERNEL_MEMORY_BYTES = 0.6 * 2**30  # a kernel with torch, numpy and matplotlib, before any array
GIB = 2**30
PAPERMILL_TAGS = {"injected-parameters", "papermill-error-cell-tag"}  # cells not in the source


class ChapterFailed(RuntimeError):
    """A chapter raised, its kernel died or timed out, it did not finish, or it could not be
    published."""


class RunRefused(ParameterError):
    """A run whose estimated memory or time exceeds the limits: refused before any kernel."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a chapter run; the message says what was left as it was."""


@dataclass(frozen=True)
class Limits:
    """How long a run may take and how much memory it may use; ``None`` means the default.

    Time: in quick mode :data:`BUDGET_FACTOR` times the chapter's budget (a slower run fails the
    build anyway); in paper mode :data:`PAPER_TIMEOUT_S`. Memory: what the machine has available
    when the run starts. A run estimated to exceed either is refused; one that runs past the
    time limit is stopped.
    """

    timeout_s: float | None = None
    memory_bytes: float | None = None


@dataclass(frozen=True)
class Execution:
    """What happened to one chapter: executed, cached (no kernel started) or failed."""

    chapter: str
    mode: str
    status: str
    wall_s: float
    budget_s: float
    cache_key: str
    error: str = ""


def cache_key(chapter: Chapter, mode: str, overrides: dict, paths: Paths) -> str:
    """SHA-256 of everything a chapter's outputs depend on.

    The chapter source, every file of the library, the mode, the parameters and the lock file
    of pinned versions: change any of them and the chapter runs again.
    """
    digest = content_digest(paths, paths.source(chapter.name))
    digest.update(json.dumps({"mode": mode, "overrides": overrides}, sort_keys=True,
                             default=list).encode())
    return digest.hexdigest()


def content_digest(paths: Paths, *sources: Path):
    """SHA-256 (a hashlib object, to add to) of ``sources``, every file of the library and the
    lock file, each by its path and content: what any computation of the book depends on."""
    digest = hashlib.sha256()
    library = sorted(paths.library.rglob("*.py"))
    for path in [*sources, *library, paths.lock_file]:
        digest.update(str(paths.relative(path)).encode())
        digest.update(path.read_bytes() if path.exists() else b"<missing>")
    return digest


def time_limit(chapter: Chapter, mode: str, limits: Limits) -> tuple[float, str]:
    """The time limit of a run, and where it comes from (for messages)."""
    if limits.timeout_s is not None:
        return limits.timeout_s, "set by --timeout"
    if mode == "quick":
        return (BUDGET_FACTOR * chapter.budget_s,
                f"quick mode: {BUDGET_FACTOR:g}x the chapter's budget of {chapter.budget_s:g} s")
    return PAPER_TIMEOUT_S, "the paper-mode default"


def available_memory() -> float:
    """Bytes the machine can give a new process now (Linux ``MemAvailable``)."""
    with contextlib.suppress(OSError, StopIteration, ValueError):
        with open("/proc/meminfo") as meminfo:
            line = next(line for line in meminfo if line.startswith("MemAvailable:"))
        return float(line.split()[1]) * 1024
    return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


def check_limits(chapter: Chapter, config, mode: str, limits: Limits) -> tuple[float, str]:
    """Refuse (:class:`RunRefused`) a run whose estimate exceeds the limits; return its time
    limit and where that comes from.

    The estimate is the configuration's own (``Config.estimate()``, from its sizes); the
    message says it and how to lift the limit. Memory is checked first: a run that cannot fit
    is not helped by a longer time limit, so that is the limit to name.
    """
    estimate = config.estimate()
    needed = estimate.memory_bytes + KERNEL_MEMORY_BYTES
    allowed = limits.memory_bytes if limits.memory_bytes is not None else available_memory()
    if needed > allowed:
        where = "allowed by --memory-limit" if limits.memory_bytes is not None else "available"
        raise RunRefused(
            f"chapter '{chapter.name}' ({mode} mode) is estimated to need {needed / GIB:.1f} GiB "
            f"of memory, more than the {allowed / GIB:.1f} GiB {where}: use smaller sizes, or "
            f"pass --memory-limit {math.ceil(needed / GIB)} (GiB) to run it anyway")
    timeout_s, source = time_limit(chapter, mode, limits)
    if estimate.seconds > timeout_s:
        raise RunRefused(
            f"chapter '{chapter.name}' ({mode} mode) is estimated to take "
            f"{_duration(estimate.seconds)}, over its time limit of {_duration(timeout_s)} "
            f"({source}): use smaller sizes, or pass --timeout "
            f"{math.ceil(2 * estimate.seconds)} to run it anyway")
    return timeout_s, source


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 3600 else f"{seconds / 3600:.1f} h"


def convert(chapter: Chapter, paths: Paths) -> Path:
    """jupytext: the py:percent source to an .ipynb that papermill can read."""
    import jupytext

    notebook = jupytext.read(paths.source(chapter.name))
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    target = paths.converted(chapter.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    jupytext.write(notebook, target)
    return target


@contextlib.contextmanager
def _environment(**variables: str):
    """Set environment variables for the kernel papermill starts, then restore them."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def chapter_lock(chapter: str, paths: Paths):
    """Hold the chapter's lock file; if another run holds it, say who and wait for it."""
    lock = paths.lock(chapter)
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another run"
            say(f"{chapter}: waiting for {holder}, which holds {paths.relative(lock)}")
            fcntl.flock(handle, fcntl.LOCK_EX)
        handle.truncate(0)
        handle.write(f"pid {os.getpid()} ({' '.join(sys.argv)}), since "
                     f"{time.strftime('%H:%M:%S')}\n")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)


def say(line: str) -> None:
    """One line of progress on stderr, beside the chapter results on stdout."""
    print(f"[companion] {line}", file=sys.stderr, flush=True)


def run_chapter(chapter: Chapter, mode: str = "quick", overrides: dict | None = None,
                force: bool = False, paths: Paths | None = None,
                limits: Limits = Limits()) -> Execution:
    """Execute one chapter, or serve its published run if nothing it depends on changed.

    Raises ``ParameterError`` (or :class:`RunRefused`) before any kernel starts,
    :class:`ChapterFailed` (naming the chapter, the cell and the cause) if the run fails and
    :class:`Interrupted` on Ctrl-C; in all of these cases the published outputs are untouched.
    """
    paths = paths or Paths.checkout(Path.cwd())
    overrides = dict(overrides or {})
    config = make_config(chapter, mode, overrides)  # raises ParameterError: nothing touched yet
    time_allowed = check_limits(chapter, config, mode, limits)
    typed_overrides = {name: getattr(config, name) for name in overrides}
    try:
        key = cache_key(chapter, mode, typed_overrides, paths)
        with chapter_lock(chapter.name, paths):
            cached = None if force else _cached(chapter, key, paths)
            if cached:
                _remove_failure(chapter, paths)
                return cached
            return _execute(chapter, mode, typed_overrides, key, time_allowed, paths)
    except OSError as error:
        raise ChapterFailed(_os_failure(chapter, error, paths)) from None


def _cached(chapter: Chapter, key: str, paths: Paths) -> Execution | None:
    """The published run if its inputs hash to ``key`` and its files to its record; else None,
    with a note when the published run is damaged (not when it is merely out of date)."""
    if not paths.results(chapter.name).exists() and not paths.executed(chapter.name).exists():
        return None
    try:
        record = read_record(chapter.name, paths)
        if record["cache_key"] != key:
            return None
        check_files(record, chapter.name, paths)
    except InvalidPublish as problem:
        say(f"{chapter.name}: executing again: {problem}")
        return None
    return Execution(chapter.name, record["mode"], "cached", record["wall_s"], chapter.budget_s,
                     key)


def _execute(chapter: Chapter, mode: str, overrides: dict, key: str,
             time_allowed: tuple[float, str], paths: Paths) -> Execution:
    """Execute in a fresh staging folder and publish. On failure keep the notebook and the
    reason in build/failures/; in every case remove the staging folder."""
    for leftover in paths.staging_root.glob(f"{chapter.name}-*"):  # of runs that were killed
        shutil.rmtree(leftover, ignore_errors=True)
    paths.staging_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{chapter.name}-", dir=paths.staging_root))
    staged_notebook = staging / f"{chapter.name}.ipynb"
    try:
        wall_s = _run_kernel(chapter, mode, overrides, time_allowed, staging, paths)
        execution = Execution(chapter.name, mode, "executed", wall_s, chapter.budget_s, key)
        publish(chapter.name, staged_notebook, staging / "results",
                dataclasses.asdict(execution), paths)
    except (ChapterFailed, OSError) as error:
        message = str(error) if isinstance(error, ChapterFailed) else _os_failure(
            chapter, error, paths)
        raise ChapterFailed(_record_failure(chapter, mode, message, staged_notebook,
                                            paths)) from None
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted: chapter '{chapter.name}' stopped; its published "
                          "outputs are untouched") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _remove_failure(chapter, paths)
    return execution


def _run_kernel(chapter: Chapter, mode: str, overrides: dict, time_allowed: tuple[float, str],
                staging: Path, paths: Paths) -> float:
    """papermill in a fresh kernel, stopped at the time limit; the wall time, or
    :class:`ChapterFailed` naming the cell and the cause."""
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    source = convert(chapter, paths)
    staged_results = staging / "results"
    staged_results.mkdir()
    staged_notebook = staging / f"{chapter.name}.ipynb"
    timeout_s, limit_source = time_allowed
    deadline = time.monotonic() + timeout_s
    started = time.perf_counter()
    # progress bars on the terminal in paper mode only (companion.progress); never in quick mode
    progress = chapter.name if mode == "paper" else ""
    with _environment(**{RESULTS_ENV: str(staged_results), PROGRESS_ENV: progress,
                         **pinned_environment()}):
        try:
            papermill.execute_notebook(
                str(source), str(staged_notebook),
                parameters={"mode": mode, "overrides": as_kernel_parameters(overrides)},
                kernel_name="python3", cwd=str(paths.root), progress_bar=False,
                # one deadline for the whole notebook: each cell gets what is left of it
                timeout_func=lambda cell: max(deadline - time.monotonic(), 0.1),
                # the kernel's own log (e.g. its complaints while being shut down) is noise
                extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
        except papermill.PapermillExecutionError as error:
            raise ChapterFailed(_describe_failure(chapter, error, staged_notebook)) from None
        except CellTimeoutError:
            raise ChapterFailed(
                f"chapter '{chapter.name}' timed out {_last_cell(staged_notebook)}: "
                f"stopped at its time limit of {_duration(timeout_s)} ({limit_source})") from None
        except DeadKernelError:
            raise ChapterFailed(
                f"chapter '{chapter.name}': its kernel died {_last_cell(staged_notebook)}: "
                "killed (out of memory, or kill -9) or exited") from None
        except RuntimeError as error:  # e.g. a kernel that does not start
            raise ChapterFailed(f"chapter '{chapter.name}': its kernel failed: {error}") from None
    wall_s = round(time.perf_counter() - started, 2)
    missing = [name for name in ("claims.json", "provenance.json")
               if not (staged_results / name).exists()]
    if missing:
        raise ChapterFailed(f"chapter '{chapter.name}' finished without writing "
                            f"{', '.join(missing)}: its last cell must call run.finish()")
    _prepare_page(staged_notebook, staged_results, wall_s)
    return wall_s


def as_kernel_parameters(overrides: dict) -> dict:
    """The overrides as papermill can inject them: it writes parameters into the notebook as
    Python source, but a tuple as the string of its repr (``'(1.0, 0.7)'``), which the chapter
    would then read as one malformed number. A list it writes as a list, which the chapter's
    configuration turns back into the declared tuple."""
    return {name: list(value) if isinstance(value, tuple) else value
            for name, value in overrides.items()}


def _source_cells(staged_notebook: Path) -> list[tuple[str, dict]]:
    """Each cell of the chapter's source as papermill last saved it: its name (position in the
    source and first line) and papermill's record of it (start time, exception). The cells
    papermill adds (injected parameters, error banners) are left out."""
    import nbformat

    try:
        cells = nbformat.read(staged_notebook, as_version=4).cells
    except Exception:  # missing, or cut short by the failure
        cells = []
    source = [cell for cell in cells if not PAPERMILL_TAGS & set(cell.metadata.get("tags", []))]
    return [(f"cell {index} (`{(cell.source.strip().splitlines() or [''])[0][:80]}`)",
             cell.metadata.get("papermill", {})) for index, cell in enumerate(source)]


def _last_cell(staged_notebook: Path) -> str:
    """Where the kernel was when it died or timed out: in the last cell papermill started."""
    started = [name for name, state in _source_cells(staged_notebook) if state.get("start_time")]
    return f"in {started[-1]}" if started else "before its first cell"


def _describe_failure(chapter: Chapter, error, staged_notebook: Path) -> str:
    """Name the chapter, the cell and the exception of a papermill failure."""
    failed = [name for name, state in _source_cells(staged_notebook) if state.get("exception")]
    where = failed[0] if failed else (
        f"cell with execution count {getattr(error, 'exec_count', '?')}")
    return (f"chapter '{chapter.name}' failed in {where}: "
            f"{getattr(error, 'ename', type(error).__name__)}: "
            f"{getattr(error, 'evalue', error)}")


def _os_failure(chapter: Chapter, error: OSError, paths: Paths) -> str:
    """One line for an operating-system error, naming the file; a full disk says so."""
    where = ""
    if error.filename:
        file = Path(error.filename)
        where = f" writing {paths.relative(file) if file.is_relative_to(paths.root) else file}"
    if error.errno == errno.ENOSPC:
        return (f"chapter '{chapter.name}': the disk is full{where}: free some space "
                f"(build/ holds only outputs that a run rebuilds) and run it again")
    return f"chapter '{chapter.name}' could not be run or published: {error}"


def _prepare_page(notebook_path: Path, results: Path, wall_s: float) -> None:
    """Make the executed notebook the chapter's page: hide papermill's injected-parameters cell
    (the rerun box says the same), number and caption the figures
    (:func:`record.figure_cells`) and put the verdict of the run under the title."""
    import nbformat

    from .record import figure_cells

    notebook = nbformat.read(notebook_path, as_version=4)
    figure_cells(notebook)
    for cell in notebook.cells:
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = [*tags, "remove-cell"]
    claims = json.loads((results / "claims.json").read_text())
    provenance = json.loads((results / "provenance.json").read_text())
    box = verdict_admonition(claims, provenance, wall_s,
                             f"{DOWNLOADS_FROM_CHAPTER_PAGE}/{claims['chapter']}")
    title = next((cell for cell in notebook.cells
                  if cell.cell_type == "markdown" and cell.source.startswith("# ")), None)
    if title is None:
        notebook.cells.insert(0, nbformat.v4.new_markdown_cell(box))
    else:
        heading, _, text = title.source.partition("\n")
        title.source = f"{heading}\n\n{box}\n{text}"
    nbformat.write(notebook, notebook_path)


def _record_failure(chapter: Chapter, mode: str, message: str, staged_notebook: Path,
                    paths: Paths) -> str:
    """Keep the failed notebook and a failure record (so the book marks the chapter failed, not
    current); return the message with where the outputs are. On a full disk, keep what fits."""
    record, notebook = paths.failure(chapter.name), paths.failed_notebook(chapter.name)
    kept = ""
    with contextlib.suppress(OSError):
        record.parent.mkdir(parents=True, exist_ok=True)
        if staged_notebook.exists():
            os.replace(staged_notebook, notebook)
            kept = f"; the failed notebook is {paths.relative(notebook)}"
        record.write_text(json.dumps({"chapter": chapter.name, "mode": mode, "error": message}))
    return (f"{message}\nThe last good outputs ({paths.relative(paths.executed(chapter.name))}, "
            f"{paths.relative(paths.results(chapter.name))}/) are untouched{kept}.")


def _remove_failure(chapter: Chapter, paths: Paths) -> None:
    paths.failure(chapter.name).unlink(missing_ok=True)
    paths.failed_notebook(chapter.name).unlink(missing_ok=True)


def read_failure(chapter: str, paths: Paths) -> str | None:
    """The error of the chapter's last run if it failed (None if it did not)."""
    record = paths.failure(chapter)
    if not record.exists():
        return None
    try:
        return str(json.loads(record.read_text())["error"])
    except (OSError, ValueError, KeyError, TypeError):
        return f"its failure record {paths.relative(record)} is unreadable"
