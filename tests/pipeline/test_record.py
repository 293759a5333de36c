"""The recorder: a value per seed is reduced to the worst seed, which is stored; each check is
recorded once; the rerun box says how the page was made and how to make it again."""

import json
import math

import pytest

from companion.checks import Check, Grid
from companion.pipeline.record import Run, rerun_box
from companion.pipeline.registry import get_chapter


@pytest.fixture
def run(tmp_path):
    return Run(get_chapter("incremental_rank"), "quick", {}, tmp_path)


def worst(values, op):
    return Check("A1", "n", "q", op, 0.0, values).worst


def test_worst_is_the_largest_value_for_an_upper_bound_and_the_smallest_for_a_lower():
    values = {0: 0.2, 1: 0.5, 2: 0.1}
    assert worst(values, "<=") == 0.5 and worst(values, "<") == 0.5
    assert worst(values, ">=") == 0.1 and worst(values, ">") == 0.1
    assert math.isnan(worst({0: 1.0, 1: float("nan")}, "<="))
    assert math.isnan(worst({}, "<="))


def test_a_consistency_check_is_recorded_with_its_kind_scope_and_reason(run, tmp_path):
    run.check(Check("C1", "gap", "certified gap", "<=", 1e-8, {0: 1e-10, 1: 2e-10},
                    kind="consistency", why="ADMM's certificate"))
    run.check(Check("A1", "law", "slope", "<", 0.1, {0: 0.2}, scope="alpha <= 1e-4",
                    in_scope=False))
    run.finish()
    gap, law = json.loads((tmp_path / "claims.json").read_text())["claims"]
    assert gap["kind"] == "consistency" and gap["passed"] and gap["value"] == 2e-10
    assert law["scope"] == "alpha <= 1e-4" and not law["in_scope"] and not law["passed"]


def test_a_grid_expands_its_axes_in_a_stable_order():
    grid = Grid({"alpha": (1e-2, 1e-4), "learning_rate": (0.1, 0.05)}, n_seeds=20)
    assert grid.points() == [{"alpha": 1e-2, "learning_rate": 0.1},
                             {"alpha": 1e-2, "learning_rate": 0.05},
                             {"alpha": 1e-4, "learning_rate": 0.1},
                             {"alpha": 1e-4, "learning_rate": 0.05}]


def test_a_claim_over_seeds_reduces_to_the_worst_and_stores_every_seed(run, tmp_path):
    run.claim("A1", "plateau", "min_t dist_1(t)", {0: 0.004, 1: 0.02, 2: 0.001}, "<=", 0.01)
    run.claim("A2", "order", "t_2 - t_1", {0: 30, 1: 12}, ">=", 1)
    run.finish()
    first, second = json.loads((tmp_path / "claims.json").read_text())["claims"]
    assert first["value"] == 0.02 and not first["passed"]
    assert first["statement"] == "worst of 3 seeds (0, 1, 2): min_t dist_1(t)"
    assert first["values"] == {"0": 0.004, "1": 0.02, "2": 0.001} and first["over"] == "seeds"
    assert second["value"] == 12 and second["passed"]


def test_a_claim_over_spikes_says_so_and_a_nan_fails(run):
    run.claim("A3", "lead", "t_min - t_cross", {1: 2.0, 2: float("nan")}, "<=", 4, over="spikes")
    assert not run.claims[-1].passed
    assert run.claims[-1].statement.startswith("worst of 2 spikes (1, 2): ")
    assert run.claims[-1].over == "spikes"


def test_one_key_reads_in_the_singular(run):
    run.claim("A5", "one", "q", {0: 1.0}, "<=", 2)
    assert run.claims[-1].statement == "worst of 1 seed (0): q"


def test_a_plain_number_is_recorded_as_it_is(run):
    assert run.claim("A4", "slope", "|slope - 1|", 0.05, "<", 0.1) is None  # no cell output
    assert run.claims[-1].passed
    assert run.claims[-1].values is None and run.claims[-1].statement == "|slope - 1|"


def test_a_check_recorded_twice_is_refused(run):
    run.claim("A4", "slope", "|slope - 1|", 0.05, "<", 0.1)
    run.claim("A4", "slope", "|slope - 1|", 0.05, ">", 0.0)  # another bound: another check
    with pytest.raises(ValueError, match="already recorded"):
        run.claim("A4", "slope", "|slope - 1|", 0.06, "<", 0.1)


def test_the_rerun_box_gives_date_versions_command_and_downloads(run):
    box = rerun_box(run)
    assert f"Executed on {run.executed_at} in **quick** mode" in box
    assert "torch " in box and "numpy " in box and "Python 3.11" in box
    assert "```bash\npython -m companion run incremental_rank --mode quick\n```" in box
    for name in ("incremental_rank.ipynb", "incremental_rank.py",
                 "incremental_rank/claims.json", "incremental_rank/provenance.json"):
        assert f'href="../../downloads/{name}"' in box
