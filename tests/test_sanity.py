"""Tests of the cascading model-randomisation sanity check (Adebayo et al. 2018)."""

import copy

import numpy as np
import pytest
import torch

from tsinsight.data import from_arrays
from tsinsight.evaluation.sanity import (
    cascade_layers,
    cascading_randomisation,
    per_sample_rank_correlation,
    sanity_check,
)
from tsinsight.explainer import TSInsight
from tsinsight.models import AutoEncoder, CNNClassifier, LSTMClassifier
from tsinsight.training import TrainConfig


def _state(model):
    return {name: tensor.clone() for name, tensor in model.state_dict().items()}


def test_cascade_runs_from_the_head_down():
    assert [name for name, _ in cascade_layers(CNNClassifier(2, 3, 16))] == [
        "head",
        "features.2",
        "features.1",
        "features.0",
    ]
    assert [name for name, _ in cascade_layers(LSTMClassifier(2, 3))] == ["head", "lstm"]


def test_cascading_randomisation_changes_one_more_layer_per_step_and_spares_the_original():
    torch.manual_seed(0)
    model = CNNClassifier(2, 3, 16)
    original = _state(model)
    stages = list(cascading_randomisation(model, seed=1))
    assert [name for name, _ in stages] == ["none", "head", "features.2", "features.1", "features.0"]
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, original[name])
    changed = [
        {
            key.split(".weight")[0]
            for key, t in stage.state_dict().items()
            if key.endswith("weight") and not torch.equal(t, original[key])
        }
        for _, stage in stages
    ]
    assert changed[0] == set()
    assert changed[1] == {"head"}
    assert {"head", "features.2.0"} <= changed[2] and "features.1.0" not in changed[2]
    assert {"features.0.0", "features.1.0", "features.2.0", "head"} <= changed[4]


def test_rank_correlation_per_sample():
    a = np.array([[[1.0, 2.0, 3.0]], [[1.0, 2.0, 3.0]], [[1.0, 1.0, 1.0]]])
    b = np.array([[[2.0, 4.0, 9.0]], [[3.0, 2.0, 1.0]], [[1.0, 2.0, 3.0]]])
    np.testing.assert_allclose(per_sample_rank_correlation(a, b), [1.0, -1.0, np.nan])


def test_correlation_is_one_without_randomisation_and_drops_after():
    torch.manual_seed(0)
    classifier = CNNClassifier(2, 2, 16)
    rng = np.random.default_rng(0)
    x_train, y_train = rng.normal(size=(24, 2, 16)).astype(np.float32), rng.integers(0, 2, 24)
    data = from_arrays(x_train, y_train, x_train[:8], y_train[:8], name="toy")
    pretrained = AutoEncoder(2, 16)
    config = TrainConfig(max_epochs=3, lr=1e-2, progress=False)  # a few large steps: the refit must move
    refits = []

    def refit(model, mode):
        explainer = TSInsight(model, copy.deepcopy(pretrained), gamma=1.0, beta=1e-3, mode=mode)
        explainer.fit(data, config)
        refits.append(mode)
        return explainer

    explainer = refit(copy.deepcopy(classifier), "tsinsight")
    refits.clear()
    methods = ["gradient", "smoothgrad", "integrated_gradients", "input_magnitude", "random", "tsinsight"]
    table = sanity_check(
        classifier,
        data.test.x,
        methods=methods,
        explainers={"tsinsight": explainer},
        refit=refit,
        progress=False,
        n_steps=4,
        n_samples=4,
    )
    assert refits == ["tsinsight"] * 4  # one refit per randomised stage
    assert len(table) == len(methods) * 5
    untouched = table[table["step"] == 0].set_index("method")["correlation"]
    np.testing.assert_allclose(untouched, 1.0)
    last = table[table["step"] == 4].set_index("method")["correlation"]
    for method in ("gradient", "smoothgrad", "integrated_gradients", "tsinsight"):
        assert last[method] < 0.99, method
    # Methods that never look at the model pass unchanged: what the sanity check exposes.
    assert last["input_magnitude"] == pytest.approx(1.0) and last["random"] == pytest.approx(1.0)
    assert (table["defined"] == 8).all()


def test_explainer_methods_need_a_refit():
    with pytest.raises(ValueError, match="refit"):
        sanity_check(CNNClassifier(1, 2, 8), np.ones((2, 1, 8)), methods=["tsinsight"], progress=False)
