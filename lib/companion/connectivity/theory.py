"""Closed-form predictions of the chapter: stage times and the rank-contamination exponent.

Both come from linearising GD at W = 0 (chapter sections "Stages in the disconnected case" and
"Beyond the paper: how small is small enough?"): near zero, the singular pair of P * M* with
singular value s grows by a factor (1 + eta s) per step in each factor, so by (1 + eta s)^2 per
step in W.
"""

from __future__ import annotations

import numpy as np


def predicted_stage_time(sigma, alpha: float, learning_rate: float):
    """t^(sigma) = ln(sigma / alpha^2) / (2 ln(1 + eta sigma)): the step at which a mode that
    starts at alpha^2 and grows by (1 + eta sigma)^2 per step reaches sigma."""
    sigma = np.asarray(sigma, dtype=float)
    return np.log(sigma / alpha**2) / (2 * np.log1p(learning_rate * sigma))


def stage_time(values: np.ndarray, level: float, steps: np.ndarray | None = None):
    """The first step at which ``values`` (along axis 0) reach ``level`` / 2 (NaN if never):
    the measured time of a stage whose mode ends at ``level``."""
    values = np.asarray(values)
    steps = np.arange(len(values)) if steps is None else np.asarray(steps)
    reached = values >= level / 2
    return np.where(reached.any(axis=0), steps[np.argmax(reached, axis=0)], np.nan)


def contamination_exponent(s1, s2, learning_rate: float):
    """kappa = 2 (1 - ln(1 + eta s2) / ln(1 + eta s1)): once mode 1 has fitted the data (after
    about ln(s1 / alpha^2) / (2 ln(1 + eta s1)) steps), mode 2 has grown from alpha^2 by the
    factor (1 + eta s2)^2 per step and freezes, at sigma_2(W_inf) proportional to alpha^kappa.
    Its gradient-flow limit is 2 (1 - s2 / s1)."""
    return 2 * (1 - np.log1p(learning_rate * np.asarray(s2)) /
                np.log1p(learning_rate * np.asarray(s1)))
