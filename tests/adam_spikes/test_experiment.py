"""The chapter's orchestration on tiny configurations: the keys of every result (the figure arrays
against the stored baselines' keys) and the numbers against computations that do not go through
experiment.py (torch.optim.Adam, torch.autograd's Hessian, closed forms)."""

import dataclasses
import math

import numpy as np
import pytest
import torch

from companion.adam_spikes import experiment, spikes
from companion.adam_spikes.config import QUICK

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


def test_quadratic_crossing_matches_torch_adam(repo):
    """The first step with c_t a eta / (2 (sqrt(v_hat) + eps)) > 1, read from torch's state."""
    result = experiment.quadratic(QUICK)
    assert set(result.figure_data()) == baseline_keys(repo, "fig1_quadratic")
    a, lr, beta1 = QUICK.curvature, QUICK.quadratic_learning_rate, QUICK.beta1
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
    assert result.decay_ratio_error < 1e-12 and result.decay_g2_over_v < 1e-6


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
    # lambda^B_grad <= lambda_max(H^): the lambda_max(H^) crossing never comes later
    assert all(gap >= 0 for gap in checks.grad_after_max_crossing.values())
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


def test_mitigations_eps_bound_against_torch_adam():
    result = experiment.mitigations(TINY)
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
        sharpness = []
        for t in range(TINY.ablation_steps):
            if t % TINY.bound_every == 0:
                sharpness.append(autograd_sharpness(net, param.detach().numpy().copy()))
            param.grad = net.grad_and_loss(param.detach()[None])[0][0]
            optimiser.step()
        c = (1 - TINY.beta1) / (1 + TINY.beta1)
        expected = c * max(sharpness) * TINY.learning_rate / (2 * TINY.eps_large)
        assert result.eps_bound[seed] == pytest.approx(expected, rel=1e-9)


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
    assert len(extension.found["x^2", "Adam"]) >= 1 and extension.found["x^2", "AMSGrad"] == []
    # AMSGrad's v_hat never decreases and c_t falls, so its H_hat never grows
    assert np.all(np.diff(extension.h_hat["x^2", "AMSGrad"]) <= 0)
    assert extension.adam_slope == pytest.approx(part_d.slope, rel=1e-12)
