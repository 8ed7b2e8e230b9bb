"""Tests of the ranking of attribution methods: bootstrap intervals of mean ranks, Friedman–Nemenyi, CD diagram."""

import re

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from tsinsight.evaluation.ranking import critical_difference, mean_rank_interval, nemenyi_q
from tsinsight.evaluation.suppress import auc_table, method_ranking
from tsinsight.plotting import critical_difference_diagram
from tsinsight.report import method_label

matplotlib.use("Agg")


def _table(values: dict[str, dict[str, list[float]]]) -> pd.DataFrame:
    """A long AUC table from {dataset: {method: [auc of run 0, run 1, ...]}}."""
    rows = [
        (dataset, method, run, auc)
        for dataset, methods in values.items()
        for method, runs in methods.items()
        for run, auc in enumerate(runs)
    ]
    return pd.DataFrame(rows, columns=["dataset", "method", "run", "auc"])


def _noisy(n_datasets=7, n_methods=13, n_runs=5, seed=1) -> pd.DataFrame:
    """Methods m0..m12 whose true AUC grows with the index, blurred by noise per data set and run."""
    rng = np.random.default_rng(seed)
    rows = [
        (f"d{d}", f"m{m}", r, 0.02 * m + rng.normal(0, 0.05))
        for d in range(n_datasets)
        for m in range(n_methods)
        for r in range(n_runs)
    ]
    return pd.DataFrame(rows, columns=["dataset", "method", "run", "auc"])


# Binary-exact AUCs, so that the ties are exact. Run-averaged AUC and rank per data set:
# d1: a 0.75 (1), b 0.5 (2.5), c 0.5 (2.5), d 0.125 (4); d2: b (1), a (2), d (3), c (4); d3: all tie (2.5).
HAND = _table(
    {
        "d1": {"a": [1.0, 0.5], "b": [0.5, 0.5], "c": [0.25, 0.75], "d": [0.0, 0.25], "none": [1.0, 1.0]},
        "d2": {"a": [0.5, 0.5], "b": [0.75, 0.75], "c": [0.25, 0.25], "d": [0.375, 0.375], "none": [1.0, 1.0]},
        "d3": {"a": [0.5, 0.5], "b": [0.5, 0.5], "c": [0.5, 0.5], "d": [0.5, 0.5], "none": [1.0, 1.0]},
    }
)


def test_mean_ranks_of_a_hand_made_table_with_ties():
    table = mean_rank_interval(HAND, n_boot=50)
    assert list(table.columns) == ["method", "mean_rank", "rank_low", "rank_high", "datasets", "runs"]
    assert table.method.tolist() == ["a", "b", "c", "d"]  # none, the reference, is left out
    np.testing.assert_allclose(table.mean_rank, [5.5 / 3, 2.0, 3.0, 9.5 / 3])
    assert (table.datasets == 3).all() and (table.runs == 6).all()
    with_none = mean_rank_interval(HAND, n_boot=50, exclude=())
    assert with_none.method.iloc[0] == "none" and with_none.mean_rank.iloc[0] == 1.0


def test_mean_ranks_match_method_ranking():
    rng = np.random.default_rng(3)
    levels = [0.0, 0.5, 1.0]
    curves = pd.DataFrame(
        [
            (dataset, method, run, level, rng.random())
            for dataset in ["x", "y", "z"]
            for method in ["none", "tsinsight", "palacio", "gradient", "occlusion"]
            for run in range(3)
            for level in levels
        ],
        columns=["dataset", "method", "run", "level", "accuracy"],
    )
    expected = method_ranking(curves).set_index("method").mean_rank
    got = mean_rank_interval(auc_table(curves, by=("dataset", "method", "run")), n_boot=20)
    assert got.method.tolist() == expected.index.tolist()
    np.testing.assert_allclose(got.set_index("method").mean_rank, expected)


def test_interval_collapses_when_every_data_set_and_run_agrees():
    rng = np.random.default_rng(0)
    jitter = {"a": 0.05, "b": 0.0, "c": 0.0, "d": 0.05, "e": 0.05}  # b and c tie in every run
    score = {"a": 0.9, "b": 0.7, "c": 0.7, "d": 0.5, "e": 0.3}
    values = {f"d{d}": {m: list(score[m] + rng.uniform(0, jitter[m], 3)) for m in score} for d in range(4)}
    table = mean_rank_interval(_table(values), n_boot=200)
    np.testing.assert_allclose(table.mean_rank, [1.0, 2.5, 2.5, 4.0, 5.0])
    np.testing.assert_array_equal(table.rank_low, table.mean_rank)
    np.testing.assert_array_equal(table.rank_high, table.mean_rank)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_interval_contains_the_mean_rank_and_reflects_noise(seed):
    table = mean_rank_interval(_noisy(seed=seed), seed=seed)
    assert ((table.rank_low <= table.mean_rank) & (table.mean_rank <= table.rank_high)).all()
    assert (table.rank_low >= 1).all() and (table.rank_high <= 13).all()
    assert (table.rank_high - table.rank_low).min() > 0  # noise in every method's AUC widens every interval
    narrow = mean_rank_interval(_noisy(seed=seed), seed=seed, confidence=0.5)
    assert ((narrow.rank_high - narrow.rank_low) <= (table.rank_high - table.rank_low)).all()


def test_bootstrap_is_deterministic_for_a_seed():
    aucs = _noisy()
    first = mean_rank_interval(aucs, n_boot=2000, seed=7)
    pd.testing.assert_frame_equal(first, mean_rank_interval(aucs, n_boot=2000, seed=7))
    other = mean_rank_interval(aucs, n_boot=2000, seed=8)
    pd.testing.assert_series_equal(first.mean_rank, other.mean_rank)
    assert not np.array_equal(first[["rank_low", "rank_high"]], other[["rank_low", "rank_high"]])


def test_runs_are_resampled_jointly_across_methods():
    # A run's classifier moves every method's AUC alike: a beats b by 0.1 in every run, so in every replicate,
    # although the runs spread 0.5 apart (resampling each method's runs on its own would let b overtake a).
    rng = np.random.default_rng(0)
    values = {
        f"d{d}": {"a": list(shift + 0.1), "b": list(shift)} for d, shift in enumerate(rng.uniform(0, 0.5, (5, 4)))
    }
    table = mean_rank_interval(_table(values), n_boot=500)
    assert table.method.tolist() == ["a", "b"]
    np.testing.assert_array_equal(table[["mean_rank", "rank_low", "rank_high"]], [[1, 1, 1], [2, 2, 2]])


def test_data_sets_with_different_numbers_of_runs():
    values = {"d1": {"a": [0.75, 0.25], "b": [0.5, 0.5]}, "d2": {"a": [0.25] * 3, "b": [0.75] * 3}}
    table = mean_rank_interval(_table(values), n_boot=500)
    assert table.method.tolist() == ["b", "a"] and table.runs.tolist() == [5, 5]
    np.testing.assert_allclose(table.mean_rank, [1.25, 1.75])  # a and b tie on d1, b wins d2
    # a's resampled d1 AUC is 0.25, 0.5 or 0.75 (rank 2, 1.5 or 1) and a draw of d2 twice gives it rank 2.
    row = table.set_index("method").loc["a"]
    assert row.rank_high == 2.0 and 1.0 <= row.rank_low <= 1.25


def test_incomplete_or_repeated_tables_are_refused():
    with pytest.raises(ValueError, match="every method on every data set"):
        mean_rank_interval(HAND[~((HAND.dataset == "d2") & (HAND.method == "c"))])
    with pytest.raises(ValueError, match="repeats"):
        mean_rank_interval(pd.concat([HAND, HAND.iloc[:1]]))
    with pytest.raises(ValueError, match="missing"):
        mean_rank_interval(HAND.drop(columns="run"))


def test_friedman_statistic_against_a_hand_computation():
    # Ranks per data set (no ties): a 1,1,2,1; b 2,3,1,2; c 3,2,3,3 → mean ranks 1.25, 2, 2.75 over N = 4.
    order = [("a", "b", "c"), ("a", "c", "b"), ("b", "a", "c"), ("a", "b", "c")]
    values = {f"d{d}": {m: [1.0 - 0.25 * order[d].index(m)] for m in "abc"} for d in range(4)}
    result = critical_difference(_table(values))
    n, k = 4, 3
    statistic = 12 * n / (k * (k + 1)) * (1.25**2 + 2**2 + 2.75**2 - k * (k + 1) ** 2 / 4)
    assert statistic == pytest.approx(4.5)
    assert result.statistic == pytest.approx(statistic)
    assert result.p_value == pytest.approx(np.exp(-4.5 / 2))  # χ² with 2 d.o.f.
    assert result.ranks.to_dict() == pytest.approx({"a": 1.25, "b": 2.0, "c": 2.75})
    assert list(result.ranks.index) == ["a", "b", "c"]
    assert result.cd == pytest.approx(2.343 * np.sqrt(k * (k + 1) / (6 * n)), abs=1e-3)


# Demšar (2006), Table 5(a): critical values q_α of the two-tailed Nemenyi test at α = 0.05. The table rounds
# older studentized range tables: k = 3 and k = 7 sit 7e-4 off the exact quantile, hence a 1e-3 tolerance.
DEMSAR_005 = {2: 1.960, 3: 2.343, 4: 2.569, 5: 2.728, 6: 2.850, 7: 2.949, 8: 3.031, 9: 3.102, 10: 3.164}


@pytest.mark.parametrize(("k", "q"), DEMSAR_005.items())
def test_q_alpha_matches_demsar_table(k, q):
    assert nemenyi_q(k, 0.05) == pytest.approx(q, abs=1e-3)


def test_q_alpha_at_ten_percent_matches_demsar_table():  # Table 5(b)
    assert nemenyi_q(5, 0.10) == pytest.approx(2.459, abs=6e-4)
    assert nemenyi_q(10, 0.10) == pytest.approx(2.920, abs=6e-4)


def _chain(n_datasets=10):
    """a always first and d always last; b second on 8 of 10 data sets → mean ranks 1, 2.2, 2.8, 4 and CD ≈ 1.48."""
    values = {}
    for d in range(n_datasets):
        middle = ("b", "c") if d < 8 else ("c", "b")
        order = ("a", *middle, "d")
        values[f"d{d}"] = {m: [1.0 - 0.25 * order.index(m), 0.9 - 0.25 * order.index(m)] for m in "abcd"}
    return _table(values)


def test_cliques_of_a_constructed_example():
    result = critical_difference(_chain())
    assert result.ranks.to_dict() == pytest.approx({"a": 1.0, "b": 2.2, "c": 2.8, "d": 4.0})
    assert result.cd == pytest.approx(2.569 * np.sqrt(4 * 5 / 60), abs=1e-3)
    assert result.cliques == (("a", "b"), ("b", "c"), ("c", "d"))
    significant = result.p_values < result.alpha
    assert significant.loc["a", "c"] and significant.loc["b", "d"] and not significant.loc["a", "b"]


def test_a_method_apart_from_all_others_is_a_clique_of_its_own():
    values = {f"d{d}": {"a": [0.9], "b": [0.5], "c": [0.1]} for d in range(20)}  # CD ≈ 0.74 < 1 between ranks
    assert critical_difference(_table(values)).cliques == (("a",), ("b",), ("c",))


def test_nemenyi_p_values_agree_with_scikit_posthocs():
    import scikit_posthocs

    aucs = _noisy(n_methods=6)
    result = critical_difference(aucs)
    block = aucs.groupby(["dataset", "method"]).auc.mean().unstack("method")
    theirs = scikit_posthocs.posthoc_nemenyi_friedman(block.to_numpy())
    theirs.index = theirs.columns = block.columns
    order = result.ranks.index
    np.testing.assert_allclose(result.p_values, theirs.loc[order, order], atol=1e-12)


def test_critical_difference_needs_three_methods_and_two_data_sets():
    with pytest.raises(ValueError, match="at least 3 methods and 2 data sets"):
        critical_difference(HAND[HAND.method.isin(["a", "b"])])
    with pytest.raises(ValueError, match="at least 3 methods and 2 data sets"):
        critical_difference(HAND[HAND.dataset == "d1"])


def test_critical_difference_diagram_labels_every_method_once():
    methods = ["tsinsight", "palacio", "gradient", "occlusion", "random"]
    aucs = _noisy(n_methods=5).replace({"method": {f"m{i}": name for i, name in enumerate(methods)}})
    result = critical_difference(aucs)
    ax = critical_difference_diagram(result)
    texts = [text.get_text() for text in ax.texts]
    stripped = [re.sub(r"^\(\d+\.\d\d\) | \(\d+\.\d\d\)$", "", text) for text in texts if "CD =" not in text]
    assert sorted(stripped) == sorted(method_label(m) for m in methods)
    assert sum("CD =" in text for text in texts) == 1
    bold = [text.get_text() for text in ax.texts if text.get_fontweight() == "bold"]
    assert len(bold) == 1 and "TSInsight" in bold[0]
    crossbars = [line for line in ax.lines if line.get_linewidth() == 4]
    assert len(crossbars) == sum(len(clique) > 1 for clique in result.cliques)
    plt.close(ax.figure)
