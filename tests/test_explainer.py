"""Tests of tsinsight.explainer: the loss terms, the frozen classifier, sparsity, attribution and input checks."""

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from toys import toy_dataset

from tsinsight.data.dataset import Dataset
from tsinsight.explainer import MODES, SALIENCY_C, ConvergenceWarning, TSInsight, alignment
from tsinsight.models import AutoEncoder, CNNClassifier
from tsinsight.training import TrainConfig, accuracy, fit_classifier

FAST = TrainConfig(lr=1e-3, max_epochs=3, batch_size=64, progress=False, device="cpu")
WEIGHTS = {"tsinsight": dict(gamma=1.0, beta=1e-3), "palacio": {}, "sparsity_only": dict(beta=1e-3), "saliency": {}}


def toy(n_train=192, n_val=64, channels=3, length=24, seed=0) -> Dataset:
    return toy_dataset(n_train, n_val, n_val, channels, length, seed)


@pytest.fixture(scope="module")
def trained():
    """A toy data set with a trained CNN classifier (with BatchNorm statistics that must not move)."""
    data = toy()
    torch.manual_seed(0)
    classifier = CNNClassifier(3, 2, 24)
    fit_classifier(classifier, data, TrainConfig(lr=3e-3, max_epochs=6, batch_size=32, progress=False))
    return data, classifier


def fresh(trained):
    data, classifier = trained
    copy = CNNClassifier(3, 2, 24)
    copy.load_state_dict(classifier.state_dict())
    torch.manual_seed(1)
    return data, copy, AutoEncoder(3, 24)


class Scale(nn.Module):
    """x ↦ 0.5·x, as an 'auto-encoder' whose output is known by hand."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.tensor(0.5))

    def forward(self, x):
        return self.weight * x


def hand_classifier():
    """Flatten (1 channel × 3 steps) then logits [x0, x1 + x2]."""
    linear = nn.Linear(3, 2, bias=False)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]))
    return nn.Sequential(nn.Flatten(), linear)


X = torch.tensor([[[1.0, -2.0, 3.0]], [[0.0, 0.0, 2.0]]])
Y = torch.tensor([1, 0])


def test_loss_terms_match_a_hand_computed_example():
    explainer = TSInsight(hand_classifier(), Scale(), gamma=2.0, beta=0.1)
    terms = explainer.loss(X, Y)
    # outputs [0.5, -1, 1.5] and [0, 0, 1]; logits [0.5, 0.5] (label 1) and [0, 1] (label 0)
    cross_entropy = (math.log(2) + math.log(1 + math.e)) / 2
    reconstruction = 2.0 * (0.25 + 1.0 + 2.25 + 0 + 0 + 1.0) / 6  # γ · mean squared error over every point
    sparsity = 0.1 * ((0.5 + 1.0 + 1.5) + 1.0) / 2  # β · per-input L1 norm, averaged over the batch
    assert set(terms) == {"cross_entropy", "reconstruction", "sparsity", "total"}
    assert terms["cross_entropy"].item() == pytest.approx(cross_entropy)
    assert terms["reconstruction"].item() == pytest.approx(reconstruction)
    assert terms["sparsity"].item() == pytest.approx(sparsity)
    assert terms["total"].item() == pytest.approx(cross_entropy + reconstruction + sparsity)


def test_sparsity_only_and_saliency_terms():
    terms = TSInsight(hand_classifier(), Scale(), beta=0.1, mode="sparsity_only").loss(X, Y)
    assert set(terms) == {"cross_entropy", "sparsity", "total"}
    assert terms["sparsity"].item() == pytest.approx(0.1 * 2.0)

    explainer = TSInsight(hand_classifier(), Scale(), mode="saliency")
    explainer.saliency_average = torch.tensor([[0.0, 0.5, 1.0]])  # β* = [1, 0.5, 0]
    gamma_star = torch.tensor([[[1.0, 0.0, 0.5]], [[0.0, 1.0, 1.0]]])
    terms = explainer.loss(X, Y, saliency=gamma_star)
    # residuals x − D(E(x)): [0.5, −1, 1.5] and [0, 0, 1]
    assert terms["reconstruction"].item() == pytest.approx((0.25 + 0 + 0.5625 + 0 + 0 + 1.0) / 6)
    assert terms["sparsity"].item() == pytest.approx(SALIENCY_C * ((0.5 + 0.5 + 0) + 0) / 2)


def test_saliency_is_the_scaled_gradient_of_all_logits():
    explainer = TSInsight(hand_classifier(), Scale(), mode="saliency")
    # Σ_k |∂logit_k/∂x| = [1, 1, 1] for this linear classifier: constant, so min-max scaling gives zeros
    assert torch.equal(explainer.saliency(X), torch.zeros_like(X))
    classifier = hand_classifier()
    with torch.no_grad():
        classifier[1].weight.copy_(torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, -3.0]]))
    expected = torch.tensor([[[0.0, -1.0, 1.0]]]).expand(2, 1, 3).add(1) / 2  # [2, 1, 3] scaled to [0.5, 0, 1]
    assert torch.allclose(TSInsight(classifier, Scale(), mode="saliency").saliency(X), expected)


def test_zero_weights_reduce_to_cross_entropy(trained):
    data, classifier, autoencoder = fresh(trained)
    explainer = TSInsight(classifier, autoencoder, gamma=0.0, beta=0.0)
    x, y = torch.from_numpy(data.val.x), torch.from_numpy(data.val.y)
    terms = explainer.loss(x, y)
    assert terms["total"].item() == F.cross_entropy(classifier(autoencoder(x)), y).item()


@pytest.mark.parametrize("mode", MODES)
def test_classifier_is_bit_identical_after_every_mode(trained, mode):
    data, classifier, autoencoder = fresh(trained)
    before = {k: v.clone() for k, v in classifier.state_dict().items()}
    encoder_before = [p.clone() for p in autoencoder.encoder.parameters()]
    explainer = TSInsight(classifier, autoencoder, mode=mode, **WEIGHTS[mode])
    history = explainer.fit(data, FAST)
    assert len(history) == FAST.max_epochs and history["val_metric"].between(0, 1).all()
    assert all(torch.equal(before[k], v) for k, v in classifier.state_dict().items())
    assert not classifier.training and not any(p.requires_grad for p in classifier.parameters())
    encoder_same = all(torch.equal(a, b) for a, b in zip(encoder_before, autoencoder.encoder.parameters(), strict=True))
    assert encoder_same == (mode == "palacio")  # Palacio et al. train only the decoder
    if mode == "saliency":
        assert explainer.saliency_average.shape == (3, 24)


def test_larger_beta_gives_a_sparser_output(trained):
    config = TrainConfig(lr=3e-3, max_epochs=10, batch_size=64, progress=False)
    magnitudes = {}
    for beta in (0.0, 0.05):
        data, classifier, autoencoder = fresh(trained)
        explainer = TSInsight(classifier, autoencoder, gamma=1.0, beta=beta)
        explainer.fit(data, config)
        magnitudes[beta] = explainer.attribute(data.val.x)
    near_zero = {beta: float((m < 0.1).mean()) for beta, m in magnitudes.items()}
    assert magnitudes[0.05].mean() < 0.8 * magnitudes[0.0].mean()
    assert near_zero[0.05] > near_zero[0.0] + 0.1


def test_attribute_and_reconstruct_keep_the_input_type(trained):
    data, classifier, autoencoder = fresh(trained)
    explainer = TSInsight(classifier, autoencoder, gamma=1.0, beta=1e-3)
    from_numpy = explainer.attribute(data.val.x)
    assert (
        isinstance(from_numpy, np.ndarray) and from_numpy.shape == data.val.x.shape and from_numpy.dtype == np.float32
    )
    x64 = torch.from_numpy(data.val.x).double()
    from_tensor = explainer.attribute(x64)
    assert isinstance(from_tensor, torch.Tensor) and from_tensor.dtype == torch.float64
    assert np.allclose(from_tensor.numpy(), from_numpy, atol=1e-6)
    assert np.allclose(np.abs(explainer.reconstruct(data.val.x)), from_numpy)
    assert np.allclose(
        explainer.attribute(data.val.x[:5]), explainer.attribute(data.val.x, batch_size=2)[:5], atol=1e-6
    )
    with pytest.raises(ValueError, match="samples, channels, length"):
        explainer.attribute(data.val.x[0])


def test_pipeline_is_the_autoencoder_then_the_frozen_classifier(trained):
    data, classifier, autoencoder = fresh(trained)
    explainer = TSInsight(classifier, autoencoder, gamma=1.0, beta=1e-3)
    x = torch.from_numpy(data.val.x)
    assert isinstance(explainer.pipeline, nn.Module)
    explainer.pipeline.train()
    assert autoencoder.training and not classifier.training
    explainer.pipeline.eval()
    assert torch.equal(explainer.pipeline(x), classifier(autoencoder(x)))
    assert 0.0 <= accuracy(explainer.pipeline, data.val.x, data.val.y) <= 1.0


def test_fit_instance_tunes_a_copy(trained):
    data, classifier, autoencoder = fresh(trained)
    explainer = TSInsight(classifier, autoencoder, gamma=1.0, beta=1e-2)
    before = {k: v.clone() for k, v in autoencoder.state_dict().items()}
    config = TrainConfig(lr=1e-2, max_epochs=5, progress=False)
    instance = explainer.fit_instance(data.val.x[0], int(data.val.y[0]), config)
    assert instance is not explainer and isinstance(instance, TSInsight)
    assert all(torch.equal(before[k], v) for k, v in autoencoder.state_dict().items())
    changed = instance.autoencoder.state_dict()
    assert not all(torch.equal(before[k], changed[k]) for k in before)
    loss = lambda e: e.loss(torch.from_numpy(data.val.x[:1]), torch.from_numpy(data.val.y[:1]))["total"].item()
    assert loss(instance) < loss(explainer)
    assert instance.history.attrs["epochs"] <= 5 and explainer.history is None
    with pytest.raises(ValueError, match="one input"):
        explainer.fit_instance(data.val.x[:2], 0, config)


def test_a_fit_capped_before_early_stopping_warns_and_says_so(trained):
    data, classifier, autoencoder = fresh(trained)
    explainer = TSInsight(classifier, autoencoder, gamma=1.0, beta=1e-2)
    with pytest.warns(ConvergenceWarning, match="reached max_epochs=2 before early stopping"):
        history = explainer.fit(data, TrainConfig(lr=1e-3, max_epochs=2, progress=False))
    assert history.attrs["capped"] and explainer.history is history
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # a fit that stops early does not warn
        history = explainer.fit(data, TrainConfig(lr=1e-3, max_epochs=40, early_stopping_patience=1, progress=False))
    assert history.attrs["stopped_early"] and history.attrs["epochs"] == history.attrs["best_epoch"] + 1


def test_alignment_tells_a_sparse_copy_from_a_code():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 2, 30))
    threshold = np.sign(x) * np.clip(np.abs(x) - 1.5, 0, None)  # a soft threshold: sparse and aligned
    scores = alignment(threshold, x)
    assert scores["kept_share"] == pytest.approx((np.abs(threshold) > 0.05 * x.std()).mean())
    assert scores["sign_agreement"] == 1.0 and scores["kept_correlation"] > 0.8
    code = np.zeros_like(x)
    code[:, 0, 0] = 5.0 + 3.0 * (x[:, 1].max(axis=1) > 2)  # one fixed point whose size carries a class bit
    coded = alignment(code, x)
    assert coded["sign_agreement"] < 0.8 and abs(coded["kept_correlation"]) < 0.4
    assert np.isnan(alignment(np.zeros_like(x), x)["sign_agreement"])  # nothing kept: nothing to align
    with pytest.raises(ValueError, match="same shape"):
        alignment(x[:, :1], x)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(gamma=-1.0, beta=1e-3), "gamma must be a finite number >= 0"),
        (dict(gamma=1.0, beta=float("nan")), "beta must be a finite number >= 0"),
        (dict(gamma=1.0, beta=float("inf")), "beta must be a finite number >= 0"),
        (dict(gamma=1.0), "needs beta"),
        (dict(gamma=1.0, beta=1e-3, mode="lime"), "unknown mode 'lime'"),
        (dict(gamma=1.0, mode="palacio"), "does not use gamma"),
        (dict(gamma=1.0, beta=1e-3, mode="sparsity_only"), "does not use gamma"),
    ],
)
def test_bad_hyperparameters_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TSInsight(CNNClassifier(3, 2, 24), AutoEncoder(3, 24), **kwargs)


def test_bad_models_and_data_are_rejected_before_training(trained):
    data, classifier, autoencoder = fresh(trained)
    with pytest.raises(ValueError, match="classifier takes 3 channels but the auto-encoder 2"):
        TSInsight(classifier, AutoEncoder(2, 24), gamma=1.0, beta=1e-3)
    with pytest.raises(TypeError, match="torch.nn.Module"):
        TSInsight(classifier, lambda x: x, gamma=1.0, beta=1e-3)
    with pytest.raises(ValueError, match="cannot take the data's inputs"):
        TSInsight(CNNClassifier(1, 2, 24), AutoEncoder(1, 24), gamma=1.0, beta=1e-3).fit(data, FAST)
    before = {k: v.clone() for k, v in autoencoder.state_dict().items()}
    explainer = TSInsight(classifier, autoencoder, gamma=1.0, beta=1e-3)
    data = toy()  # a copy: the module's shared data set stays clean
    data.val.x[3, 1, 2] = np.nan
    with pytest.raises(ValueError, match="val split: x holds 1 NaN"):
        explainer.fit(data, FAST)
    assert all(torch.equal(before[k], v) for k, v in autoencoder.state_dict().items())
