"""Training Dynamics, Reproduced: the shared library behind every chapter.

Science modules (one per model): ``sensing``, ``lifting``, ``spectra``, ``adam``.
Machinery: ``chapters`` (registry, configs), ``record`` (figures, claims, provenance),
``execute`` (convert, validate, run, cache), ``regress`` (figure regression), ``style``.
"""

import os

# One BLAS thread: on 2 cores the small matrices of these chapters run far faster this way.
# It must be set before numpy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from .pipeline.record import start  # noqa: E402

__all__ = ["start"]
