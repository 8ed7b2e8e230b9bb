"""Accuracy under FGSM (tsinsight.evaluation.fgsm)."""

import numpy as np
import pytest
import torch
from torch import nn

from tsinsight.evaluation.fgsm import fgsm_accuracy, fgsm_curves
from tsinsight.models import AutoEncoder, CNNClassifier


def _linear_problem(n=200, seed=0):
    """A two-class linear classifier and inputs labelled by it: FGSM lowers every margin linearly in ε."""
    generator = torch.Generator().manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(2 * 10, 2))
    x = torch.randn(n, 2, 10, generator=generator)
    with torch.no_grad():
        y = model(x).argmax(dim=1)
    return model, x, y


def test_epsilon_zero_leaves_accuracy_unchanged_and_larger_epsilon_never_raises_it():
    model, x, y = _linear_problem()
    y = y.clone()
    y[:40] = 1 - y[:40]  # 80 % clean accuracy, so ε = 0 is checked against a value other than 1
    with torch.no_grad():
        clean = (model(x).argmax(dim=1) == y).float().mean().item()
    epsilons = [0.0, 0.01, 0.05, 0.1, 0.5, 2.0]
    frame = fgsm_accuracy(model, x, y, epsilons, batch_size=64, device="cpu")
    assert list(frame.columns) == ["epsilon", "accuracy"]
    assert list(frame.epsilon) == epsilons
    assert frame.accuracy.iloc[0] == pytest.approx(clean)
    assert (np.diff(frame.accuracy.to_numpy()) <= 0).all()
    assert frame.accuracy.iloc[-1] < clean - 0.5  # a large step crosses almost every margin


def test_fgsm_matches_a_hand_made_sign_step():
    model, x, y = _linear_problem(n=50, seed=1)
    epsilon = 0.3
    inputs = x.clone().requires_grad_(True)
    nn.functional.cross_entropy(model(inputs), y, reduction="sum").backward()
    with torch.no_grad():
        expected = (model(x + epsilon * inputs.grad.sign()).argmax(dim=1) == y).float().mean().item()
    assert fgsm_accuracy(model, x, y, [epsilon]).accuracy.iloc[0] == pytest.approx(expected)


def test_examples_crafted_on_another_model_are_evaluated_on_the_model():
    model, x, y = _linear_problem(n=50, seed=1)
    flipped = nn.Sequential(nn.Flatten(), nn.Linear(2 * 10, 2))
    with torch.no_grad():
        flipped[1].weight.copy_(-model[1].weight)  # its gradient points the other way: it moves x away from the border
        flipped[1].bias.copy_(-model[1].bias)
    epsilon = 0.3
    inputs = x.clone().requires_grad_(True)
    nn.functional.cross_entropy(flipped(inputs), y, reduction="sum").backward()
    with torch.no_grad():
        expected = (model(x + epsilon * inputs.grad.sign()).argmax(dim=1) == y).float().mean().item()
    transferred = fgsm_accuracy(model, x, y, [epsilon], crafted_on=flipped).accuracy.iloc[0]
    assert transferred == pytest.approx(expected) and transferred == 1.0
    assert fgsm_accuracy(model, x, y, [epsilon]).accuracy.iloc[0] < 1.0


def test_attack_through_a_pipeline_and_numpy_inputs():
    torch.manual_seed(0)
    pipeline = nn.Sequential(AutoEncoder(2, 12), CNNClassifier(2, 3, 12)).train()
    x = np.random.default_rng(0).normal(size=(20, 2, 12)).astype(np.float32)
    y = np.random.default_rng(1).integers(0, 3, size=20)
    curves = fgsm_curves({"pipeline": pipeline, "classifier": pipeline[1]}, x, y, [0.0, 0.2], batch_size=8)
    assert list(curves.columns) == ["model", "epsilon", "accuracy"]
    assert list(curves.model) == ["pipeline", "pipeline", "classifier", "classifier"]
    assert pipeline.training  # the caller's model is not switched to eval mode
    pipeline.eval()
    with torch.no_grad():
        clean = (pipeline(torch.from_numpy(x)).argmax(dim=1).numpy() == y).mean()
    assert curves.accuracy.iloc[0] == pytest.approx(clean)


def test_bad_inputs_are_rejected():
    model, x, y = _linear_problem(n=10)
    with pytest.raises(ValueError, match="non-negative"):
        fgsm_accuracy(model, x, y, [-0.1])
    with pytest.raises(ValueError, match="epsilons is empty"):
        fgsm_accuracy(model, x, y, [])
    with pytest.raises(ValueError, match="one label per input"):
        fgsm_accuracy(model, x, y[:5], [0.1])
    with pytest.raises(ValueError, match="models is empty"):
        fgsm_curves({}, x, y, [0.1])
