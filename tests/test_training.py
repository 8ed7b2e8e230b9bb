"""Tests of tsinsight.training: Table 2 defaults, config validation, the fit loop, determinism, input checks."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from toys import toy_dataset

from tsinsight import paper
from tsinsight.data.dataset import Dataset
from tsinsight.models import AutoEncoder, CNNClassifier, make_classifier
from tsinsight.profiles import get_profile
from tsinsight.training import (
    HISTORY_COLUMNS,
    TrainConfig,
    accuracy,
    convergence,
    fit,
    fit_autoencoder,
    fit_classifier,
    predict,
    resolve_device,
)

FAST = TrainConfig(lr=1e-3, max_epochs=3, batch_size=64, progress=False, device="cpu")


def toy(n_train=192, n_val=64, channels=3, length=24, seed=0) -> Dataset:
    return toy_dataset(n_train, n_val, n_val, channels, length, seed)


def test_defaults_are_table_2():
    config = TrainConfig()
    for field in ("lr", "lr_factor", "lr_patience", "max_epochs", "batch_size", "early_stopping_patience"):
        assert getattr(config, field) == paper.TABLE2[field], field
    assert config.weight_decay > 0 and config.device is None and config.progress is True


def test_a_profile_gives_its_epochs_to_the_train_config_with_overrides():
    config = get_profile("cpu").train_config(seed=3, batch_size=32)
    assert (config.max_epochs, config.seed, config.batch_size) == (get_profile("cpu").max_epochs, 3, 32)
    with pytest.raises(TypeError, match="unknown TrainConfig fields"):
        get_profile("smoke").train_config(learning_rate=1.0)
    with pytest.raises(ValueError, match="unknown profile"):
        get_profile("huge")


@pytest.mark.parametrize(
    "field, value",
    [
        ("lr", 0.0),
        ("lr", float("nan")),
        ("lr_factor", 1.0),
        ("lr_patience", -1),
        ("early_stopping_patience", 0),
        ("max_epochs", 0),
        ("max_epochs", 2.5),
        ("batch_size", 0),
        ("weight_decay", -1e-3),
        ("seed", -1),
        ("device", "tpu"),
        ("progress", "yes"),
        ("precision", "float16"),
    ],
)
def test_bad_config_fields_are_rejected(field, value):
    with pytest.raises(ValueError, match=f"TrainConfig.{field}|device"):
        TrainConfig(**{field: value})


def test_key_leaves_out_device_and_progress():
    assert "device" not in FAST.key() and "progress" not in FAST.key()
    assert FAST.key() == dataclasses.replace(FAST, progress=True, device=None).key()


def test_precision_keys_only_when_it_is_not_float32_and_bfloat16_trains_with_float32_weights():
    assert "precision" not in FAST.key()  # the keys of float32 fits are those from before the field existed
    low = dataclasses.replace(FAST, precision="bfloat16")
    assert low.key()["precision"] == "bfloat16"
    data = toy()

    def train(config):
        torch.manual_seed(0)
        model = CNNClassifier(3, 2, 24)
        history = fit_classifier(model, data, config)
        return model, history

    (plain, _), (same, _), (reduced, history) = train(FAST), train(FAST), train(low)
    assert all(p.dtype == torch.float32 for p in reduced.parameters()) and np.isfinite(history["val_loss"]).all()
    assert all(torch.equal(a, b) for a, b in zip(plain.parameters(), same.parameters(), strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(plain.parameters(), reduced.parameters(), strict=True))


def test_resolve_device():
    assert resolve_device(None).type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="unknown device"):
        resolve_device("quantum")


def test_fit_classifier_learns_and_returns_history():
    data = toy()
    torch.manual_seed(0)
    model = CNNClassifier(3, 2, 24)
    history = fit_classifier(model, data, TrainConfig(lr=3e-3, max_epochs=8, batch_size=32, progress=False))
    assert list(history.columns) == HISTORY_COLUMNS
    assert history["epoch"].tolist() == list(range(1, len(history) + 1))
    assert (history["seconds"] > 0).all() and history["val_metric"].between(0, 1).all()
    assert not model.training
    assert accuracy(model, data.val.x, data.val.y) > 0.8


def test_fit_autoencoder_reduces_mse():
    data = toy()
    torch.manual_seed(0)
    model = AutoEncoder(3, 24)
    history = fit_autoencoder(model, data, FAST)
    assert list(history.columns) == HISTORY_COLUMNS and history["val_metric"].isna().all()
    assert history["val_loss"].iloc[-1] < history["val_loss"].iloc[0]


def test_same_seed_same_weights_on_cpu():
    data = toy()

    def train(seed):
        torch.manual_seed(0)
        model = CNNClassifier(3, 2, 24)
        fit_classifier(model, data, dataclasses.replace(FAST, seed=seed))
        return model.state_dict()

    first, second, other = train(1), train(1), train(2)
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert not all(torch.equal(first[k], other[k]) for k in first)


def test_early_stopping_restores_the_best_validation_weights():
    # the training data pulls w towards 10, the validation data prefers w = 0.5: validation loss turns up early
    model = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(model.weight)

    def loss_fn(batch):
        x, target = batch
        return (model(x).squeeze(1) - target).pow(2).mean()

    train = (torch.ones(8, 1), torch.full((8,), 10.0))
    val = (torch.ones(2, 1), torch.full((2,), 0.5))
    config = TrainConfig(lr=0.15, batch_size=8, early_stopping_patience=3, max_epochs=40, progress=False)
    history = fit(model, loss_fn, train, val, config)
    best = int(history["val_loss"].idxmin())
    assert len(history) == best + 1 + 3 < 40  # stopped 3 epochs after the best one
    restored = (model.weight.item() - 0.5) ** 2
    assert restored == pytest.approx(history["val_loss"].min(), rel=1e-6)
    assert restored < history["val_loss"].iloc[-1]
    assert history.attrs == dict(best_epoch=best + 1, epochs=best + 4, stopped_early=True, capped=False)


def test_convergence_is_read_from_the_history_and_a_capped_fit_is_flagged():
    def frame(losses):
        return pd.DataFrame({"val_loss": losses})

    # best at epoch 3, then 10 epochs without a strict improvement (an equal loss is not one): stopped early
    assert convergence(frame([3, 2, 1] + [1] * 10), 10, 50) == dict(
        best_epoch=3, epochs=13, stopped_early=True, capped=False
    )
    # still improving at the cap: capped, not converged
    assert convergence(frame([5, 4, 3, 2, 1]), 10, 5) == dict(best_epoch=5, epochs=5, stopped_early=False, capped=True)
    # the cap reached exactly when patience ran out counts as stopped early
    assert convergence(frame([1] + [2] * 4), 4, 5)["stopped_early"]
    assert convergence(frame([float("nan")] * 3), 10, 3) == dict(
        best_epoch=0, epochs=3, stopped_early=False, capped=True
    )
    # a real fit that cannot finish in two epochs is flagged capped
    model = nn.Linear(1, 1)
    data = (torch.ones(8, 1), torch.ones(8))
    history = fit(model, lambda b: (model(b[0]).squeeze(1) - 3).pow(2).mean(), data, data,
                  TrainConfig(lr=0.01, max_epochs=2, batch_size=8, progress=False))  # fmt: skip
    assert history.attrs["capped"] and not history.attrs["stopped_early"] and history.attrs["epochs"] == 2


def test_learning_rate_is_reduced_on_plateau():
    model = nn.Linear(1, 1, bias=False)
    data = (torch.ones(4, 1), torch.zeros(4))
    config = TrainConfig(lr=1e-3, lr_patience=0, early_stopping_patience=50, max_epochs=6, batch_size=4, progress=False)
    # a constant validation loss: from the second epoch on, each epoch is a plateau and (patience 0) cuts the rate
    history = fit(model, lambda batch: model(batch[0]).sum() * 0 + 1.0, data, data, config)
    assert history["lr"].tolist() == pytest.approx([1e-3] + [1e-3 * 0.9**k for k in range(5)])


def test_bad_data_is_rejected_before_training():
    data = toy()
    model = CNNClassifier(3, 2, 24)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    data.train.x[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fit_classifier(model, data, FAST)
    data.train.x[0, 0, 0] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        fit_autoencoder(AutoEncoder(3, 24), data, FAST)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_mismatched_models_are_rejected():
    data = toy()
    with pytest.raises(ValueError, match="cannot take the data's inputs"):
        fit_classifier(CNNClassifier(1, 2, 24), data, FAST)
    with pytest.raises(ValueError, match="n_classes"):
        fit_classifier(CNNClassifier(3, 1, 24), data, FAST)
    with pytest.raises(ValueError, match="auto-encoder cannot take"):
        fit_autoencoder(AutoEncoder(2, 24), data, FAST)
    with pytest.raises(TypeError, match="no 'train' split"):
        fit_classifier(CNNClassifier(3, 2, 24), object(), FAST)


def test_predict_and_accuracy_take_numpy_and_tensors():
    data = toy()
    model = CNNClassifier(3, 2, 24)
    from_numpy, from_tensor = predict(model, data.val.x), predict(model, torch.from_numpy(data.val.x))
    assert from_numpy.dtype == np.int64 and np.array_equal(from_numpy, from_tensor)
    expected = float((from_numpy == data.val.y).mean())
    assert accuracy(model, data.val.x, data.val.y) == expected
    assert accuracy(model, torch.from_numpy(data.val.x), torch.from_numpy(data.val.y)) == expected
    with pytest.raises(ValueError, match="labels"):
        accuracy(model, data.val.x, data.val.y[:-1])


@pytest.mark.parametrize("name", list(paper.TABLE1))
@pytest.mark.parametrize("kind", ["cnn", "lstm"])
def test_both_classifiers_take_every_data_set_of_the_paper(name, kind):
    """Table 1's shapes: each classifier maps (batch, channels, length) to one logit per class, and learns."""
    shape = paper.TABLE1[name]
    torch.manual_seed(0)
    model = make_classifier(kind, shape["channels"], shape["classes"], shape["length"])
    x = torch.randn(2, shape["channels"], shape["length"])
    logits = model(x)
    assert logits.shape == (2, shape["classes"])
    F.cross_entropy(logits, torch.tensor([0, shape["classes"] - 1])).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    if kind == "cnn":
        assert model.feature_layer(x).shape == (2, 64, shape["length"] // 4)  # GradCAM's map over time


def test_the_cnn_refuses_series_of_another_length_with_a_clear_error():
    model = make_classifier("cnn", 3, 2, 96)
    data = toy(length=48)
    with pytest.raises(ValueError, match="cannot take the data's inputs"):
        fit_classifier(model, data, FAST)
    with pytest.raises(ValueError, match="length must be at least 4"):
        make_classifier("cnn", 1, 2, 3)


def test_the_chrono_initialised_lstm_is_deterministic_for_a_seed_and_opens_its_forget_gates():
    torch.manual_seed(3)
    first = make_classifier("lstm", 3, 2, 50)
    torch.manual_seed(3)
    second = make_classifier("lstm", 3, 2, 50)
    assert all(
        torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values(), strict=True)
    )
    forget_bias = first.lstm.bias_ih_l0[64:128]
    assert (forget_bias >= 0).all() and (forget_bias <= torch.log(torch.tensor(49.0))).all()
    assert torch.equal(first.lstm.bias_ih_l0[:64], -forget_bias)
