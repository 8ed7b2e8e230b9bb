"""Shared test set-up: artifacts and data caches of a test session live in temporary folders."""

import os

import pytest
import torch
from toys import toy_dataset

from tsinsight import zoo


@pytest.fixture(autouse=True)
def _isolated_artifacts(tmp_path_factory, monkeypatch):
    """Every test writes artifacts into a fresh folder, never into the project's artifacts/."""
    monkeypatch.setenv("TSINSIGHT_ARTIFACTS", str(tmp_path_factory.mktemp("artifacts")))


def pytest_configure(config):
    # The tests' notebooks are tiny and import little: their kernels start faster anew than a warm process imports
    # torch for them. tests/test_forked.py turns forking on where it tests it.
    os.environ["TSINSIGHT_FORK_KERNELS"] = "0"
    # Under pytest-xdist (make pytest: two workers) each worker takes its share of the cores.
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    torch.set_num_threads(max(1, min(2, (os.cpu_count() or 1) // workers)))


@pytest.fixture
def toy_zoo(tmp_path, monkeypatch):
    """The zoo on a small toy of the synthetic set (160 / 48 / 64 series), its artifacts in a temporary folder."""
    monkeypatch.setenv("TSINSIGHT_ARTIFACTS", str(tmp_path))
    monkeypatch.setattr(zoo, "load", lambda name, seed: toy_dataset(160, 48, 64, name="synthetic_anomaly", seed=seed))
    zoo._dataset.cache_clear()
    yield
    zoo._dataset.cache_clear()
