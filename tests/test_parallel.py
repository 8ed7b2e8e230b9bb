"""Tests of the process pool for cached attributions: the serial numbers, in order, stored under the same keys."""

import os

import numpy as np
import pytest
import torch

from tsinsight import parallel
from tsinsight.attribution import cached_attribute
from tsinsight.models import CNNClassifier

pytestmark = pytest.mark.filterwarnings("ignore:.*LeafSpec")


def _calls() -> list[dict]:
    torch.manual_seed(0)
    classifier = CNNClassifier(2, 3, 16).eval()
    x = np.random.default_rng(0).normal(size=(6, 2, 16)).astype(np.float32)
    return [
        dict(method=method, classifier=classifier, x=x[start:], key={"test": "parallel"}, seed=seed, epochs=epochs)
        for method, start, seed, epochs in [
            ("extremal_mask", 0, 0, 3),
            ("dynamic_mask", 1, 1, 3),
            ("extremal_mask", 2, 1, 4),
            ("gradient", 0, 0, None),
        ]
    ]


def test_two_workers_give_the_serial_numbers_in_order_and_store_them(tmp_path, monkeypatch):
    monkeypatch.setenv("TSINSIGHT_ARTIFACTS", str(tmp_path / "serial"))
    serial = [cached_attribute(**call) for call in _calls()]
    monkeypatch.setenv("TSINSIGHT_ARTIFACTS", str(tmp_path / "pool"))  # the workers inherit it
    before = os.environ.get("OMP_WAIT_POLICY")
    pooled = parallel.cached_attributes(_calls(), workers=2)
    assert os.environ.get("OMP_WAIT_POLICY") == before  # set for the workers only
    assert len(pooled) == len(serial)
    for one, other in zip(serial, pooled, strict=True):
        assert one.shape == other.shape and np.array_equal(one, other)  # bit for bit, each in its place
    stored = sorted(path.name for path in (tmp_path / "pool" / "attributions").glob("*.pt"))
    assert stored == sorted(path.name for path in (tmp_path / "serial" / "attributions").glob("*.pt"))
    assert len(stored) == len(serial)


def test_an_error_in_a_worker_is_raised_here_after_the_running_calls_are_stored(tmp_path, monkeypatch):
    monkeypatch.setenv("TSINSIGHT_ARTIFACTS", str(tmp_path))
    good = [_calls()[3], dict(_calls()[3], seed=1)]  # gradients: the workers need not import the masks' libraries
    bad = dict(_calls()[3], method="no_such_method")  # last: it starts once a worker is free
    with pytest.raises(Exception, match="no_such_method"):
        parallel.cached_attributes([*good, bad], workers=2)
    assert len(list((tmp_path / "attributions").glob("*.pt"))) == len(good)


def test_one_worker_runs_here_and_bad_calls_are_refused(monkeypatch):
    calls = _calls()[3:]
    assert np.array_equal(parallel.cached_attributes(calls, workers=1)[0], cached_attribute(**calls[0]))
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        parallel.cached_attributes(calls, workers=0)
    with pytest.raises(ValueError, match="needs a cache key"):
        parallel.cached_attributes([dict(calls[0], key=None)], workers=2)
    assert parallel.cached_attributes([], workers=2) == []


def test_the_pages_pool_their_masks_but_under_smoke():
    from tsinsight.experiments.later import pool_workers

    assert pool_workers("smoke") == 1  # fits of a few epochs: starting workers would cost more
    assert pool_workers("cpu") is None and pool_workers("paper") is None  # one per core
