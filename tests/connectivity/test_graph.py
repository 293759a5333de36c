"""Observation-graph categories against brute force on every small mask, and the exact
probability of a connected pattern against counts known in closed form."""

import itertools
from math import comb

import numpy as np
import pytest

from companion.connectivity import graph


def all_masks(rows: int, cols: int):
    for bits in itertools.product([False, True], repeat=rows * cols):
        yield np.array(bits).reshape(rows, cols)


def connected_by_cuts(mask: np.ndarray) -> bool:
    """Connected iff every split of the row and column nodes into two non-empty sides has an
    observed entry across it (the definition, by enumeration of the splits)."""
    rows, cols = mask.shape
    for side in itertools.product([False, True], repeat=rows + cols):
        side = np.array(side)
        if side.all() or not side.any():
            continue
        row_side, col_side = side[:rows], side[rows:]
        if not (mask & np.not_equal.outer(row_side, col_side)).any():
            return False
    return True


def category_by_brute_force(mask: np.ndarray) -> str:
    """Full blocks iff the supports of any two observed rows are equal or disjoint."""
    if connected_by_cuts(mask):
        return "connected"
    supports = [row for row in mask if row.any()]
    blocks = all((a == b).all() or not (a & b).any()
                 for a, b in itertools.combinations(supports, 2))
    return "complete" if blocks else "other"


@pytest.mark.parametrize("shape", [(2, 2), (2, 3), (3, 3)])
def test_categories_match_brute_force_on_every_mask(shape):
    for mask in all_masks(*shape):
        assert graph.observation_graph(mask).category == category_by_brute_force(mask), mask


def test_components_partition_the_observed_rows_and_columns():
    rng = np.random.default_rng(0)
    for _ in range(200):
        mask = rng.random((4, 5)) < 0.3
        g = graph.observation_graph(mask)
        rows = sorted(r for rs, _ in g.components for r in rs) + list(g.isolated_rows)
        cols = sorted(c for _, cs in g.components for c in cs) + list(g.isolated_columns)
        assert sorted(rows) == list(range(4)) and sorted(cols) == list(range(5))
        for (rs, cs), (rs2, cs2) in itertools.combinations(g.components, 2):
            assert not mask[np.ix_(rs, cs2)].any() and not mask[np.ix_(rs2, cs)].any()


def test_vectorised_connectivity_matches_the_search_on_every_3x3_mask():
    connected = graph.connected_masks(3)
    for mask in all_masks(3, 3):
        code = sum(1 << k for k, observed in enumerate(mask.ravel()) if observed)
        assert connected[code] == (graph.observation_graph(mask).category == "connected")


def test_exact_connected_fraction_by_counting():
    """4 x 4: a connected pattern with 7 entries is a spanning tree of K_{4,4} (4^3 4^3 of
    them); with 12 it is connected unless a row or column is entirely missing (8 ways)."""
    fraction = graph.exact_connected_fraction(4)
    assert np.all(fraction[:7] == 0)
    assert fraction[7] == pytest.approx(4**3 * 4**3 / comb(16, 7), rel=1e-12)
    assert fraction[12] == pytest.approx(1 - 8 / comb(16, 4), rel=1e-12)
    assert np.all(fraction[13:] == 1)


def test_pattern_families_of_the_captions():
    one_missing = graph.one_missing_masks(4)
    assert one_missing.shape == (16, 4, 4) and np.all(one_missing.sum(axis=(1, 2)) == 15)
    assert all(graph.observation_graph(m).category == "connected" for m in one_missing)
    blocks = graph.singleton_and_block_masks(3)
    assert np.all(blocks.sum(axis=(1, 2)) == 5)
    for index, mask in enumerate(blocks):
        g = graph.observation_graph(mask)
        assert g.category == "complete" and len(g.components) == 2
        assert ((divmod(index, 3)[0],), (divmod(index, 3)[1],)) in g.components


def test_random_mask_has_the_requested_size():
    rng = np.random.default_rng(1)
    assert all(graph.random_mask(rng, 4, n).sum() == n for n in range(17))
