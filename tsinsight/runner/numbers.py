"""The main numbers of a page that judges no claim of the paper: the lines of its "What this page found" box.

Each function below turns the result tables a page wrote (its ``writes``) into a few Markdown lines. They read the
tables through ``table(name)`` (None when missing): this machine's when the page executes, the reference edition's
when the edition is rendered (:mod:`tsinsight.runner.present`), so the numbers in the box are always those of the
tables the page itself shows. A page whose tables are missing (one executed before it wrote them) gets no box.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from tsinsight.evaluation.suppress import auc_table
from tsinsight.paper import label
from tsinsight.report import format_runs, method_label
from tsinsight.runner.plan import Run

Tables = Callable[[str], "pd.DataFrame | None"]
SHAPE = ("train", "val", "test", "length", "channels", "classes")


def folder_tables(folder: Path) -> Tables:
    """``table(name)``: the result table ``name`` in ``folder`` (``<name>.csv``), None when it is not there."""

    def table(name: str) -> pd.DataFrame | None:
        path = Path(folder) / f"{name}.csv"
        return pd.read_csv(path) if path.exists() else None

    return table


def _truth(column: pd.Series) -> pd.Series:
    return column.astype(str).str.lower().isin(["true", "1"])


def _names(names) -> str:
    return ", ".join(label(name) for name in names) or "none"


def datasets(table: Tables, run: Run) -> list[str]:
    summary = table("datasets_table1")
    if summary is None:
        return []
    loaded = summary[summary["source"] != "not available"]
    exact = [
        row.dataset for row in loaded.itertuples() if all(getattr(row, k) == getattr(row, f"paper_{k}") for k in SHAPE)
    ]
    differing = [name for name in loaded["dataset"] if name not in exact]
    missing = [name for name in summary["dataset"] if name not in set(loaded["dataset"])]
    substitutes = list(loaded.loc[_truth(loaded["substitute"]), "dataset"])
    series = int(loaded[["train", "val", "test"]].to_numpy().sum())
    return [
        f"**{len(loaded)} of the paper's {len(summary)} data sets** were loaded ({series:,} series in all); "
        f"not available: {_names(missing)}.",
        f"**{len(exact)}** match Table 1 in every size ({_names(exact)}); **{len(differing)}** differ "
        f"({_names(differing)}).",
        f"**{len(substitutes)}** are substitutes for the paper's data ({_names(substitutes)}): the table below says why.",
    ]


def suppression(table: Tables, run: Run) -> list[str]:
    dataset = run.parameters["dataset"]
    curves = table(f"suppression_{dataset}")
    if curves is None:
        return []
    aucs = auc_table(curves)
    means = aucs.groupby("method")["auc"].mean()
    ranked = means.drop(index="none", errors="ignore").sort_values(ascending=False)
    runs = {method: group["auc"] for method, group in aucs.groupby("method")}
    best = ranked.index[0]
    place = list(ranked.index).index("tsinsight") + 1
    lines = [
        f"TSInsight ranks **{place} of {len(ranked)}** by area under the suppression curve on {label(dataset)} "
        f"(AUC {format_runs(runs['tsinsight'], digits=3)}); the best is {method_label(best)} "
        f"({format_runs(runs[best], digits=3)})"
        + (f"; the unsuppressed input scores {means['none']:.3f}." if "none" in means else ".")
    ]
    sparseness = table(f"sparseness_{dataset}")
    if sparseness is not None:
        gini = sparseness.groupby("method")["gini"].mean().sort_values(ascending=False)
        position = list(gini.index).index("tsinsight") + 1
        lines.append(
            f"TSInsight's attribution is the **{position}. sparsest of {len(gini)}** by Gini index "
            f"({gini['tsinsight']:.3f}; sparsest: {method_label(gini.index[0])}, {gini.iloc[0]:.3f})."
        )
    return lines


def attributions(table: Tables, run: Run) -> list[str]:
    dataset = run.parameters["dataset"]
    shown = table(f"attributions_{dataset}")
    if shown is None:
        return []
    methods = shown[shown["method"] != "none"].set_index("method")
    top = methods["top_share"].sort_values(ascending=False)
    lines = [
        f"On test sample {int(shown['index'].iloc[0])} of {label(dataset)}, TSInsight puts "
        f"**{top['tsinsight']:.0%}** of its attribution on its top 5 % of points "
        f"({list(top.index).index('tsinsight') + 1}. of {len(top)}; most concentrated: {method_label(top.index[0])}, "
        f"{top.iloc[0]:.0%}; least: {method_label(top.index[-1])}, {top.iloc[-1]:.0%})."
    ]
    if methods["keeps_evidence"].notna().any():
        keeps = [name for name, kept in _truth(methods["keeps_evidence"]).items() if kept]
        lines.append(
            f"The anomaly's points survive in the top 5 % of **{len(keeps)} of {len(methods)}** methods; TSInsight "
            f"{'keeps' if 'tsinsight' in keeps else 'loses'} them."
        )
    else:
        lines.append(f"{label(dataset)} marks no evidence positions: which points matter is judged by eye.")
    return lines


def ground_truth(table: Tables, run: Run) -> list[str]:
    scores = table("ground_truth")
    if scores is None:
        return []
    summary = scores.groupby("method")[["aup", "aur", "top1"]].mean().sort_values("aur", ascending=False)
    best, ours = summary.index[0], summary.loc["tsinsight"]
    lines = [
        f"By area under recall the best method is **{method_label(best)}** (AUR {summary.loc[best, 'aur']:.3f}, "
        f"top-1 {summary.loc[best, 'top1']:.0%}).",
        f"TSInsight ranks **{list(summary.index).index('tsinsight') + 1} of {len(summary)}**: AUR {ours['aur']:.3f}, "
        f"the anomaly first in {ours['top1']:.0%} of the samples"
        + (
            f" (random ranks: {summary.loc['random', 'aur']:.3f}, {summary.loc['random', 'top1']:.0%})."
            if "random" in summary.index
            else "."
        ),
    ]
    return lines


def sanity(table: Tables, run: Run) -> list[str]:
    found = table(f"sanity_{run.parameters['dataset']}")
    if found is None:
        return []
    final = found[found["step"] == found["step"].max()].set_index("method")["correlation"]
    unchanged = [method_label(name) for name, value in final.items() if value > 0.9]
    mentioned = [name for name in ("tsinsight", "palacio", "gradient") if name in final.index]
    return [
        f"With all {found['step'].max()} layers randomised, **{len(unchanged)} of {len(final)}** methods still "
        f"correlate above 0.9 with their attribution on the trained classifier ({', '.join(unchanged) or 'none'}): "
        "they barely depend on the model.",
        "Final correlation: " + ", ".join(f"{method_label(name)} {final[name]:.2f}" for name in mentioned) + ".",
    ]


def quickstart(table: Tables, run: Run) -> list[str]:
    found = table("quickstart")
    if found is None:
        return []
    row = found.iloc[0]
    return [
        f"On {label(row['dataset'])}: the classifier alone reaches **{row['classifier_accuracy']:.1%}** test "
        f"accuracy, with TSInsight in front (γ = {row['gamma']:g}, β = {row['beta']:g}) **{row['tsinsight_accuracy']:.1%}**.",
        f"{row['near_zero']:.0%} of TSInsight's output points are near zero: the attribution keeps the rest.",
    ]


def your_model(table: Tables, run: Run) -> list[str]:
    summary, ranking = table("your_model_summary"), table("your_model_ranking")
    if summary is None or ranking is None:
        return []
    models = summary.set_index("model")
    paper_setting = ranking[(ranking["filler"] == "zero") & (ranking["order"] == "lerf")].sort_values("mean_rank")
    ours = paper_setting[paper_setting["method"] == "tsinsight"].iloc[0]
    place = list(paper_setting["method"]).index("tsinsight") + 1
    return [
        f"TSInsight ranks **{place} of {len(paper_setting)}** in the suppression test on your model (mean rank "
        f"{ours['mean_rank']:.1f}, 95 % interval {ours['rank_low']:.1f}–{ours['rank_high']:.1f}).",
        f"Your classifier: {models.loc['classifier', 'accuracy']:.1%} test accuracy; with TSInsight in front "
        f"{models.loc['tsinsight', 'accuracy']:.1%}, {models.loc['tsinsight', 'near_zero']:.0%} of its output near zero.",
    ]


# The pages that judge no claim and have main numbers, by notebook.
NUMBERS: dict[str, Callable[[Tables, Run], list[str]]] = {
    "datasets": datasets,
    "quickstart": quickstart,
    "attributions": attributions,
    "suppression": suppression,
    "ground_truth": ground_truth,
    "sanity": sanity,
    "your_model": your_model,
}


def main_numbers(run: Run, table: Tables) -> list[str]:
    """The lines of ``run``'s box from its tables (:data:`NUMBERS`); [] for a page without, or whose tables are
    missing."""
    numbers = NUMBERS.get(run.notebook)
    if numbers is None:
        return []
    try:
        return numbers(table, run)
    except KeyError:  # a table without the columns (or rows) the numbers need: a page of another shape gets no box
        return []
