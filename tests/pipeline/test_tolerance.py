"""Tolerance classes: each passes what another machine's rounding does to an array and fails a
real change, with a message that names the statistic."""

import json

import numpy as np
import pytest

from companion.pipeline import tolerance
from companion.pipeline.record import Run
from companion.pipeline.registry import get_chapter
from companion.pipeline.tolerance import (
    Close, Count, Events, Exact, Level, LogEnvelope, Rounding, Trajectory)


def toy_training(learning_rate: float, other_rounding: bool = False, steps: int = 300):
    """Gradient descent on the double well (x^2 - 1)^2 / 4 from next to its maximum at 0.

    At this step size the escape from 0 is smooth and then the iterates bounce chaotically
    between the wells, like a training run through loss spikes. ``other_rounding`` rounds
    every update one ulp up, as a machine with other instructions might.
    """
    x, loss = 1e-6, np.empty(steps)
    for t in range(steps):
        loss[t] = (x * x - 1) ** 2 / 4
        x = x - learning_rate * (x * x * x - x)
        if other_rounding:
            x = np.nextafter(x, np.inf)
    return loss


def spike_peaks(loss: np.ndarray) -> np.ndarray:
    """Steps of local maxima above 0.2: the toy's spikes."""
    inner = loss[1:-1]
    return np.flatnonzero((inner > loss[:-2]) & (inner >= loss[2:]) & (inner > 0.2)) + 1


TOY_LOSS = Trajectory(Close(rtol=1e-9, first=30), Level(rtol=0.2, of="median"))
TOY_SPIKES = Trajectory(Events(steps=1, count=6, first=3))


def test_the_toy_diverges_under_other_rounding_so_elementwise_checks_cannot_serve():
    loss, other = toy_training(1.8), toy_training(1.8, other_rounding=True)
    assert Exact(rtol=1e-5).check(loss, other)


def test_a_trajectory_passes_other_rounding():
    loss, other = toy_training(1.8), toy_training(1.8, other_rounding=True)
    assert TOY_LOSS.check(loss, other) == []
    assert TOY_SPIKES.check(spike_peaks(loss), spike_peaks(other)) == []


def test_a_trajectory_fails_a_one_percent_learning_rate_change_naming_the_statistic():
    loss, changed = toy_training(1.8), toy_training(1.8 * 1.01)
    problems = TOY_LOSS.check(loss, changed)
    assert len(problems) == 1
    assert problems[0].startswith("close (first 30 entries): 25 of 30 values outside rtol=1e-09")
    assert problems[0].endswith("worst at index (22,): run 0.06452232611, baseline 0.2450095384")
    events = TOY_SPIKES.check(spike_peaks(loss), spike_peaks(changed))
    assert events == ["events: event 2 at step 43, baseline 38; allowed ±1 steps"]


def test_exact_admits_the_last_digits_and_nothing_more():
    formula = np.linspace(0.5, 2.0, 7) ** 0.5
    assert Exact().check(formula, formula * (1 + 4e-16)) == []
    problems = Exact().check(formula, formula * 1.01)
    assert problems == [problems[0]] and problems[0].startswith("exact: 7 of 7 values")
    assert Exact().check(np.arange(5), np.arange(5) + [0, 0, 0, 0, 1])
    assert Exact().check(np.zeros(3), np.zeros(4)) == ["exact: shape (4,), baseline (3,)"]


def test_rounding_is_a_bound_and_never_a_comparison_with_the_baseline():
    baseline = np.array([4.3e-16, 5.2e-16])  # the gradient norms of an exact critical point
    assert Rounding(1e-12).check(baseline, np.array([1.2e-15, 3.0e-15])) == []
    problem, = Rounding(1e-12).check(baseline, np.array([1.2e-15, 2e-9]))
    assert problem == "rounding: |value| 2e-09 at index (1,) exceeds the bound 1e-12"
    assert Rounding(1e-12).check(baseline, np.array([0.0, np.nan]))


def test_log_envelope_of_the_running_minimum_ignores_when_spikes_happen():
    steps = np.arange(1000)
    decay = np.exp(-steps / 200)
    baseline, run = decay.copy(), decay.copy()
    baseline[300:310] *= 50  # a spike ...
    run[340:350] *= 50  # ... forty steps later on another machine
    assert LogEnvelope(0.1).check(baseline, run)
    assert LogEnvelope(0.1, running_min=True).check(baseline, run) == []
    problem, = LogEnvelope(0.1, running_min=True).check(baseline, run * 10)
    assert problem == ("log envelope (running minimum): 1000 of 1000 values outside 0.1 "
                       "decades; worst at index (349,): run 1.83599229, baseline 0.174644989")


def test_level_events_and_count():
    plateau = np.full((2, 50), 0.3)
    assert Level(0.05).check(plateau, plateau * 1.02) == []
    assert Level(0.05, of="max").check(plateau, plateau * 1.1)[0].startswith("level (max): 2 of")
    counts = np.array([9, 8, 4, 3, 8, 9, 2, 2, 9, 7])  # mean 6.1
    assert Level(0.35, of="mean").check(counts, counts[::-1]) == []
    assert Level(0.35, of="mean").check(counts, counts // 2)[0].startswith("level (mean): 1 of")
    with pytest.raises(ValueError, match="Level"):
        Level(0.1, of="average")
    assert Events(steps=2).check(np.array([145, 290, 531]), np.array([146, 289, 533])) == []
    assert Events(steps=2, count=1).check(np.array([145, 290]), np.array([145, 290, 600])) == []
    assert Events(steps=2, first=3).check(np.array([1, 2, 3]), np.array([1, 2]))
    assert Count(2).check(np.array([23, 12, 14]), np.array([25, 10, 16])) == []
    problem, = Count(2).check(np.array([23, 12, 14]), np.array([27, 10, 14]))
    assert problem == "count: 1 of 3 values outside ±2; worst at index (0,): run 27, baseline 23"


def test_declarations_round_trip_through_json(tmp_path):
    declared = {"sigmas": Exact(), "grad_norm": Rounding(1e-12), "loss": TOY_LOSS,
                "peaks": Trajectory(Events(3, count=2, first=2), Count(1)),
                "curve": Trajectory(LogEnvelope(0.5, running_min=True), Close(1e-6, atol=1e-12))}
    tolerance.write_declarations(tmp_path / "f.tolerance.json", declared)
    assert tolerance.read_declarations(tmp_path / "f.tolerance.json") == declared
    with pytest.raises(ValueError, match="one or more"):
        Trajectory()


def test_patterns_give_each_array_the_class_of_the_first_that_matches():
    declared = {"loss_beta2_*": Exact(), "loss_*": Rounding(1e-12), "steps": Exact(rtol=0)}
    classes = tolerance.resolve(declared, ["loss_Adam_min", "loss_beta2_0.9_max", "steps"])
    assert classes == {"loss_Adam_min": Rounding(1e-12), "loss_beta2_0.9_max": Exact(),
                       "steps": Exact(rtol=0)}


def test_every_array_must_be_declared_and_every_pattern_used():
    with pytest.raises(ValueError, match=r"arrays without a class \['y'\]"):
        tolerance.resolve({"x": Exact()}, ["x", "y"])
    with pytest.raises(ValueError, match=r"patterns that match no array \['z\*'\]"):
        tolerance.resolve({"x": Exact(), "z*": Exact()}, ["x"])


def test_a_run_not_compared_with_the_baselines_keeps_the_classes_it_has():
    """Paper mode plots more depths than the quick-mode declarations name, and an override may
    plot fewer: neither is refused, and an array without a class is left out."""
    declared = {"loss_L1_*": Exact(), "loss_L2_*": Rounding(1e-12)}
    assert tolerance.resolve(declared, ["loss_L1_min", "loss_L4_min"], complete=False) == {
        "loss_L1_min": Exact()}


def test_run_figure_saves_the_declarations_and_refuses_unknown_arrays(tmp_path):
    from companion import plotting
    from companion.pipeline.style import apply_style

    apply_style()
    run = Run(get_chapter("incremental_rank"), "quick", {}, tmp_path)
    run.figure("fig", plotting.figure(2.0)[0], data={"x": [1, 2], "y": [3, 4]},
               tolerance={"x": Exact(), "y": Rounding(1e-12)}, caption="A figure.")
    assert json.loads((tmp_path / "fig.tolerance.json").read_text())["y"] == {
        "class": "rounding", "bound": 1e-12}
    with pytest.raises(ValueError, match=r"figure 'fig': .*patterns that match no array"):
        run.figure("fig", plotting.figure(2.0)[0], data={"x": [1]},
                   tolerance={"x": Exact(), "z": Exact()}, caption="A figure.")
    paper = Run(get_chapter("incremental_rank"), "paper", {}, tmp_path / "paper")
    paper.figure("fig", plotting.figure(2.0)[0], data={"x": [1], "w": [2]},
                 tolerance={"x": Exact(), "z": Exact()}, caption="A figure.")
    assert list(json.loads((tmp_path / "paper" / "fig.tolerance.json").read_text())) == ["x"]
