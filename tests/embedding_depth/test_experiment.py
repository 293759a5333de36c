"""The chapter's experiments on tiny configurations: the shapes and keys the notebook reads, and
one property of each part against an independent computation."""

import dataclasses

import numpy as np
import pytest
import torch

from companion.embedding_depth import experiment, lifting, plateaus
from companion.embedding_depth.config import QUICK
from conftest import drawn_frame

TINY = dataclasses.replace(
    QUICK, n_train=16, hidden_width=4, depths=(1, 2), bn_depths=(2,), steps=30, log_every=10,
    n_seeds=2, prune_step=10, control_steps=20, relu_steps=20, relu_n_seeds=2,
    sample_grid=(1, 4, 12), data_sizes=(8, 16), data_steps=20)
LIFTS = ["(a) pure", "(a) generic", "(b) certificate", "(b) 2-step", "(c) ReLU"]


@pytest.fixture(scope="module")
def task():
    return experiment.plateau_task(TINY)


def test_exact_lifts_are_exact_and_the_certificate_block_is_f4s_closed_form():
    part1 = experiment.exact_lifts(TINY)
    assert list(part1.checks) == LIFTS
    for check in part1.checks.values():
        assert len(check.deep.eigenvalues) == check.lift.net.n_params
    assert max(part1.output_changes.values()) < 1e-12
    assert max(part1.deep_gradients.values()) < 1e-10
    assert part1.line.t.shape == part1.line.loss_drop.shape == part1.line.quadratic.shape == (41,)
    # F4 in closed form, with no autograd Hessian: eps* sigma''(c0) M~ + eps*^2 sigma'(c0)^2 C~
    cert = part1.certificate
    block = lifting.f4_block(cert, cert.eps_star, "elu", -1.0)
    assert part1.block_min == pytest.approx(float(torch.linalg.eigvalsh(block)[0]), rel=1e-9)


def test_lifted_dimensions_follow_f5_counted_by_hand():
    dims = experiment.lifted_dimensions(TINY)
    d, k = TINY.input_dim, TINY.n_outputs
    p = (d + 2) * d + (d + 2) + k * (d + 2) + k  # [d, d + 2, k]
    expected = [p - k * min(n, d + 1) for n in TINY.sample_grid]
    np.testing.assert_array_equal(dims.formula, expected)
    np.testing.assert_array_equal(dims.dimension, expected)
    np.testing.assert_array_equal(dims.hessian_nullity, expected)
    assert list(dims.arrays()) == ["n", "dimension", "formula", "hessian_nullity"]
    inner = experiment.inner_lifted_dimensions(TINY)
    assert "hessian_nullity" not in inner.arrays()
    np.testing.assert_array_equal(inner.dimension, inner.formula)


def test_dynamics_reduce_each_seed_over_depths_like_a_direct_summary(task):
    dynamics = experiment.train_dynamics(TINY, task)
    assert dynamics.seeds == (0, 1)
    np.testing.assert_array_equal(dynamics.steps, [0, 10, 20, 30])
    np.testing.assert_array_equal(dynamics.control_steps, [0, 10, 20])
    assert set(dynamics.summaries) == {("plain", 1), ("plain", 2), ("BN", 2)}
    direct = {seed: min(plateaus.summarise(dynamics.plain[depth][i], task.l_lin).plateau_steps
                        for depth in TINY.depths) for i, seed in enumerate(dynamics.seeds)}
    assert dynamics.over_depths("plain", "plateau_steps", min) == direct
    ratio = dynamics.t_half_ratio()
    assert set(ratio) == {0, 1}
    # a run is fixed by its seeds, whatever ran before it; trained alone, a seed's run differs
    # from its run beside the others only by float32 rounding
    again = experiment.train_tanh(TINY, task, 2, TINY.seeds, "bn")
    np.testing.assert_array_equal(again[1].loss, dynamics.bn[2][1].loss)
    alone, = experiment.train_tanh(TINY, task, 2, TINY.seeds[1:], "bn")
    np.testing.assert_allclose(alone.loss, dynamics.bn[2][1].loss, rtol=1e-5)


def test_folds_relu_runs_and_more_data_have_the_fields_the_chapter_reads(task):
    folds = experiment.fold_linearised_layers(TINY, task)
    for fold in (folds.plateau, folds.end):
        assert 0 <= fold.layers_left <= TINY.control_depth
        assert fold.risk > 0 and fold.risk_folded > 0 and fold.risk_all_folded > 0
    relu = experiment.relu_extension(TINY, task)
    data = relu.arrays()
    assert set(data) == {"steps"} | {f"{kind}_{norm}" for kind in ("linearised", "loss")
                                     for norm in ("none", "bn", "ln")}
    assert data["loss_bn"].shape == (TINY.relu_n_seeds, len(data["steps"]))
    assert relu.linearised_at_init("bn") == {0: 0.0, 1: 0.0}
    more = experiment.more_data(TINY)
    assert list(more.t_half) == list(TINY.data_sizes)
    assert all(0 < t <= TINY.data_steps for times in more.t_half.values() for t in times)


def test_checks_in_order_claims_scoped_and_consistency_apart():
    checks = experiment.checks(TINY)
    assert [c.id for c in checks] == ["C1", "C2", "A1", "A1", *["A2"] * 5, *["A3"] * 3,
                                      *["A4"] * 3, "A5", "A5", "A6", "A6"]
    for check in checks:
        assert check.kind == ("consistency" if check.id.startswith("C") else "claim")
        assert check.why, check.quantity
        assert check.in_scope if check.kind == "consistency" else check.scope
    # the plateau claims are stated for the small initialisation only
    standard = {c.id: c.in_scope for c in experiment.checks(
        dataclasses.replace(TINY, init_scale=1.0))}
    assert not (standard["A3"] or standard["A4"] or standard["A6"]) and standard["A1"]


@pytest.mark.parametrize("seed", [6, 15])
def test_newton_solve_converges_where_an_absolute_gradient_tolerance_stalled(seed):
    """Seeds 6 and 15 stopped at |grad| ~ 2.5e-10: the line search compared losses that differ
    by rounding. The full step below that level reaches the critical point."""
    part1 = experiment.exact_lifts(dataclasses.replace(QUICK, seed=seed))
    critical, _, *exact = experiment.exactness_checks(QUICK, part1)
    assert critical.passed and all(c.passed for c in exact)
    assert part1.checks["(a) generic"].shallow.grad_norm < 1e-14


def test_grids_give_valid_configurations_and_a_drawable_frame():
    frame = drawn_frame("embedding_depth", TINY, {"init_scale": TINY.init_scale})
    assert set(frame) == {"steps", "l_lin", "loss plain L=1", "N plain L=1", "loss plain L=2",
                          "N plain L=2", "loss BN L=2", "N BN L=2"}
