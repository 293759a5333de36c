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
    for per_level in (stairs.min_distances, stairs.plateau_error_gaps):
        assert list(per_level) == list(range(1, RANK))
        assert all(list(values) == list(SEEDS) for values in per_level.values())
    for values in (stairs.final_distances, stairs.stage_gaps, stairs.next_eigenvalues):
        assert list(values) == list(SEEDS)
    assert all(np.isfinite(list(stairs.next_eigenvalues.values())))


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
    for values in (sweep.slope_errors, sweep.approach_ratios, sweep.approach_drops,
                   sweep.large_alpha_distances):
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
    index = TINY.alpha_sweep.index(TINY.alpha)
    assert glrl.main_distances == dict(zip(SEEDS, glrl.path_distances[:, index]))


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
    for values in (rates.exact_width_errors, rates.slope_errors, rates.asymmetric_ratios):
        assert list(values) == list(SEEDS)
