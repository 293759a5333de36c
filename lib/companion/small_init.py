"""Stage times of gradient descent from a small initialisation on a factorised model.

Linearised at zero, a mode of strength sigma (an eigenvalue of X* in matrix sensing, a singular
value of a fully observed block in matrix completion) grows by a factor (1 + eta sigma) per step
in each factor, so its value alpha^2 (1 + eta sigma)^(2t) reaches sigma at

    t^(sigma) = ln(sigma / alpha^2) / (2 ln(1 + eta sigma)),

and the nonlinear dynamics reach sigma / 2 at about that step (Jin et al., ICML 2023, Section 4;
the incremental-rank chapter's "Stage times"). Shared by the incremental-rank and connectivity
chapters.
"""

import numpy as np


def predicted_stage_time(sigma, alpha: float, learning_rate: float):
    """t^(sigma) = ln(sigma / alpha^2) / (2 ln(1 + eta sigma)), counted from t = 0."""
    sigma = np.asarray(sigma, dtype=np.float64)
    return np.log(sigma / alpha**2) / (2 * np.log1p(learning_rate * sigma))


def stage_time(values: np.ndarray, level: float, steps: np.ndarray | None = None):
    """The first step at which ``values`` (along axis 0) reach ``level / 2``, NaN if never: the
    measured time of a stage whose mode ends at ``level``."""
    values = np.asarray(values)
    steps = np.arange(len(values)) if steps is None else np.asarray(steps)
    reached = values >= level / 2
    return np.where(reached.any(axis=0), steps[np.argmax(reached, axis=0)], np.nan)
