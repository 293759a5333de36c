"""Run a chapter: validate, convert, execute in a kernel, publish atomically, cache by content.

The path of one run (the layout is `companion.pipeline.paths`):

    notebooks/<chapter>.py  --jupytext-->  build/notebooks/<chapter>.ipynb
        --papermill (cwd = repo root)-->   build/staging/<chapter>-XXXX/  (notebook + results)
        --on success, replace-->           book/chapters/<chapter>.ipynb, build/results/<chapter>/

Nothing is written to the published places until the kernel has finished without error, so a
bad parameter, a chapter that raises or an interrupted run leaves the last good outputs as they
were. A run whose inputs (chapter source, library source, mode, parameters, locked versions)
hash to the key of the published results is skipped without starting a kernel.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..numerics import pinned_environment
from .paths import RESULTS_ENV, Paths
from .registry import Chapter, make_config

EXECUTION_RECORD = "execution.json"


class ChapterFailed(RuntimeError):
    """A chapter raised, or finished without writing its claims and provenance."""


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
    digest = hashlib.sha256()
    library = sorted(paths.library.rglob("*.py"))
    for path in [paths.source(chapter.name), *library, paths.lock_file]:
        digest.update(str(paths.relative(path)).encode())
        digest.update(path.read_bytes() if path.exists() else b"<missing>")
    digest.update(json.dumps({"mode": mode, "overrides": overrides}, sort_keys=True,
                             default=list).encode())
    return digest.hexdigest()


def read_execution(chapter: Chapter, paths: Paths) -> dict | None:
    """The execution record of the published results, or None if there are none."""
    record = paths.results(chapter.name) / EXECUTION_RECORD
    return json.loads(record.read_text()) if record.exists() else None


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


def _describe_failure(chapter: Chapter, error, staged: Path) -> str:
    """Name the chapter, the cell and the exception of a papermill failure."""
    import nbformat

    cell_text = ""
    with contextlib.suppress(Exception):
        notebook = nbformat.read(staged, as_version=4)
        for index, cell in enumerate(notebook.cells):
            if cell.get("metadata", {}).get("papermill", {}).get("exception"):
                first_line = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
                cell_text = f"cell {index} (`{first_line[:80]}`)"
                break
    where = cell_text or f"cell with execution count {getattr(error, 'exec_count', '?')}"
    return (f"chapter '{chapter.name}' failed in {where}: "
            f"{getattr(error, 'ename', type(error).__name__)}: "
            f"{getattr(error, 'evalue', error)}")


def _hide_injected_parameters(notebook_path: Path) -> None:
    """Hide papermill's injected-parameters cell: the chapter's rerun box says the same."""
    import nbformat

    notebook = nbformat.read(notebook_path, as_version=4)
    for cell in notebook.cells:
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = [*tags, "remove-cell"]
    nbformat.write(notebook, notebook_path)


def _publish(chapter: Chapter, staged_notebook: Path, staged_results: Path, paths: Paths) -> None:
    """Replace the published notebook and results with the staged ones, each by a rename."""
    _hide_injected_parameters(staged_notebook)
    results = paths.results(chapter.name)
    previous = results.with_name(results.name + ".previous")
    shutil.rmtree(previous, ignore_errors=True)
    results.parent.mkdir(parents=True, exist_ok=True)
    if results.exists():
        results.rename(previous)
    staged_results.rename(results)
    shutil.rmtree(previous, ignore_errors=True)
    executed = paths.executed(chapter.name)
    executed.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged_notebook, executed)


def run_chapter(chapter: Chapter, mode: str = "quick", overrides: dict | None = None,
                force: bool = False, paths: Paths | None = None) -> Execution:
    """Execute one chapter, or reuse its published results if nothing it depends on changed.

    Raises ``ParameterError`` before any kernel starts, and :class:`ChapterFailed` (with the
    chapter, the cell and the exception) if the notebook raises; in both cases the published
    outputs are untouched.
    """
    import papermill

    paths = paths or Paths(Path.cwd())
    overrides = dict(overrides or {})
    config = make_config(chapter, mode, overrides)  # raises ParameterError: nothing touched yet
    typed_overrides = {name: getattr(config, name) for name in overrides}
    key = cache_key(chapter, mode, typed_overrides, paths)
    published = read_execution(chapter, paths)
    if (not force and published and published["cache_key"] == key
            and paths.executed(chapter.name).exists()):
        return Execution(chapter.name, mode, "cached", published["wall_s"], chapter.budget_s, key)

    paths.staging_root.mkdir(parents=True, exist_ok=True)
    # A folder of its own per run, so two runs of one chapter never write into each other.
    staging = Path(tempfile.mkdtemp(prefix=f"{chapter.name}-", dir=paths.staging_root))
    staged_results = staging / "results"
    staged_results.mkdir(parents=True)
    staged_notebook = staging / f"{chapter.name}.ipynb"
    source = convert(chapter, paths)
    started = time.perf_counter()
    with _environment(**{RESULTS_ENV: str(staged_results), **pinned_environment()}):
        try:
            papermill.execute_notebook(
                str(source), str(staged_notebook),
                parameters={"mode": mode, "overrides": typed_overrides},
                kernel_name="python3", cwd=str(paths.root), progress_bar=False)
        except papermill.PapermillExecutionError as error:
            message = _describe_failure(chapter, error, staged_notebook)
            _record_failure(chapter, mode, message, paths)
            raise ChapterFailed(message + _untouched(chapter, paths, staged_notebook)) from None
    wall_s = round(time.perf_counter() - started, 2)
    missing = [name for name in ("claims.json", "provenance.json")
               if not (staged_results / name).exists()]
    if missing:
        message = (f"chapter '{chapter.name}' finished without writing {', '.join(missing)}: "
                   "its last cell must call run.finish()")
        _record_failure(chapter, mode, message, paths)
        raise ChapterFailed(message + _untouched(chapter, paths, staged_notebook))
    execution = Execution(chapter.name, mode, "executed", wall_s, chapter.budget_s, key)
    (staged_results / EXECUTION_RECORD).write_text(json.dumps(execution.__dict__, indent=1))
    _publish(chapter, staged_notebook, staged_results, paths)
    shutil.rmtree(staging)
    paths.failure(chapter.name).unlink(missing_ok=True)
    return execution


def _untouched(chapter: Chapter, paths: Paths, staged_notebook: Path) -> str:
    return (f"\nThe last good outputs ({paths.relative(paths.executed(chapter.name))}, "
            f"{paths.relative(paths.results(chapter.name))}/) are untouched; "
            f"the failed notebook is {paths.relative(staged_notebook)}.")


def _record_failure(chapter: Chapter, mode: str, message: str, paths: Paths) -> None:
    """Leave a failure record so that the book marks the chapter failed, not current."""
    record = paths.failure(chapter.name)
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"chapter": chapter.name, "mode": mode, "error": message}))
