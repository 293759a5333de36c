"""The numerical environment every run of the book pins, set in one place.

Environment variables that BLAS and OpenMP read once, when numpy or torch is first imported:
one thread each, because the matrices of these chapters are small and on two cores one thread
is far faster (and a run's rounding does not depend on the thread count). ``companion``'s
``__init__`` applies them, so any ``import companion...`` before numpy and torch pins them;
the pipeline passes the same values to every kernel it starts.
"""

import os

PINNED_ENVIRONMENT = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def pin_environment() -> None:
    """Set the pinned variables unless the caller already chose a value."""
    for name, value in PINNED_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
