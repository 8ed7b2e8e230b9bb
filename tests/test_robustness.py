"""Tests of issue 15: the suppression test's fillers and orders, Captum's scores and the rank-stability table."""

import dataclasses
import itertools

import numpy as np
import pandas as pd
import pytest
import torch
from toys import toy_dataset

from tsinsight import attribution, experiments, zoo
from tsinsight.evaluation.faithfulness import faithfulness_table
from tsinsight.evaluation.suppress import (
    FILLERS,
    ORDERS,
    ROAD_NOISE,
    fill,
    road_noise,
    suppress,
    suppression,
    suppression_naive,
)
from tsinsight.experiments.robustness import (
    PAPER_SETTING,
    SETTINGS,
    faithfulness_scores,
    rank_correlations,
    robustness_curves,
    robustness_ranking,
    setting_scores,
    stability_table,
    stability_verdict,
)
from tsinsight.models import make_classifier
from tsinsight.profiles import get_profile

X = np.array([[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [0.0, 10.0, 0.0, 0.0, 0.0, -4.0]]], dtype=np.float32)
KEEP = np.array([[[False, True, False, False, True, False], [False] * 6]])  # channel 1 keeps nothing


@pytest.mark.parametrize(
    "filler, expected",
    [
        ("zero", [[0, 2, 0, 0, 5, 0], [0] * 6]),
        ("mean", [[3.5, 2, 3.5, 3.5, 5, 3.5], [1.0] * 6]),  # the series' own mean per channel, removed points included
        ("linear", [[2, 2, 3, 4, 5, 5], [0] * 6]),  # interpolated between kept points, flat beyond; empty channel 0
    ],
)
def test_each_filler_gives_the_expected_values_on_a_hand_made_series(filler, expected):
    np.testing.assert_allclose(fill(X, KEEP, filler), np.array([expected], dtype=np.float32), rtol=1e-6)


def test_road_is_linear_interpolation_plus_gaussian_noise_on_the_removed_points_only():
    noise = road_noise(X.shape, seed=3)
    road = fill(X, KEEP, "road", noise)
    np.testing.assert_allclose(road - fill(X, KEEP, "linear"), np.where(KEEP, 0.0, noise), atol=1e-6)
    np.testing.assert_array_equal(road_noise(X.shape, seed=3), noise)  # seeded
    assert road_noise((200, 3, 100)).std() == pytest.approx(ROAD_NOISE, rel=0.02)
    with pytest.raises(ValueError, match="noise"):
        fill(X, KEEP, "road")


def test_the_two_orders_remove_opposite_ends_of_the_ranking():
    x = np.arange(1, 7, dtype=np.float32).reshape(1, 1, 6)
    attribution = np.array([[[0.1, 0.9, 0.5, 0.2, 0.8, 0.3]]])
    np.testing.assert_array_equal(suppress(x, attribution, 0.5), [[[0, 2, 3, 0, 5, 0]]])  # the paper's: top half kept
    np.testing.assert_array_equal(suppress(x, attribution, 0.5, order="morf"), [[[1, 0, 0, 4, 0, 6]]])
    np.testing.assert_array_equal(suppress(x, attribution, 0.5, order="morf", filler="linear"), [[[1, 2, 3, 4, 5, 6]]])
    with pytest.raises(ValueError, match="filler"):
        suppress(x, attribution, 0.5, filler="blur")
    with pytest.raises(ValueError, match="order"):
        suppress(x, attribution, 0.5, order="random")


def _problem(n=12, channels=2, length=10, classes=3, seed=2):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, channels, length)).astype(np.float32)
    classifier = make_classifier("cnn", channels, classes, length).eval()
    with torch.no_grad():
        y = classifier(torch.as_tensor(x)).argmax(1).numpy()
    y[: n // 3] = (y[: n // 3] + 1) % classes
    return classifier, x, y, rng.random(x.shape).astype(np.float32)


@pytest.mark.parametrize("filler, order", list(itertools.product(FILLERS, ORDERS)))
def test_batched_equals_the_naive_loop_for_every_filler_and_order(filler, order):
    torch.set_num_threads(1)
    classifier, x, y, attribution = _problem()
    levels = np.linspace(0, 1, 11)
    batched = suppression(classifier, x, y, attribution, levels, batch_size=7, filler=filler, order=order, seed=4)
    naive = suppression_naive(classifier, x, y, attribution, levels, filler=filler, order=order, seed=4)
    pd.testing.assert_frame_equal(batched, naive)
    if filler == "zero" and order == "lerf":  # the defaults are the paper's test
        pd.testing.assert_frame_equal(batched, suppression(classifier, x, y, attribution, levels, batch_size=7))


def test_faithfulness_scores_every_method_but_none_reproducibly():
    torch.set_num_threads(1)
    classifier, x, _, _ = _problem(n=4)
    methods = ["none", "random", "gradient", "gradcam"]
    table = faithfulness_table(classifier, x, methods=methods, seed=1)
    assert table["method"].tolist() == methods[1:]
    assert (table[["infidelity", "sensitivity"]] >= 0).all().all()
    pd.testing.assert_frame_equal(table, faithfulness_table(classifier, x, methods=methods, seed=1))
    assert (
        table.set_index("method").loc["random", "sensitivity"]
        > table.set_index("method").loc["gradient", "sensitivity"]
    )


def _curves(value) -> pd.DataFrame:
    """A hand-made curves table: ``value(dataset, filler, order, method, run)`` is the accuracy after the first level.

    Levels 0, 0.5, 1 with accuracies (clean, v, v): the area is 0.25 · clean + 0.75 · v. Data set ``flat`` has a
    classifier that learnt nothing (clean accuracy = the majority share) and must be left out.
    """
    rows = []
    for dataset, (filler, order), method, run in itertools.product(
        ["a", "b", "c", "flat"], SETTINGS, ["none", "tsinsight", "gradient", "random"], [0, 1]
    ):
        clean = 0.5 if dataset == "flat" else 0.9
        v = clean if method == "none" else value(dataset, filler, order, method, run)
        for level, accuracy in zip([0.0, 0.5, 1.0], [clean, v, v], strict=True):
            rows.append(
                dict(
                    dataset=dataset,
                    filler=filler,
                    order=order,
                    method=method,
                    run=run,
                    level=level,
                    kept=0,
                    accuracy=accuracy,
                    majority=0.5,
                )
            )
    return pd.DataFrame(rows)


GOOD = {"tsinsight": 0.8, "gradient": 0.5, "random": 0.2}  # under LeRF: high accuracy is good


def _faithful(dataset, filler, order, method, run):
    value = GOOD[method] + 0.01 * run
    return 1 - value if order == "morf" else value  # under MoRF a good method makes the accuracy fall


def test_the_stability_table_is_computed_from_a_saved_curves_table(tmp_path):
    path = tmp_path / "robustness_curves.csv"
    _curves(_faithful).to_csv(path, index=False)
    curves = pd.read_csv(path)
    scores = setting_scores(curves)
    morf = scores[(scores["order"] == "morf") & (scores["method"] == "tsinsight") & (scores["run"] == 0)]
    assert morf["area"].iloc[0] == pytest.approx(0.25 * 0.9 + 0.75 * 0.2)
    assert morf["auc"].iloc[0] == pytest.approx(1 - morf["area"].iloc[0])

    ranking = robustness_ranking(curves, n_boot=200)
    assert set(ranking["excluded"]) == {"flat"} and (ranking["datasets"] == 3).all()
    assert ranking.groupby(["filler", "order"]).size().eq(3).all()  # none is not ranked
    table = stability_table(ranking)
    assert (table.iloc[0]["filler"], table.iloc[0]["order"]) == PAPER_SETTING
    assert len(table) == len(SETTINGS)
    assert (table["place"] == 1).all() and (table["mean_rank"] == 1).all() and table["within"].all()
    assert table["spearman"].eq(1).all() and table["kendall"].eq(1).all()
    stable, text = stability_verdict(table)
    assert stable and text.startswith("Stable")
    pairs = rank_correlations(ranking)
    assert len(pairs) == len(SETTINGS) ** 2 and pairs["spearman"].eq(1).all()


def test_a_setting_that_reverses_the_ranking_is_not_stable():
    def reversed_under_mean_morf(dataset, filler, order, method, run):
        value = _faithful(dataset, filler, order, method, run)
        return 1 - value if (filler, order) == ("mean", "morf") else value

    ranking = robustness_ranking(_curves(reversed_under_mean_morf), n_boot=200)
    table = stability_table(ranking).set_index(["filler", "order"])
    assert table.loc[("mean", "morf"), "place"] == 3 and not table.loc[("mean", "morf"), "within"]
    assert table.loc[("mean", "morf"), "spearman"] == pytest.approx(-1)
    stable, text = stability_verdict(table.reset_index())
    assert not stable and "mean/morf (3.00)" in text


def test_the_experiment_reruns_the_zoo_models_on_the_cached_attributions(tmp_path, monkeypatch):
    torch.set_num_threads(1)
    monkeypatch.setenv("TSINSIGHT_ARTIFACTS", str(tmp_path))
    monkeypatch.setattr(zoo, "load", lambda name, seed: toy_dataset(160, 48, 64, name="synthetic_anomaly", seed=seed))
    zoo._dataset.cache_clear()
    tiny = dataclasses.replace(get_profile("smoke"), name="tiny", max_train=96, max_val=32, max_test=40, n_eval=8)
    try:
        scores = faithfulness_scores("synthetic_anomaly", tiny)
        assert len(scores) == 12 and set(scores.columns) == {"method", "infidelity", "sensitivity", "run", "dataset"}
        paper = experiments.suppression_curves("synthetic_anomaly", tiny, runs=1)  # fills the attribution cache

        def recomputed(*args, **kwargs):
            raise AssertionError("an attribution of the suppression pages was computed again")

        monkeypatch.setattr(attribution, "attribute", recomputed)
        curves = robustness_curves("synthetic_anomaly", tiny, runs=1, settings=[PAPER_SETTING, ("road", "morf")])
        assert set(zip(curves["filler"], curves["order"], strict=True)) == {PAPER_SETTING, ("road", "morf")}
        again = curves[curves["filler"] == "zero"].drop(columns=["filler", "order"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(again, paper[again.columns])
    finally:
        zoo._dataset.cache_clear()
