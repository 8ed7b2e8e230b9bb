"""Tests of tsinsight.stacking: a stacked fit gives each explainer what fitting it alone gives."""

import copy
import warnings
from dataclasses import replace

import pytest
import torch
from torch import nn
from toys import toy_dataset

from tsinsight.explainer import ConvergenceWarning, TSInsight
from tsinsight.models import AutoEncoder, CNNClassifier, LSTMClassifier
from tsinsight.stacking import fit_together, stacked_outputs, stacked_terms
from tsinsight.training import HISTORY_COLUMNS, TrainConfig

# Two batches an epoch, a large learning rate and a patience of one: the members stop at epochs 3, 6 and 6 (best
# epochs 2, 5, 5), with learning-rate reductions on the way. The vmapped (grouped) convs round differently from a
# single network's in the last bit (the module docstring says when that grows), and how far that carries through 8
# epochs of Adam depends on the CPU's kernels: weights agreed to ~2e-6 on earlier machines; on an AMD EPYC (2 cores)
# they differed by up to 1.2e-5 here and 2.7e-4 in the five-member test below, the validation losses by 1.9e-5
# relative, while a fit moves the weights by up to 0.09–0.16. The bounds sit near 1 % of that movement.
CONFIG = TrainConfig(
    lr=1e-2, lr_patience=0, early_stopping_patience=1, max_epochs=8, batch_size=32, progress=False, device="cpu"
)
WEIGHTS = [(1.0, 1e-3), (0.1, 0.05), (2.0, 0.2)]
ATOL = 1e-3
LOSS_RTOL = 1e-4


@pytest.fixture(scope="module")
def start():
    """The toy data with a fresh classifier and auto-encoder (seed 2)."""
    torch.manual_seed(2)
    return toy_dataset(64, 32, 16, 3, 24), CNNClassifier(3, 2, 24), AutoEncoder(3, 24)


def candidates(classifier, autoencoder, weights=WEIGHTS, mode="tsinsight"):
    """One explainer per (γ, β), each on its own copy of ``autoencoder`` (γ dropped in mode sparsity_only)."""
    return [
        TSInsight(classifier, copy.deepcopy(autoencoder), gamma=g if mode == "tsinsight" else None, beta=b, mode=mode)
        for g, b in weights
    ]


def test_explainers_fitted_together_match_separate_fits(start):
    data, classifier, autoencoder = start
    alone = candidates(classifier, autoencoder)
    together = candidates(classifier, autoencoder)
    separate = [explainer.fit(data, CONFIG) for explainer in alone]
    stacked = fit_together(together, data, CONFIG)
    epochs = [history.attrs["epochs"] for history in stacked]
    assert epochs == [h.attrs["epochs"] for h in separate] and min(epochs) < max(epochs) < CONFIG.max_epochs
    for a, t, ha, ht in zip(alone, together, separate, stacked, strict=True):
        assert t.history is ht and list(ht.columns) == HISTORY_COLUMNS
        assert {k: ht.attrs[k] for k in ("best_epoch", "epochs", "stopped_early", "capped", "metric")} == {
            k: ha.attrs[k] for k in ("best_epoch", "epochs", "stopped_early", "capped", "metric")
        }
        assert ht["epoch"].tolist() == ha["epoch"].tolist() and ht["lr"].tolist() == ha["lr"].tolist()
        assert ht["val_metric"].tolist() == ha["val_metric"].tolist()  # the validation accuracies, epoch by epoch
        for column in ("train_loss", "val_loss"):
            assert ht[column].to_numpy() == pytest.approx(ha[column].to_numpy(), rel=LOSS_RTOL)
        for (name, p), q in zip(a.autoencoder.named_parameters(), t.autoencoder.parameters(), strict=True):
            torch.testing.assert_close(q, p, atol=ATOL, rtol=0, msg=name)
        assert not t.autoencoder.training and next(t.autoencoder.parameters()).device.type == "cpu"


def test_a_bfloat16_stacked_fit_trains_float32_weights_with_other_numerics(start):
    data, classifier, autoencoder = start
    plain, low = candidates(classifier, autoencoder), candidates(classifier, autoencoder)
    fit_together(plain, data, CONFIG)
    histories = fit_together(low, data, replace(CONFIG, precision="bfloat16"))
    for p, q, history in zip(plain, low, histories, strict=True):
        assert all(t.dtype == torch.float32 for t in q.autoencoder.parameters())
        assert torch.isfinite(torch.tensor(history["val_loss"].to_numpy())).all()
        assert not all(
            torch.equal(a, b) for a, b in zip(p.autoencoder.parameters(), q.autoencoder.parameters(), strict=True)
        )


def test_runs_with_their_own_classifiers_seeds_and_modes_match_separate_fits(start):
    data, classifier, autoencoder = start
    torch.manual_seed(3)
    second = CNNClassifier(3, 2, 24)  # another run's classifier: same architecture, its own weights
    plan = [(classifier, "tsinsight", 0), (classifier, "sparsity_only", 0), (classifier, "palacio", 0),
            (second, "tsinsight", 1), (second, "palacio", 1)]  # fmt: skip

    def build():
        return [
            TSInsight(c, copy.deepcopy(autoencoder), mode=mode, gamma=1.0 if mode == "tsinsight" else None,
                      beta=0.05 if mode != "palacio" else None)
            for c, mode, _ in plan
        ]  # fmt: skip

    alone, together = build(), build()
    separate = [e.fit(data, replace(CONFIG, seed=seed)) for e, (_, _, seed) in zip(alone, plan, strict=True)]
    stacked = fit_together(together, data, CONFIG, seeds=[seed for _, _, seed in plan])
    assert len({h.attrs["epochs"] for h in stacked}) > 1  # members stop at their own epochs
    for a, t, ha, ht in zip(alone, together, separate, stacked, strict=True):
        assert ht.attrs["epochs"] == ha.attrs["epochs"] and ht.attrs["best_epoch"] == ha.attrs["best_epoch"]
        assert ht["val_metric"].tolist() == ha["val_metric"].tolist() and ht["lr"].tolist() == ha["lr"].tolist()
        assert ht["val_loss"].to_numpy() == pytest.approx(ha["val_loss"].to_numpy(), rel=LOSS_RTOL)
        for (name, p), q in zip(a.autoencoder.named_parameters(), t.autoencoder.parameters(), strict=True):
            torch.testing.assert_close(q, p, atol=ATOL, rtol=0, msg=name)
    encoder = dict(autoencoder.encoder.named_parameters())  # Palacio et al.: only the decoder is trained
    assert all(torch.equal(p, encoder[n]) for n, p in together[2].autoencoder.encoder.named_parameters())


@pytest.mark.parametrize("mode", ["tsinsight", "sparsity_only"])
def test_stacked_terms_equal_loss_of_output(start, mode):
    data, classifier, autoencoder = start
    explainers = candidates(classifier, autoencoder, mode=mode)
    x, y = torch.as_tensor(data.train.x[:32]), torch.as_tensor(data.train.y[:32]).long()
    template = copy.deepcopy(autoencoder).to("meta")
    with torch.no_grad():
        out = stacked_outputs([e.autoencoder for e in explainers], template, x)
        torch.testing.assert_close(out[0], autoencoder(x), atol=1e-6, rtol=0)  # rounding of the vmapped convs only
        terms = stacked_terms(explainers, out, x, y)
        for m, explainer in enumerate(explainers):
            expected = explainer.loss_of_output(out[m], x, y)
            assert set(terms) == set(expected)
            for key, value in expected.items():
                torch.testing.assert_close(terms[key][m], value, atol=1e-6, rtol=1e-6, msg=key)


def test_capped_members_warn_like_a_single_fit(start):
    data, classifier, autoencoder = start
    config = TrainConfig(lr=1e-3, max_epochs=1, batch_size=32, progress=False, device="cpu")
    with pytest.warns(ConvergenceWarning, match="max_epochs=1"):
        (history,) = fit_together(candidates(classifier, autoencoder, WEIGHTS[:1]), data, config)
    assert history.attrs["capped"] and len(history) == 1


class Drifting(nn.Module):
    """A classifier that (wrongly) changes a buffer at every call."""

    def __init__(self):
        super().__init__()
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(3 * 24, 2))
        self.register_buffer("calls", torch.zeros(()))

    def forward(self, x):
        self.calls += 1
        return self.head(x)


def test_the_classifier_is_frozen_and_checked(start):
    data, classifier, autoencoder = start
    before = copy.deepcopy(classifier.state_dict())
    config = TrainConfig(lr=1e-3, max_epochs=2, batch_size=32, progress=False, device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit_together(candidates(classifier, autoencoder, WEIGHTS[:2]), data, config)
        after = classifier.state_dict()
        assert all(torch.equal(before[k], after[k]) for k in before) and not classifier.training
        assert not any(p.requires_grad for p in classifier.parameters())
        with pytest.raises(RuntimeError, match="classifier changed"):
            fit_together(candidates(Drifting(), autoencoder, WEIGHTS[:2]), data, config)


def test_preconditions(start):
    data, classifier, autoencoder = start
    two = candidates(classifier, autoencoder, WEIGHTS[:2])
    cases = [
        ([], "at least one explainer"),
        ([two[0], TSInsight(CNNClassifier(3, 2, 24, widths=(8, 16, 32)), copy.deepcopy(autoencoder), gamma=1.0, beta=0.1)],
         "classifiers differ in architecture"),
        ([TSInsight(LSTMClassifier(3, 2), copy.deepcopy(autoencoder), gamma=1.0, beta=0.1),
          TSInsight(LSTMClassifier(3, 2), copy.deepcopy(autoencoder), gamma=1.0, beta=0.1)], "recurrent"),
        ([TSInsight(classifier, copy.deepcopy(autoencoder), mode="saliency")], "TSInsight.fit"),
        ([two[0], TSInsight(classifier, two[0].autoencoder, gamma=1.0, beta=0.1)], r"copy.deepcopy"),
        ([two[0], TSInsight(classifier, AutoEncoder(3, 24, width=32), gamma=1.0, beta=0.1)], "architecture"),
        ([TSInsight(classifier, nn.Sequential(nn.Conv1d(3, 3, 3, padding=1), nn.BatchNorm1d(3)), gamma=1.0, beta=0.1)],
         "BatchNorm"),
    ]  # fmt: skip
    for explainers, message in cases:
        with pytest.raises(ValueError, match=message):
            fit_together(explainers, data, CONFIG)
    with pytest.raises(ValueError, match="one non-negative integer per explainer"):
        fit_together(two, data, CONFIG, seeds=[0])
    with pytest.raises(TypeError, match="TSInsight explainers"):
        fit_together([two[0], "not an explainer"], data, CONFIG)
    with pytest.raises(ValueError, match="auto-encoder cannot take"):  # the package's own input checks run too
        fit_together([TSInsight(classifier, nn.Conv1d(4, 4, 1), gamma=1.0, beta=0.1)], data, CONFIG)
