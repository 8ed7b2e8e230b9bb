"""Tests of the suppression test (Fig. 4): ranking, masking, batched = naive, AUC and ranking tables."""

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from tsinsight.attribution import METHODS
from tsinsight.evaluation.suppress import (
    area_under_curve,
    auc_table,
    example_index,
    kept_points,
    method_ranking,
    rank_points,
    suppress,
    suppression,
    suppression_curves,
    suppression_naive,
)
from tsinsight.explainer import TSInsight
from tsinsight.models import AutoEncoder, make_classifier
from tsinsight.training import accuracy

LEVELS = np.linspace(0, 1, 11)


class ReadsOnePoint(nn.Module):
    """Predicts class 0 while x[:, 0, 5] (= 1 in the tests) survives, class 1 once it is zeroed."""

    def __init__(self):
        super().__init__()
        self.threshold = nn.Parameter(torch.tensor(0.5))

    def forward(self, x):
        return torch.stack([x[:, 0, 5], self.threshold.expand(len(x))], dim=1)


def _problem(model_kind="cnn", n=12, channels=2, length=10, classes=3, seed=2):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, channels, length)).astype(np.float32)
    classifier = make_classifier(model_kind, channels, classes, length).eval()
    with torch.no_grad():
        y = classifier(torch.as_tensor(x)).argmax(1).numpy()
    y[: n // 3] = (y[: n // 3] + 1) % classes  # some errors, so that clean accuracy is not 1
    return classifier, x, y, rng.random(x.shape).astype(np.float32)


def test_rank_points_orders_by_attribution_and_breaks_ties_reproducibly_without_favouring_a_channel():
    attribution = np.array([[[0.2, 0.9, 0.3], [0.5, 0.25, 0.0]]])
    np.testing.assert_array_equal(rank_points(attribution), [[4, 0, 2, 1, 3, 5]])
    constant = np.ones((400, 3, 5))  # like GradCAM: every channel the same
    ranks = rank_points(constant)
    np.testing.assert_array_equal(ranks, rank_points(constant))
    np.testing.assert_array_equal(np.sort(ranks, axis=1), np.tile(np.arange(15), (400, 1)))
    first_channel = np.argmin(ranks, axis=1) // 5
    assert np.bincount(first_channel, minlength=3).min() > 80  # the top point falls on every channel alike


def test_kept_points_rounds_the_suppressed_share():
    assert kept_points(0.0, 150) == 150 and kept_points(1.0, 150) == 0
    assert kept_points(0.95, 150) == 8  # 142.5 suppressed rounds to the even 142
    assert kept_points(0.95, 100) == 5


@pytest.mark.parametrize("kind, seed", [("cnn", 2), ("lstm", 0)])  # seeds where the two ends differ
def test_no_suppression_is_clean_accuracy_and_full_suppression_is_all_zero_accuracy(kind, seed):
    classifier, x, y, attribution = _problem(kind, seed=seed)
    curve = suppression(classifier, x, y, attribution, [0.0, 1.0])
    assert curve["accuracy"].iloc[0] == pytest.approx(accuracy(classifier, x, y))
    assert curve["accuracy"].iloc[1] == pytest.approx(accuracy(classifier, np.zeros_like(x), y))
    assert curve["accuracy"].iloc[0] != curve["accuracy"].iloc[1]  # the two ends really differ here


def test_batched_equals_one_call_per_sample_and_level():
    classifier, x, y, attribution = _problem()
    batched = suppression(classifier, x, y, attribution, LEVELS, batch_size=7)  # chunks cross level boundaries
    pd.testing.assert_frame_equal(batched, suppression_naive(classifier, x, y, attribution, LEVELS))
    assert batched["accuracy"].nunique() > 1


def test_the_kept_points_are_the_top_ranked_ones():
    x = np.ones((4, 2, 10), dtype=np.float32)
    y = np.zeros(4, dtype=np.int64)
    model = ReadsOnePoint()
    finds_it = np.zeros_like(x)
    finds_it[:, 0, 5] = 1.0
    misses_it = 1.0 - finds_it
    found = suppression(model, x, y, finds_it, LEVELS)
    missed = suppression(model, x, y, misses_it, LEVELS)
    np.testing.assert_array_equal(found["accuracy"], [1.0] * 10 + [0.0])  # survives until nothing is kept
    np.testing.assert_array_equal(missed["accuracy"], [1.0] + [0.0] * 10)  # lost with the first suppressed point
    np.testing.assert_array_equal(found["kept"], [20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0])


def test_suppress_keeps_the_top_share_of_each_sample():
    x = np.arange(1, 21, dtype=np.float32).reshape(2, 1, 10)
    attribution = np.stack([x[0], -x[1]])  # the first sample prefers late steps, the second early ones
    kept = suppress(x, attribution, 0.8)
    np.testing.assert_array_equal(kept[0, 0], [0] * 8 + [9, 10])
    np.testing.assert_array_equal(kept[1, 0], [11, 12] + [0] * 8)
    with pytest.raises(ValueError, match="fraction suppressed"):
        suppress(x, attribution, -0.1)


def test_example_index_prefers_correct_samples_with_evidence():
    x = np.ones((4, 2, 10), dtype=np.float32)
    x[0, 0, 5] = 0.0  # ReadsOnePoint predicts class 1 for sample 0, class 0 for the others
    y = np.array([0, 1, 0, 0])
    evidence = np.zeros_like(x, dtype=bool)
    evidence[[0, 1, 3], 1, 2] = True
    assert example_index(ReadsOnePoint(), x, y, evidence) == 3
    assert example_index(ReadsOnePoint(), x, y) == 2
    assert example_index(ReadsOnePoint(), x, np.ones(4, dtype=int), evidence) == 0


def test_no_attribution_is_the_unsuppressed_reference():
    classifier, x, y, _ = _problem()
    curve = suppression(classifier, x, y, None, LEVELS)
    assert (curve["accuracy"] == accuracy(classifier, x, y)).all()


def test_suppression_leaves_the_model_mode_alone():
    classifier, x, y, attribution = _problem()
    classifier.train()
    suppression(classifier, x, y, attribution, LEVELS)
    assert classifier.training


def test_bad_inputs_are_named():
    classifier, x, y, attribution = _problem()
    with pytest.raises(ValueError, match="levels"):
        suppression(classifier, x, y, attribution, [0.0, 1.5])
    with pytest.raises(ValueError, match="shape"):
        suppression(classifier, x, y, attribution[:, :1], LEVELS)
    with pytest.raises(ValueError, match="labels"):
        suppression(classifier, x, y[:-1], attribution, LEVELS)


def test_area_under_curve_and_ranking():
    levels = np.linspace(0, 1, 5)
    assert area_under_curve(pd.DataFrame({"level": levels, "accuracy": 1.0})) == pytest.approx(1.0)
    assert area_under_curve(pd.DataFrame({"level": levels, "accuracy": 1 - levels})) == pytest.approx(0.5)

    def curve(dataset, method, run, value):
        return pd.DataFrame({"dataset": dataset, "method": method, "run": run, "level": levels, "accuracy": value})

    long = pd.concat(
        [
            curve("a", "tsinsight", 0, 0.9), curve("a", "tsinsight", 1, 0.7), curve("a", "gradient", 0, 0.6),
            curve("a", "none", 0, 1.0), curve("b", "tsinsight", 0, 0.5), curve("b", "gradient", 0, 0.6),
            curve("c", "tsinsight", 0, 0.9), curve("c", "gradient", 0, 0.1),
        ]
    )  # fmt: skip
    aucs = auc_table(long[long["dataset"] == "a"])
    assert aucs.set_index(["method", "run"])["auc"].to_dict() == pytest.approx(
        {("tsinsight", 0): 0.9, ("tsinsight", 1): 0.7, ("gradient", 0): 0.6, ("none", 0): 1.0}
    )
    ranking = method_ranking(long).set_index("method")
    assert list(ranking.index) == ["tsinsight", "gradient"]  # none is the reference, not ranked
    assert ranking.loc["tsinsight", "rank_b"] == 2 and ranking.loc["tsinsight", "mean_rank"] == pytest.approx(4 / 3)
    assert ranking.loc["tsinsight", "mean_auc"] == pytest.approx((0.8 + 0.5 + 0.9) / 3)


def test_suppression_curves_cover_every_method_and_cache_attributions(monkeypatch):
    classifier, x, y, _ = _problem(n=6, length=12)
    torch.manual_seed(0)
    explainers = {
        "tsinsight": TSInsight(classifier, AutoEncoder(2, 12), gamma=1.0, beta=1e-3),
        "palacio": TSInsight(classifier, AutoEncoder(2, 12), mode="palacio"),
    }
    key = {"dataset": "toy", "profile": "test"}
    long = suppression_curves(classifier, x, y, explainers=explainers, levels=LEVELS, key=key, progress=False)
    assert list(long.columns) == ["method", "level", "kept", "accuracy", "run"]
    assert list(long["method"].unique()) == list(METHODS) and len(long) == len(METHODS) * len(LEVELS)
    assert long["accuracy"].between(0, 1).all()

    from tsinsight import attribution

    def fail(*args, **kwargs):
        raise AssertionError("attributions should come from the cache")

    monkeypatch.setattr(attribution, "attribute", fail)
    again = suppression_curves(classifier, x, y, explainers=explainers, levels=LEVELS, key=key, progress=False)
    pd.testing.assert_frame_equal(long, again)
    with pytest.raises(ValueError, match="unknown attribution methods"):
        suppression_curves(classifier, x, y, methods=["gradients"], progress=False)


def test_suppression_refuses_non_finite_attributions_and_non_integer_labels():
    classifier, x, y, attribution = _problem("cnn", seed=0)
    attribution[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        suppression(classifier, x, y, attribution, [0.5])
    with pytest.raises(ValueError, match="integer class indices"):
        suppression(classifier, x, y.astype(float), None, [0.5])
