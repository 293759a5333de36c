"""The configuration rules and the plumbing of the experiments (shapes, seeds, batching)."""

import dataclasses

import numpy as np
import pytest

from companion.connectivity import dynamics, experiment
from companion.connectivity.config import PAPER, QUICK
from companion.params import ParameterError


def test_both_modes_are_valid_and_paper_differs():
    assert dataclasses.replace(QUICK) == QUICK and PAPER != QUICK


@pytest.mark.parametrize("change", [
    {"alpha": 1e-6},  # not in every sweep
    {"blocks_alphas": (1e-8, 1e-4)},  # not decreasing
    {"log_every": 7},  # does not divide trajectory_steps
    {"sweep_sizes": (3, 17)},
    {"one_missing_alphas": (1.0, 1e-8)},  # one alpha below 1: no change of rank to follow
])
def test_bad_configurations_are_rejected(change):
    with pytest.raises(ParameterError):
        dataclasses.replace(QUICK, **change)


def test_scaled_descent_is_one_direction_per_seed_and_the_same_across_patterns():
    masks = np.ones((2, 3, 3), dtype=bool)
    masks[1, 0, 0] = False
    run = experiment.descend_scaled(np.eye(3), masks, [(1, 0), (1, 1)], (1e-2, 1e-4),
                                    0.05, 0, log_every=1)
    a0, _ = dynamics.initial_factors([(1, 0), (1, 1)], 3, 3)
    assert run.a.shape == (2, 2, 2, 3, 3) and run.a_log.shape == (1, 2, 2, 2, 3, 3)
    np.testing.assert_array_equal(run.a[0, 1], 1e-2 * a0)
    np.testing.assert_allclose(run.a[1, 0], 1e-4 * a0, rtol=1e-15)


def test_sweep_instances_are_reproducible_and_share_their_mask_across_families():
    mask, bounded, gaussian = experiment.sweep_instance(9, 3)
    again = experiment.sweep_instance(9, 3)
    np.testing.assert_array_equal(mask, again[0])
    assert mask.sum() == 9 and np.linalg.matrix_rank(bounded) == 1
    assert np.all((np.abs(bounded) >= 0.25) & (np.abs(bounded) <= 2.25))
    assert np.linalg.matrix_rank(gaussian) == 1


def test_two_by_two_and_stages_run_and_agree_with_their_predictions():
    cfg = dataclasses.replace(QUICK, n_seeds=2, alphas=(1e-2, 1e-4, 1e-8))
    e1 = experiment.two_by_two(cfg)
    assert e1.x.shape == (3, 2) and e1.x_min_rank == 4 and e1.x_min_norm == pytest.approx(1)
    assert e1.median_error[-1] < e1.median_error[0]
    e6 = experiment.stages(cfg)
    assert e6.stage_times.shape == (2, 2, 2)
    assert np.all(np.abs(e6.stage_times / e6.predicted[:, None] - 1) <= 0.2)


def test_every_grid_point_is_a_valid_configuration():
    from companion.connectivity.config import GRID, PAPER_GRID

    for grid, mode in ((GRID, QUICK), (PAPER_GRID, PAPER)):
        for point in grid.points():
            dataclasses.replace(mode, **grid.base, **point, seed=7, n_seeds=1)
        assert grid.explore in grid.axes and grid.n_seeds >= 20


SMALL = dataclasses.replace(
    QUICK, n_seeds=1, one_missing_n_seeds=1, one_missing_alphas=(1.0, 1e-6, 1e-8),
    trajectory_alphas=(1e-4, 1e-6, 1e-8), blocks_alphas=(1e-4, 1e-6, 1e-8),
    one_missing_steps=2000, trajectory_steps=2000, steps=2000, stages_steps=2000,
    fit_restarts=1, sweep_sizes=(3, 8, 12), sweep_masks=4, sweep_steps=2000)


def test_checks_come_in_the_chapter_order_with_scopes_and_reasons():
    checks = experiment.checks(SMALL)
    assert list(dict.fromkeys(check.id for check in checks)) == [
        *(f"A{n}" for n in range(1, 10)), *(f"C{n}" for n in range(1, 7))]
    assert all(check.kind == ("consistency" if check.id.startswith("C") else "claim")
               for check in checks)
    assert all(check.scope and check.why and type(check.in_scope) is bool for check in checks)
    assert all(type(check.bound) in (int, float) for check in checks)


def test_rank_claims_leave_their_scope_above_the_papers_smallest_scale():
    e1 = experiment.two_by_two(dataclasses.replace(SMALL, alpha=1e-6))
    (at_alpha, _) = experiment.connected_checks(dataclasses.replace(SMALL, alpha=1e-6), e1)
    assert not at_alpha.in_scope
    (at_alpha, _) = experiment.connected_checks(SMALL, experiment.two_by_two(SMALL))
    assert at_alpha.in_scope


def test_stage_time_bounds_tighten_as_alpha_shrinks():
    e6 = experiment.stages(SMALL)
    ratio_bounds = [check.bound for check in experiment.stages_checks(SMALL, e6)][::2]
    assert ratio_bounds[1] < ratio_bounds[0]


def test_explore_frame_is_drawn_on_an_empty_figure():
    from matplotlib.figure import Figure

    frame = experiment.explore_frame(SMALL)
    assert frame["rank_one"].shape == frame["min_norm"].shape == (3,)
    assert frame["outcomes"].shape == (3, 2)
    fig = Figure()
    experiment.draw_frame(fig, frame, {"alpha": SMALL.alpha})
    assert len(fig.axes) == 2
