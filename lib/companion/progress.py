"""Progress bars for long runs: on the terminal that started the run, never in a notebook.

A chapter's loops over steps, seeds and grid points wrap their iterables in :func:`progress`.
The bars are drawn only when the environment variable ``COMPANION_PROGRESS`` is set (the
pipeline sets it, to the chapter's name, for paper-mode runs), and they go to the process's
original standard error: inside a Jupyter kernel that is the terminal of the command that
started the kernel, not the notebook's captured output, so the published notebooks stay
clean. ``COMPANION_PROGRESS_POSITION`` gives the line of the bar when several chapters run
side by side.
"""

from __future__ import annotations

import os
import sys

PROGRESS_ENV = "COMPANION_PROGRESS"
POSITION_ENV = "COMPANION_PROGRESS_POSITION"


def progress(iterable, description: str, total: int | None = None):
    """``iterable``, with a progress bar labelled by the chapter and ``description`` when
    progress is on (and the iterable itself otherwise)."""
    chapter = os.environ.get(PROGRESS_ENV)
    if not chapter:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, desc=f"{chapter}: {description}", total=total, file=sys.__stderr__,
                position=int(os.environ.get(POSITION_ENV, "0")), leave=False,
                mininterval=1.0, dynamic_ncols=True)
