"""Tests of the four methods published after the paper: the libraries' numbers, seeding, quiet fits, refusals."""

import importlib.util
import subprocess
import sys

import numpy as np
import pytest
import torch
from captum.attr import DeepLift, GradientShap
from pytorch_lightning import Trainer
from tint.attr import DynaMask, ExtremalMask
from tint.attr.models import ExtremalMaskNet, MaskNet
from tint.attr.models import mask as tint_mask
from tint.models import MLP, RNN
from torch import nn

from tsinsight import attribution, later_methods, plotting
from tsinsight.attribution import LATER_METHODS, METHODS, TABLE, applies, attribute, cached_attribute
from tsinsight.models import CNNClassifier, LSTMClassifier

# What the libraries say when called directly, as the references below call them (ours silences them).
pytestmark = [
    pytest.mark.filterwarnings("ignore:Setting forward, backward hooks:UserWarning"),
    pytest.mark.filterwarnings("ignore:You defined a `validation_step`"),
    pytest.mark.filterwarnings("ignore:.*LeafSpec"),
]
EPOCHS = 3  # the masks train for 500 and 1000 epochs; the comparisons with the libraries need only a few


def _cnn(seed: int = 0) -> CNNClassifier:
    torch.manual_seed(seed)
    return CNNClassifier(2, 3, 16).eval()


def _data(n: int = 4, n_channels: int = 2, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, n_channels, 16)).astype(np.float32)


class TimeFirst(nn.Module):
    """What tint is given: the classifier on (batch, time, features)."""

    def __init__(self, classifier):
        super().__init__()
        self.classifier = classifier

    def forward(self, x):
        return self.classifier(x.transpose(1, 2))


def _trainer(epochs: int = EPOCHS) -> Trainer:
    return Trainer(
        max_epochs=epochs, accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False,
    )  # fmt: skip


def _predicted(classifier, x):
    with torch.no_grad():
        return classifier(x).argmax(dim=1)


def test_later_methods_are_rows_of_the_table_but_not_of_the_papers_figure():
    assert LATER_METHODS == ("extremal_mask", "dynamic_mask", "deeplift", "gradient_shap")
    assert len(METHODS) == 13 and not set(METHODS) & set(LATER_METHODS)
    assert tuple(TABLE) == METHODS + LATER_METHODS
    for name in LATER_METHODS:
        assert TABLE[name].kind == "model" and TABLE[name].gradient_based and TABLE[name].compute is not None
        assert attribution.label(name) != name and plotting.method_color(name) != "#999999"


def test_deeplift_is_captums_from_the_zero_series_for_the_predicted_class():
    classifier, x = _cnn(), _data()
    inputs = torch.as_tensor(x).requires_grad_(True)
    expected = DeepLift(classifier).attribute(inputs, baselines=0.0, target=_predicted(classifier, inputs))
    np.testing.assert_allclose(attribute("deeplift", classifier, x), expected.abs().detach().numpy(), rtol=1e-5)


def test_gradient_shap_is_captums_with_the_fixed_baseline_distribution_and_is_seeded():
    classifier, x = _cnn(), _data()
    inputs = torch.as_tensor(x).requires_grad_(True)
    torch.manual_seed(7)
    np.random.seed(7)  # Captum draws the baselines and the points on the path from numpy's global generator
    expected = GradientShap(classifier).attribute(
        inputs, baselines=torch.zeros(1, 2, 16), n_samples=50, stdevs=1e-4, target=_predicted(classifier, inputs)
    )
    result = attribute("gradient_shap", classifier, x, seed=7)
    np.testing.assert_allclose(result, expected.abs().detach().numpy(), rtol=1e-5, atol=1e-8)
    np.testing.assert_array_equal(result, attribute("gradient_shap", classifier, x, seed=7))
    assert not np.array_equal(result, attribute("gradient_shap", classifier, x, seed=8))
    state = np.random.get_state()[1].copy()
    attribute("gradient_shap", classifier, x, seed=9)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # the caller's numpy generator is left as it was


def test_extremal_mask_is_tints_with_the_papers_perturbation_network():
    classifier, x = _cnn(), _data()
    model = TimeFirst(classifier)
    torch.manual_seed(3)
    perturbation = nn.Sequential(RNN(2, rnn="gru", hidden_size=2, bidirectional=True), MLP([4, 2]))
    mask_net = ExtremalMaskNet(
        forward_func=model, model=perturbation, lambda_1=1.0, lambda_2=1.0, loss="cross_entropy", optim="adam", lr=0.01
    )
    data = torch.as_tensor(x).transpose(1, 2).contiguous()
    expected = ExtremalMask(model).attribute(data, trainer=_trainer(), mask_net=mask_net, batch_size=100)
    result = attribute("extremal_mask", classifier, x, seed=3, epochs=EPOCHS)
    np.testing.assert_allclose(result, expected.transpose(1, 2).numpy(), rtol=1e-6)
    assert not np.array_equal(result, attribute("extremal_mask", classifier, x, seed=4, epochs=EPOCHS))


def test_dynamic_mask_is_tints_with_its_regularisers_applied(monkeypatch):
    classifier, x = _cnn(), _data()
    model = TimeFirst(classifier)
    data = torch.as_tensor(x).transpose(1, 2).contiguous()
    settings = dict(
        forward_func=model, perturbation="fade_moving_average", keep_ratio=0.5, size_reg_factor_init=0.5,
        size_reg_factor_dilation=100.0, time_reg_factor=0.0, loss="cross_entropy", optim="adam", lr=1e-3,
    )  # fmt: skip

    class LightningOne(MaskNet):
        """tint's MaskNet as pytorch-lightning 1 ran it: training_step_end applied to each step's loss."""

        def training_step(self, batch, batch_idx):
            return self.training_step_end(super().training_step(batch, batch_idx))

    def fit(mask_net):
        return DynaMask(model).attribute(data, trainer=_trainer(), mask_net=mask_net, batch_size=100).transpose(1, 2)

    calls = []
    regularisation = tint_mask.Mask.regularisation
    monkeypatch.setattr(
        tint_mask.Mask, "regularisation", lambda self, loss: calls.append(1) or regularisation(self, loss)
    )
    result = attribute("dynamic_mask", classifier, x, epochs=EPOCHS)
    assert len(calls) == EPOCHS  # once per step: one chunk, one step per epoch
    np.testing.assert_allclose(result, fit(LightningOne(**settings)).numpy(), rtol=1e-6)
    # pytorch-lightning 2 never calls training_step_end: tint's own MaskNet would fit without its regularisers.
    assert not np.allclose(result, fit(MaskNet(**settings)).numpy())
    np.testing.assert_array_equal(result, attribute("dynamic_mask", classifier, x, seed=5, epochs=EPOCHS))


def test_masks_are_deterministic_quiet_and_write_nothing(tmp_path, monkeypatch, capfd):
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)
    classifier, x = LSTMClassifier(2, 3), _data(n=5)
    for method in ("extremal_mask", "dynamic_mask"):
        first = attribute(method, classifier, x, seed=1, epochs=2)
        np.testing.assert_array_equal(first, attribute(method, classifier, x, seed=1, epochs=2))
        assert first.shape == x.shape and first.dtype == np.float32 and (first >= 0).all()
    assert list(tmp_path.iterdir()) == []  # no lightning_logs/, no checkpoint
    assert capfd.readouterr() == ("", "")  # no progress bar, no "GPU available", no tips
    assert all(parameter.grad is None for parameter in classifier.parameters()) and classifier.training
    assert all(parameter.requires_grad for parameter in classifier.parameters())


def test_masks_train_in_chunks_of_a_hundred_whatever_the_batch_size():
    classifier, x = _cnn(), _data(n=3)
    np.testing.assert_array_equal(
        attribute("dynamic_mask", classifier, x, batch_size=1, epochs=2),
        attribute("dynamic_mask", classifier, x, epochs=2),
    )


def test_which_methods_apply_to_which_classifier(monkeypatch):
    cnn, lstm = _cnn(), LSTMClassifier(2, 3)
    assert [applies(method, cnn) for method in (*METHODS, *LATER_METHODS)] == [None] * 17
    assert [method for method in LATER_METHODS if applies(method, lstm)] == ["deeplift"]
    assert "recurrent layers" in applies("deeplift", lstm)
    with pytest.raises(ValueError, match="deeplift cannot explain this classifier: DeepLIFT's rescale rule"):
        attribute("deeplift", lstm, _data())
    assert attribute("gradient_shap", lstm, _data()).shape == (4, 2, 16)
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tint" else find_spec(name, *a))
    with pytest.raises(
        ValueError, match=r"needs time-interpret and pytorch-lightning: pip install 'tsinsight\[later\]'"
    ):
        attribute("extremal_mask", cnn, _data())


@pytest.mark.parametrize("method", LATER_METHODS)
def test_bad_requests_fail_with_a_clear_message(method):
    classifier, x = _cnn(), _data()
    with pytest.raises(ValueError, match="x holds 1 NaN or infinite values"):
        attribute(method, classifier, np.where(np.arange(x.size).reshape(x.shape) == 5, np.nan, x))
    with pytest.raises(ValueError, match="the classifier takes 2 channels but x has 3"):
        attribute(method, classifier, _data(n_channels=3))
    with pytest.raises(ValueError, match=r"x must be shaped \(n, channels, length\)"):
        attribute(method, classifier, x[0])
    with pytest.raises(ValueError, match="x is empty"):
        attribute(method, classifier, x[:0])
    with pytest.raises(TypeError, match="call classifier.float()"):
        attribute(method, _cnn().double(), x)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        attribute(method, classifier, x, batch_size=0)
    if method in later_methods.MASK_METHODS:
        with pytest.raises(ValueError, match="epochs must be a positive integer, got 0"):
            attribute(method, classifier, x, epochs=0)
    with pytest.raises(ValueError, match="unknown attribution method 'deep_lift'"):
        attribute("deep_lift", classifier, x)


def test_cached_attribute_takes_them():
    classifier, x = _cnn(), _data()
    key = {"dataset": "toy", "profile": "test"}
    first = cached_attribute("gradient_shap", classifier, x, key=key, seed=2)
    np.testing.assert_array_equal(first, cached_attribute("gradient_shap", classifier, x, key=key, seed=2))
    np.testing.assert_array_equal(first, attribute("gradient_shap", classifier, x, seed=2))


def test_the_library_imports_neither_tint_nor_lightning_until_a_mask_is_asked_for():
    code = "import sys, tsinsight.attribution; print(sorted({m.split('.')[0] for m in sys.modules} & {'tint', 'pytorch_lightning'}))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stderr[-2000:]


def test_without_a_gpu_the_masks_run_on_short_series_only_and_smoke_shortens_their_fits(monkeypatch):
    from types import SimpleNamespace

    from tsinsight.experiments import later

    lengths = {"ford_a": 500, "synthetic_anomaly": 50}  # the data sets' shapes, without reading the mirror
    shape = lambda name, profile: SimpleNamespace(n_channels=1, n_classes=2, length=lengths[name])
    monkeypatch.setattr(later.zoo, "dataset", shape)

    assert "500 steps" in later.left_out("ford_a", "cpu", "extremal_mask")
    assert "500 steps" in later.left_out("ford_a", "smoke", "dynamic_mask")
    assert later.left_out("ford_a", "paper", "extremal_mask") is None  # the GPU profile runs them everywhere
    assert later.left_out("synthetic_anomaly", "cpu", "extremal_mask") is None
    assert later.later_methods_of("ford_a", "cpu") == ["deeplift", "gradient_shap"]
    assert later.mask_epochs("smoke") == later.SMOKE_MASK_EPOCHS and later.mask_epochs("cpu") is None


def test_the_comparisons_rank_only_methods_present_on_every_data_set_of_a_block():
    import pandas as pd

    from tsinsight.experiments import later

    rows = [dict(dataset=d, method=m) for d in ("a", "b") for m in ("none", "x", "y")]
    rows += [dict(dataset="a", method="mask")]
    blocks = later.comparisons(pd.DataFrame(rows))
    assert list(blocks) == ["2 methods on 2 data set(s)", "3 methods on 1 data set(s)"]
    first, second = blocks.values()
    assert set(first["method"]) == {"none", "x", "y"} and set(first["dataset"]) == {"a", "b"}
    assert set(second["method"]) == {"none", "x", "y", "mask"} and set(second["dataset"]) == {"a"}
    everywhere = pd.DataFrame([dict(dataset=d, method=m) for d in ("a", "b") for m in ("none", "x")])
    assert list(later.comparisons(everywhere)) == ["1 methods on 2 data set(s)"]


def test_the_place_sentence_reads_the_ranking():
    import pandas as pd

    from tsinsight.experiments import later

    ranking = pd.DataFrame(dict(method=["occlusion", "tsinsight", "random"], mean_rank=[1.5, 2.0, 2.5],
                                rank_low=[1.0, 1.2, 2.0], rank_high=[2.0, 2.8, 3.0], top_group=[True, True, False]))  # fmt: skip
    sentence = later.place_sentence(ranking, "3 methods on 2 data set(s)")
    assert "TSInsight is 2 of 3" in sentence and "1.20–2.80" in sentence and "cannot separate it" in sentence
    assert "separates it from the best" in later.place_sentence(ranking, "x", method="random")
