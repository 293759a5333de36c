"""The minimum-nuclear-norm solver against its certificate, a closed form and a 1-D search;
the best rank-s fit and GLRL against Eckart-Young on fully observed matrices."""

import numpy as np
import pytest
import scipy.optimize

from companion.connectivity import dynamics, fits, glrl, graph, nuclear


def test_two_by_two_minimum_against_a_line_search():
    """[[1, 2], [2, x]]: ||.||_* is convex in x; its minimum is 4, at x = 1."""
    target, mask = np.array([[1.0, 2.0], [2.0, 4.0]]), np.array([[1, 1], [1, 0]], dtype=bool)
    search = scipy.optimize.minimize_scalar(
        lambda x: np.linalg.svd([[1.0, 2.0], [2.0, x]], compute_uv=False).sum(),
        bounds=(-10, 10), method="bounded", options={"xatol": 1e-10})
    solution = nuclear.minimum_nuclear_norm(target[None], mask[None])
    assert solution.value[0] == pytest.approx(search.fun, abs=1e-9)
    assert solution.completion[0, 1, 1] == pytest.approx(search.x, abs=1e-4)
    assert solution.gap[0] <= 1e-8


def test_gap_certifies_random_problems():
    rng = np.random.default_rng(0)
    targets = rng.standard_normal((30, 4, 2)) @ rng.standard_normal((30, 2, 4))
    masks = rng.random((30, 4, 4)) < 0.6
    solution = nuclear.minimum_nuclear_norm(targets, masks)
    assert np.all(solution.gap <= 1e-7)
    assert np.all(solution.lower <= solution.upper + 1e-12)
    np.testing.assert_allclose(solution.completion[masks], targets[masks], atol=0)


def test_closed_form_of_full_blocks_matches_the_solver():
    """Random disconnected patterns made of full blocks (rows and columns split into groups,
    some groups left unobserved): N* is the sum of the blocks' nuclear norms."""
    rng = np.random.default_rng(1)
    masks, targets = [], []
    while len(masks) < 20:
        row_group, col_group = rng.integers(0, 3, 5), rng.integers(0, 3, 5)
        mask = (row_group[:, None] == col_group[None, :]) & (row_group[:, None] < 2)
        if graph.observation_graph(mask).category == "complete":
            masks.append(mask)
            targets.append(rng.standard_normal((5, 5)))
    solution = nuclear.minimum_nuclear_norm(np.array(targets), np.array(masks))
    closed = [nuclear.block_nuclear_norm(t, m) for t, m in zip(targets, masks)]
    np.testing.assert_allclose(solution.value, closed, atol=1e-8)


def test_closed_form_refuses_a_pattern_that_is_not_made_of_blocks():
    with pytest.raises(ValueError):
        nuclear.block_nuclear_norm(np.ones((2, 2)), np.array([[1, 1], [0, 1]], dtype=bool))


def eckart_young(matrix: np.ndarray, rank: int) -> np.ndarray:
    u, s, vt = np.linalg.svd(matrix)
    return (u[:, :rank] * s[:rank]) @ vt[:rank]


def test_best_rank_fit_of_a_full_matrix_is_the_truncated_svd():
    matrix = np.random.default_rng(2).standard_normal((4, 4))
    full = np.ones((4, 4), dtype=bool)
    for rank in range(4):
        np.testing.assert_allclose(fits.best_rank_fit(matrix, full, rank, restarts=3),
                                   eckart_young(matrix, rank), atol=1e-7)


def test_glrl_phases_of_a_full_matrix_are_the_truncated_svds():
    matrix = np.diag([3.0, 2.0, 1.0]) + 0.1 * np.random.default_rng(3).standard_normal((3, 3))
    path = glrl.glrl(matrix, np.ones((3, 3), dtype=bool), learning_rate=0.05, epsilon=1e-12)
    assert len(path.phase_ends) == 3
    for rank, end in enumerate(path.phase_ends, start=1):
        np.testing.assert_allclose(end, eckart_young(matrix, rank), atol=1e-7)


def test_glrl_keeps_the_cross_blocks_of_disconnected_data_at_zero():
    target = np.outer([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    mask = graph.singleton_and_block_masks(3)[0]
    path = glrl.glrl(target, mask, learning_rate=0.02, epsilon=1e-16)
    assert np.abs(path.completion[~mask]).max() <= 1e-6
    assert dynamics.nuclear_norm(path.completion) == pytest.approx(
        nuclear.block_nuclear_norm(target, mask), abs=1e-8)
