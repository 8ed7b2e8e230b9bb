"""How robust is Fig. 4? The suppression ranking under other fillers and the other deletion order (issue 15).

Deletion tests partly measure how far the masked input drifts from the data (Hooker et al. 2019; Rong et al. 2022),
and removing the most relevant points first (MoRF) can rank methods differently from the paper's order (keep the
most relevant: LeRF). :func:`robustness_curves` runs the suppression test of the zoo's models for every filler ×
order (:data:`SETTINGS`) with the attributions the suppression pages cached; :func:`robustness_ranking` ranks the
methods in each setting as Fig. 4's summary does, and :func:`stability_table` sets each setting beside the paper's.

A setting's score of a curve is its area (higher is better) under LeRF and the area *above* it, 1 − area, under
MoRF, where a faithful attribution makes the accuracy fall fast; so rank 1 is the best method in both.

The rule (:data:`STABILITY_RULE`): TSInsight's place is **stable** when, in every setting, its mean rank lies within
the 95 % bootstrap interval of its mean rank under the paper's setting — the spread the paper's own test leaves.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from tsinsight import zoo
from tsinsight.evaluation.faithfulness import faithfulness_table
from tsinsight.evaluation.ranking import mean_rank_interval
from tsinsight.evaluation.suppress import FILLERS, ORDERS, auc_table, score
from tsinsight.experiments.attributions import suppression_curves
from tsinsight.profiles import Profile, get_profile
from tsinsight.training import learnt

SETTINGS: tuple[tuple[str, str], ...] = tuple(itertools.product(FILLERS, ORDERS))  # (filler, order)
PAPER_SETTING = ("zero", "lerf")
FAITHFULNESS_SAMPLES = 32  # evaluation samples for infidelity and max-sensitivity (each attributed again, 3 times)
SMOKE_FAITHFULNESS_SAMPLES = 4  # under smoke, whose scores check that the page runs
STABILITY_RULE = (
    "TSInsight's place is stable when, under every filler and order, its mean rank lies within the 95 % bootstrap "
    "interval of its mean rank under the paper's setting (zero filler, most important kept)."
)


def robustness_curves(name: str, profile: str | Profile, runs: int | None = None, settings=SETTINGS) -> pd.DataFrame:
    """Suppression curves of one data set under each ``(filler, order)`` of ``settings``.

    Columns: ``method, level, kept, accuracy, run, filler, order, dataset, majority``. Models come from the zoo and
    attributions from the cache the suppression pages filled (the same key), so only the classifier runs again.
    """
    frames = [
        suppression_curves(name, profile, runs, filler=filler, order=order).assign(filler=filler, order=order)
        for filler, order in settings
    ]
    columns = ["method", "level", "kept", "accuracy", "run", "filler", "order", "dataset", "majority"]
    return pd.concat(frames, ignore_index=True)[columns]


def faithfulness_scores(name: str, profile: str | Profile, run: int = 0) -> pd.DataFrame:
    """Captum's infidelity and max-sensitivity of every method on run ``run``'s classifier of ``name``.

    On the first :data:`FAITHFULNESS_SAMPLES` (:data:`SMOKE_FAITHFULNESS_SAMPLES` under smoke) of a stratified evaluation
    subset (sensitivity attributes every perturbed input again, the costly part). Columns: ``method, infidelity,
    sensitivity, run, dataset``.
    """
    profile = get_profile(profile)
    samples = SMOKE_FAITHFULNESS_SAMPLES if profile.name == "smoke" else FAITHFULNESS_SAMPLES
    evaluated = zoo.evaluation_set(name, profile, n=min(samples, profile.n_eval))
    table = faithfulness_table(
        zoo.classifier(name, profile, seed=run).model,
        evaluated.x,
        explainers=zoo.explainers(name, profile, run),
        seed=run,
    )
    return table.assign(run=run, dataset=name)


def learnt_datasets(curves: pd.DataFrame) -> list[str]:
    """The data sets whose classifier learnt (:func:`tsinsight.training.learnt` of the unsuppressed accuracy)."""
    clean = curves[curves["method"] == "none"].groupby("dataset", sort=False)[["accuracy", "majority"]].mean()
    return [name for name, row in clean.iterrows() if learnt(row["accuracy"], row["majority"])]


def setting_scores(curves: pd.DataFrame) -> pd.DataFrame:
    """One score per curve: ``dataset, filler, order, method, run, area, auc``.

    ``area`` is the area under the curve; ``auc`` the score ranked (higher is better): the area under LeRF, 1 − the
    area under MoRF. The column keeps the name :mod:`tsinsight.evaluation.ranking` reads.
    """
    table = auc_table(curves, by=("dataset", "filler", "order", "method", "run")).rename(columns={"auc": "area"})
    scores = [score(row.area, row.order) for row in table[["area", "order"]].itertuples()]
    return table.assign(auc=np.asarray(scores, dtype=float))


def robustness_ranking(curves: pd.DataFrame, *, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Mean rank of each method with its 95 % bootstrap interval in each setting, on data sets whose classifier learnt.

    ``curves``: :func:`robustness_curves` of several data sets (all settings). Columns: ``filler, order, method,
    mean_rank, rank_low, rank_high, place`` (1 = the best mean rank), ``datasets, runs, mean_area, excluded``.
    """
    kept_sets = learnt_datasets(curves)
    excluded = ", ".join(name for name in dict.fromkeys(curves["dataset"]) if name not in kept_sets)
    scores = setting_scores(curves[curves["dataset"].isin(kept_sets)])
    if scores.empty:
        raise ValueError(f"no data set whose classifier learnt: nothing to rank (left out: {excluded or 'none'})")
    frames = []
    for (filler, order), block in scores.groupby(["filler", "order"], sort=False):
        ranking = mean_rank_interval(block, n_boot=n_boot, seed=seed)
        area = block[block["method"] != "none"].groupby("method")["area"].mean()
        frames.append(
            ranking.assign(
                filler=filler, order=order, place=np.arange(1, len(ranking) + 1), mean_area=ranking["method"].map(area)
            )
        )
    columns = ["filler", "order", "method", "mean_rank", "rank_low", "rank_high", "place", "datasets", "runs"]
    return pd.concat(frames, ignore_index=True)[[*columns, "mean_area"]].assign(excluded=excluded)


def rank_correlations(ranking: pd.DataFrame) -> pd.DataFrame:
    """Spearman's ρ and Kendall's τ between the methods' mean ranks of every pair of settings.

    Columns: ``setting_a, setting_b`` (``filler/order``), ``spearman, kendall``; both directions, the diagonal 1.
    """
    from scipy import stats  # on first use (tsinsight.imports)

    wide = _mean_ranks(ranking)
    rows = [
        {
            "setting_a": a,
            "setting_b": b,
            "spearman": stats.spearmanr(wide[a], wide[b]).statistic,
            "kendall": stats.kendalltau(wide[a], wide[b]).statistic,
        }
        for a in wide.columns
        for b in wide.columns
    ]
    return pd.DataFrame(rows)


def stability_table(ranking: pd.DataFrame, method: str = "tsinsight") -> pd.DataFrame:
    """``method``'s place in each setting beside the paper's: the table :func:`stability_verdict` reads.

    One row per setting, the paper's first: ``filler, order, mean_rank, rank_low, rank_high, place, methods,
    spearman, kendall`` (the whole ranking's correlation with the paper's setting) and ``within`` (the mean rank
    lies within the paper setting's interval of ``method``).
    """
    from scipy import stats  # on first use (tsinsight.imports)

    paper = _setting(ranking, PAPER_SETTING)
    reference = paper.set_index("method").loc[method]
    wide = _mean_ranks(ranking)
    paper_column = "/".join(PAPER_SETTING)
    rows = []
    for (filler, order), block in ranking.groupby(["filler", "order"], sort=False):
        row = block.set_index("method").loc[method]
        column = f"{filler}/{order}"
        rows.append(
            {
                "filler": filler,
                "order": order,
                "mean_rank": row["mean_rank"],
                "rank_low": row["rank_low"],
                "rank_high": row["rank_high"],
                "place": int(row["place"]),
                "methods": len(block),
                "spearman": stats.spearmanr(wide[column], wide[paper_column]).statistic,
                "kendall": stats.kendalltau(wide[column], wide[paper_column]).statistic,
                "within": bool(reference["rank_low"] <= row["mean_rank"] <= reference["rank_high"]),
            }
        )
    table = pd.DataFrame(rows)
    is_paper = (table["filler"] == PAPER_SETTING[0]) & (table["order"] == PAPER_SETTING[1])
    return pd.concat([table[is_paper], table[~is_paper]], ignore_index=True)


def stability_verdict(table: pd.DataFrame, method: str = "tsinsight") -> tuple[bool, str]:
    """Whether :data:`STABILITY_RULE` holds on a :func:`stability_table`, and a sentence that says why."""
    paper = table.iloc[0]
    moved = table[~table["within"]]
    places = ", ".join(f"{row.filler}/{row.order}: {row.place}" for row in table.itertuples())
    interval = f"{paper.rank_low:.2f}–{paper.rank_high:.2f}"
    if moved.empty:
        return True, (
            f"Stable: under every setting {method}'s mean rank stays within {interval}, its 95 % interval under the "
            f"paper's setting (places of {int(paper.methods)}: {places})."
        )
    outside = ", ".join(f"{row.filler}/{row.order} ({row.mean_rank:.2f})" for row in moved.itertuples())
    return False, (
        f"Not stable: {method}'s mean rank leaves {interval}, its 95 % interval under the paper's setting, under "
        f"{outside} (places of {int(paper.methods)}: {places})."
    )


def _setting(ranking: pd.DataFrame, setting: tuple[str, str]) -> pd.DataFrame:
    block = ranking[(ranking["filler"] == setting[0]) & (ranking["order"] == setting[1])]
    if block.empty:
        raise ValueError(f"the ranking lacks the setting {'/'.join(setting)}")
    return block


def _mean_ranks(ranking: pd.DataFrame) -> pd.DataFrame:
    """Methods × settings (``filler/order``) of mean ranks."""
    labelled = ranking.assign(setting=ranking["filler"] + "/" + ranking["order"])
    return labelled.pivot(index="method", columns="setting", values="mean_rank")[labelled["setting"].unique()]
