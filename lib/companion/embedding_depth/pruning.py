"""Layer pruning at lifted points: fold a linearised hidden layer into the next one.

The chapter's application "Folding linearised layers away" (paper v4). On the training data a
hidden layer with nonlinearity index N ~ 0 computes ``sigma(z) ~ a * z + c`` neuron by neuron, so
the net is (nearly) the lift of a shallower net; folding recovers that shallower net,

    W+ = W[l+1] diag(a) W[l],    b+ = W[l+1] (a * b[l] + c) + b[l+1],

and the loss changes by about as much as the fit is off, which N measures.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from .lifting import affine_fit, nonlinearity_index
from .plateaus import NormedMLP


def fold_layer(model: NormedMLP, layer: int, x: torch.Tensor) -> NormedMLP:
    """A copy of ``model`` with hidden layer ``layer`` (0-based) replaced by its affine fit on
    ``x`` and merged into the following linear map (the module docstring's W+, b+)."""
    if any(not isinstance(norm, nn.Identity) for norm in model.norms):
        raise ValueError("folding needs a net without normalisation layers")
    if not 0 <= layer < len(model.norms):
        raise ValueError(f"layer must be in [0, {len(model.norms) - 1}], got {layer}")
    fit = affine_fit(model(x)[1][layer], model.sigma)
    a, c = fit.slope, fit.intercept
    inner, outer = model.linears[layer], model.linears[layer + 1]
    w_in, b_in = inner.weight.detach().double(), inner.bias.detach().double()
    w_out, b_out = outer.weight.detach().double(), outer.bias.detach().double()
    merged = nn.Linear(inner.in_features, outer.out_features)
    with torch.no_grad():
        merged.weight.copy_(w_out @ (a[:, None] * w_in))
        merged.bias.copy_(w_out @ (a * b_in + c) + b_out)
    pruned = copy.deepcopy(model)
    pruned.linears = nn.ModuleList([*pruned.linears[:layer], merged, *pruned.linears[layer + 2:]])
    pruned.norms = nn.ModuleList([*pruned.norms[:layer], *pruned.norms[layer + 1:]])
    return pruned


def prune_linearised(model: NormedMLP, x: torch.Tensor, threshold: float = 1e-3) -> NormedMLP:
    """Fold, one at a time, every hidden layer whose N on ``x`` is below ``threshold``
    (recomputing N after each fold), until none is left below it."""
    while len(model.norms) > 0:
        indices = [nonlinearity_index(z, model.sigma) for z in model(x)[1]]
        layer = min(range(len(indices)), key=indices.__getitem__)
        if indices[layer] >= threshold:
            break
        model = fold_layer(model, layer, x)
    return model
