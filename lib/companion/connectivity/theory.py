"""Closed-form predictions of the chapter: stage times and the rank-contamination exponent.

Both come from linearising GD at W = 0 (chapter sections "Stages in the disconnected case" and
"Beyond the paper: how small is small enough?"): near zero, the singular pair of P * M* with
singular value s grows by a factor (1 + eta s) per step in each factor, so by (1 + eta s)^2 per
step in W.
"""

from __future__ import annotations

import numpy as np


def contamination_exponent(s1, s2, learning_rate: float):
    """kappa = 2 (1 - ln(1 + eta s2) / ln(1 + eta s1)): once mode 1 has fitted the data (after
    about ln(s1 / alpha^2) / (2 ln(1 + eta s1)) steps), mode 2 has grown from alpha^2 by the
    factor (1 + eta s2)^2 per step and freezes, at sigma_2(W_inf) proportional to alpha^kappa.
    Its gradient-flow limit is 2 (1 - s2 / s1)."""
    return 2 * (1 - np.log1p(learning_rate * np.asarray(s2)) /
                np.log1p(learning_rate * np.asarray(s1)))
