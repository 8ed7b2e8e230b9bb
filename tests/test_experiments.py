"""The property pages' experiments: shapes of their tables, and a second call served from the cache."""

import dataclasses

import numpy as np
import pytest
from toys import toy_dataset

from tsinsight import experiments, zoo
from tsinsight.profiles import get_profile

TINY = dataclasses.replace(
    get_profile("smoke"), name="tiny", runs=2, max_train=96, max_val=32, max_test=40, n_eval=16,
    landscape_grid=3, landscape_samples=16, instance_epochs=2,
)  # fmt: skip


@pytest.fixture(autouse=True)
def toy_zoo(tmp_path, monkeypatch):
    monkeypatch.setenv("TSINSIGHT_ARTIFACTS", str(tmp_path))
    monkeypatch.setattr(zoo, "_load", lambda name, seed: toy_dataset(160, 48, 64, name="synthetic_anomaly", seed=seed))
    zoo._dataset.cache_clear()
    yield
    zoo._dataset.cache_clear()


def test_fgsm_robustness_covers_every_model_run_and_epsilon_and_are_cached(monkeypatch):
    curves = experiments.fgsm_robustness("synthetic_anomaly", TINY, [0.0, 0.5])
    assert len(curves) == 3 * 2 * 2 and set(curves.model) == {"classifier", "palacio", "tsinsight"}
    clean = curves[curves.epsilon == 0.0].set_index(["model", "run"]).accuracy
    attacked = curves[curves.epsilon == 0.5].set_index(["model", "run"]).accuracy
    assert (attacked <= clean + 1e-9).all()

    def no_attack(*args, **kwargs):
        raise AssertionError("a cached FGSM curve was recomputed")

    monkeypatch.setattr(experiments, "fgsm_accuracy", no_attack)
    assert experiments.fgsm_robustness("synthetic_anomaly", TINY, [0.0, 0.5]).equals(curves)


def test_jacobian_spectra_are_sorted_singular_values_per_model_and_run():
    spectra = experiments.jacobian_spectra("synthetic_anomaly", TINY, runs=1)
    assert set(spectra) == {("autoencoder", 0), ("palacio", 0), ("tsinsight", 0)}
    for values in spectra.values():
        assert values.shape == (3 * 24,) and (np.diff(values) <= 1e-9).all() and (values >= 0).all()


def test_landscapes_and_instance_attributions():
    surfaces = experiments.landscapes("synthetic_anomaly", TINY)
    assert set(surfaces) == {"classifier", "tsinsight"}
    assert all(len(frame) == 9 for frame in surfaces.values())
    attributions = experiments.instance_attributions("synthetic_anomaly", TINY, [0, 3])
    assert attributions.shape == (2, 3, 24) and (attributions >= 0).all()
    with pytest.raises(ValueError, match="runs must be a positive integer"):
        experiments.fgsm_robustness("synthetic_anomaly", TINY, [0.0], runs=0)
