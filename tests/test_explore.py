"""The Explore page: its data builder (from the caches, nothing trained again) and its explorer's HTML."""

import dataclasses

import numpy as np
import pytest
from toys import toy_exploration

from tsinsight import attribution as attribution_module
from tsinsight import experiments, explorer, stacking, zoo
from tsinsight.experiments.explore import explorer_data, normalised, series_choice
from tsinsight.profiles import get_profile

TINY = dataclasses.replace(get_profile("smoke"), name="tiny", runs=1, max_train=96, max_val=32, max_test=40, n_eval=16)


def test_series_choice_takes_the_first_of_each_class_then_the_next():
    assert series_choice(np.array([1, 1, 0, 2, 0, 1]), 4) == [2, 0, 3, 1]
    assert series_choice(np.array([0, 0, 1]), 2) == [0, 2]
    with pytest.raises(ValueError, match="positive integer"):
        series_choice(np.array([0, 1]), 0)


def test_normalised_divides_each_series_by_its_largest_magnitude():
    values = np.array([[[1.0, -4.0], [2.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]], [[0.5, 0.25], [0.1, 0.0]]])
    scaled = normalised(values)
    np.testing.assert_allclose(scaled[0], [[0.25, 1.0], [0.5, 0.0]])
    np.testing.assert_array_equal(scaled[1], 0)  # all zero stays zero, no NaN
    np.testing.assert_allclose(scaled[2], [[1.0, 0.5], [0.2, 0.0]])


def test_explorer_data_reads_the_caches_of_the_book_and_marks_the_chosen_rung(toy_zoo, monkeypatch):
    curves = experiments.suppression_curves("synthetic_anomaly", TINY)  # the training and suppression pages' work

    def no_more(*args, **kwargs):
        raise AssertionError("the Explore page trained or attributed anew")

    monkeypatch.setattr(stacking, "fit_together", no_more)
    monkeypatch.setattr(zoo.stacking, "fit_together", no_more)
    monkeypatch.setattr(attribution_module, "attribute", no_more)
    found = explorer_data("synthetic_anomaly", TINY, curves, n_series=3)

    tuning = zoo.tuned("synthetic_anomaly", TINY)
    rungs, (series, channels, length) = len(tuning.grid), found["x"].shape
    assert (series, channels, length) == (3, 3, 24) and rungs >= 2
    assert found["outputs"].shape == (rungs, series, channels, length)
    assert found["near_zero"].shape == found["predictions"].shape == (rungs, series)
    assert ((found["near_zero"] >= 0) & (found["near_zero"] <= 1)).all()
    assert found["methods"] == [m for m in attribution_module.METHODS if m != "none"]
    assert found["attributions"].shape == (12, series, channels, length)
    assert np.allclose(found["attributions"].reshape(12 * series, -1).max(axis=1), 1)
    assert len(found["ladder"]) == rungs and found["ladder"]["reason"].tolist() == tuning.table["reason"].tolist()
    chosen = found["chosen_rung"]
    assert found["ladder"]["chosen"].tolist() == [i == chosen and not found["fell_back"] for i in range(rungs)]
    said = found["ladder"]["reason"][chosen]  # the tuning's own words on the rung TSInsight uses
    assert said.startswith("chosen") if not found["fell_back"] else said.endswith("so the given γ, β stay")
    # TSInsight's attribution is the chosen rung's output magnitude, normalised
    tsinsight = found["attributions"][found["methods"].index("tsinsight")]
    np.testing.assert_allclose(tsinsight, normalised(np.abs(found["outputs"][chosen])), atol=1e-6)
    # the rungs differ: the ladder shows different outputs
    assert not np.allclose(found["outputs"][0], found["outputs"][-1])
    assert set(found["curves"]["method"]) == set(attribution_module.METHODS)
    assert found["series"] == series_choice(zoo.evaluation_set("synthetic_anomaly", TINY).y, 3)


def test_explorer_data_refuses_a_suppression_table_without_every_method_before_loading_anything(monkeypatch):
    monkeypatch.setattr(zoo, "tuned", lambda *args, **kwargs: pytest.fail("must refuse before asking the zoo"))
    curves = toy_exploration(methods=[m for m in attribution_module.METHODS if m not in ("none", "random")])["curves"]
    with pytest.raises(ValueError, match="lacks the methods \\['random'\\]"):
        explorer_data("synthetic_anomaly", TINY, curves, n_series=2)


def test_explorer_html_is_self_contained_and_within_its_budget(monkeypatch):
    fragment = explorer.explorer_html([toy_exploration("one"), toy_exploration("two", rungs=4, channels=1)])
    assert fragment.startswith(f'<div class="{explorer.CSS_CLASS}">')
    assert "<script src" not in fragment and "<link" not in fragment  # the library is inline, nothing is fetched
    for name in explorer.NAMES.values():
        assert f'"name":"{name}"' in fragment
    weight = explorer.weight(fragment)
    assert weight["total"] == len(fragment.encode()) and 1e6 < weight["library"] < weight["total"] < explorer.MAX_BYTES
    monkeypatch.setattr(explorer, "MAX_BYTES", 1_000_000)
    with pytest.raises(ValueError, match="over its 1 MB budget"):
        explorer.explorer_html([toy_exploration("one")])
    with pytest.raises(ValueError, match="at least one data set"):
        explorer.explorer_layout([])
