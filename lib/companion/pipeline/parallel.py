"""Run independent jobs side by side, one worker process per core, and collect every outcome.

``companion book`` runs its chapters this way: each chapter is one job, executed by
:func:`companion.pipeline.execute.run_chapter` in a worker process, which starts the chapter's
kernel. Processes, not threads: a run sets environment variables for the kernel it starts, and
a process has one environment. Workers are forked, so they run the code the caller imported;
the chapters' locks and atomic publishing already make runs of different chapters safe side by
side. Each worker holds one line of the terminal for progress bars
(``COMPANION_PROGRESS_POSITION``), so the bars of chapters running together do not overwrite
each other.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from ..progress import POSITION_ENV


def default_jobs() -> int:
    """One job per core this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _claim_line(counter) -> None:
    """Worker initialiser: take the next free terminal line for this worker's progress bars."""
    with counter.get_lock():
        os.environ[POSITION_ENV] = str(counter.value)
        counter.value += 1


def run_jobs(function, jobs: list, workers: int, started, finished) -> None:
    """``function(*job)`` for every job, at most ``workers`` at a time, in the order given
    (start the longest first). ``started(job)`` is called as a job is handed to a worker and
    ``finished(job, outcome)`` as it ends, with its result or the exception it raised; with one
    worker the jobs run one after another in this process."""
    if workers <= 1:
        for job in jobs:
            started(job)
            try:
                outcome = function(*job)
            except Exception as error:  # noqa: BLE001  (handed to the caller, not lost)
                outcome = error
            finished(job, outcome)
        return
    context = multiprocessing.get_context("fork")
    counter = context.Value("i", 0)
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_claim_line,
                             initargs=(counter,)) as pool:
        waiting, running = list(jobs), {}
        while waiting or running:
            while waiting and len(running) < workers:
                job = waiting.pop(0)
                started(job)
                running[pool.submit(function, *job)] = job
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                job = running.pop(future)
                error = future.exception()
                finished(job, error if error is not None else future.result())
