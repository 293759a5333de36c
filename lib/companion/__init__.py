"""Training Dynamics, Reproduced: the shared library behind every chapter.

One folder per chapter (``incremental_rank``, ``embedding_depth``, ``adam_spikes``), each with
its ``config.py``, its science modules and the ``experiment.py`` its notebook calls; science
shared by chapters (``spectra``, ``plotting``); the parameter rules (``params``); and the
machinery that runs and publishes chapters (``pipeline``). Nothing is imported here, so the
command line starts without torch or matplotlib; only the numerical environment is pinned,
before numpy or torch can load.
"""

from .numerics import pin_environment

pin_environment()
