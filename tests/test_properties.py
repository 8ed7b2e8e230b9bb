"""Attribution mass over time and agreement of two attributions (tsinsight.evaluation.attribution_stats)."""

import numpy as np
import pytest

from tsinsight.evaluation.attribution_stats import (
    agreement,
    last_points_share,
    mass_per_step,
    rank_correlation,
    top_k_overlap,
)


def test_mass_per_step_normalises_each_input_then_averages():
    first = np.zeros((2, 4))
    first[0, 3] = 10.0  # all of the first input's mass at the last step, whatever its scale
    second = np.zeros((2, 4))
    second[:, 0] = -1.0  # magnitude counts, sign does not
    shares = mass_per_step(np.stack([first, second, np.zeros((2, 4))]))  # the all-zero input is left out
    np.testing.assert_allclose(shares, [0.5, 0.0, 0.0, 0.5])
    assert mass_per_step(np.ones((3, 5))).sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="all zero"):
        mass_per_step(np.zeros((2, 3, 4)))


def test_last_points_share():
    assert last_points_share(np.ones((4, 2, 50))) == pytest.approx(0.1)
    ramp = np.zeros((1, 1, 20))
    ramp[..., -2:] = 1.0  # the last 10 % of 20 steps are the last two
    assert last_points_share(ramp) == pytest.approx(1.0)
    assert last_points_share(ramp, fraction=0.5) == pytest.approx(1.0)
    early = np.zeros((1, 1, 20))
    early[..., 0] = 1.0
    assert last_points_share(early) == 0.0
    with pytest.raises(ValueError, match="fraction"):
        last_points_share(ramp, fraction=1.5)


def test_rank_correlation_on_hand_made_maps():
    a = np.arange(12.0).reshape(3, 4)
    assert rank_correlation(a, 2 * a + 1) == pytest.approx(1.0)
    assert rank_correlation(a, -a) == pytest.approx(1.0)  # magnitudes: |−a| ranks like |a|
    assert rank_correlation(a, a.max() - a) == pytest.approx(-1.0)
    assert np.isnan(rank_correlation(a, np.ones_like(a)))
    with pytest.raises(ValueError, match="same non-empty shape"):
        rank_correlation(a, a[:2])


def test_top_k_overlap_on_hand_made_maps():
    a = np.array([[5.0, 4.0, 3.0, 2.0, 1.0, 0.0]])
    b = np.array([[5.0, 0.0, 3.0, 2.0, 1.0, 4.0]])
    assert top_k_overlap(a, b, 2) == pytest.approx(0.5)  # {0, 1} against {0, 5}
    assert top_k_overlap(a, b, 3) == pytest.approx(2 / 3)  # {0, 1, 2} against {0, 5, 2}
    assert top_k_overlap(a, a, 0.5) == 1.0
    assert top_k_overlap(a, b, 6) == 1.0
    assert top_k_overlap(a, b, 0.1) == 1.0  # ⌈0.6⌉ = 1 point: index 0 in both
    with pytest.raises(ValueError, match="between 1"):
        top_k_overlap(a, b, 7)
    with pytest.raises(ValueError, match="fractional k"):
        top_k_overlap(a, b, 1.5)


def test_agreement_table():
    rng = np.random.default_rng(0)
    first = rng.normal(size=(3, 2, 10))
    table = agreement(first, first * 3, k=4)
    assert list(table.columns) == ["sample", "rank_correlation", "top_k_overlap"]
    assert len(table) == 3
    np.testing.assert_allclose(table.rank_correlation, 1.0)
    assert (table.top_k_overlap == 1.0).all()
    shuffled = agreement(first, rng.normal(size=(3, 2, 10)), k=4)
    assert (shuffled.rank_correlation < 0.9).all()
    with pytest.raises(ValueError, match="same shape"):
        agreement(first, first[:, :1])
    with pytest.raises(ValueError, match="NaN"):
        agreement(first, np.full_like(first, np.nan))
