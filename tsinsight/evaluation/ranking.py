"""How sure is a ranking of attribution methods by suppression AUC? Bootstrap intervals and the Friedman–Nemenyi test.

Both functions read the long table of :func:`tsinsight.evaluation.suppress.auc_table` grouped by
``("dataset", "method", "run")``: one area under the suppression curve (``auc``, higher is better) per data set,
method and run. As in :func:`~tsinsight.evaluation.suppress.method_ranking`, a method's AUC on a data set is the
mean over its runs, methods are ranked within each data set (1 = best, ties share the mean rank) and the ranks are
averaged over data sets. Runs are paired: run ``r`` of a data set is one trained classifier that every method
explains, so a resampled run carries the AUCs of all methods together.

- :func:`mean_rank_interval` puts a percentile bootstrap interval on each mean rank, resampling data sets and,
  within each, its runs.
- :func:`critical_difference` runs the Friedman test over data sets and the Nemenyi post-hoc test (Demšar 2006),
  whose critical difference groups the methods that the data cannot tell apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

COLUMNS = ("dataset", "method", "run", "auc")


@dataclass(frozen=True)
class CriticalDifference:
    """The Friedman–Nemenyi comparison of methods over data sets.

    ``ranks`` maps method → mean rank over data sets (1 = best), best first. ``statistic`` and ``p_value`` are
    Friedman's χ² (tie-corrected, as :func:`scipy.stats.friedmanchisquare`) and its p-value. ``q_alpha`` is the
    Nemenyi critical value, ``cd`` the critical difference of mean ranks. ``p_values`` holds the pairwise Nemenyi
    p-values (methods × methods, 1 on the diagonal). ``cliques`` lists the maximal runs of consecutive methods in
    rank order whose mean ranks differ by at most ``cd`` (not significantly different), best first; a method that
    differs from every other forms a clique of its own.
    """

    ranks: pd.Series
    statistic: float
    p_value: float
    alpha: float
    q_alpha: float
    cd: float
    datasets: int
    p_values: pd.DataFrame
    cliques: tuple[tuple[str, ...], ...]


def mean_rank_interval(
    aucs: pd.DataFrame,
    *,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    exclude: Iterable[str] = ("none",),
) -> pd.DataFrame:
    """Each method's mean rank over data sets with a percentile bootstrap interval, best first.

    Returns one row per method: ``mean_rank`` (mean over data sets of the rank of the run-averaged AUC, 1 = best),
    ``rank_low``/``rank_high`` (the ``confidence`` percentile interval of the mean rank over ``n_boot`` replicates,
    each resampling data sets with replacement and, within each drawn data set, its runs with replacement),
    ``datasets`` (data sets ranked) and ``runs`` (AUCs behind the rank, summed over data sets). ``none``, the
    unsuppressed reference, is left out by default. The same ``seed`` gives the same interval.
    """
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    methods, values, n_runs = _auc_array(aucs, exclude)
    n_datasets = len(n_runs)
    point = _ranks(np.nanmean(values, axis=2)).mean(axis=0)

    rng = np.random.default_rng(seed)
    drawn = rng.integers(n_datasets, size=(n_boot, n_datasets))  # replicate × slot → data set
    runs_drawn = n_runs[drawn][..., None]  # runs of the data set in each slot
    run_index = rng.integers(runs_drawn, size=(n_boot, n_datasets, values.shape[2]))
    picked = values[drawn[..., None], :, run_index]  # replicate × slot × run draw × method
    used = np.arange(values.shape[2]) < runs_drawn  # only the first n_runs draws of a slot count
    mean_auc = np.where(used[..., None], picked, 0.0).sum(axis=2) / runs_drawn
    boot = _ranks(mean_auc).mean(axis=1)  # replicate × method
    low, high = np.quantile(boot, [(1 - confidence) / 2, (1 + confidence) / 2], axis=0)

    table = pd.DataFrame(
        {
            "method": methods,
            "mean_rank": point,
            "rank_low": low,
            "rank_high": high,
            "datasets": n_datasets,
            "runs": int(n_runs.sum()),
            "_mean_auc": np.nanmean(values, axis=2).mean(axis=0),
        }
    )
    ordered = table.sort_values(["mean_rank", "_mean_auc"], ascending=[True, False], kind="stable")
    return ordered.drop(columns="_mean_auc").reset_index(drop=True)


def critical_difference(
    aucs: pd.DataFrame, *, alpha: float = 0.05, exclude: Iterable[str] = ("none",)
) -> CriticalDifference:
    """The Friedman test over data sets (blocks) and the Nemenyi critical difference of mean ranks (Demšar 2006).

    Needs at least 3 methods and 2 data sets. CD = q_α·√(k(k+1)/(6N)) for k methods and N data sets, with
    q_α the studentized range quantile at 1 − ``alpha`` (infinite degrees of freedom) divided by √2.
    """
    from scipy import stats  # on first use (tsinsight.imports)

    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    methods, values, _ = _auc_array(aucs, exclude)
    n_datasets, k = values.shape[:2]
    if k < 3 or n_datasets < 2:
        raise ValueError(
            f"the Friedman test needs at least 3 methods and 2 data sets, got {k} methods and {n_datasets} data sets"
        )
    mean_auc = np.nanmean(values, axis=2)  # data set × method
    statistic, p_value = stats.friedmanchisquare(*mean_auc.T)
    ranks = pd.Series(_ranks(mean_auc).mean(axis=0), index=pd.Index(methods, name="method"), name="mean_rank")
    ranks = ranks.sort_values(kind="stable")
    q_alpha = nemenyi_q(k, alpha)
    scale = np.sqrt(k * (k + 1) / (6 * n_datasets))
    gaps = np.abs(ranks.to_numpy()[:, None] - ranks.to_numpy()[None, :])
    p_values = stats.studentized_range.sf(gaps / scale * np.sqrt(2), k, np.inf)
    np.fill_diagonal(p_values, 1.0)
    return CriticalDifference(
        ranks=ranks,
        statistic=float(statistic),
        p_value=float(p_value),
        alpha=alpha,
        q_alpha=q_alpha,
        cd=float(q_alpha * scale),
        datasets=n_datasets,
        p_values=pd.DataFrame(p_values, index=ranks.index, columns=ranks.index),
        cliques=_cliques(ranks, q_alpha * scale),
    )


def nemenyi_q(k: int, alpha: float = 0.05) -> float:
    """The Nemenyi critical value q_α for ``k`` methods: the studentized range quantile (∞ d.o.f.) over √2."""
    from scipy import stats  # on first use (tsinsight.imports)

    return float(stats.studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2))


def _cliques(ranks: pd.Series, cd: float) -> tuple[tuple[str, ...], ...]:
    """Maximal runs of consecutive methods (``ranks`` sorted ascending) spanning at most ``cd`` in mean rank."""
    values, names = ranks.to_numpy(), list(ranks.index)
    cliques, reach = [], -1
    for start in range(len(values)):
        end = int(np.searchsorted(values, values[start] + cd, side="right"))  # one past the last within cd
        if end - 1 > reach:  # not inside the previous clique
            cliques.append(tuple(names[start:end]))
            reach = end - 1
    return tuple(cliques)


def _ranks(auc: np.ndarray) -> np.ndarray:
    """Ranks along the last axis, 1 = highest AUC, ties sharing the mean rank."""
    from scipy import stats  # on first use (tsinsight.imports)

    return stats.rankdata(-auc, axis=-1, method="average")


def _auc_array(aucs: pd.DataFrame, exclude: Iterable[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The methods, the AUCs as data set × method × run (NaN-padded to the most runs) and each data set's run count.

    Checks a complete, paired design: every method on every data set, with the same runs.
    """
    missing = set(COLUMNS) - set(aucs.columns)
    if missing:
        raise ValueError(f"the AUC table needs the columns {', '.join(COLUMNS)}; missing {sorted(missing)}")
    frame = aucs.loc[~aucs["method"].isin(list(exclude)), list(COLUMNS)]
    if frame.empty:
        raise ValueError("no AUCs left to rank once the excluded methods are dropped")
    if not np.isfinite(frame["auc"].to_numpy(dtype=float)).all():
        raise ValueError("the AUC table holds NaN or infinite values")
    if frame.duplicated(["dataset", "method", "run"]).any():
        raise ValueError("the AUC table repeats a (dataset, method, run): pass one AUC per curve")
    grid = frame.pivot(index=["dataset", "run"], columns="method", values="auc")
    incomplete = grid.columns[grid.isna().any()].tolist()
    if incomplete:
        raise ValueError(
            f"methods {incomplete} lack an AUC for some (dataset, run) that other methods have: "
            "the ranking needs every method on every data set with the same runs"
        )
    methods = grid.columns.tolist()
    by_dataset = [block.to_numpy(dtype=float) for _, block in grid.groupby(level="dataset", sort=True)]
    n_runs = np.array([len(block) for block in by_dataset])
    values = np.full((len(by_dataset), len(methods), n_runs.max()), np.nan)
    for index, block in enumerate(by_dataset):
        values[index, :, : len(block)] = block.T
    return methods, values, n_runs
