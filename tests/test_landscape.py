"""The loss landscape along filter-normalised random directions (tsinsight.evaluation.landscape)."""

import copy

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from tsinsight.evaluation.landscape import (
    filter_normalized_direction,
    landscape_summary,
    landscape_surface,
    loss_landscape,
    moving_parameter_names,
    random_directions,
)
from tsinsight.models import AutoEncoder, CNNClassifier, LSTMClassifier


def _trained_bn_classifier():
    """A small CNN whose BatchNorm running statistics are not the defaults (so eval mode matters)."""
    torch.manual_seed(0)
    model = CNNClassifier(2, 3, 12, widths=(4, 8))
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(16, 2, 12) * 3 + 1)
    return model.eval()


def _data(n=20, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, 2, 12, generator=generator), torch.randint(0, 3, (n,), generator=generator)


def test_each_filter_of_the_direction_has_the_norm_of_the_models_filter():
    model = _trained_bn_classifier()
    direction = filter_normalized_direction(model, generator=torch.Generator().manual_seed(3))
    parameters = dict(model.named_parameters())
    assert set(direction) == set(parameters)
    for name, weight in parameters.items():
        if weight.dim() <= 1:  # biases and BatchNorm's scale and shift stay put
            assert torch.count_nonzero(direction[name]) == 0, name
        else:
            torch.testing.assert_close(
                direction[name].flatten(1).norm(dim=1), weight.detach().flatten(1).norm(dim=1), rtol=1e-5, atol=1e-6
            )
            assert not torch.allclose(direction[name], weight.detach())  # a random direction, not the weights


def test_directions_are_seeded_and_distinct():
    model = _trained_bn_classifier()
    delta, eta = random_directions(model, seed=5)
    again, _ = random_directions(model, seed=5)
    other, _ = random_directions(model, seed=6)
    name = "features.0.0.weight"
    assert torch.equal(delta[name], again[name])
    assert not torch.equal(delta[name], eta[name]) and not torch.equal(delta[name], other[name])


def test_landscape_at_the_origin_is_the_models_loss():
    model = _trained_bn_classifier()
    x, y = _data()
    with torch.no_grad():
        expected = nn.functional.cross_entropy(model(x), y).item()
    frame = loss_landscape(model, x, y, points=5, batch_size=7, grid_chunk=4, device="cpu")
    assert len(frame) == 25 and list(frame.columns) == ["alpha", "beta", "loss"]
    origin = frame[(frame.alpha == 0) & (frame.beta == 0)].loss.item()
    assert origin == pytest.approx(expected, rel=1e-5)
    assert frame.loss.nunique() > 20  # the other points moved the weights


def test_batched_grid_matches_loading_the_moved_weights():
    model = _trained_bn_classifier()
    x, y = _data(seed=1)
    frame = loss_landscape(model, x, y, points=5, seed=2, batch_size=8, grid_chunk=3)
    delta, eta = random_directions(model, seed=2)
    moved = copy.deepcopy(model)
    alpha, beta = 0.5, -1.0
    with torch.no_grad():
        for name, parameter in moved.named_parameters():
            parameter.add_(alpha * delta[name] + beta * eta[name])
        expected = nn.functional.cross_entropy(moved(x), y).item()
    value = frame[(frame.alpha == alpha) & (frame.beta == beta)].loss.item()
    assert value == pytest.approx(expected, rel=1e-5)


def test_only_the_moving_submodule_moves():
    classifier = _trained_bn_classifier()
    autoencoder = AutoEncoder(2, 12, width=8)
    pipeline = nn.Sequential(autoencoder, classifier)
    names = moving_parameter_names(pipeline, autoencoder)
    assert names and all(name.startswith("0.") for name in names)
    delta, _ = random_directions(pipeline, moving=autoencoder, seed=0)
    assert set(delta) == set(names)
    x, y = _data(n=12)
    frame = loss_landscape(pipeline, x, y, moving=autoencoder, points=3)
    with torch.no_grad():
        expected = nn.functional.cross_entropy(pipeline.eval()(x), y).item()
    assert frame.loss.iloc[4] == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="submodule"):
        moving_parameter_names(pipeline, nn.Linear(2, 2))


def test_recurrent_models_are_evaluated_point_by_point():
    torch.manual_seed(0)
    model = LSTMClassifier(2, 3, hidden=4).eval()
    x, y = _data(n=6)
    frame = loss_landscape(model, x, y, points=3, grid_chunk=2)
    with torch.no_grad():
        expected = nn.functional.cross_entropy(model(x), y).item()
    assert frame.loss.iloc[4] == pytest.approx(expected, rel=1e-5)


def _frame(function, points=21):
    axis = np.linspace(-1, 1, points)
    alpha, beta = np.meshgrid(axis, axis, indexing="ij")
    return pd.DataFrame({"alpha": alpha.ravel(), "beta": beta.ravel(), "loss": function(alpha, beta).ravel()})


def test_summary_tells_a_bowl_from_a_kink():
    bowl = landscape_summary(_frame(lambda a, b: 1 + a**2 + 2 * b**2))
    assert bowl["loss_at_optimum"] == pytest.approx(1.0)
    assert bowl["convex_share"] == pytest.approx(1.0)
    assert bowl["near_optimum_rise_share"] < 0.05
    # a narrow well in a flat plateau: the whole rise happens within one grid step of the optimum
    kink = landscape_summary(_frame(lambda a, b: 3 - 2 * np.exp(-200 * (a**2 + b**2))))
    assert kink["near_optimum_rise_share"] > 0.8
    assert kink["convex_share"] < 1.0  # the well's rim is concave
    assert kink["mean_loss"] > bowl["mean_loss"]


def test_surface_and_summary_checks():
    frame = _frame(lambda a, b: a + b, points=5)
    alpha, beta, loss = landscape_surface(frame)
    assert alpha.shape == beta.shape == loss.shape == (5, 5)
    np.testing.assert_allclose(loss, alpha + beta)
    with pytest.raises(ValueError, match="odd"):
        landscape_summary(_frame(lambda a, b: a, points=4))
    with pytest.raises(ValueError, match="missing"):
        landscape_summary(frame.drop(columns="loss"))
    with pytest.raises(ValueError, match="points"):
        loss_landscape(_trained_bn_classifier(), *_data(), points=1)
