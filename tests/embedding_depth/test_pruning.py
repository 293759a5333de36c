"""Layer folding against two independent oracles: a ReLU layer that is exactly the identity on
the data folds without changing any output, and the fit matches numpy's polyfit per neuron."""

import numpy as np
import pytest
import torch

from companion.embedding_depth import pruning
from companion.embedding_depth.lifting import affine_fit, nonlinearity_index
from companion.embedding_depth.plateaus import NormedMLP

X = torch.linspace(-1, 1, 32)[:, None]


def test_affine_fit_matches_polyfit_per_neuron():
    z = torch.randn(50, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    fit = affine_fit(z, torch.tanh)
    for j in range(4):
        zj, sj = z[:, j].numpy(), np.tanh(z[:, j].numpy())
        slope, intercept = np.polyfit(zj, sj, 1)
        assert (float(fit.slope[j]), float(fit.intercept[j])) == pytest.approx(
            (slope, intercept), rel=1e-10)
        residual = ((sj - slope * zj - intercept) ** 2).sum()
        assert float(fit.residual[j]) == pytest.approx(residual, rel=1e-8)


@pytest.mark.parametrize("layer", [0, 1, 2])
def test_folding_an_always_active_relu_layer_keeps_every_output(layer):
    torch.manual_seed(0)
    model = NormedMLP(1, 8, 3, activation="relu", init_scale=0.3, hidden_bias=5.0)
    assert all(bool((z > 0).all()) for z in model(X)[1])  # every layer is the identity on X
    folded = pruning.fold_layer(model, layer, X)
    assert len(folded.norms) == 2 and len(model.norms) == 3
    torch.testing.assert_close(folded(X)[0], model(X)[0], rtol=1e-5, atol=1e-6)


def test_pruning_folds_small_init_tanh_layers_and_keeps_nonlinear_ones():
    torch.manual_seed(0)
    small = NormedMLP(1, 20, 3, init_scale=0.1)
    n_max = max(nonlinearity_index(z) for z in small(X)[1])
    assert n_max < 1e-3
    pruned = pruning.prune_linearised(small, X)
    assert len(pruned.norms) == 0  # an affine map: the small-init net is a lift of depth 1
    with torch.no_grad():  # N is a squared relative residual, so outputs move by ~ sqrt(N)
        error = (pruned(X)[0] - small(X)[0]).abs().max() / small(X)[0].abs().max()
    assert float(error) < 10 * n_max**0.5
    torch.manual_seed(0)
    standard = NormedMLP(1, 20, 3, init_scale=3.0)
    assert len(pruning.prune_linearised(standard, X).norms) == 3


def test_folding_refuses_normalised_nets_and_bad_layers():
    with pytest.raises(ValueError, match="without normalisation"):
        pruning.fold_layer(NormedMLP(1, 4, 2, norm="bn"), 0, X)
    with pytest.raises(ValueError, match=r"layer must be in \[0, 1\]"):
        pruning.fold_layer(NormedMLP(1, 4, 2), 2, X)
