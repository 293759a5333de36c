"""Where the benchmark scripts write: one section each of ``benchmarks/results.md``.

Each script owns the section between its markers and rewrites only that, headed by the machine,
the date and the commit it measured, so the file always says what was measured where.
"""

from __future__ import annotations

import os
import platform
import re
import resource
import time
from pathlib import Path

from companion.pipeline.record import git_state

RESULTS = Path(__file__).with_name("results.md")
HEADER = ("# Benchmarks\n\nEach section is written by the script it names "
          "(`make benchmark` runs `chapters.py`); times are CPU seconds unless a column says "
          "wall, measured on a machine shared with other work, so every comparison is "
          "interleaved in one run.\n")


def measured_on(what: str) -> str:
    """One line: machine, cores, date, commit (dirty or not), and what was measured."""
    git = git_state()
    return (f"Measured on {platform.machine()}, {os.cpu_count()} cores, "
            f"{time.strftime('%Y-%m-%d')}, at commit {git['commit'][:12]}"
            f"{' (with uncommitted changes)' if git['dirty'] else ''}; {what}")


def write_section(script: str, title: str, lines: list[str]) -> None:
    """Replace (or append) the section of ``script`` in results.md and print it."""
    start, end = f"<!-- {script}: start -->", f"<!-- {script}: end -->"
    body = "\n".join([start, f"## {title}", "", f"Written by `benchmarks/{script}`.", "",
                      *lines, end])
    print(body)
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    if start in text:
        text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: body, text,
                      flags=re.DOTALL)
    else:
        text = text.rstrip("\n") + "\n\n" + body + "\n"
    RESULTS.write_text(text)


def children_cpu() -> float:
    """CPU seconds (user + system) of the child processes waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def best_cpu(action, repeat: int) -> float:
    """The least disturbed CPU time of ``action()`` in this process, over ``repeat`` runs."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        action()
        best = min(best, time.process_time() - started)
    return best
