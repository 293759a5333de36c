"""The observation graph of a completion problem and its three categories.

Rows and columns of the d x d matrix are the nodes of a bipartite graph, and every observed
entry (i, j) is an edge between row i and column j (chapter section "Setting"). An *edge
component* is a connected component with at least one edge; a row or column without any
observation is an *isolated node*. The paper's Fig. 1 splits patterns into three groups:

- ``connected``: one edge component and no isolated node;
- ``complete``: disconnected, and every edge component (I_k, J_k) is a fully observed block,
  I_k x J_k inside the pattern;
- ``other``: disconnected with at least one edge component that is not a full block.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from math import comb

import numpy as np

CATEGORIES = ("connected", "complete", "other")


@dataclass(frozen=True)
class ObservationGraph:
    """The edge components of a mask, each as (row indices, column indices), and its category."""

    components: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]
    isolated_rows: tuple[int, ...]
    isolated_columns: tuple[int, ...]
    category: str


def observation_graph(mask: np.ndarray) -> ObservationGraph:
    """Edge components by a breadth-first search from each unvisited observed row."""
    observed = np.asarray(mask, dtype=bool)
    n_rows, _ = observed.shape
    seen_rows, components = set(), []
    for start in range(n_rows):
        if start in seen_rows or not observed[start].any():
            continue
        rows, columns, frontier = {start}, set(), [start]
        while frontier:
            new_columns = set(np.flatnonzero(observed[frontier].any(axis=0)).tolist()) - columns
            columns |= new_columns
            frontier = sorted(set(np.flatnonzero(observed[:, sorted(new_columns)].any(axis=1))
                                  .tolist()) - rows)
            rows |= set(frontier)
        seen_rows |= rows
        components.append((tuple(sorted(rows)), tuple(sorted(columns))))
    isolated_rows = tuple(np.flatnonzero(~observed.any(axis=1)).tolist())
    isolated_columns = tuple(np.flatnonzero(~observed.any(axis=0)).tolist())
    if len(components) == 1 and not isolated_rows and not isolated_columns:
        category = "connected"
    elif all(observed[np.ix_(rows, columns)].all() for rows, columns in components):
        category = "complete"
    else:
        category = "other"
    return ObservationGraph(tuple(components), isolated_rows, isolated_columns, category)


def connected_masks(dim: int) -> np.ndarray:
    """For every mask of a dim x dim matrix (bit i*dim + j of the index is entry (i, j)),
    whether its observation graph is connected: reachability from row 0 over 2 dim steps of
    the bipartite adjacency, for all 2^(dim^2) masks at once."""
    codes = np.arange(2 ** (dim * dim), dtype=np.int64)
    masks = ((codes[:, None] >> np.arange(dim * dim)) & 1).reshape(-1, dim, dim).astype(bool)
    rows = np.zeros((len(codes), dim), dtype=bool)
    rows[:, 0] = True
    for _ in range(dim):
        columns = (rows[:, :, None] & masks).any(axis=1)
        rows = (masks & columns[:, None, :]).any(axis=2)
    columns = (rows[:, :, None] & masks).any(axis=1)
    return rows.all(axis=1) & columns.all(axis=1)


@functools.cache
def exact_connected_fraction(dim: int) -> np.ndarray:
    """P(connected) for a uniformly random mask with n observed entries, n = 0 .. dim^2,
    by enumerating every mask; once per process (a sweep asks for it at every grid point), so
    the array is read-only."""
    connected = connected_masks(dim)
    sizes = np.array([bin(code).count("1") for code in range(len(connected))])
    counts = np.bincount(sizes[connected], minlength=dim * dim + 1)
    fraction = counts / np.array([comb(dim * dim, n) for n in range(dim * dim + 1)])
    fraction.flags.writeable = False
    return fraction


def random_mask(rng: np.random.Generator, dim: int, n_observed: int) -> np.ndarray:
    """A uniformly random d x d mask with exactly n_observed entries."""
    mask = np.zeros(dim * dim, dtype=bool)
    mask[rng.choice(dim * dim, n_observed, replace=False)] = True
    return mask.reshape(dim, dim)


def one_missing_masks(dim: int) -> np.ndarray:
    """The dim^2 masks with exactly one unobserved entry (paper Fig. 3), entry (i, j) at
    index i*dim + j."""
    masks = np.ones((dim * dim, dim, dim), dtype=bool)
    for index, (i, j) in enumerate(itertools.product(range(dim), repeat=2)):
        masks[index, i, j] = False
    return masks


def singleton_and_block_masks(dim: int) -> np.ndarray:
    """The dim^2 disconnected masks of paper Fig. 4: the single entry (i, j) and the full block
    of the other rows and columns, pattern (i, j) at index i*dim + j."""
    masks = np.zeros((dim * dim, dim, dim), dtype=bool)
    for index, (i, j) in enumerate(itertools.product(range(dim), repeat=2)):
        masks[index] = (np.arange(dim)[:, None] != i) & (np.arange(dim)[None, :] != j)
        masks[index, i, j] = True
    return masks
