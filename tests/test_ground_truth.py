"""Tests of the ground-truth scores (AUP, AUR, top-1) against known evidence, on hand-made cases."""

import numpy as np
import pytest
import torch

from tsinsight.evaluation.ground_truth import (
    ground_truth_scores,
    ground_truth_table,
    localisation,
    precision_recall_curves,
)
from tsinsight.models import CNNClassifier

# Two samples of 1 channel × 4 steps: the first ranks its evidence (step 2) first, the second ranks it last.
ATTRIBUTION = np.array([[[0.1, 0.3, 0.9, 0.2]], [[0.0, 1.0, 2.0, 3.0]]])
EVIDENCE = np.array([[[False, False, True, False]], [[True, False, False, False]]])


def test_precision_and_recall_at_every_threshold():
    precision, recall = precision_recall_curves(ATTRIBUTION, EVIDENCE)
    np.testing.assert_allclose(precision, [[1, 1 / 2, 1 / 3, 1 / 4], [0, 0, 0, 1 / 4]])
    np.testing.assert_allclose(recall, [[1, 1, 1, 1], [0, 0, 0, 1]])


def test_areas_and_top1_on_a_hand_made_case():
    scores = ground_truth_scores(ATTRIBUTION, EVIDENCE)
    # Trapezoids over the flagged fractions 1/4 … 4/4, per sample: AUP 0.364583 and 0.03125, AUR 0.75 and 0.125.
    assert scores["aup"] == pytest.approx((0.25 * (0.75 + 5 / 12 + 7 / 24) + 0.25 * 0.125) / 2)
    assert scores["aur"] == pytest.approx((0.75 + 0.125) / 2)
    assert scores["top1"] == 0.5 and scores["n_samples"] == 2


def test_a_constant_attribution_finds_the_evidence_only_by_chance():
    evidence = np.zeros((300, 3, 4), dtype=bool)
    evidence[:, 2, 1] = True  # always on the last channel, as the synthetic anomalies are never on the first
    scores = ground_truth_scores(np.ones((300, 3, 4)), evidence)
    assert 0.0 < scores["top1"] < 0.25  # about 1 in 12, not 0 as index-order tie-breaking would give


def test_samples_without_evidence_are_refused_by_the_scores_and_dropped_by_the_table():
    with pytest.raises(ValueError, match="no evidence"):
        ground_truth_scores(np.ones((1, 1, 3)), np.zeros((1, 1, 3), dtype=bool))
    with pytest.raises(ValueError, match="same shape"):
        ground_truth_table(CNNClassifier(1, 2, 4), np.ones((2, 1, 4)), np.ones((2, 1, 3), dtype=bool), progress=False)
    with pytest.raises(ValueError, match="none of the samples"):
        ground_truth_table(CNNClassifier(1, 2, 4), np.ones((2, 1, 4)), np.zeros((2, 1, 4), dtype=bool), progress=False)


def test_table_scores_a_spike_detector_above_chance():
    rng = np.random.default_rng(0)
    x = rng.normal(scale=0.1, size=(10, 3, 20)).astype(np.float32)
    evidence = np.zeros(x.shape, dtype=bool)
    for index in range(6):  # six anomalous samples with one spike on channel 1 or 2; four normal ones
        channel, step = 1 + index % 2, rng.integers(1, 19)
        x[index, channel, step] = 5.0
        evidence[index, channel, step] = True
    torch.manual_seed(0)
    table = ground_truth_table(
        CNNClassifier(3, 2, 20), x, evidence, methods=["input_magnitude", "random"], progress=False
    ).set_index("method")
    assert (table["n_samples"] == 6).all()
    assert table.loc["input_magnitude", "top1"] == 1.0
    assert table.loc["input_magnitude", "aur"] == pytest.approx(1 - 1 / 60)  # recall 1 over the fractions 1/60 … 1
    assert table.loc["random", "aur"] < table.loc["input_magnitude", "aur"]
    assert table.loc["random", "aup"] < table.loc["input_magnitude", "aup"]


def test_localisation_counts_top_points_on_the_evidence_channel_within_the_window():
    evidence = np.zeros((3, 2, 10), dtype=bool)
    evidence[:, 1, 5] = True
    attribution = np.zeros((3, 2, 10))
    attribution[0, 1, 5] = 1.0  # exact
    attribution[1, 1, 6] = -2.0  # one step off, and the sign does not matter
    attribution[2, 0, 5] = 1.0  # right step, wrong channel
    assert localisation(attribution, evidence) == pytest.approx(2 / 3)
    assert localisation(attribution, evidence, window=0) == pytest.approx(1 / 3)
    normal = np.zeros((1, 2, 10), dtype=bool)  # samples without evidence do not count
    assert localisation(np.r_[attribution, np.ones((1, 2, 10))], np.r_[evidence, normal]) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="window"):
        localisation(attribution, evidence, window=-1)
