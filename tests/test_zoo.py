"""Tests of tsinsight.zoo: trained models are cached by key, loaded back identical, and rebuilt when broken."""

import dataclasses

import pytest
import torch
from toys import toy_dataset

from tsinsight import artifacts, paper, tuning, zoo
from tsinsight.data.dataset import Dataset
from tsinsight.explainer import TSInsight
from tsinsight.profiles import get_profile

TINY = dataclasses.replace(get_profile("smoke"), name="tiny", max_epochs=2, max_train=96, max_val=32, max_test=40)


def toy(seed=0, channels=3, length=24) -> Dataset:
    return toy_dataset(160, 48, 64, channels, length, seed, name="synthetic_anomaly", source="toy fixture")


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Artifacts in a temporary folder and a toy data set in place of tsinsight.data.load."""
    loads = []
    monkeypatch.setenv("TSINSIGHT_ARTIFACTS", str(tmp_path))
    monkeypatch.setattr(zoo, "load", lambda name, seed: loads.append(name) or toy(seed))
    zoo._dataset.cache_clear()
    yield loads
    zoo._dataset.cache_clear()


def states_equal(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_dataset_is_cut_to_the_profile_caps(isolated):
    data = zoo.dataset("synthetic_anomaly", TINY)
    assert (len(data.train), len(data.val), len(data.test)) == (96, 32, 40)
    assert zoo.dataset("synthetic_anomaly", TINY) is data and isolated == ["synthetic_anomaly"]


def test_the_tuning_judges_on_the_validation_split_lifted_to_the_profiles_max_judged():
    # the toy's validation split holds 48 series; the profile caps its validation at 32 for early stopping
    assert len(zoo.judging_split("synthetic_anomaly", TINY)) == 48  # max_judged 128 (smoke): all of it
    assert len(zoo.judging_split("synthetic_anomaly", dataclasses.replace(TINY, max_judged=40))) == 40
    assert get_profile("smoke").max_judged == get_profile("smoke").max_val
    assert get_profile("cpu").max_judged == get_profile("paper").max_judged == 10_000


def test_classifier_round_trips_through_the_artifact(monkeypatch, tmp_path):
    first = zoo.classifier("synthetic_anomaly", TINY, seed=1)
    assert first.seconds > 0 and len(first.history) == TINY.max_epochs and not first.model.training
    assert next(first.model.parameters()).device.type == "cpu"
    assert len(list((tmp_path / "classifier").glob("*.pt"))) == 1

    def no_training(*args, **kwargs):
        raise AssertionError("a cached model was retrained")

    monkeypatch.setattr(zoo, "fit_classifier", no_training)
    second = zoo.classifier("synthetic_anomaly", TINY, seed=1)
    assert states_equal(first.model.state_dict(), second.model.state_dict())
    assert second.history.equals(first.history) and second.seconds == first.seconds and second.key == first.key


def test_keys_separate_seeds_kinds_and_profiles():
    keys = {
        "seed 0": zoo.classifier("synthetic_anomaly", TINY, seed=0).key,
        "seed 1": zoo.classifier("synthetic_anomaly", TINY, seed=1).key,
        "lstm": zoo.classifier("synthetic_anomaly", TINY, seed=0, kind="lstm").key,
        "longer": zoo.classifier("synthetic_anomaly", dataclasses.replace(TINY, max_epochs=3), seed=0).key,
    }
    assert len({str(sorted(key.items())) for key in keys.values()}) == 4
    assert keys["seed 0"]["source"] == "toy fixture" and keys["seed 0"]["zoo"] == zoo.ZOO_VERSION
    with pytest.raises(ValueError, match="unknown classifier kind"):
        zoo.classifier("synthetic_anomaly", TINY, kind="transformer")


def test_a_corrupted_artifact_is_rebuilt(tmp_path):
    first = zoo.autoencoder("synthetic_anomaly", TINY, seed=0)
    (path,) = (tmp_path / "autoencoder").glob("*.pt")
    path.write_bytes(b"not a torch file")
    with pytest.warns(UserWarning, match="unreadable"):
        rebuilt = zoo.autoencoder("synthetic_anomaly", TINY, seed=0)
    assert states_equal(first.model.state_dict(), rebuilt.model.state_dict())  # same seed, same weights
    assert artifacts.load(path)["state_dict"].keys() == first.model.state_dict().keys()


def test_explainer_defaults_to_table_3_and_keys_its_starting_models(tmp_path):
    trained = zoo.explainer("synthetic_anomaly", TINY, seed=0, weights="table3")
    explainer = trained.model
    assert isinstance(explainer, TSInsight) and (explainer.gamma, explainer.beta) == paper.hyperparameters(
        "synthetic_anomaly"
    )
    assert trained.key["classifier"] == zoo.classifier("synthetic_anomaly", TINY, seed=0).key
    assert trained.key["autoencoder"] == zoo.autoencoder("synthetic_anomaly", TINY, seed=0).key
    assert not any(p.requires_grad for p in explainer.classifier.parameters())

    # run 0's Table 3 explainer is the first member of the tuning sweep, fitted with it and keyed by its group;
    # the same weights typed by hand are a fit of their own
    assert trained.key["group"] == [list(point) for point in zoo.tuned("synthetic_anomaly", TINY).grid]
    again = zoo.explainer("synthetic_anomaly", TINY, seed=0, gamma=1.0, beta=1e-3)
    assert "group" not in again.key and {k: v for k, v in trained.key.items() if k != "group"} == again.key
    assert states_equal(again.model.autoencoder.state_dict(), zoo.explainer("synthetic_anomaly", TINY, seed=0,
                        gamma=1.0, beta=1e-3).model.autoencoder.state_dict())  # fmt: skip
    plain = zoo.autoencoder("synthetic_anomaly", TINY, seed=0).model  # fine-tuning did not touch the cached AE
    assert not states_equal(plain.state_dict(), explainer.autoencoder.state_dict())

    other = zoo.explainer("synthetic_anomaly", TINY, seed=0, beta=0.5, weights="table3")
    assert other.model.beta == 0.5 and other.key != again.key
    stored = len(list((tmp_path / "explainer").glob("*.pt")))
    assert stored == len(zoo.tuned("synthetic_anomaly", TINY).grid) + 2  # the sweep, the typed weights, β = 0.5
    with pytest.raises(ValueError, match="unknown weights"):
        zoo.explainer("synthetic_anomaly", TINY, weights="mine")


def test_tuned_weights_come_from_a_cached_sweep_over_run_0_and_serve_every_run(tmp_path):
    choice = zoo.tuned("synthetic_anomaly", TINY)
    gamma, beta = paper.hyperparameters("synthetic_anomaly")
    assert [tuple(point) for point in choice.table[["gamma", "beta"]].to_numpy()] == tuning.sweep_grid(
        gamma, beta, 3 * 24
    )
    chosen = choice.table[choice.table.chosen]
    assert choice.fell_back == chosen.empty
    if not chosen.empty:  # the chosen row is the qualifying one with the best sparsity + kept correlation
        assert chosen.trade_off.iloc[0] == choice.table[choice.table.qualifies].trade_off.max()
    fits = len(list((tmp_path / "explainer").glob("*.pt")))
    assert fits == len(choice.table)  # one explainer of run 0 per candidate, cached
    for seed in (0, 1):
        fitted = zoo.explainer("synthetic_anomaly", TINY, seed=seed).model
        assert (fitted.gamma, fitted.beta) == (choice.gamma, choice.beta)
    assert len(list((tmp_path / "explainer").glob("*.pt"))) == fits + 1  # run 0 reused its candidate; run 1 fitted


def test_explainer_modes_and_their_weights():
    palacio = zoo.explainer("synthetic_anomaly", TINY, mode="palacio").model
    assert (palacio.mode, palacio.gamma, palacio.beta) == ("palacio", None, None)
    sparse = zoo.explainer("synthetic_anomaly", TINY, mode="sparsity_only", weights="table3").model
    assert (sparse.gamma, sparse.beta) == (None, paper.hyperparameters("synthetic_anomaly")[1])
    saliency = zoo.explainer("synthetic_anomaly", TINY, mode="saliency").model
    assert saliency.saliency_average is not None and saliency.saliency_average.shape == (3, 24)
    with pytest.raises(ValueError, match="does not use gamma"):
        zoo.explainer("synthetic_anomaly", TINY, mode="palacio", gamma=1.0)


def test_the_runs_explainers_are_fitted_together_once(monkeypatch):
    from tsinsight import stacking

    two_runs = dataclasses.replace(TINY, name="two_runs", runs=2, explainer_epochs=2)
    calls = []
    original = stacking.fit_together
    monkeypatch.setattr(
        stacking, "fit_together", lambda e, d, c, seeds=None: calls.append(seeds) or original(e, d, c, seeds=seeds)
    )
    (group,) = zoo.run_groups("synthetic_anomaly", two_runs)
    calls.clear()  # the tuning sweep (run 0) is one call
    choice, table3 = zoo.tuned("synthetic_anomaly", two_runs), paper.starting_weights("synthetic_anomaly")
    tsinsight = list(dict.fromkeys([(1, "tsinsight", choice.gamma, choice.beta), (1, "tsinsight", *table3)]))
    assert group == [(0, "sparsity_only", None, choice.beta), (0, "palacio", None, None), *tsinsight,
                     (1, "sparsity_only", None, choice.beta), (1, "palacio", None, None)]  # fmt: skip
    palacio = zoo.explainer("synthetic_anomaly", two_runs, seed=1, mode="palacio")
    assert calls == [[seed for seed, *_ in group]] and palacio.key["group"] == [list(member) for member in group]
    tuned = zoo.explainer("synthetic_anomaly", two_runs, seed=1)
    sparse = zoo.explainer("synthetic_anomaly", two_runs, seed=0, mode="sparsity_only")
    assert len(calls) == 1 and tuned.model.beta == choice.beta and sparse.model.mode == "sparsity_only"
    given = zoo.explainer("synthetic_anomaly", two_runs, seed=1, mode="sparsity_only", beta=0.5)  # not a member
    assert "group" not in given.key and len(calls) == 1
    lstm = zoo.run_groups("synthetic_anomaly", two_runs, kind="lstm")  # no vmap over an LSTM: a group per run
    assert [{seed for seed, *_ in g} for g in lstm] == [{0}, {1}]
    # each run's group shares its one LSTM classifier, which is what lets a recurrent classifier be stacked
    palacio_lstm = zoo.explainer("synthetic_anomaly", two_runs, seed=1, mode="palacio", kind="lstm")
    assert palacio_lstm.key["group"] == [list(member) for member in lstm[1]]
    assert calls[-1] == [seed for seed, *_ in lstm[1]]  # run 1's group, after run 0's LSTM tuning sweep
