"""Unit tests of the adam, power_loss and spikes modules of the adam_spikes chapter.

Each numeric check is against an independent oracle: torch.optim.Adam, a hand-written
recursion, a closed form, a nonsymmetric eigensolver, autograd or finite differences.
"""

import math

import numpy as np
import pytest
import torch

from companion.adam_spikes import adam, spikes
from companion.spectra import dense_hessian
from companion.adam_spikes import power_loss as polynomial

torch.set_num_threads(1)


def small_net():
    return spikes.TanhNet.sine_task(n_points=12, width=6)


# --------------------------------------------------------------------------------------------
# The optimiser against torch.optim.Adam
# --------------------------------------------------------------------------------------------
SETTINGS = [((0.9, 0.999), 1e-8, False), ((0.9, 0.999), 1e-8, True), ((0.5, 0.9), 1e-3, False),
            ((0.0, 0.99), 0.1, True), ((0.95, 0.95), 0.0, False)]


def test_instrumented_adam_matches_torch():
    """Five settings as five runs of one batch, each against its own torch.optim.Adam."""
    net = small_net()
    theta0 = net.init(3)
    lr = 0.05
    options = [adam.AdamOptions(betas, eps, "torch" if amsgrad else None)
               for betas, eps, amsgrad in SETTINGS]
    ours = adam.InstrumentedAdam(theta0.repeat(len(SETTINGS), 1), lr, options)
    params = [torch.nn.Parameter(theta0.clone()) for _ in SETTINGS]
    references = [torch.optim.Adam([param], lr=lr, betas=betas, eps=eps, amsgrad=amsgrad)
                  for param, (betas, eps, amsgrad) in zip(params, SETTINGS)]
    worst = 0.0
    for _ in range(300):
        ours.step(net.grad_and_loss(ours.theta)[0])
        for param, reference in zip(params, references):
            param.grad = net.grad_and_loss(param.detach()[None])[0][0]
            reference.step()
        worst = max(worst, (ours.theta - torch.stack(params).detach()).abs().max().item())
    assert worst <= 1e-12
    for run, (param, reference, ((_, beta2), eps, amsgrad)) in enumerate(
            zip(params, references, SETTINGS)):
        state = reference.state[param]
        second = state["max_exp_avg_sq"] if amsgrad else state["exp_avg_sq"]
        bias_correction2 = 1 - beta2 ** 300
        torch.testing.assert_close(ours.v_hat[run], second / bias_correction2, rtol=1e-14,
                                   atol=0)
        torch.testing.assert_close(ours.precond[run],
                                   1 / ((second / bias_correction2).sqrt() + eps),
                                   rtol=1e-13, atol=0)


def test_runs_of_a_batch_do_not_mix():
    """A run advanced inside a batch of others, each at its own learning rate, follows the
    same run advanced alone at that rate."""
    net = small_net()
    starts = torch.stack([net.init(seed) for seed in range(3)])
    options = [adam.AdamOptions((0.9, 0.999), 1e-8), adam.AdamOptions((0.9, 0.95), 0.1),
               adam.AdamOptions((0.9, 0.999), 1e-8, "v_hat")]
    rates = [0.02, 0.01, 0.03]
    together = adam.run_adam(net.grad_and_loss, starts, 200, rates, options)
    for run in range(3):
        alone, = adam.run_adam(net.grad_and_loss, starts[run:run + 1], 200, rates[run],
                               options[run:run + 1])
        np.testing.assert_allclose(together[run].theta, alone.theta, rtol=0, atol=1e-12)
        np.testing.assert_allclose(together[run].loss, alone.loss, rtol=1e-12)


def test_amsgrad_on_v_hat_against_recursion():
    """AMSGrad on the bias-corrected v_hat (Part C), against the recursion in floats."""
    net = small_net()
    theta = net.init(1)
    lr, (b1, b2), eps = 0.02, (0.9, 0.999), 1e-8
    ours = adam.InstrumentedAdam(theta[None], lr, [adam.AdamOptions((b1, b2), eps, "v_hat")])
    x = theta.numpy().copy()
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    v_hat_max = np.zeros_like(x)
    previous = torch.zeros_like(theta)
    for t in range(1, 201):
        grad = net.grad_and_loss(ours.theta)[0]
        ours.step(grad)
        g = net.grad_and_loss(torch.from_numpy(x)[None])[0][0].numpy()
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        v_hat_max = np.maximum(v_hat_max, v / (1 - b2 ** t))
        x = x - lr * m / (1 - b1 ** t) / (np.sqrt(v_hat_max) + eps)
        assert torch.all(ours.v_hat >= previous)
        previous = ours.v_hat
    np.testing.assert_allclose(ours.theta[0].numpy(), x, rtol=0, atol=1e-12)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_scalar_adam_matches_torch_on_quadratic(amsgrad):
    a, lr, betas, eps = 3.0, 0.01, (0.9, 0.99), 1e-8
    trace = polynomial.adam(2, 1.5, 400, lr, *betas, eps, curvature=a,
                            amsgrad="torch" if amsgrad else None)
    param = torch.nn.Parameter(torch.tensor([1.5], dtype=torch.float64))
    reference = torch.optim.Adam([param], lr=lr, betas=betas, eps=eps, amsgrad=amsgrad)
    xs = []
    for _ in range(400):
        xs.append(param.item())
        param.grad = a * param.detach().clone()
        reference.step()
    np.testing.assert_allclose(trace.x, xs, rtol=0, atol=1e-12)


def test_run_adam_records_the_applied_state():
    """Rebuild each step from the stored g_t and P_t: theta_{t+1} - theta_t = -lr m_hat_t P_t."""
    net = small_net()
    lr, beta1, eps = 0.01, 0.9, 1e-8
    run, = adam.run_adam(net.grad_and_loss, net.init(0)[None], 50, lr,
                         [adam.AdamOptions((beta1, 0.999), eps)])
    m = np.zeros(run.theta.shape[1])
    for i in range(49):
        assert run.loss[i] == pytest.approx(net.loss(torch.from_numpy(run.theta[i])).item(),
                                            rel=1e-14)
        m = beta1 * m + (1 - beta1) * run.grad[i]
        step = -lr * m / (1 - beta1 ** (i + 1)) * run.precond[i]
        np.testing.assert_allclose(run.theta[i + 1] - run.theta[i], step, rtol=1e-9, atol=1e-18)
    np.testing.assert_allclose(run.precond, 1 / (np.sqrt(run.v_hat) + eps), rtol=1e-14)


# --------------------------------------------------------------------------------------------
# Threshold, curvature and closed forms
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("beta1, a", [(0.9, 1.0), (0.5, 3.0), (0.0, 0.2)])
def test_frozen_map_loses_stability_exactly_at_threshold(beta1, a):
    alpha_star = adam.frozen_map_threshold(a, beta1)
    assert alpha_star * (1 - beta1) * a == pytest.approx(2 * (1 + beta1), rel=1e-14)
    eigenvalues = np.linalg.eigvals(adam.frozen_adam_map(alpha_star, a, beta1))
    assert np.min(np.abs(eigenvalues + 1)) < 1e-12
    assert np.prod(eigenvalues).real == pytest.approx(beta1, abs=1e-12)

    def growth(alpha):
        """Iterate Adam with frozen alpha directly (not through the matrix)."""
        theta, m = 1.0, 0.0
        for _ in range(2000):
            m = beta1 * m + (1 - beta1) * a * theta
            theta = theta - alpha * m
        return abs(theta) + abs(m)

    assert growth(alpha_star * 0.99) < 1e-3
    assert growth(alpha_star * 1.01) > 1e3
    # the same threshold read as H_hat lr / 2 = 1 with the large-t momentum factor
    late_c = adam.momentum_factor(10_000, beta1)
    assert late_c * a * alpha_star / 2 == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("n", [12, 80])  # the dense route and Lanczos (spectra.DENSE_MAX_DIM)
def test_preconditioned_curvature_against_direct_forms(n):
    rng = np.random.default_rng(0)
    q = rng.standard_normal((n, n))
    hessian = q @ np.diag(rng.uniform(-1, 3, n)) @ q.T  # indefinite
    hessian = 0.5 * (hessian + hessian.T)  # exactly symmetric
    precond = rng.uniform(0.1, 10, n)
    grad = rng.standard_normal(n)
    t, beta1 = 7, 0.9

    def curvature(g):
        return adam.preconditioned_curvature(lambda v: v @ hessian, g[None], precond[None],
                                             np.array([t]), beta1)

    k = curvature(grad)
    c = (1 - beta1) / (1 + beta1) / (1 - beta1 ** t)
    # lambda_max of the nonsymmetric P H from a general eigensolver
    assert k.lam_max_hat[0] == pytest.approx(c * np.linalg.eigvals(precond[:, None] * hessian)
                                             .real.max(), rel=1e-10)
    assert k.lam_grad_b[0] <= k.lam_max_hat[0] + 1e-12
    pg = precond * grad
    assert k.lam_grad_a[0] == pytest.approx(c * grad @ (precond * (hessian @ grad))
                                            / (grad @ grad))
    assert k.lam_grad_b[0] == pytest.approx(c * pg @ hessian @ pg / (grad @ pg))
    assert k.lam_max_raw[0] == pytest.approx(np.linalg.eigvals(hessian).real.max())
    assert k.top_weights.sum() == pytest.approx(1.0)
    # a gradient along P^-1/2 u1 is perfectly aligned, and then B reaches lambda_max
    root = np.sqrt(precond)
    top = np.linalg.eigh(root[:, None] * hessian * root[None, :])[1][:, -1]
    aligned = curvature(top / root)
    assert aligned.cos_top[0] == pytest.approx(1.0, abs=1e-10)
    assert aligned.lam_grad_b[0] == pytest.approx(aligned.lam_max_hat[0], rel=1e-12)


def test_lam_grad_b_below_lam_max_on_the_network():
    net = small_net()
    run, = adam.run_adam(net.grad_and_loss, net.init(2)[None], 120, 0.05,
                         [adam.AdamOptions((0.9, 0.999), 1e-8)])
    series = spikes.curvature_series(net, run, range(20, 120, 10), 0.9, 0.999)
    assert np.all(series.lam_grad_b <= series.lam_max_hat * (1 + 1e-12))
    assert np.all((series.cos_top >= 0) & (series.cos_top <= 1 + 1e-12))


def test_pure_decay_ratio_against_simulation():
    beta2 = 0.999
    theta = torch.zeros(1, 3, dtype=torch.float64)
    opt = adam.InstrumentedAdam(theta, 0.01, [adam.AdamOptions((0.9, beta2), 0.0)])
    grads = [torch.tensor([[1.0, -2.0, 0.5]], dtype=torch.float64)] * 5
    grads += [torch.zeros(1, 3, dtype=torch.float64)] * 1500
    previous = None
    for t, grad in enumerate(grads, start=1):
        opt.step(grad)
        if t > 5:
            ratio = (opt.v_hat / previous).numpy()
            np.testing.assert_allclose(ratio, adam.pure_decay_ratio(t, beta2), rtol=1e-13)
        previous = opt.v_hat
    assert adam.pure_decay_ratio(1400, beta2) == pytest.approx(0.99867, abs=5e-6)


@pytest.mark.parametrize("a, theta0, lr, beta2", [
    (1.0, 1.0, 0.01, 0.99), (2.0, 0.5, 0.01, 0.99), (1.0, 1.0, 0.02, 0.98),
    (0.5, 2.0, 0.005, 0.99)])
def test_crossing_time_matches_simulated_crossing(a, theta0, lr, beta2):
    beta1 = 0.9
    trace = polynomial.adam(2, theta0, 6000, lr, beta1, beta2, 1e-8, curvature=a)
    spike = polynomial.quadratic_spike(trace, lr, beta1, a)
    t0 = spike.t_cross - 300
    assert np.max(trace.grad[t0:spike.t_cross] ** 2 / trace.v_hat[t0:spike.t_cross]) < 1e-6
    t_star = adam.crossing_time_1d(t0 + 1, trace.v_hat[t0], a, lr, beta1, beta2)
    assert abs(spike.t_cross + 1 - t_star) <= 2
    assert abs(spike.t_pk - spike.t_down) <= 2


def test_secant_curvature_on_a_quadratic_is_h_hat():
    """In 1-D the secant along any step is exactly c_t a P_t (the Hessian is constant)."""
    a, lr, beta1 = 2.0, 0.01, 0.9
    trace = polynomial.adam(2, 1.0, 300, lr, beta1, 0.99, 1e-8, curvature=a)
    secant = adam.secant_curvature(trace.x[:, None], trace.grad[:, None],
                                   trace.precond[:, None], beta1)
    expected = adam.momentum_factor(trace.steps[:-1], beta1) * a * trace.precond[:-1]
    np.testing.assert_allclose(secant, expected, rtol=1e-6)


# --------------------------------------------------------------------------------------------
# Degenerate polynomial
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("beta2", [0.93, 0.95])
def test_adam_on_quartic_has_slope_ln_beta2(beta2):
    trace = polynomial.adam(4, 1.0, 20_000, 1e-3, 0.9, beta2, 0.0, bias_correction=False,
                            start_from_gradient=True)
    slope = polynomial.fitted_log_slope(trace, 1e-45, 1e-10)
    assert slope == pytest.approx(math.log(beta2), rel=1e-6)
    assert polynomial.adam_linear_rate(4, beta2) == pytest.approx(math.log(beta2), rel=1e-15)
    assert polynomial.adam_regime(4, 0.9, beta2) == "linear"


def test_gd_follows_gradient_flow_and_regimes_classify():
    trace = polynomial.gradient_descent(4, 1.0, 5000, 1e-3)
    flow = polynomial.gradient_flow(trace.steps - 1, 4, 1e-3)
    assert np.max(np.abs(trace.x / flow - 1)) < 1e-3
    assert polynomial.gradient_flow(10, 3, 0.1) == pytest.approx(1 / 2.0)  # (1 + 1)^-1
    assert polynomial.adam_regime(4, 0.9, 0.895) == "spiking"  # 0.895 < 0.9 < 0.895^0.75
    assert polynomial.adam_regime(4, 0.9, 0.8) == "oscillating"


def test_fits_recover_known_rates():
    steps = np.arange(1, 2001, dtype=float)
    x = 0.9 ** steps  # so L = x^4 / 4 falls by 4 ln 0.9 per step
    linear = polynomial.Trace(x, x ** 4 / 4, x ** 3, np.empty(0), np.empty(0))
    assert polynomial.fitted_log_slope(linear, 1e-45, 1e-3) == pytest.approx(4 * math.log(0.9))
    power = polynomial.Trace(steps, 3 * steps ** -2.0, steps, np.empty(0), np.empty(0))
    assert polynomial.fitted_power(power, 100) == pytest.approx(-2.0)
    assert polynomial.sublinear_exponent(4) == -2.0
    # the flow's own exponent: -2 once lr t >> 1, shallower early on; GD's fit follows it
    assert polynomial.flow_power(4, 1.0, 1000, 10_000) == pytest.approx(-2.0, abs=1e-2)
    assert polynomial.flow_power(4, 1e-3, 300, 3000) > -1.5
    gd = polynomial.gradient_descent(4, 1.0, 3000, 1e-3)
    assert polynomial.fitted_power(gd, 300) == pytest.approx(
        polynomial.flow_power(4, 1e-3, 300, 3000), abs=1e-2)


def test_episode_rises_measure_each_crossing_against_the_envelope_there():
    h_hat = np.array([0, 0, 2, 2, 0, 0, 0, 3, 0, 0.0])
    loss = np.array([4, 1, 1, 10, 5, 2, 1, 1, 100, 1.0])
    trace = polynomial.Trace(np.ones(10), loss, np.ones(10), np.ones(10), np.ones(10))
    # episode 1 starts at 2 (envelope max(1, 1) = 1, peak 10 before 7), episode 2 at 7
    # (envelope max(1, 1) = 1, peak 100 to the end)
    np.testing.assert_allclose(polynomial.episode_rises(trace, h_hat, envelope_width=2), [1, 2])


def test_power_loss_gradient_by_finite_differences():
    for k, x in [(2, 0.7), (4, -1.3), (3, -0.4)]:
        h = 1e-6
        numeric = (polynomial.power_loss(x + h, k, 2.0)[0]
                   - polynomial.power_loss(x - h, k, 2.0)[0]) / (2 * h)
        assert polynomial.power_loss(x, k, 2.0)[1] == pytest.approx(numeric, rel=1e-8)


# --------------------------------------------------------------------------------------------
# The network and the detector
# --------------------------------------------------------------------------------------------
def test_network_gradient_and_hessian():
    net = small_net()
    theta = net.init(5)
    (grad,), (loss,) = net.grad_and_loss(theta[None])
    auto = torch.func.grad(net.loss)(theta)
    torch.testing.assert_close(grad, auto, rtol=1e-12, atol=1e-14)
    assert loss.item() == pytest.approx(net.loss(theta).item(), rel=1e-14)
    hessian = dense_hessian(net.loss, theta).numpy()
    direction = torch.randn(len(theta), dtype=torch.float64, generator=torch.Generator()
                            .manual_seed(0))
    h = 1e-5
    numeric = (net.grad_and_loss((theta + h * direction)[None])[0][0]
               - net.grad_and_loss((theta - h * direction)[None])[0][0]) / (2 * h)
    np.testing.assert_allclose(hessian @ direction.numpy(), numeric.numpy(), atol=1e-8)
    np.testing.assert_allclose(hessian, hessian.T, atol=1e-12)


@pytest.mark.parametrize("n_points, width", [(12, 6), (40, 50)])
def test_closed_form_hessian_matches_double_autodiff(n_points, width):
    """The closed-form Hessian-vector products, applied to every basis vector at three points
    at once, against torch.func.hessian at each point."""
    net = spikes.TanhNet.sine_task(n_points, width)
    thetas = torch.stack([net.init(seed) for seed in range(3)])
    dim = thetas.shape[1]
    terms = net.hessian_terms(thetas.numpy())
    columns = np.stack([terms.matvec(np.broadcast_to(e, (3, dim))) for e in np.eye(dim)], -1)
    for theta, closed_form in zip(thetas, columns):
        exact = torch.func.hessian(net.loss)(theta).numpy()
        np.testing.assert_allclose(closed_form, exact, rtol=0, atol=1e-14 * np.abs(exact).max())


def synthetic_loss():
    """A decaying baseline with known spikes: a 5x bump at 300, a 10x and a 4x bump 12 steps
    apart at 600/612 (to be merged), a 2x bump at 900 (too small) and a 20x bump at 1200."""
    t = np.arange(1500)
    loss = 1e-2 * np.exp(-t / 400)
    for centre, height in [(300, 5), (600, 10), (612, 4), (900, 2), (1200, 20)]:
        loss = loss * (1 + (height - 1) * np.exp(-0.5 * ((t - centre) / 2.0) ** 2))
    return loss


def test_spike_detector_on_synthetic_curve():
    loss = synthetic_loss()
    found = spikes.detect_spikes(loss)
    assert [s.t_pk for s in found] == [300, 600, 1200]
    assert [round(s.amplitude) for s in found] == [5, 10, 20]
    for s in found:
        assert s.t_min < s.t_on <= s.t_pk <= s.end
        assert loss[s.t_on] > 1.5 * loss[s.t_min] >= loss[s.t_on - 1]
        # the rise: increasing at every step from t_rise to the peak, falling just before
        assert s.t_min <= s.t_rise <= s.t_on
        assert np.all(np.diff(loss[s.t_rise:s.t_pk + 1]) > 0)
        assert loss[s.t_rise - 1] >= loss[s.t_rise]
        # the local baseline decays with the trend: a little above L(t_min), a little below
        baseline = np.median(loss[s.t_on - 50:s.t_on - 9])
        assert s.local_amplitude == pytest.approx(loss[s.t_pk] / baseline)
        assert 0.8 * s.amplitude < s.local_amplitude < s.amplitude
    assert found[1].end > 612  # the 4x bump 12 steps later was merged into the 10x one
    assert spikes.detect_spikes(1e-2 * np.exp(-np.arange(1500) / 400)) == []


def test_crossings_and_warning_scores():
    signal = np.array([0, 2, 2, 0, 0, 3, 3, 3, 0, 2.0])
    assert spikes.last_upward_crossing(signal, 1.0, 7) == 5
    assert spikes.last_upward_crossing(signal, 1.0, 4) == 1
    assert spikes.last_upward_crossing(signal, 5.0, 9) == -1
    assert spikes.runs_above(signal, 1.0) == [(1, 2), (5, 7), (9, 9)]
    np.testing.assert_array_equal(spikes.running_max(np.array([1, 3, 2, 0, 0, 0.5]), 2),
                                  [1, 3, 3, 2, 0, 0.5])
    onset = spikes.Spike(start=60, end=70, t_min=50, t_on=55, t_pk=62, amplitude=4.0,
                         t_rise=56, local_amplitude=4.0)
    index = np.arange(0, 100, 10)  # samples every 10 steps
    score = spikes.warning_score(index, signal, 1.0, [onset])
    assert (score.steps_above, score.episodes) == (6, 3)
    assert score.precision == pytest.approx(1 / 3) and score.recall == 1.0
