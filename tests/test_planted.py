"""The planted data sets (``tsinsight.data.planted``): the mask, the balance, the blend, reproducibility, refusals,
and ``load("planted_…")`` on the mirror."""

import os
from pathlib import Path

import numpy as np
import pytest

from tsinsight import data
from tsinsight.data import planted


def _series(n=60, channels=2, length=80, seed=0, padded=True):
    """Random walks with base classes 0..2; with ``padded``, each series zero-padded after a random real length."""
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.standard_normal((n, channels, length)), axis=2)
    if padded:
        for i, real in enumerate(rng.integers(length // 2, length + 1, n)):
            x[i, :, real:] = 0.0
    return x.astype(np.float32), np.arange(n) % 3


def test_each_series_carries_one_pattern_on_one_channel_within_its_real_steps():
    x, groups = _series()
    out, y, evidence, background = planted.plant(x, groups, np.random.default_rng(1))
    width = planted.pattern_width(x.shape[2])
    assert width == 20 and evidence.shape == x.shape and out.dtype == np.float32
    active = planted.active_length(x)
    for i in range(len(x)):
        channels, steps = np.nonzero(evidence[i])
        assert len(set(channels)) == 1 and len(steps) == width
        assert np.array_equal(steps, np.arange(steps[0], steps[0] + width))  # one contiguous window
        assert steps[-1] < active[i]  # never on the zero padding
    assert np.array_equal(out[~evidence], background[~evidence])  # outside the evidence: the background, untouched
    assert not np.allclose(out[evidence], background[evidence])
    level = background - x  # the background: the series moved by one level per channel, on its real steps only
    padded = np.arange(x.shape[2])[None, None, :] >= active[:, None, None]
    assert (level[np.broadcast_to(padded, x.shape)] == 0).all()
    real = np.where(np.broadcast_to(padded, x.shape), np.nan, level)
    np.testing.assert_allclose(np.nanmax(real, axis=2), np.nanmin(real, axis=2), atol=1e-5)
    assert 0.15 < np.nanmean(real, axis=2).std() / x.std(axis=2).mean() < 0.6  # about LEVEL spreads


def test_the_pattern_is_blended_at_the_series_own_spread():
    x, groups = _series(padded=False)
    out, y, evidence, background = planted.plant(x, groups, np.random.default_rng(2))
    shapes = planted.patterns(planted.pattern_width(x.shape[2]))
    for i in range(len(x)):
        c = np.nonzero(evidence[i].any(axis=1))[0][0]
        mean, std = background[i, c].astype(np.float64).mean(), x[i, c].astype(np.float64).std()
        s = shapes[y[i]]
        expected = mean + np.sqrt(1 - s**2) * (background[i, c][evidence[i, c]] - mean) + s * std
        np.testing.assert_allclose(out[i, c][evidence[i, c]], expected, rtol=1e-5, atol=1e-5)


def test_the_two_patterns_have_equal_energy_and_opposite_phase():
    bump, dip = planted.patterns(24)
    assert np.array_equal(dip, -bump) and 0.99 < bump.max() <= 1 and (bump > 0).all()
    assert np.sum(bump**2) == pytest.approx(np.sum(dip**2))
    assert [planted.pattern_width(n) for n in (12, 50, 96, 500)] == [3, 12, 24, 64]


def test_labels_are_balanced_overall_and_within_each_base_class():
    rng = np.random.default_rng(3)
    groups = rng.integers(0, 7, 501)
    y = planted.balanced_labels(groups, np.random.default_rng(4))
    assert abs(int(y.sum()) * 2 - len(y)) <= 1
    for g in np.unique(groups):
        members = y[groups == g]
        assert abs(int(members.sum()) * 2 - len(members)) <= 1


def test_the_same_seed_gives_the_same_arrays_and_another_seed_others():
    x, groups = _series()
    first, again, other = (planted.plant(x, groups, np.random.default_rng(s)) for s in (5, 5, 6))
    for a, b in zip(first, again, strict=True):
        assert np.array_equal(a, b)
    assert not np.array_equal(first[2], other[2])


@pytest.mark.parametrize(
    ("x", "groups", "message"),
    [
        (np.zeros((4, 50)), np.zeros(4), "shaped \\(n, channels, length\\)"),
        (np.full((2, 1, 50), np.nan), np.zeros(2), "NaN or infinite"),
        (np.ones((3, 1, 50)), np.zeros(2), "one entry per series"),
        (np.ones((2, 1, 8)), np.zeros(2), "at least 12 steps"),
        (np.ones((2, 2, 50)), np.zeros(2), "constant on every channel"),
        (np.r_[np.ones(12), np.zeros(188)].reshape(1, 1, 200), np.zeros(1), "before their zero padding"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error(x, groups, message):
    with pytest.raises(ValueError, match=message):
        planted.plant(x, groups, np.random.default_rng(0))


def test_unknown_planted_names_and_bases_are_refused():
    with pytest.raises(ValueError, match="planted_ford_a"):
        data.load("planted_wesad")
    with pytest.raises(ValueError, match="unknown planted data set"):
        planted.base_name("ford_a")
    assert data.planted_sets() == [planted.planted_name(b) for b in planted.BASES] and len(planted.BASES) == 4
    assert "planted_ford_a" not in data.available()  # the paper's eight stay the paper's eight


MIRROR = os.environ.get("TSINSIGHT_DATA_MIRROR")


@pytest.mark.skipif(not MIRROR, reason="TSINSIGHT_DATA_MIRROR is not set: the tests on the offline mirror do not run")
def test_a_planted_set_loads_from_the_mirror_cached_and_reproducible(tmp_path, monkeypatch):
    monkeypatch.setenv("TSINSIGHT_DATA_DIR", str(tmp_path))
    name = "planted_character_trajectories"
    dataset = data.load(name, mirror=Path(MIRROR), download=False, progress=False)
    base = data.load("character_trajectories", mirror=Path(MIRROR), download=False, progress=False)
    assert (dataset.n_classes, dataset.class_names, dataset.n_channels, dataset.length) == (2, ["bump", "dip"], 3, 206)
    k = planted.copies(base)
    assert k == 5  # 692 training series: each planted five times
    sizes = [len(getattr(dataset, s)) for s in ("train", "val", "test")]
    assert sizes == [k * len(base.train), k * len(base.val), k * len(base.test)]
    background = planted.backgrounds(base, 0)
    series = planted.base_splits(base, 0)
    for split in ("train", "val", "test"):
        ours, theirs = getattr(dataset, split), getattr(background, split)
        assert np.array_equal(theirs.y, ours.y) and np.array_equal(theirs.evidence, ours.evidence)
        moved = theirs.x - getattr(series, split).x  # the background: the base series moved by a level per channel
        assert np.allclose(moved, moved[..., :1] * (getattr(series, split).x != 0), atol=1e-5)
        assert abs(int(ours.y.sum()) * 2 - len(ours)) <= 1
        per_series = ours.y.reshape(k, -1).sum(axis=0)  # the copies of one series: 2 or 3 dips, the rest bumps
        assert set(per_series) <= {2, 3}
        copied = getattr(series, split).x.reshape(k, -1, 3, 206)
        assert np.array_equal(copied[0], copied[2]) and not np.array_equal(
            ours.x.reshape(k, -1, 3, 206)[0], ours.x.reshape(k, -1, 3, 206)[2]
        )
        assert (ours.evidence.reshape(len(ours), -1).sum(axis=1) == planted.pattern_width(206)).all()
        assert np.array_equal(np.where(ours.evidence, theirs.x, ours.x), theirs.x)  # background back: no pattern
    cached = data.load(name, mirror=Path(MIRROR), download=False, progress=False)
    rebuilt = planted.build(base, 0)
    for split in ("train", "val", "test"):
        for field in ("x", "y", "evidence"):
            assert np.array_equal(getattr(getattr(cached, split), field), getattr(getattr(dataset, split), field))
            assert np.array_equal(getattr(getattr(rebuilt, split), field), getattr(getattr(dataset, split), field))
    assert not np.array_equal(data.load(name, seed=1, mirror=Path(MIRROR), progress=False).test.evidence,
                              dataset.test.evidence)  # fmt: skip
