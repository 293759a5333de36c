"""Unit tests of companion.plateaus: least squares, plateau metrics and the BN centring."""

import dataclasses

import numpy as np
import pytest
import torch

from companion.embedding_depth import lifting, plateaus


def test_least_squares_level_matches_numpy_polyfit():
    x = torch.linspace(-1, 1, 64)[:, None]
    y = 0.8 * x + 0.6 * x * torch.sin(3 * x)
    ls = plateaus.least_squares_fit(x, y)
    xn, yn = x.double().numpy()[:, 0], y.double().numpy()[:, 0]
    fit = np.polyval(np.polyfit(xn, yn, 1), xn)
    assert ls.loss == pytest.approx(0.5 * np.mean((fit - yn) ** 2), rel=1e-10)
    assert ls.loss == pytest.approx(7.662e-3, rel=1e-3)  # the chapter's L_lin


def test_plateau_steps_and_t_half_on_a_synthetic_log():
    steps = np.arange(0, 100, 10.0)
    loss = np.array([1.0, 0.5, 0.102, 0.1, 0.098, 0.2, 0.06, 0.049, 0.01, 0.001])
    log = plateaus.TrainingLog(steps, loss, *(np.zeros(10) for _ in range(5)))
    assert plateaus.plateau_steps(log, 0.1) == 30
    assert plateaus.t_half(log, 0.1) == 70.0
    assert plateaus.t_half(log, 1e-4) == float("inf")


def test_batchnorm_leaves_no_relu_neuron_single_signed():
    torch.manual_seed(0)
    x = torch.linspace(-1, 1, 64)[:, None]
    plain = plateaus.NormedMLP(1, 20, 3, activation="relu", hidden_bias=2.0)
    bn = plateaus.NormedMLP(1, 20, 3, norm="bn", activation="relu", hidden_bias=2.0)
    frac = {name: float(plateaus.linearised_fraction(torch.cat(model(x)[1], dim=1).detach()))
            for name, model in (("plain", plain), ("bn", bn))}
    assert frac["bn"] == 0.0
    assert frac["plain"] > 0.5


def test_summary_reads_the_plateau_medians_off_a_synthetic_log():
    steps = np.arange(0, 60, 10.0)
    loss = np.array([1.0, 0.1, 0.101, 0.099, 0.04, 0.01])
    n_max = np.array([0.5, 1e-4, 3e-4, 2e-4, 0.1, 0.2])
    d_lin = np.array([1.0, 0.01, 0.03, 0.02, 0.5, 0.6])
    n_min = np.array([0.3, 1e-5, 1e-5, 1e-5, 0.05, 0.1])
    log = plateaus.TrainingLog(steps, loss, n_max, n_min, d_lin, np.zeros(6), np.zeros(6))
    summary = plateaus.summarise(log, 0.1)
    assert (summary.plateau_steps, summary.t_half) == (30, 40.0)
    assert (summary.n_on_plateau, summary.d_lin_on_plateau) == (2e-4, 0.02)
    assert summary.n_min == 1e-5
    no_plateau = plateaus.summarise(log, 10.0)
    assert no_plateau.plateau_steps == 0 and np.isnan(no_plateau.n_on_plateau)


def test_training_matches_a_plain_per_tensor_adam_loop():
    """``train`` advances every seed of a stack with one Adam update of the whole stack; each
    seed's trajectory must not change beyond float32 rounding from torch's per-tensor Adam loop
    on its own NormedMLP. (With a normalisation layer some gradients are rounding noise around an exact
    zero, which Adam scales up to full steps: those runs are compared at step 0 below.)"""
    x = torch.linspace(-1, 1, 16)[:, None]
    y = torch.sin(3 * x)
    models = [plateaus.build(1, 8, 2, 1, seed) for seed in (0, 1)]
    nets = plateaus.SeedStack(models)
    logs = plateaus.train(nets, x, y, lr=1e-2, steps=50, log_every=50)
    for seed_index, (reference, log) in enumerate(zip(models, logs)):
        optimiser = torch.optim.Adam(reference.parameters(), lr=1e-2, foreach=False)
        for _ in range(50):
            optimiser.zero_grad()
            (0.5 * ((reference(x)[0] - y) ** 2).sum() / len(y)).backward()
            optimiser.step()
        for trained, expected in zip(nets.model(seed_index).parameters(),
                                     reference.parameters()):
            torch.testing.assert_close(trained, expected, rtol=1e-5, atol=1e-6)
        reference_loss = (0.5 * ((reference(x)[0] - y) ** 2).sum() / len(y)).item()
        assert log.loss[-1] == pytest.approx(reference_loss, rel=1e-5)


@pytest.mark.parametrize("norm", plateaus.NORMS)
def test_a_stack_logs_what_each_nets_own_forward_pass_gives(norm):
    """The logged N, d_lin, gradient norm and linearised fraction of every seed at step 0,
    against the single-net forward pass and autograd."""
    x = torch.linspace(-1, 1, 16)[:, None]
    y = torch.sin(3 * x)
    models = [plateaus.build(1, 8, 3, 1, seed, norm, "relu", 1.0, 0.5) for seed in (2, 3)]
    logs = plateaus.train(plateaus.SeedStack(models), x, y, lr=1e-2, steps=0, log_every=1)
    fit = plateaus.least_squares_fit(x, y).fit
    for model, log in zip(models, logs):
        out, zs = model(x)
        loss = 0.5 * ((out - y) ** 2).sum() / len(y)
        loss.backward()
        indices = [float(lifting.nonlinearity_index(z, model.sigma)) for z in zs]
        grad_norm = torch.cat([p.grad.reshape(-1) for p in model.parameters()]).norm()
        expected = [0, loss.item(), max(indices), min(indices),
                    float((out.detach().double() - fit).norm() / fit.norm()), float(grad_norm),
                    float(lifting.linearised_fraction(torch.cat(zs, dim=1).detach()))]
        actual = [float(getattr(log, f.name)[0]) for f in dataclasses.fields(log)]
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-7)
