"""Plotting helpers shared by chapters: across-seed bands (issue 5, item 7)."""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Band:
    """The median and the min-max envelope of several curves, as plotted by :func:`band`."""

    median: np.ndarray
    low: np.ndarray
    high: np.ndarray

    def data(self, prefix: str) -> dict:
        """``{prefix_median, prefix_min, prefix_max}``: the arrays for ``run.figure(data=...)``."""
        return {f"{prefix}_median": self.median, f"{prefix}_min": self.low,
                f"{prefix}_max": self.high}


def stacked_data(bands, prefix: str) -> dict:
    """Like :meth:`Band.data` for several bands at once, one row per band (in the given order)."""
    rows = [b.data(prefix) for b in bands]
    return {key: np.array([row[key] for row in rows]) for key in rows[0]}


def band(ax, x, curves, label=None, color=None, **line_options) -> Band:
    """Plot the median of ``curves`` over seeds as a line and their min-max range as a fill.

    ``curves`` has one row per seed, one column per ``x``. The line and the shading share
    ``color``; ``line_options`` go to the line (``ls``, ``lw``, ...). The axis scale is the
    caller's (on a log axis the curves must be positive). Returns the plotted arrays.
    """
    curves = np.asarray(curves, dtype=float)
    result = Band(np.median(curves, axis=0), curves.min(axis=0), curves.max(axis=0))
    (line,) = ax.plot(x, result.median, color=color, label=label, **line_options)
    ax.fill_between(x, result.low, result.high, color=line.get_color(), alpha=0.25, lw=0)
    return result
