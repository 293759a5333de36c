"""Plotting helpers shared by the chapters: a figure at the book's width, reference lines,
across-seed bands (median and min-max) and network diagrams."""

from dataclasses import dataclass

import matplotlib
import numpy as np


def figure(height: float, panels=(1, 1), **options):
    """A figure as wide as the book's style makes every figure (the page's column), ``height``
    inches tall, and its axes: ``panels`` is a grid shape ``(rows, cols)`` (axes as from
    ``Figure.subplots``) or a mosaic such as ``"ab;cc"`` (a dict of axes by letter).

    The figure lives outside pyplot, so nothing shows it until the chapter records it: a
    figure drawn over several cells, with prose between them, is shown once, complete.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(matplotlib.rcParams["figure.figsize"][0], height))
    if isinstance(panels, str):
        return fig, fig.subplot_mosaic(panels, **options)
    return fig, fig.subplots(*panels, **options)


def reference_lines(ax, values, labels=(), colors="0.5", axis="y", **line_options) -> None:
    """A dashed line across ``ax`` at each of ``values`` (horizontal, or vertical with
    ``axis="x"``): levels, thresholds, predicted times. ``labels`` name them in the legend;
    ``colors`` is one colour or one per value; ``line_options`` override the dashed grey."""
    values = np.atleast_1d(values)
    colors = [colors] * len(values) if isinstance(colors, str) else list(colors)
    labels = list(labels) + [None] * (len(values) - len(labels))
    draw = ax.axhline if axis == "y" else ax.axvline
    for value, color, label in zip(values, colors, labels):
        draw(value, color=color, label=label, **{"ls": "--", "lw": 0.8, **line_options})


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


ROLE_COLORS = {"input": "0.75", "hidden": "0.75", "output": "0.75", "signal": "C0",
               "constant": "C1"}


def network_diagram(ax, roles: list[list[str]], weights: list[np.ndarray], title: str) -> dict:
    """Draw a fully connected net: a circle per neuron, coloured by role, and a line per nonzero
    weight, so zero weights (a constant neuron's inputs, an identity signal matrix) show as gaps.

    ``roles[l]`` lists the roles of layer l's neurons (see ``lifting.neuron_roles``);
    ``weights[l]`` is the ``(m_{l+1}, m_l)`` matrix from layer l to layer l + 1. Returns the
    drawn structure: the widths, each neuron's role index in :data:`ROLE_COLORS`, and the number
    of edges between consecutive layers.
    """
    def height(layer: int, i: int) -> float:
        return i - (len(roles[layer]) - 1) / 2

    edges = []
    for layer, w in enumerate(weights):
        rows, cols = np.nonzero(np.asarray(w))
        for j, i in zip(rows, cols):
            ax.plot([layer, layer + 1], [height(layer, i), height(layer + 1, j)], color="0.55",
                    lw=0.7, zorder=1)
        edges.append(len(rows))
    for layer, layer_roles in enumerate(roles):
        for i, role in enumerate(layer_roles):
            ax.scatter(layer, height(layer, i), s=160, color=ROLE_COLORS[role], edgecolor="k",
                       zorder=2)
    for role in ("signal", "constant"):
        if any(role in layer_roles for layer_roles in roles):
            ax.scatter([], [], s=60, color=ROLE_COLORS[role], edgecolor="k", label=role)
    ax.set_title(title)
    ax.set_axis_off()
    ax.margins(0.15)
    role_index = {role: k for k, role in enumerate(ROLE_COLORS)}
    return {"widths": np.array([len(r) for r in roles]),
            "roles": np.array([role_index[role] for r in roles for role in r]),
            "edges": np.array(edges)}
