"""Publish a chapter's run as one unit, and check a published run before the cache serves it.

A run leaves two things in two places: the executed notebook (``book/chapters/<chapter>.ipynb``)
and the results folder (``build/results/<chapter>/``). :func:`publish` moves both in by renames
and writes the execution record last: the cache key, the wall time and the SHA-256 of every
published file. So a publish is valid only once complete: one interrupted at any point (a killed
process, a full disk, a read-only folder) leaves no record that matches the files, and one that
fails with an exception is rolled back. :func:`read_record` and :func:`check_files` say, naming
the file, why a published run cannot be served; the pipeline then executes the chapter again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from pathlib import Path

from .paths import Paths

RECORD_FIELDS = ("chapter", "mode", "status", "wall_s", "budget_s", "cache_key", "files")


class InvalidPublish(Exception):
    """The published outputs of a chapter cannot be served: the message names the file."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def published_files(chapter: str, paths: Paths) -> list[Path]:
    """The notebook and every file of the results folder except the record itself."""
    results = sorted(path for path in paths.results(chapter).glob("*")
                     if path != paths.execution_record(chapter))
    notebook = paths.executed(chapter)
    return ([notebook] if notebook.exists() else []) + results


def read_record(chapter: str, paths: Paths) -> dict:
    """The execution record of the published run; :class:`InvalidPublish` if it is missing,
    unreadable, or not the record of this chapter."""
    path = paths.execution_record(chapter)
    name = paths.relative(path)
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        why = ("the last publish did not complete" if paths.results(chapter).exists()
               else "the chapter has not run")
        raise InvalidPublish(f"{name} is missing ({why})") from None
    except (OSError, ValueError) as error:  # ValueError: bad JSON or bad UTF-8
        raise InvalidPublish(f"{name} is unreadable ({error})") from None
    if (not isinstance(record, dict) or any(key not in record for key in RECORD_FIELDS)
            or record["chapter"] != chapter or not isinstance(record["files"], dict)):
        raise InvalidPublish(f"{name} is not a complete execution record of chapter '{chapter}'")
    return record


def check_files(record: dict, chapter: str, paths: Paths) -> None:
    """:class:`InvalidPublish` unless the published files are exactly those of the record, each
    with the recorded SHA-256."""
    listed = record["files"]
    present = {str(paths.relative(path)) for path in published_files(chapter, paths)}
    for name in sorted(set(listed) | present):
        if name not in present:
            raise InvalidPublish(f"{name} is missing")
        if name not in listed:
            raise InvalidPublish(f"{name} is not part of the published run")
        if sha256(paths.root / name) != listed[name]:
            raise InvalidPublish(f"{name} was altered after it was published")


def publish(chapter: str, staged_notebook: Path, staged_results: Path, execution: dict,
            paths: Paths) -> None:
    """Replace the published notebook and results with the staged ones, then write the record.

    Each move is a rename; if one fails, the moves already made are undone. The previous
    outputs stay beside the new ones (``.previous``) until the record is written.
    """
    results, notebook = paths.results(chapter), paths.executed(chapter)
    old_results = results.with_name(f"{results.name}.previous")
    old_notebook = notebook.with_name(f"{notebook.name}.previous")
    _remove(old_results, old_notebook)  # left by a publish that was killed
    results.parent.mkdir(parents=True, exist_ok=True)
    notebook.parent.mkdir(parents=True, exist_ok=True)
    moves = [(results, old_results), (staged_results, results),
             (notebook, old_notebook), (staged_notebook, notebook)]
    done = []
    try:
        for source, target in moves:
            if source.exists():
                os.replace(source, target)
                done.append((source, target))
        _write_record(chapter, execution, paths)
    except BaseException:
        for source, target in reversed(done):
            with contextlib.suppress(OSError):  # the record check still refuses what is left
                os.replace(target, source)
        raise
    _remove(old_results, old_notebook)


def _write_record(chapter: str, execution: dict, paths: Paths) -> None:
    """The record with the SHA-256 of every published file, written whole by a rename."""
    files = {str(paths.relative(path)): sha256(path) for path in published_files(chapter, paths)}
    record = paths.execution_record(chapter)
    partial = record.with_name(f"{record.name}.partial")
    partial.write_text(json.dumps({**execution, "files": files}, indent=1))
    os.replace(partial, record)


def _remove(*paths: Path) -> None:
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
