"""The developer's loop, measured: `make book` with nothing changed, then `make test`.

    .venv/bin/python benchmarks/test_loop.py [--repeat 2]

Builds the book once so that it is current, then times, ``repeat`` times, a no-change
`make book` and `make test` (which builds the book again, then runs every test but the slow
group). Wall seconds and the test counts pytest reports are written to the ``test_loop.py``
section of ``benchmarks/results.md``. The slow group (`make test-all` adds it) is not timed
here: it is CI's, and its parts are in pytest's ``--durations`` report.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import time
from pathlib import Path

from report import measured_on, write_section

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 120  # make test after make book, on 2 cores


def timed(command: list[str]) -> tuple[float, str]:
    """Wall seconds of ``command`` run in the repository root, and its output; raise if it
    fails."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}{done.stderr}")
    return time.perf_counter() - started, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    repeat = parser.parse_args().repeat
    timed(["make", "book"])
    book, loop = [], []
    for _ in range(repeat):
        book.append(timed(["make", "book"])[0])
        seconds, output = timed(["make", "test"])
        loop.append(seconds)
    counts = re.search(r"(\d+ passed.*?) in [\d.]+s", output).group(1)
    median = statistics.median(loop)
    write_section("test_loop.py", "The test loop after `make book`", [
        measured_on(f"wall seconds, median of {repeat} (each run in brackets)."), "",
        "| step | wall s | |", "|---|---|---|",
        f"| `make book`, nothing changed | {statistics.median(book):.0f} "
        f"({', '.join(f'{s:.0f}' for s in book)}) | the PDF is kept while its page is unchanged |",
        f"| `make test` (the book, then pytest `-m 'not slow'`) | {median:.0f} "
        f"({', '.join(f'{s:.0f}' for s in loop)}) | {counts}; "
        f"{'under' if median < TARGET_S else 'OVER'} the {TARGET_S} s target |"])


if __name__ == "__main__":
    main()
