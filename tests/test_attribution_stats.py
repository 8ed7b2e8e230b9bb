"""Tests of the Gini index of an attribution (sparseness; Hurley & Rickard 2009, Quantus' ``Sparseness``)."""

import numpy as np
import pytest

from tsinsight.evaluation.attribution_stats import gini


def test_uniform_attribution_has_gini_zero():
    assert gini(np.array([[1.0, 1.0, 1.0, 1.0]])) == pytest.approx([0.0])


def test_one_non_zero_point_gives_m_minus_one_over_m():
    # sorted [0, 0, 0, 1], m = 4, weights 2k − m − 1 = [−3, −1, 1, 3]: 3·1 / (4·1) = 0.75
    assert gini(np.array([[0.0, 0.0, 0.0, 1.0]])) == pytest.approx([0.75])
    # the single point may lie anywhere; with m = 100 the index is 99/100, approaching 1
    spike = np.zeros((1, 100))
    spike[0, 37] = 5.0
    assert gini(spike) == pytest.approx([0.99])


def test_hand_computed_value():
    # sorted [1, 2, 3, 4], m = 4, weights [−3, −1, 1, 3]:
    # Σ (2k − m − 1) a_k = −3·1 − 1·2 + 1·3 + 3·4 = −3 − 2 + 3 + 12 = 10; m · Σ a_k = 4 · 10 = 40; G = 10/40 = 0.25
    assert gini(np.array([[1.0, 2.0, 3.0, 4.0]])) == pytest.approx([0.25])
    # order of the points does not matter (they are sorted), nor does the scale
    assert gini(np.array([[3.0, 1.0, 4.0, 2.0]])) == pytest.approx([0.25])
    assert gini(np.array([[30.0, 10.0, 40.0, 20.0]])) == pytest.approx([0.25])


def test_channels_and_time_are_flattened_together():
    # (channels, length) = (2, 2): the four points [0, 1, 0, 0] together give 0.75, not a per-channel value
    single = np.array([[0.0, 1.0], [0.0, 0.0]])
    result = gini(single)
    assert result.shape == (1,)
    assert result == pytest.approx([0.75])
    # the same points as one channel of length 4 give the same value
    assert gini(single.reshape(1, 4)) == pytest.approx(result)
    # [[1, 2], [3, 4]] is [1, 2, 3, 4] flattened: 0.25 as hand-computed above
    assert gini(np.array([[1.0, 2.0], [3.0, 4.0]])) == pytest.approx([0.25])


def test_a_batch_gives_one_value_per_input():
    batch = np.array(
        [
            [[1.0, 1.0], [1.0, 1.0]],  # uniform: 0
            [[0.0, 0.0], [0.0, 1.0]],  # one point: 0.75
            [[4.0, 3.0], [2.0, 1.0]],  # [1, 2, 3, 4]: 0.25
        ]
    )
    result = gini(batch)
    assert result.shape == (3,)
    assert result == pytest.approx([0.0, 0.75, 0.25])


def test_signs_are_ignored():
    assert gini(np.array([[-1.0, 2.0, -3.0, 4.0]])) == pytest.approx([0.25])
    assert gini(np.array([[0.0, 0.0, -7.0, 0.0]])) == pytest.approx([0.75])
    assert gini(np.array([[-1.0, 1.0, -1.0, 1.0]])) == pytest.approx([0.0])


def test_an_all_zero_attribution_gives_zero_like_quantus():
    # Quantus adds 1e-7 to every magnitude, so all zeros score as a uniform attribution: 0
    assert gini(np.zeros((1, 5))).tolist() == [0.0]
    batch = np.zeros((2, 1, 4))
    batch[1, 0, 3] = 2.0
    assert gini(batch) == pytest.approx([0.0, 0.75])


def test_values_stay_in_zero_one():
    rng = np.random.default_rng(0)
    values = gini(rng.normal(size=(20, 3, 50)))
    assert np.all(values >= 0) and np.all(values < 1)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_are_refused(bad):
    attribution = np.ones((1, 2, 4))
    attribution[0, 1, 2] = bad
    with pytest.raises(ValueError, match="NaN or infinite"):
        gini(attribution)


@pytest.mark.parametrize("shape", [(4,), (1, 1, 1, 4), (0, 1, 4)])
def test_wrong_shapes_are_refused(shape):
    with pytest.raises(ValueError, match="shaped"):
        gini(np.ones(shape))
