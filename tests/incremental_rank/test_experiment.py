"""The chapter's orchestration on a tiny configuration: the shapes and keys of every result, and
the numbers against computations that do not go through experiment.py."""

import dataclasses

import numpy as np
import pytest

from companion.incremental_rank import experiment, sensing
from companion.incremental_rank.config import QUICK
from companion.small_init import predicted_stage_time

TINY = dataclasses.replace(
    QUICK, n_seeds=2, dim=5, n_measurements=300, width=5, width_under=2, steps=600, alpha=1e-3,
    alpha_sweep=(1e-2, 1e-3, 1e-4), alphas_large=(1.0,), rate_steps=60)
SEEDS = TINY.seeds
RANK = TINY.rank


@pytest.fixture(scope="module")
def runs():
    return experiment.run_seeds(TINY)


def test_staircase_shapes_and_claim_keys(runs):
    stairs = experiment.staircase(TINY, runs)
    assert stairs.distances.shape == (len(SEEDS), TINY.steps + 1, RANK)
    assert stairs.main.eigenvalues.shape == (TINY.steps + 1, TINY.width)
    assert len(stairs.linear_growth) == RANK
    for per_level in (stairs.min_distances, stairs.next_eigenvalues):
        assert list(per_level) == list(range(1, RANK))
        assert all(list(values) == list(SEEDS) for values in per_level.values())
        assert all(np.isfinite(list(values.values())).all() for values in per_level.values())
    assert list(stairs.final_distances) == list(SEEDS)


def test_min_distance_matches_plain_gradient_descent(runs):
    """min_t ||U_t U_t^T - X_1||_F / ||X*||_F on full matrices, from a loop of our own."""
    seed = SEEDS[1]
    problem = sensing.make_problem(TINY.dim, TINY.sigmas, TINY.n_measurements, seed)
    x_1 = sensing.best_rank_solution(problem, 1)
    u = sensing.initial_factor(TINY.dim, TINY.width, TINY.alpha, seed)
    distances = []
    for _ in range(TINY.steps + 1):
        distances.append(np.linalg.norm(u @ u.T - x_1) / np.linalg.norm(problem.x_star))
        u = u - TINY.learning_rate * sensing.gradient(problem, u)
    stairs = experiment.staircase(TINY, runs)
    assert stairs.min_distances[1][seed] == pytest.approx(min(distances), rel=1e-8)


def test_alpha_sweep_per_seed_values_reduce_to_the_maximum_over_everything(runs):
    sweep = experiment.alpha_sweep(TINY, runs)
    n_alphas = len(TINY.alpha_sweep)
    assert sweep.errors.shape == (n_alphas, len(SEEDS), TINY.steps + 1)
    assert sweep.stage_times.shape == sweep.min_distances.shape == (len(SEEDS), n_alphas, RANK)
    assert sweep.min_distances_large.shape == (len(SEEDS), 1, RANK)
    assert sweep.predicted_lines.shape == (RANK, len(sweep.prediction_grid))
    predicted = np.array([predicted_stage_time(TINY.sigmas, a, TINY.learning_rate)
                          for a in TINY.alpha_sweep])
    everything = np.abs(sweep.stage_times[:, 1:] / predicted[1:] - 1).max()
    assert max(sweep.stage_time_errors.values()) == everything
    for values in (sweep.slope_errors, sweep.approach_ratios, sweep.approach_slopes,
                   sweep.large_alpha_contrasts):
        assert list(values) == list(SEEDS)


def test_under_parameterised_and_glrl_results(runs):
    under = experiment.under_parameterised(TINY, runs)
    assert under.width == TINY.width_under
    assert under.run.eigenvalues.shape == (TINY.steps + 1, TINY.width_under)
    assert under.distances.shape == (len(SEEDS), TINY.steps + 1, RANK)
    assert list(under.min_distances) == list(range(1, TINY.width_under))
    assert under.best_error == runs[0].best_errors[TINY.width_under]

    glrl = experiment.glrl_comparison(TINY, runs)
    assert glrl.path_distances.shape == (len(SEEDS), len(TINY.alpha_sweep))
    assert glrl.gd_coordinates.shape == (len(TINY.alpha_sweep), TINY.steps + 1, RANK)
    assert glrl.corners.shape == (RANK - 1, RANK)
    assert set(glrl.phase_count_errors.values()) == {0}
    p_min = experiment.approach_exponents(TINY.sigmas).min()
    scaled = (glrl.path_distances / np.array(TINY.alpha_sweep) ** p_min).max(axis=1)
    assert list(glrl.scaled_distances.values()) == list(scaled)


def test_plateau_heights(runs):
    heights = experiment.plateau_heights(TINY, runs)
    np.testing.assert_allclose(heights.population_tails, [0.5**2 + 0.25**2, 0.25**2])
    assert heights.ratios[1, 0] == runs[1].best_errors[1] / heights.population_tails[0]


def test_convergence_rates():
    rates = experiment.convergence_rates(TINY)
    assert set(rates.errors) == set(experiment.RATE_RUNS)
    assert all(e.shape == (len(SEEDS), len(rates.t)) for e in rates.errors.values())
    assert rates.t[0] == 1 and rates.t[-1] == TINY.rate_steps
    # the reference line is c / t
    np.testing.assert_allclose(rates.one_over_t * rates.one_over_t_steps,
                               rates.one_over_t[0] * rates.one_over_t_steps[0], rtol=1e-12)
    for values in (rates.exact_width_rates, rates.slope_errors, rates.asymmetric_ratios,
                   rates.e_folding_growth):
        assert list(values) == list(SEEDS)


def test_approach_exponent_is_two_at_an_infinite_gap_and_zero_at_none():
    np.testing.assert_allclose(experiment.approach_exponents([1.0, 1e-12, 1e-24]), [2, 2])
    np.testing.assert_allclose(experiment.approach_exponents([1.0, 0.5, 0.5]), [1 / 3, 0])


def test_decay_rate_recovers_a_geometric_decay_and_refuses_too_few_points():
    errors = 0.9 ** np.arange(400)
    assert experiment.decay_rate(errors) == pytest.approx(-np.log(0.9), rel=1e-9)
    assert np.isnan(experiment.decay_rate(errors[:60]))  # never below 1e-4


def test_scopes_follow_the_gap_the_measurements_and_the_run_length():
    assert experiment.in_small_init_regime(QUICK)
    assert not experiment.in_small_init_regime(dataclasses.replace(QUICK, sigmas=(1, 0.85, 0.7)))
    assert not experiment.in_small_init_regime(dataclasses.replace(QUICK, n_measurements=1000))
    assert not experiment.in_small_init_regime(dataclasses.replace(QUICK, steps=900))
    assert experiment.past_transient(QUICK)
    assert not experiment.past_transient(dataclasses.replace(QUICK, rate_steps=2000))


def test_checks_measure_every_claim_and_consistency_check_once_per_seed(runs):
    checks = experiment.checks(TINY)
    assert list(dict.fromkeys(check.id for check in checks)) == [
        "A1", "A2", "A3", "A4", "A5", "C1", "A6", "A7", "A8", "A9"]  # in the chapter's order
    assert all(check.kind == ("consistency" if check.id.startswith("C") else "claim")
               for check in checks)
    assert all(list(check.values) == list(SEEDS) for check in checks)
    assert all(check.scope and check.why and type(check.in_scope) is bool
               and type(check.bound) in (int, float) for check in checks)


def test_the_exact_width_rate_holds_at_a_smaller_learning_rate():
    """A7 as a rate: at mu = 0.05 the k = r error decays at rate >= mu sigma_r / 2, although at a
    fixed step it is orders of magnitude above its level at mu = 0.1."""
    config = dataclasses.replace(TINY, n_measurements=500, learning_rate=0.05, rate_steps=3000,
                                 n_seeds=1)
    (rate_check,) = [check for check in experiment.convergence_rate_checks(
        config, experiment.convergence_rates(config)) if check.id == "A7"]
    assert rate_check.passed and rate_check.in_scope


def test_explore_frame_is_drawn_on_an_empty_figure():
    from matplotlib.figure import Figure

    frame = experiment.explore_frame(TINY)
    assert frame["eigenvalues"].shape == (TINY.steps + 1, RANK + 1)
    assert frame["distances"].shape == (TINY.steps + 1, RANK)
    fig = Figure()
    experiment.draw_frame(fig, frame, {"sigmas": TINY.sigmas})
    assert len(fig.axes) == 2


def test_every_grid_point_is_a_valid_configuration():
    from companion.incremental_rank.config import GRID, PAPER, PAPER_GRID

    for grid, mode in ((GRID, QUICK), (PAPER_GRID, PAPER)):
        for point in grid.points():
            dataclasses.replace(mode, **grid.base, **point, seed=7, n_seeds=1)
        assert grid.explore in grid.axes and grid.n_seeds >= 20
