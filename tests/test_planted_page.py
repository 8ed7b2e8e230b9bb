"""The planted-evidence page's experiment (``tsinsight.experiments.planted``) on a tiny zoo: what it scores, its design
check, its caps and its reading."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from toys import toy_dataset

from tsinsight import zoo
from tsinsight.attribution import LATER_METHODS, METHODS
from tsinsight.data import planted as planted_data
from tsinsight.experiments import planted
from tsinsight.profiles import get_profile

# "smoke" by name: the masks then fit for a few epochs (tsinsight.experiments.later.mask_epochs)
TINY = dataclasses.replace(
    get_profile("smoke"), runs=2, max_train=96, max_val=32, max_test=40, n_eval=16,
    planted_max_train=64, planted_max_val=24, planted_n_eval=12, planted_mask_series=5,
)  # fmt: skip
BASE = toy_dataset(120, 48, 48, channels=2, length=32, name="ford_a")


@pytest.fixture
def planted_zoo(toy_zoo, monkeypatch):
    """The toy zoo, where ``planted_ford_a`` is a toy base's planted version (its backgrounds from the same base)."""

    def load(name, seed):
        if name == "planted_ford_a":
            return planted_data.build(BASE, seed)
        return toy_dataset(160, 48, 64, name="synthetic_anomaly", seed=seed, evidence=True)

    monkeypatch.setattr(zoo, "load", load)
    monkeypatch.setattr(planted.data, "load", lambda name, seed, progress: BASE)


def test_measures_of_a_perfect_a_constant_and_a_misplaced_ranking():
    evidence = np.zeros((2, 2, 10), dtype=bool)
    evidence[0, 1, 3:5] = evidence[1, 0, 7:9] = True
    perfect = planted.measures(evidence.astype(float), evidence)
    assert perfect["top1"] == perfect["near"] == perfect["precision_k"] == 1.0
    beside = np.zeros_like(evidence, dtype=float)
    beside[0, 1, 5] = beside[1, 0, 6] = 1.0  # one step off the evidence, on its channel
    shifted = planted.measures(beside, evidence)
    assert shifted["top1"] == 0.0 and shifted["near"] == 1.0 and shifted["precision_k"] == 0.0
    wrong_channel = np.zeros_like(beside)
    wrong_channel[0, 0, 3] = wrong_channel[1, 1, 7] = 1.0
    assert planted.measures(wrong_channel, evidence)["near"] == 0.0


def test_scores_cover_every_method_run_and_rung_and_magnitude_finds_the_spike(planted_zoo):
    scores = planted.planted_scores("synthetic_anomaly", TINY)
    assert list(scores.columns) == planted.COLUMNS
    paper = scores[scores["family"] == "paper"]
    assert sorted(set(paper["method"])) == sorted(m for m in METHODS if m != "none")
    assert sorted(set(scores.loc[scores["family"] == "later", "method"])) == sorted(LATER_METHODS)
    grid = zoo.tuned("synthetic_anomaly", TINY).grid
    ladder = scores[scores["family"] == "ladder"]
    assert len(ladder) == 2 * len(grid) and (ladder.groupby("run")["chosen"].sum() == 1).all()
    # a profile that scores run 0's ladder only keeps every other row as it was (the same cached attributions)
    first_ladder = planted.planted_scores("synthetic_anomaly", dataclasses.replace(TINY, planted_ladder_runs=1))
    assert set(first_ladder.loc[first_ladder["family"] == "ladder", "run"]) == {0}
    kept = scores[(scores["family"] != "ladder") | (scores["run"] == 0)].reset_index(drop=True)
    pd.testing.assert_frame_equal(first_ladder, kept)
    assert scores[list(planted.MEASURES)].stack().between(0, 1).all()
    # the toy's spike is six standard deviations: the largest |x| is the evidence, random ranks are not
    by_method = paper.groupby("method")["top1"].mean()
    assert by_method["input_magnitude"] > 0.9 > by_method["random"]
    design = planted.planted_design("synthetic_anomaly", TINY)
    assert design["magnitude_top1"].iloc[0] == by_method["input_magnitude"]
    assert design["chance_top1"].isna().all() and design["background_accuracy"].isna().all()


def test_a_planted_set_runs_under_its_caps_with_its_backgrounds(planted_zoo):
    chosen = planted.budget("planted_ford_a", TINY)
    assert (chosen.max_train, chosen.max_val, chosen.n_eval) == (64, 24, 12)
    assert planted.budget("synthetic_anomaly", TINY) == TINY
    with pytest.raises(ValueError, match="unknown planted data set"):
        planted.budget("ford_a", TINY)
    assert planted.set_label("planted_ford_a") == "Planted FordA" and planted.set_label("ford_a") == "FordA"
    design = planted.planted_design("planted_ford_a", TINY)
    assert len(design) == 2 and (design["series"] == 12).all()
    width = planted_data.pattern_width(32)
    assert design["evidence_share"].iloc[0] == pytest.approx(width / (2 * 32))
    assert design[["chance_top1", "chance_near", "background_accuracy"]].notna().all().all()
    scores = planted.planted_scores("planted_ford_a", TINY, runs=1)
    masks = scores[scores["method"].isin(["extremal_mask", "dynamic_mask"])]
    assert (masks["n_samples"] == 5).all() and (scores.loc[scores["family"] == "paper", "n_samples"] == 12).all()


def test_the_reading_names_the_planted_sets_numbers():
    rows = []
    for name, magnitude, tsinsight, best in (("planted_ford_a", 0.1, 0.3, 0.6), ("planted_ecg_thorax", 0.05, 0.5, 0.7)):
        for run in (0, 1):
            rows += [
                dict(dataset=name, method="input_magnitude", family="paper", run=run, near=magnitude),
                dict(dataset=name, method="tsinsight", family="paper", run=run, near=tsinsight),
                dict(dataset=name, method="gradient", family="paper", run=run, near=best),
                dict(dataset=name, method="tsinsight", family="ladder", run=run, ratio=3.0, chosen=True, near=0.4),
            ]
    rows.append(dict(dataset="synthetic_anomaly", method="gradient", family="paper", run=0, near=0.0))
    scores = pd.DataFrame(rows).reindex(columns=planted.COLUMNS).fillna({m: 0.0 for m in planted.MEASURES})
    design = pd.DataFrame({"dataset": ["planted_ford_a", "planted_ecg_thorax"], "chance_near": [0.1, 0.02]})
    text = planted.planted_reading(scores, design)
    assert text.startswith("On 2 planted data sets")
    assert "input magnitude in 8% (per set 5%–10%)" in text and "placement chance of 6% (per set 2%–10%)" in text
    assert "chose it in 40% (per set 30%–50%)" in text and "best rung of its ladder in 40%" in text
    assert "Gradient (65%)" in text
    assert planted.planted_reading(scores[scores["dataset"] == "synthetic_anomaly"], design).startswith("No planted")
