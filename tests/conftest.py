"""Shared test set-up: artifacts and data caches of a test session live in temporary folders."""

import os

import pytest
import torch


@pytest.fixture(autouse=True)
def _isolated_artifacts(tmp_path_factory, monkeypatch):
    """Every test writes artifacts into a fresh folder, never into the project's artifacts/."""
    monkeypatch.setenv("TSINSIGHT_ARTIFACTS", str(tmp_path_factory.mktemp("artifacts")))


def pytest_configure(config):
    torch.set_num_threads(min(2, os.cpu_count() or 1))
