"""Unit tests of companion.plateaus: least squares, plateau metrics and the BN centring."""

import numpy as np
import pytest
import torch

from companion import plateaus


def test_least_squares_level_matches_numpy_polyfit():
    x = torch.linspace(-1, 1, 64)[:, None]
    y = 0.8 * x + 0.6 * x * torch.sin(3 * x)
    ls = plateaus.least_squares_fit(x, y)
    xn, yn = x.double().numpy()[:, 0], y.double().numpy()[:, 0]
    fit = np.polyval(np.polyfit(xn, yn, 1), xn)
    assert ls.loss == pytest.approx(0.5 * np.mean((fit - yn) ** 2), rel=1e-10)
    assert ls.loss == pytest.approx(7.662e-3, rel=1e-3)  # spec section 3


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
    frac = {name: plateaus.linearised_fraction(torch.cat(model(x)[1], dim=1).detach())
            for name, model in (("plain", plain), ("bn", bn))}
    assert frac["bn"] == 0.0
    assert frac["plain"] > 0.5
