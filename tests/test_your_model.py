"""Issue 24: a user's own classifier and data read safely, checked before any work, and explained end to end."""

import pickle

import numpy as np
import pytest
import torch

from tsinsight import TSInsight, loading
from tsinsight.experiments import your_model
from tsinsight.models import AutoEncoder, CNNClassifier, LSTMClassifier
from tsinsight.profiles import get_profile


def arrays(n=40, channels=2, length=16, seed=0, **extra):
    rng = np.random.default_rng(seed)
    x_train, x_test = rng.normal(size=(n, channels, length)), rng.normal(size=(n // 2, channels, length))
    y_train, y_test = np.arange(n) % 2, np.arange(n // 2) % 2
    return dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test) | extra


def npz(tmp_path, **content):
    path = tmp_path / "data.npz"
    np.savez(path, **content)
    return path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (dict(x_train=np.zeros((4, 2, 8)), y_train=np.arange(4) % 2), "missing x_test, y_test"),
        (arrays(extra_array=np.zeros(3)), "unknown arrays extra_array"),
        (arrays(x_val=np.zeros((4, 2, 16))), "give x_val and y_val together"),
        (arrays() | dict(x_test=np.full((20, 2, 16), np.nan)), "NaN"),
        (arrays() | dict(y_train=np.zeros(40)), "single class"),
        (arrays() | dict(x_test=np.zeros((20, 3, 16))), "differ in (channels, length)"),
        (arrays(evidence=np.zeros((5, 2, 16), dtype=bool)), "evidence must be shaped like x_test"),
        (arrays(evidence=np.full((20, 2, 16), 2)), "evidence is a mask"),
    ],
)
def test_each_bad_data_file_gets_its_error(tmp_path, content, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        loading.load_arrays(npz(tmp_path, **content))


def test_a_file_that_is_not_an_npz_or_holds_objects_is_refused(tmp_path):
    (tmp_path / "data.csv").write_text("1,2,3\n")
    with pytest.raises(ValueError, match="not an .npz archive"):
        loading.load_arrays(tmp_path / "data.csv")
    with pytest.raises(ValueError, match="no data file"):
        loading.load_arrays(tmp_path / "missing.npz")
    objects = arrays() | dict(y_train=np.array([{"a": 1}] * 40, dtype=object))
    with pytest.raises(ValueError, match="only unpickling can read"):
        loading.load_arrays(npz(tmp_path, **objects))


def test_the_users_validation_split_and_names_are_kept(tmp_path):
    content = arrays(x_val=np.ones((6, 2, 16)), y_val=np.arange(6) % 2)
    data = loading.load_arrays(npz(tmp_path, **content), channel_names=["a", "b"], class_names=["no", "yes"]).dataset
    assert (len(data.train), len(data.val), len(data.test)) == (40, 6, 20)
    assert data.channel_names == ["a", "b"] and data.class_names == ["no", "yes"]
    with pytest.raises(ValueError, match="3 class names for 2 classes"):
        loading.load_arrays(npz(tmp_path, **arrays()), class_names=["a", "b", "c"])


def test_a_pickled_model_is_refused_with_the_reason(tmp_path):
    model = CNNClassifier(2, 2, 16)
    torch.save(model, tmp_path / "pickled.pt")  # the whole object: reading it back means unpickling
    with pytest.raises(ValueError, match="unpickling it, which can run any code"):
        loading.load_classifier(tmp_path / "pickled.pt")
    with open(tmp_path / "plain.pkl", "wb") as handle:
        pickle.dump({"weights": [1, 2]}, handle)
    with pytest.raises(ValueError, match="neither TorchScript nor a plain state dict"):
        loading.load_classifier(tmp_path / "plain.pkl")


def test_state_dicts_need_their_module_and_must_fit_it(tmp_path):
    model = LSTMClassifier(3, 2, hidden=8)  # an LSTM, on three channels
    torch.save(model.state_dict(), tmp_path / "lstm.pt")
    with pytest.raises(ValueError, match="classifier_module='package.module:Class'"):
        loading.load_classifier(tmp_path / "lstm.pt")
    with pytest.raises(ValueError, match="is 'package.module:Class'"):
        loading.load_classifier(tmp_path / "lstm.pt", "tsinsight.models.LSTMClassifier")
    with pytest.raises(ValueError, match="cannot import"):
        loading.load_classifier(tmp_path / "lstm.pt", "tsinsight.models:NoSuchNet", {})
    with pytest.raises(ValueError, match="cannot be built from classifier_kwargs"):
        loading.load_classifier(tmp_path / "lstm.pt", "tsinsight.models:LSTMClassifier", dict(channels=3))
    with pytest.raises(ValueError, match="do not fit"):
        loading.load_classifier(
            tmp_path / "lstm.pt", "tsinsight.models:LSTMClassifier", dict(n_channels=2, n_classes=2)
        )
    kwargs = dict(n_channels=3, n_classes=2, hidden=8)
    loaded = loading.load_classifier(tmp_path / "lstm.pt", "tsinsight.models:LSTMClassifier", kwargs)
    x = torch.randn(4, 3, 16)
    torch.testing.assert_close(loaded(x), model.eval()(x))


def test_the_classifier_and_the_data_are_checked_against_each_other(tmp_path):
    data = loading.load_arrays(npz(tmp_path, **arrays())).dataset
    with pytest.raises(ValueError, match="cannot take the data's inputs"):
        loading.check_pair(CNNClassifier(5, 2, 16), data)
    with pytest.raises(ValueError, match="4 outputs but the data have 2 classes"):
        loading.check_pair(CNNClassifier(2, 4, 16), data)
    loading.check_pair(CNNClassifier(2, 2, 16), data)


def test_torchscript_loads_and_loses_only_the_hook_methods(tmp_path):
    model = CNNClassifier(2, 2, 16).eval()
    torch.jit.trace(model, torch.randn(2, 2, 16)).save(str(tmp_path / "cnn.pt"))
    scripted = loading.load_classifier(tmp_path / "cnn.pt")
    with pytest.raises(ValueError, match="leave classifier_module empty"):
        loading.load_classifier(tmp_path / "cnn.pt", "tsinsight.models:CNNClassifier")
    data = loading.load_arrays(npz(tmp_path, **arrays())).dataset
    usable, why = your_model.applicable_methods(scripted, data)
    assert set(why) == {"guided_backprop", "gradcam", "guided_gradcam"} and "TorchScript" in why["gradcam"]
    assert "integrated_gradients" in usable and "tsinsight" in usable
    usable, why = your_model.applicable_methods(model, data)
    assert why == {} and len(usable) == 13


def test_an_lstm_on_three_channels_goes_through_the_evaluation(tmp_path):
    data = loading.load_arrays(npz(tmp_path, **arrays(n=48, channels=3))).dataset
    model = LSTMClassifier(3, 2, hidden=8)
    explained = your_model.explain(model, data, get_profile("smoke"))
    assert set(explained.explainers) == {"tsinsight", "palacio"}
    table = your_model.summary(model, data, explained, get_profile("smoke"))
    assert list(table.model) == ["classifier", "tsinsight", "palacio"] and table.accuracy.between(0, 1).all()
    curves = your_model.curves(model, data, explained, get_profile("smoke"), ["random", "tsinsight", "gradient"])
    assert curves.run.nunique() == your_model.FOLDS
    ranking = your_model.ranking(curves, n_boot=50)
    assert set(ranking.method) == {"random", "tsinsight", "gradient"}
    assert (ranking.rank_low <= ranking.mean_rank).all() and (ranking.mean_rank <= ranking.rank_high).all()


def test_the_same_model_and_data_give_the_same_explainers(tmp_path, monkeypatch):
    data = loading.load_arrays(npz(tmp_path, **arrays(n=48, channels=3))).dataset
    model = LSTMClassifier(3, 2, hidden=8)
    weights = []
    for run in range(2):  # two empty caches, torch's global generator elsewhere each time
        monkeypatch.setenv("TSINSIGHT_ARTIFACTS", str(tmp_path / f"artifacts-{run}"))
        torch.manual_seed(100 + run)
        explained = your_model.explain(model, data, get_profile("smoke"))
        weights.append(torch.cat([p.flatten() for p in explained.autoencoder.state_dict().values()]))
    assert torch.equal(*weights)


def test_a_fitted_explainer_is_saved_and_loaded_as_weights_only(tmp_path):
    classifier = CNNClassifier(2, 2, 16)
    explainer = TSInsight(classifier, AutoEncoder(2, 16, width=32), gamma=2.0, beta=1e-3)
    explainer.save(tmp_path / "explainer.pt")
    torch.load(tmp_path / "explainer.pt", weights_only=True)  # nothing in it needs unpickling
    loaded = TSInsight.load(tmp_path / "explainer.pt", classifier)
    assert (loaded.gamma, loaded.beta, loaded.mode) == (2.0, 1e-3, "tsinsight")
    x = np.random.default_rng(0).normal(size=(3, 2, 16)).astype(np.float32)
    np.testing.assert_array_equal(loaded.attribute(x), explainer.attribute(x))
    torch.save({"something": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not written by TSInsight.save"):
        TSInsight.load(tmp_path / "other.pt", classifier)
