"""The chapter's orchestration on tiny configurations: the keys of every result (the figure arrays
against the stored baselines' keys) and the numbers against computations that do not go through
experiment.py (torch.optim.Adam, torch.autograd's Hessian, closed forms)."""

import dataclasses
import math
import re

import numpy as np
import pytest
import torch

from companion.adam_spikes import experiment, spikes
from companion.adam_spikes.config import QUICK
from conftest import drawn_frame

# width 12 at eta = 0.1 spikes near steps 300 and 400 from seed 0: two spike stories in seconds
TINY = dataclasses.replace(
    QUICK, width=12, learning_rate=0.1, steps=450, overview_every=50, window_before=60,
    window_after=5, n_seeds=2, ablation_steps=200, bound_every=100)


def baseline_keys(repo, figure: str) -> set:
    return set(np.load(repo.baselines("adam_spikes") / f"{figure}.npz").keys())


def autograd_sharpness(net, theta: np.ndarray) -> float:
    """lambda_max of the Hessian by torch.autograd.functional (not spectra.dense_hessian)."""
    hessian = torch.autograd.functional.hessian(net.loss, torch.from_numpy(theta))
    return float(np.linalg.eigvalsh(hessian.numpy())[-1])


@pytest.fixture(scope="module")
def network():
    return experiment.network(TINY)


@pytest.fixture(scope="module")
def part_c():
    return experiment.mitigations(TINY)


def test_quadratic_crossing_matches_torch_adam(repo):
    """The first step with c_t a eta / (2 (sqrt(v_hat) + eps)) > 1, read from torch's state."""
    result = experiment.quadratic(QUICK)
    assert set(result.figure_data()) == baseline_keys(repo, "fig1_quadratic")
    a, lr, beta1 = experiment.QUADRATIC_CURVATURE, QUICK.quadratic_learning_rate, QUICK.beta1
    beta2 = QUICK.quadratic_beta2
    param = torch.nn.Parameter(torch.tensor([QUICK.theta0], dtype=torch.float64))
    optimiser = torch.optim.Adam([param], lr=lr, betas=(beta1, beta2), eps=QUICK.eps)
    for t in range(1, QUICK.quadratic_steps + 1):
        param.grad = a * param.detach().clone()
        optimiser.step()
        v_hat = optimiser.state[param]["exp_avg_sq"].item() / (1 - beta2 ** t)
        c = (1 - beta1) / (1 + beta1) / (1 - beta1 ** t)
        if c * a * lr / (2 * (math.sqrt(v_hat) + QUICK.eps)) > 1:
            break
    assert result.spike.t_cross + 1 == t
    assert abs(t - result.t_star) <= 2
    assert result.decay_g2_over_v < 1e-6


def test_network_results_and_figure_keys(network, repo):
    assert list(network.overview.index) == list(range(TINY.overview_every - 1, TINY.steps,
                                                      TINY.overview_every))
    assert len(network.stories) == TINY.spikes_examined == 2
    assert set(network.figure_data()) == baseline_keys(repo, "fig2_fcn_overview")
    zooms = experiment.spike_zooms(network, 2)
    assert set(experiment.zoom_data(zooms, len(network.found))) == baseline_keys(
        repo, "fig3_spike_zoom")
    for zoom in zooms:
        np.testing.assert_array_equal(zoom.loss, network.train.loss[zoom.steps - 1])
        assert len(zoom.events) == 4


def test_spike_checks_against_an_autograd_hessian(network):
    checks = experiment.spike_checks(network.stories, TINY.learning_rate)
    for field in dataclasses.fields(checks):
        assert list(getattr(checks, field.name)) == [1, 2], field.name
    # lambda^B_grad is a Rayleigh quotient of the matrix whose top eigenvalue is lambda_max(H^)
    for story in network.stories:
        assert np.all(story.series.lam_grad_b <= story.series.lam_max_hat * (1 + 1e-12))
        assert story.cross_max <= story.cross_grad
    net = spikes.TanhNet.sine_task(TINY.n_points, TINY.width)
    for number, story in enumerate(network.stories, start=1):
        window = [autograd_sharpness(net, network.train.theta[i]) for i in story.series.index]
        assert checks.lam_max_raw[number] == pytest.approx(max(window) * TINY.learning_rate / 2,
                                                           rel=1e-9)


def test_negative_results_keys(network):
    secant = experiment.secant_proxy(network, TINY.beta1)
    for values in dataclasses.astuple(secant):
        assert list(values) == [1, 2]
    assert all(offset >= 0 for offset in secant.peak_offset.values())
    scores = experiment.warning_scores(network)
    assert list(scores) == list(experiment.WARNING_SIGNALS)
    assert all(0 <= s.steps_above <= len(network.overview.index) for s in scores.values())


def test_mitigations_eps_bound_against_torch_adam(part_c):
    result = part_c
    assert set(result.loss) == {(s, v) for s in TINY.seeds for v in
                                result.variants + result.counted}
    assert result.large_eps == f"eps = {TINY.eps_large:g}" and result.counted[-1] == "torch AMSGrad"
    for variant in result.variants:
        assert list(result.spike_counts(variant)) == list(TINY.seeds)
    assert experiment.variant_key(result.small_beta2) == f"beta2_{TINY.beta2_small:g}"
    net = spikes.TanhNet.sine_task(TINY.n_points, TINY.width)
    for seed in TINY.seeds:
        param = torch.nn.Parameter(net.init(seed))
        optimiser = torch.optim.Adam([param], lr=TINY.learning_rate,
                                     betas=(TINY.beta1, TINY.beta2), eps=TINY.eps_large)
        bound = {}  # step t -> c_t lambda_max(H_t) eta / (2 eps), c_t with its bias correction
        for t in range(1, TINY.ablation_steps + 1):
            if t <= 2 or (t - 1) % TINY.bound_every == 0:
                c = (1 - TINY.beta1) / (1 + TINY.beta1) / (1 - TINY.beta1 ** t)
                bound[t] = (c * autograd_sharpness(net, param.detach().numpy().copy())
                            * TINY.learning_rate / (2 * TINY.eps_large))
            param.grad = net.grad_and_loss(param.detach()[None])[0][0]
            optimiser.step()
        assert result.eps_bound_first_step[seed] == pytest.approx(bound.pop(1), rel=1e-9)
        assert result.eps_bound[seed] == pytest.approx(max(bound.values()), rel=1e-9)


def test_degenerate_and_double_edged(repo):
    part_d = experiment.degenerate(QUICK)
    assert set(part_d.figure_data()) == baseline_keys(repo, "fig5_degenerate")
    assert part_d.rate == pytest.approx(math.log(QUICK.quartic_beta2), rel=1e-15)
    assert part_d.slope == pytest.approx(part_d.rate, rel=1e-6)
    assert list(part_d.regime_names.values()) == ["linear", "spiking", "oscillating"]
    t = part_d.gd.steps - 1
    np.testing.assert_allclose(part_d.flow_gd, (1 + 2 * QUICK.quartic_learning_rate * t) ** -0.5)
    extension = experiment.double_edged(QUICK)
    assert set(extension.figure_data()) == baseline_keys(repo, "fig6_double_edged")
    assert len(extension.rises["x^2", "Adam"]) > 10 and len(extension.rises["x^2", "AMSGrad"]) == 0
    # AMSGrad's v_hat never decreases and c_t falls, so its H_hat never grows
    assert np.all(np.diff(extension.h_hat["x^2", "AMSGrad"]) <= 0)
    assert extension.adam_slope == pytest.approx(part_d.slope, rel=1e-12)


def test_checks_in_order_and_scoped(network):
    checks = experiment.checks(TINY)
    assert [c.id for c in checks] == [*["A1"] * 2, *["A2"] * 3, *["A3"] * 3, *["A4"] * 2,
                                      *["A5"] * 2, *["A6"] * 3, "A7", *["A8"] * 2, *["A9"] * 2]
    for check in checks:
        assert check.kind == "claim" and check.scope and check.why, check.quantity
    scoped = {c.id: c.in_scope for c in checks}
    # eta = 0.1 is beyond the network claims' scope, not the small beta2's; the 1-D claims keep
    # QUICK's settings
    assert not scoped["A3"] and scoped["A7"] and scoped["A1"] and scoped["A8"]
    # the spike claims read the first two spikes of the network run
    spike_rows = [c for c in checks if c.over == "spikes"]
    assert spike_rows and all(list(c.values) == [1, 2] for c in spike_rows)


def test_reversal_runs_share_the_batch_at_their_own_learning_rate(part_c):
    """The reversal runs advance in Part C's batch at their own learning rate: their losses are
    those of torch.optim.Adam run alone at that rate, and their counts those of the detector."""
    result = part_c.reversal
    small = f"beta2 = {TINY.beta2_small:g}"
    assert result.learning_rate == TINY.reversal_learning_rate != TINY.learning_rate
    assert set(result.counts) == {"Adam", small}
    assert 0 <= result.seeds_reversed(small) <= TINY.n_seeds
    net = spikes.TanhNet.sine_task(TINY.n_points, TINY.width)
    for name, beta2 in (("Adam", TINY.beta2), (small, TINY.beta2_small)):
        for seed in TINY.seeds:
            param = torch.nn.Parameter(net.init(seed))
            optimiser = torch.optim.Adam([param], lr=TINY.reversal_learning_rate,
                                         betas=(TINY.beta1, beta2), eps=TINY.eps)
            loss = []
            for _ in range(TINY.ablation_steps):
                grad, value = net.grad_and_loss(param.detach()[None])
                loss.append(value[0].item())
                param.grad = grad[0]
                optimiser.step()
            np.testing.assert_allclose(result.loss[seed, name], loss, rtol=1e-10)
            assert result.counts[name][seed] == len(spikes.detect_spikes(np.array(loss)))
    assert experiment.mitigations(TINY, reversal=False).reversal is None


def test_what_is_shown_without_asserting(network, part_c):
    """Every measure once, by a stable name; spike counts recounted from the loss curves, the
    warning scores from the overview."""
    measures = [*experiment.spike_measures(TINY, network),
                *experiment.mitigation_measures(part_c),
                *experiment.spike_count_measures(TINY, part_c),
                *experiment.degenerate_measures(experiment.degenerate(QUICK)),
                *experiment.double_edged_measures(QUICK, experiment.double_edged(QUICK)),
                *experiment.warning_measures(network),
                *experiment.secant_measures(network, TINY.beta1)]
    names = [m.name for m in measures]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[A-Za-z0-9_.]+", name) for name in names), names
    value = {m.name: m.value for m in measures}
    recounted = [len(spikes.detect_spikes(part_c.loss[s, "Adam"])) for s in TINY.seeds]
    assert (value["spike_count_Adam_min"], value["spike_count_Adam_max"]) == (min(recounted),
                                                                             max(recounted))
    above = np.sum(network.overview.lam_max_hat > 2 / TINY.learning_rate)
    assert value["lam_max_hat_steps_above"] == above


def test_grids_give_valid_configurations_and_a_drawable_frame():
    frame = drawn_frame("adam_spikes", TINY, {"beta2": TINY.beta2})
    assert set(frame) == {"loss", "spike_peaks", "overview_steps", "lam_max_hat", "lam_max_raw"}
    assert len(frame["overview_steps"]) == TINY.steps // experiment.EXPLORE_EVERY
