"""Tests of the thirteen attribution methods: shapes, definitions on toy models, seeding, caching, errors."""

import copy

import numpy as np
import pytest
import torch
from torch import nn

from tsinsight import attribution
from tsinsight.attribution import METHODS, attribute, cached_attribute
from tsinsight.explainer import TSInsight
from tsinsight.models import AutoEncoder, CNNClassifier, LSTMClassifier, make_classifier

FAST = dict(n_steps=4, n_samples=4)  # the paper's 100 steps / noise draws are the defaults; tests only need few


class Linear(nn.Module):
    """logits = W · flatten(x) + b: every gradient method has a closed form on it."""

    def __init__(self, n_channels: int, length: int, n_classes: int = 3):
        super().__init__()
        self.n_channels = n_channels
        self.layer = nn.Linear(n_channels * length, n_classes)

    def forward(self, x):
        return self.layer(x.flatten(1))


class OnePoint(nn.Module):
    """Class 0's logit reads only x[:, 0, 5]; class 1's logit is 0."""

    n_channels = 2

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(3.0))

    def forward(self, x):
        return torch.stack([self.scale * x[:, 0, 5], torch.zeros(len(x))], dim=1)


def _data(n_channels: int, n: int = 4, length: int = 16, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, n_channels, length)).astype(np.float32)


def _explainers(classifier, n_channels, length):
    torch.manual_seed(0)
    return {
        "tsinsight": TSInsight(classifier, AutoEncoder(n_channels, length), gamma=1.0, beta=1e-3, mode="tsinsight"),
        "palacio": TSInsight(classifier, AutoEncoder(n_channels, length), mode="palacio"),
    }


def test_methods_are_the_papers_thirteen_in_order():
    assert METHODS == (
        "none", "random", "input_magnitude", "occlusion", "tsinsight", "palacio", "gradient", "gradient_x_input",
        "integrated_gradients", "smoothgrad", "guided_backprop", "gradcam", "guided_gradcam",
    )  # fmt: skip


@pytest.mark.parametrize("kind", ["cnn", "lstm"])
@pytest.mark.parametrize("n_channels", [1, 3])
def test_every_method_returns_finite_non_negative_arrays_like_the_input(kind, n_channels):
    torch.manual_seed(0)
    classifier = make_classifier(kind, n_channels, 3, 16)
    x = _data(n_channels)
    explainers = _explainers(copy.deepcopy(classifier), n_channels, x.shape[-1])
    for method in METHODS:
        result = attribute(method, classifier, x, explainer=explainers.get(method), **FAST)
        assert result.shape == x.shape, method
        assert result.dtype == np.float32, method
        assert np.isfinite(result).all() and (result >= 0).all(), method
        if method not in ("none", "gradcam", "guided_gradcam"):  # a ReLU'd class map of random weights may be 0
            assert result.max() > 0, method
    assert classifier.training  # a fresh module trains; attribute() put it in eval mode and back


def test_gradient_matches_central_finite_differences_of_the_summed_logits():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Flatten(), nn.Linear(2 * 6, 8), nn.Tanh(), nn.Linear(8, 3), nn.Tanh())
    x = _data(2, n=3, length=6)
    double = copy.deepcopy(model).double()
    x64 = torch.as_tensor(x, dtype=torch.float64)
    eps = 1e-6
    expected = np.zeros_like(x, dtype=np.float64)
    for index in np.ndindex(x.shape[1:]):
        step = torch.zeros_like(x64)
        step[(slice(None), *index)] = eps
        with torch.no_grad():
            difference = double(x64 + step).sum(dim=1) - double(x64 - step).sum(dim=1)
        expected[(slice(None), *index)] = np.abs(difference.numpy()) / (2 * eps)
    np.testing.assert_allclose(attribute("gradient", model, x), expected, rtol=1e-4, atol=1e-6)


def test_gradient_family_has_its_closed_form_on_a_linear_model():
    torch.manual_seed(2)
    model = Linear(2, 8)
    x = _data(2, n=3, length=8)
    summed = model.layer.weight.detach().sum(dim=0).reshape(2, 8).numpy()  # d(sum of logits)/dx
    np.testing.assert_allclose(attribute("gradient", model, x), np.abs(summed)[None].repeat(3, 0), rtol=1e-5)
    np.testing.assert_allclose(attribute("guided_backprop", model, x), np.abs(summed)[None].repeat(3, 0), rtol=1e-5)
    np.testing.assert_allclose(attribute("gradient_x_input", model, x), np.abs(x * summed), rtol=1e-5, atol=1e-7)
    # For a linear model the path integral is exact with any number of steps.
    np.testing.assert_allclose(attribute("integrated_gradients", model, x, n_steps=3), np.abs(x * summed), rtol=1e-4)
    np.testing.assert_allclose(
        attribute("smoothgrad", model, x, n_samples=5), np.abs(summed)[None].repeat(3, 0), rtol=1e-4
    )


def test_integrated_gradients_defaults_to_the_papers_100_steps(monkeypatch):
    seen = {}
    original = attribution.captum().IntegratedGradients.attribute

    def spy(self, inputs, **kwargs):
        seen.update(kwargs)
        return original(self, inputs, **kwargs)

    monkeypatch.setattr(attribution.captum().IntegratedGradients, "attribute", spy)
    attribute("integrated_gradients", Linear(1, 4), _data(1, n=2, length=4))
    assert seen["n_steps"] == 100 and seen["baselines"] == 0.0


def test_occlusion_marks_only_the_windows_over_the_point_the_model_reads():
    x = np.ones((2, 2, 12), dtype=np.float32)
    result = attribute("occlusion", OnePoint(), x)
    # The windows of 3 that hide step 5 start at 3, 4 and 5: they cover steps 3..7, and each point's score
    # is the mean drop over the windows that cover it (all 3 of them for step 5, 1 of 3 for steps 3 and 7).
    drop = result[:, 0, 5]
    assert (drop > 0).all()
    np.testing.assert_allclose(result[:, 0, 3:8], drop[:, None] * np.array([1, 2, 3, 2, 1]) / 3, rtol=1e-5)
    assert result[:, 0, :3].max() == 0 and result[:, 0, 8:].max() == 0 and result[:, 1].max() == 0
    confidence = torch.softmax(torch.tensor([3.0, 0.0]), 0)[0] - 0.5  # predicted class 0 at x=1, 50 % at x=0
    np.testing.assert_allclose(drop, confidence.item(), rtol=1e-5)


def test_gradcam_is_one_map_over_time_broadcast_over_channels():
    torch.manual_seed(3)
    result = attribute("gradcam", CNNClassifier(3, 2, 16), _data(3, n=5))
    np.testing.assert_array_equal(result[:, 0], result[:, 1])
    np.testing.assert_array_equal(result[:, 0], result[:, 2])


def test_input_magnitude_and_explainer_methods_are_what_they_claim():
    torch.manual_seed(4)
    classifier = CNNClassifier(2, 3, 16)
    x = _data(2)
    np.testing.assert_array_equal(attribute("input_magnitude", classifier, x), np.abs(x))
    explainer = _explainers(classifier, 2, x.shape[-1])["tsinsight"]
    np.testing.assert_allclose(attribute("tsinsight", classifier, x, explainer=explainer), explainer.attribute(x))
    constant = attribute("none", classifier, x)
    assert (constant == constant.flat[0]).all()


def test_random_is_seeded():
    classifier, x = CNNClassifier(1, 2, 16), _data(1)
    first = attribute("random", classifier, x, seed=3)
    np.testing.assert_array_equal(first, attribute("random", classifier, x, seed=3))
    assert not np.array_equal(first, attribute("random", classifier, x, seed=4))


def test_smoothgrad_is_seeded_and_noisy():
    torch.manual_seed(5)
    classifier, x = CNNClassifier(1, 2, 16), _data(1)
    first = attribute("smoothgrad", classifier, x, seed=1, n_samples=3)
    np.testing.assert_array_equal(first, attribute("smoothgrad", classifier, x, seed=1, n_samples=3))
    assert not np.allclose(first, attribute("smoothgrad", classifier, x, seed=2, n_samples=3))


def test_chunking_does_not_change_gradients():
    torch.manual_seed(6)
    classifier, x = LSTMClassifier(2, 3), _data(2, n=7)
    np.testing.assert_allclose(
        attribute("gradient", classifier, x, batch_size=2), attribute("gradient", classifier, x), rtol=1e-5, atol=1e-8
    )


def test_bad_requests_fail_with_a_clear_message():
    classifier, x = CNNClassifier(2, 3, 16), _data(2)
    with pytest.raises(ValueError, match="integrated_gradients"):
        attribute("integrated_gradient", classifier, x)
    with pytest.raises(ValueError, match="explainer"):
        attribute("tsinsight", classifier, x)
    palacio = _explainers(classifier, 2, x.shape[-1])["palacio"]
    with pytest.raises(ValueError, match="mode 'palacio'"):
        attribute("tsinsight", classifier, x, explainer=palacio)
    with pytest.raises(ValueError, match="channels"):
        attribute("gradient", classifier, _data(3))
    with pytest.raises(ValueError, match=r"\(n, channels, length\)"):
        attribute("gradient", classifier, x[0])
    with pytest.raises(ValueError, match="n_steps"):
        attribute("integrated_gradients", classifier, x, n_steps=0)
    with pytest.raises(ValueError, match="constant input"):
        attribute("smoothgrad", classifier, np.zeros_like(x))


def test_cached_attribute_computes_once_per_key(monkeypatch):
    classifier, x = CNNClassifier(1, 2, 16), _data(1)
    calls = []
    original = attribution.attribute

    def counting(*args, **kwargs):
        calls.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(attribution, "attribute", counting)
    key = {"dataset": "toy", "profile": "test"}
    first = cached_attribute("random", classifier, x, key=key, seed=1)
    np.testing.assert_array_equal(first, cached_attribute("random", classifier, x, key=key, seed=1))
    assert len(calls) == 1
    cached_attribute("random", classifier, x, key=key, seed=2)
    with torch.no_grad():
        classifier.head.bias.add_(1.0)  # other weights: another artifact
    cached_attribute("random", classifier, x, key=key, seed=1)
    assert len(calls) == 3
