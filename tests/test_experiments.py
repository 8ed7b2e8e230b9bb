"""The property pages' experiments: shapes of their tables, and a second call served from the cache."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from tsinsight import experiments, zoo
from tsinsight.experiments import properties
from tsinsight.profiles import get_profile

TINY = dataclasses.replace(
    get_profile("smoke"), name="tiny", runs=2, max_train=96, max_val=32, max_test=40, n_eval=16,
    landscape_grid=3, landscape_samples=16, instance_epochs=2,
)  # fmt: skip


pytestmark = pytest.mark.usefixtures("toy_zoo")


def test_fgsm_robustness_covers_every_model_run_and_epsilon_and_are_cached(monkeypatch):
    curves = experiments.fgsm_robustness("synthetic_anomaly", TINY, [0.0, 0.5])
    assert len(curves) == 2 * 3 * 2 * 2 and set(curves.model) == {"classifier", "palacio", "tsinsight"}
    white = curves[curves.reading == "white_box"]
    clean = white[white.epsilon == 0.0].set_index(["model", "run"]).accuracy
    attacked = white[white.epsilon == 0.5].set_index(["model", "run"]).accuracy
    assert (attacked <= clean + 1e-9).all()
    by_reading = curves.set_index(["reading", "model", "run", "epsilon"]).accuracy.sort_index()
    assert by_reading["white_box", "classifier"].equals(by_reading["classifier_crafted", "classifier"])
    assert by_reading["white_box", "tsinsight"][:, 0.0].equals(by_reading["classifier_crafted", "tsinsight"][:, 0.0])

    def no_attack(*args, **kwargs):
        raise AssertionError("a cached FGSM curve was recomputed")

    monkeypatch.setattr(properties, "fgsm_accuracy", no_attack)
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


def test_summaries_have_the_columns_their_claims_read():
    from tsinsight import claims

    curves = experiments.fgsm_robustness("synthetic_anomaly", TINY, [0.0, 0.5], runs=1)
    fgsm = experiments.fgsm_summary(curves, "synthetic_anomaly", TINY)
    assert len(claims.fgsm_claims(fgsm)) == 4 and (fgsm["runs"] == 1).all()
    y = zoo.evaluation_set("synthetic_anomaly", TINY).y
    assert fgsm["majority"].iloc[0] == pytest.approx(np.bincount(y).max() / len(y))

    spectra = experiments.jacobian_spectra("synthetic_anomaly", TINY, runs=1)
    jacobian = experiments.jacobian_summary(spectra, "synthetic_anomaly", TINY, threshold=0.5)
    assert jacobian.set_index("model").loc["tsinsight", "dimensions"] == 3 * 24 and (jacobian.threshold == 0.5).all()
    assert "0.5×" in claims.jacobian_claims(jacobian)[0].ours

    landscape = experiments.landscape_table(
        experiments.landscapes("synthetic_anomaly", TINY), "synthetic_anomaly", TINY
    )
    assert list(landscape.model) == ["classifier", "tsinsight"] and (landscape.points == 3).all()
    assert len(claims.landscape_claims(landscape)) == 2

    chosen = experiments.instance_choice("synthetic_anomaly", TINY, 3)
    test_y = zoo.dataset("synthetic_anomaly", TINY).test.y
    assert sorted(set(test_y[chosen[:2]])) == [0, 1]  # one input per class first
    agreement = experiments.instance_agreement("synthetic_anomaly", TINY, chosen)
    assert list(agreement["sample"]) == chosen and agreement.rank_correlation.between(-1, 1).all()
    assert claims.instance_claims(agreement)[0].verdict == "not comparable"


def test_accuracy_table_and_its_comparison_with_table_3():
    table = experiments.accuracy_table("synthetic_anomaly", TINY, runs=1, weights="table3")
    assert list(table.model) == ["classifier", "autoencoder", "tsinsight", "palacio", "sparsity_only"]
    row = table.set_index("model").loc["tsinsight"]
    assert (row.gamma, row.beta, row.weights) == (1.0, 1e-3, "table3")  # Table 3's values for the synthetic set
    assert pd.isna(table.set_index("model").loc["palacio", "weights"])  # Palacio et al. take no weights
    data = zoo.dataset("synthetic_anomaly", TINY)
    classifier = zoo.classifier("synthetic_anomaly", TINY, 0).model
    from tsinsight.training import accuracy

    assert table.set_index("model").loc["classifier", "accuracy"] == accuracy(classifier, data.test.x, data.test.y)
    compared = experiments.compare_table3(table.assign(accuracy=[0.9, 0.5, 0.95, 0.5, 0.5])).iloc[0]
    assert compared.classifier_paper == 98.01 and compared.classifier_ours == pytest.approx(90.0)
    assert compared.classifier_diff == pytest.approx(90.0 - 98.01) and compared.tsinsight_diff == pytest.approx(
        95 - 98.13
    )
    assert compared.label == "Synthetic anomaly detection" and compared.runs == 1


def test_a_weight_given_alone_takes_the_other_from_table_3_and_runs_no_sweep(monkeypatch):
    from tsinsight import stacking

    calls = []
    original = stacking.fit_together
    monkeypatch.setattr(
        stacking, "fit_together", lambda e, d, c, seeds=None: calls.append(seeds) or original(e, d, c, seeds=seeds)
    )
    table = experiments.accuracy_table("synthetic_anomaly", TINY, beta=0.01)
    variants = table[table.model.isin(experiments.VARIANTS)].set_index(["model", "run"])
    assert variants.loc[("tsinsight", 1), ["gamma", "beta", "weights"]].tolist() == [1.0, 0.01, "given"]  # γ: Table 3
    assert variants.loc[("sparsity_only", 0), "beta"] == 0.01 and pd.isna(variants.loc[("palacio", 0), "gamma"])
    assert calls == [[0, 0, 0, 1, 1, 1]]  # both runs' three variants in one stacked fit
    assert not list(zoo.artifacts.artifacts_dir().glob("tuning/*.pt"))  # no tuning sweep was run
    experiments.training_histories("synthetic_anomaly", TINY, beta=0.01)
    experiments.outputs("synthetic_anomaly", TINY, zoo.dataset("synthetic_anomaly", TINY).test.x[:1], beta=0.01)
    assert len(calls) == 1  # the page's other calls read the stored members
    assert experiments.weights_origin("synthetic_anomaly", None, 0.01).startswith("γ = 1 is Table 3's and β = 0.01")
    with pytest.raises(ValueError, match="the tuning sweep decides"):
        experiments.weights_origin("synthetic_anomaly", None, None)


def test_paper_table3_fits_the_runs_explainers_together_with_table_3s_weights():
    table = experiments.paper_table3("synthetic_anomaly", TINY)
    assert list(zip(table.model, table.run, strict=True)) == [
        ("classifier", 0),
        ("classifier", 1),
        ("tsinsight", 0),
        ("tsinsight", 1),
    ]
    fitted = table[table.model == "tsinsight"]
    assert (fitted.gamma == 1.0).all() and (fitted.beta == 1e-3).all() and (fitted.weights == "table3").all()
    explainer = zoo.explainer(
        "synthetic_anomaly",
        TINY,
        1,
        "tsinsight",
        1.0,
        1e-3,
        group=[(0, "tsinsight", 1.0, 1e-3), (1, "tsinsight", 1.0, 1e-3)],
    )
    assert explainer.key["group"] == [[0, "tsinsight", 1.0, 1e-3], [1, "tsinsight", 1.0, 1e-3]]  # one stacked fit
    data = zoo.dataset("synthetic_anomaly", TINY)
    from tsinsight.training import accuracy

    ours = fitted.set_index("run").loc[1, "accuracy"]
    assert ours == accuracy(explainer.model.pipeline, data.test.x, data.test.y)  # the stored member, not a refit
    assert not list(zoo.artifacts.artifacts_dir().glob("tuning/*.pt"))  # no tuning sweep was run
    compared = experiments.compare_table3(table).iloc[0]
    assert compared.runs == 2 and compared.tsinsight_paper == 98.13


def test_tradeoff_marks_the_paper_setting_and_the_saliency_mode():
    sweep = experiments.tradeoff("synthetic_anomaly", TINY, gammas=[1.0], betas=[0.0, 0.1])
    assert list(sweep.setting) == ["grid", "grid", "paper", "saliency"]
    assert sweep.loc[2, ["gamma", "beta"]].tolist() == [1.0, 1e-3] and pd.isna(sweep.loc[3, "gamma"])
    assert sweep.sparsity.between(0, 1).all() and sweep.suppression_auc.between(0, 1).all()
    assert sweep.classifier_accuracy.nunique() == 1


def test_weights_comparison_sets_table_3_beside_the_tuned_weights():
    comparison = experiments.weights_comparison("synthetic_anomaly", TINY).set_index("weights")
    assert list(comparison.index) == ["table3"] + ["tuned"] * TINY.runs and list(comparison.run) == [
        0,
        *range(TINY.runs),
    ]
    assert tuple(comparison.loc["table3", ["gamma", "beta"]]) == (1.0, 1e-3)
    choice = zoo.tuned("synthetic_anomaly", TINY)
    assert tuple(comparison.loc["tuned", ["gamma", "beta"]].iloc[0]) == (choice.gamma, choice.beta)
    assert comparison.sparsity.between(0, 1).all() and comparison.sign_agreement.between(0, 1).all()
    assert (comparison.sparsity_01 <= comparison.sparsity).all() and (
        comparison.sparsity <= comparison.sparsity_10
    ).all()
    assert comparison.zeroed_accuracy.between(0, 1).all() and comparison.stopped_early.dtype == bool
    assert comparison.fell_back.iloc[0] == choice.fell_back


def test_the_sanity_table_is_stored_and_read_back_until_its_inputs_or_code_change(monkeypatch):
    from tsinsight.experiments import attributions

    profile = dataclasses.replace(TINY, runs=1, n_eval=8)
    table = experiments.sanity_table("synthetic_anomaly", profile)
    assert {"method", "step", "layer", "correlation", "refits_stopped_early"} <= set(table.columns)

    def refit_again(*args):
        raise AssertionError("a stored sanity table was computed again")

    monkeypatch.setattr(attributions, "_sanity_table", refit_again)
    assert experiments.sanity_table("synthetic_anomaly", profile).equals(table)
    monkeypatch.setattr(attributions.inspect, "getsource", lambda module: "changed code")
    with pytest.raises(AssertionError, match="computed again"):
        experiments.sanity_table("synthetic_anomaly", profile)
