"""Planted evidence in real series: every method scored against a pattern that input magnitude does not find.

The synthetic set's evidence is a spike, so the largest ``|x|`` *is* the evidence; on the planted sets
(:mod:`tsinsight.data.planted`) the class is a bump or dip blended into a real series at a random place and channel,
no larger than the series' own spread. On each planted set and on the synthetic set, every method is scored against
the known evidence by the ground-truth page's measures (:func:`measures`): the paper's thirteen (``none`` has no
ranking), the later four where they run (:func:`tsinsight.experiments.later.later_methods_of`), TSInsight as the
tuning rule chooses it (the ``tsinsight`` method: the zoo's explainer of each run), and TSInsight at every rung of
its tuning ladder (``zoo.fit_sweep`` on a run's classifier and auto-encoder, the grid of ``zoo.tuned``; run 0's
ladder is the tuning sweep itself; the profile's ``planted_ladder_runs`` says how many runs' ladders are scored).
:func:`planted_design` measures the planted design on the same series.

The synthetic set's models and attributions are the book's own (same keys: read from the cache when the ground-truth
and later-explainers pages have run). A planted set is not part of the rest of the book, so everything of it is fitted
here, under the profile's ``planted_*`` caps (:func:`budget`): fewer training and validation series for its
classifiers, auto-encoders, explainers and ladders, fewer scored series, and the two masks on fewer still.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from tsinsight import data, zoo
from tsinsight.attribution import METHODS, cached_attribute
from tsinsight.data import planted
from tsinsight.evaluation.ground_truth import ground_truth_scores, localisation, precision_recall_curves
from tsinsight.experiments.attributions import anomalous_samples
from tsinsight.experiments.later import compute_masks, later_attributions, later_calls, later_methods_of
from tsinsight.later_methods import MASK_METHODS
from tsinsight.paper import label
from tsinsight.profiles import Profile, get_profile
from tsinsight.report import method_label
from tsinsight.training import accuracy, majority_share
from tsinsight.tuning import sparsity_ratio

SYNTHETIC = "synthetic_anomaly"
MEASURES = ("top1", "near", "precision_k", "aup", "aur")
# How a reader sees each measure (the page's tables and plots).
MEASURE_LABELS = {
    "top1": "top point on the evidence (exact)",
    "near": "top point within ±1 step, right channel",
    "precision_k": "precision of the top k (k = evidence size)",
    "aup": "area under precision",
    "aur": "area under recall",
}
FAMILIES = ("paper", "later", "ladder")
COLUMNS = ["dataset", "method", "family", "run", "ratio", "chosen", *MEASURES, "n_samples"]
DESIGN_COLUMNS = ["dataset", "run", "series", "accuracy", "background_accuracy", "majority", "evidence_share",
                  "magnitude_top1", "magnitude_near", "chance_top1", "chance_near"]  # fmt: skip


def page_sets(profile: str | Profile) -> list[str]:
    """The data sets of the page under ``profile``: the synthetic set, then the planted version of every base among the
    profile's data sets (``profile.datasets``; None: every base) whose data are on this machine."""
    profile = get_profile(profile)
    bases = [base for base in planted.BASES if profile.datasets is None or base in profile.datasets]
    planted_sets = [planted.planted_name(base) for base in bases]
    return [name for name in (SYNTHETIC, *planted_sets) if data.is_available(name)]


def set_label(name: str) -> str:
    """A reader's name for a data set of the page: "Planted FordA" for ``planted_ford_a``, the paper's otherwise."""
    if name.startswith(planted.PREFIX):
        return f"Planted {label(planted.base_name(name))}"
    return label(name)


def budget(name: str, profile: str | Profile) -> Profile:
    """The profile ``name`` runs under on this page: the profile itself for the synthetic set (the book's models), and
    for a planted set the profile with its ``planted_max_train``, ``planted_max_val`` and ``planted_n_eval`` where set."""
    profile = get_profile(profile)
    if name == SYNTHETIC:
        return profile
    planted.base_name(name)  # a clear error for a name that is neither
    caps = dict(max_train=profile.planted_max_train, max_val=profile.planted_max_val, n_eval=profile.planted_n_eval)
    return replace(profile, **{field: value for field, value in caps.items() if value is not None})


def measures(attribution: np.ndarray, evidence: np.ndarray) -> dict[str, float]:
    """The ground-truth page's measures of one method's ``attribution`` against the ``evidence`` masks, means over series.

    ``aup``, ``aur`` and ``top1`` (the top-ranked point is an evidence point) are
    :func:`~tsinsight.evaluation.ground_truth.ground_truth_scores`; ``near`` is
    :func:`~tsinsight.evaluation.ground_truth.localisation` with ``window=1`` (the largest ``|attribution|`` within ±1 step
    of an evidence point on its channel); ``precision_k`` is the precision of each series' top ``k`` points
    (:func:`~tsinsight.evaluation.ground_truth.precision_recall_curves` at ``k``, the series' number of evidence
    points: a ranking that knew the evidence scores 1, one that knows nothing the evidence's share of the points).
    Every series must carry evidence.
    """
    scores = ground_truth_scores(attribution, evidence)
    precision, _ = precision_recall_curves(attribution, evidence)
    k = np.asarray(evidence, dtype=bool).reshape(len(precision), -1).sum(axis=1)
    return scores | {
        "near": localisation(attribution, evidence, window=1),
        "precision_k": float(precision[np.arange(len(k)), k - 1].mean()),
    }


def scored_series(name: str, profile: str | Profile):
    """The test series the page scores on ``name``: the evidence-carrying ones among the first ``n_eval`` of the test
    split (:func:`~tsinsight.experiments.attributions.anomalous_samples`, under :func:`budget`), as ``(indices, split)``."""
    chosen = budget(name, profile)
    return anomalous_samples(name, chosen), zoo.dataset(name, chosen).test


def mask_series(name: str, profile: str | Profile, scored: int) -> int:
    """How many of the ``scored`` series the two masks explain on ``name``: all on the synthetic set (the later
    page's), the first ``planted_mask_series`` on a planted set."""
    cap = get_profile(profile).planted_mask_series
    return scored if name == SYNTHETIC or cap is None else min(scored, cap)


def scores_ladder(run: int, profile: str | Profile) -> bool:
    """Whether the page scores run ``run``'s tuning ladder: the first ``planted_ladder_runs`` runs' (None: every run's;
    run 0's ladder is the tuning sweep itself, the others' are fitted for this page)."""
    cap = get_profile(profile).planted_ladder_runs
    return cap is None or run < cap


def page_budget(profile: str | Profile) -> pd.DataFrame:
    """What each data set of the page runs on under ``profile``, one row per data set: its training and validation
    series (the fits'), the scored series, how many of them the masks explain (0 where they do not run), the series'
    shape and the number of evidence points per scored series (the first one's)."""
    rows = []
    for name in page_sets(profile):
        chosen = budget(name, profile)
        fitted = zoo.dataset(name, chosen)
        indices, test = scored_series(name, profile)
        masks = any(method in MASK_METHODS for method in later_methods_of(name, chosen))
        rows.append(dict(dataset=name, train=len(fitted.train), val=len(fitted.val), scored=len(indices),
                         masks=mask_series(name, profile, len(indices)) if masks else 0,
                         channels=fitted.n_channels, length=fitted.length,
                         evidence=int(test.evidence[indices[0]].sum())))  # fmt: skip
    return pd.DataFrame(rows)


def planted_scores(name: str, profile: str | Profile, runs: int | None = None) -> pd.DataFrame:
    """Every method's :func:`measures` on the scored series of ``name``, per run (:data:`COLUMNS`).

    ``family``: ``paper`` (the thirteen but ``none``; ``tsinsight`` is the explainer the tuning rule chose), ``later``
    (the later methods that run on ``name``; the masks on the first ``planted_mask_series`` series of a planted set)
    or ``ladder`` (TSInsight at each rung of the tuning ladder, fitted on the run's own classifier and auto-encoder:
    ``ratio`` is its ρ, ``chosen`` marks the rung the rule chose; only on the runs :func:`scores_ladder` takes).
    Attributions are cached artifacts; on the synthetic set they are the ground-truth and later-explainers pages' (same
    keys).
    """
    profile = get_profile(profile)
    chosen_budget = budget(name, profile)
    indices, test = scored_series(name, profile)
    x, evidence = test.x[indices], test.evidence[indices]
    tuning = zoo.tuned(name, chosen_budget)
    rows = []
    for run in chosen_budget.run_seeds(runs):
        key = {"dataset": name, "profile": chosen_budget.name, "run": run, "figure": "ground_truth"}
        classifier = zoo.classifier(name, chosen_budget, seed=run).model
        explainers = zoo.explainers(name, chosen_budget, run)
        for method in METHODS:
            if method == "none":
                continue
            attribution = cached_attribute(method, classifier, x, key=key, explainer=explainers.get(method), seed=run)
            rows.append(dict(method=method, family="paper", run=run, **measures(attribution, evidence)))
        for method in later_methods_of(name, chosen_budget):
            n = mask_series(name, profile, len(x)) if method in MASK_METHODS else len(x)
            attribution = later_attributions(name, chosen_budget, run, x[:n], "ground_truth", [method])[method]
            rows.append(dict(method=method, family="later", run=run, **measures(attribution, evidence[:n])))
        if not scores_ladder(run, profile):
            continue
        rungs = zoo.fit_sweep(name, chosen_budget, tuning.grid, seed=run)
        for (gamma, beta), rung in zip(tuning.grid, rungs, strict=True):
            attribution = cached_attribute("tsinsight", classifier, x, key=key, explainer=rung.model, seed=run)
            rows.append(dict(method="tsinsight", family="ladder", run=run, ratio=sparsity_ratio(gamma, beta, x[0].size),
                             chosen=(gamma, beta) == (tuning.gamma, tuning.beta), **measures(attribution, evidence)))  # fmt: skip
    return pd.DataFrame(rows).assign(dataset=name).reindex(columns=COLUMNS)


def fit_masks(names, profile: str | Profile, runs: int | None = None) -> None:
    """The two masks' attributions that :func:`planted_scores` reads on ``names``, computed into the cache side by side,
    one per CPU core (:mod:`tsinsight.parallel`; the same numbers as one after the other). Trains the classifiers
    they explain first, when they are not cached."""
    profile = get_profile(profile)
    calls = []
    for name in names:
        chosen_budget = budget(name, profile)
        masks = [method for method in later_methods_of(name, chosen_budget) if method in MASK_METHODS]
        if not masks:
            continue
        indices, test = scored_series(name, profile)
        x = test.x[indices][: mask_series(name, profile, len(indices))]
        for run in chosen_budget.run_seeds(runs):
            calls += later_calls(name, chosen_budget, run, x, "ground_truth", masks)
    compute_masks(calls, profile)


def planted_design(name: str, profile: str | Profile, runs: int | None = None) -> pd.DataFrame:
    """The planted design measured on the series the page scores (:data:`DESIGN_COLUMNS`), one row per run.

    ``accuracy``: the run's classifier on those series; ``background_accuracy``: the same classifier with each series'
    untouched background put back into its planted window (:func:`tsinsight.data.planted.backgrounds`; nothing else
    changes), about chance when the classifier relies on the pattern; ``majority``: the majority class's share.
    ``evidence_share``: the evidence's share of the points; ``magnitude_*``: input magnitude's ``top1`` and ``near``
    (:func:`measures`); ``chance_*``: the same measures of the background's magnitude under the same masks, i.e. of a
    ranking that knows nothing of the pattern under this placement (a window drawn uniformly covers central steps more
    often than edge steps). The synthetic set has no background: its ``background_*`` and ``chance_*`` are NaN.
    """
    profile = get_profile(profile)
    chosen_budget = budget(name, profile)
    indices, test = scored_series(name, profile)
    x, y, evidence = test.x[indices], test.y[indices], test.evidence[indices]
    background = None if name == SYNTHETIC else _backgrounds(name, chosen_budget)[indices]
    if background is not None and not np.array_equal(np.where(evidence, background, x), background):
        raise RuntimeError(
            f"{name}: outside the evidence the scored series differ from their backgrounds: the planted set and its "
            "backgrounds were drawn differently (clear the data cache and run again)"
        )
    magnitude = measures(np.abs(x), evidence)
    chance = measures(np.abs(background), evidence) if background is not None else {}
    rows = []
    for run in chosen_budget.run_seeds(runs):
        classifier = zoo.classifier(name, chosen_budget, seed=run).model
        rows.append(dict(
            run=run, series=len(x), accuracy=accuracy(classifier, x, y),
            background_accuracy=np.nan if background is None else accuracy(classifier, background, y),
            majority=majority_share(y), evidence_share=float(evidence.mean()),
            magnitude_top1=magnitude["top1"], magnitude_near=magnitude["near"],
            chance_top1=chance.get("top1", np.nan), chance_near=chance.get("near", np.nan),
        ))  # fmt: skip
    return pd.DataFrame(rows).assign(dataset=name).reindex(columns=DESIGN_COLUMNS)


def _backgrounds(name: str, profile: Profile) -> np.ndarray:
    """The test series of ``name`` as ``zoo.dataset`` cuts them, with their untouched backgrounds instead."""
    base = data.load(planted.base_name(name), seed=zoo.DATA_SEED, progress=False)
    full = planted.backgrounds(base, zoo.DATA_SEED)
    cut = full.subsample(max_train=profile.max_train, max_val=profile.max_val, max_test=profile.max_test,
                         seed=zoo.DATA_SEED)  # fmt: skip
    return cut.test.x


def planted_summary(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean over runs of every measure, per data set and method (the ladder's rungs by ρ): ``dataset, method, family,
    ratio, chosen`` and the :data:`MEASURES`, with ``label`` (a reader's name: the rung's ρ for the ladder)."""
    by = ["dataset", "family", "method", "ratio"]
    table = scores.assign(ratio=scores["ratio"].fillna(-1.0), chosen=scores["chosen"].fillna(False).astype(bool))
    means = table.groupby(by, sort=False).agg({**{m: "mean" for m in MEASURES}, "chosen": "any"}).reset_index()
    means["ratio"] = means["ratio"].where(means["ratio"] >= 0)
    means["label"] = [
        f"TSInsight, ρ = {row.ratio:.3g}" if row.family == "ladder" else method_label(row.method)
        for row in means.itertuples()
    ]
    return means


def planted_reading(scores: pd.DataFrame, design: pd.DataFrame) -> str:
    """The page's one-sentence reading, computed from its two tables (:func:`planted_scores`, :func:`planted_design` over
    its data sets): on the planted sets, how often input magnitude, TSInsight as tuned, its ladder's best rung and the
    best method put their top point within ±1 step of the pattern, beside the placement chance."""
    means = planted_summary(scores)
    planted_sets = [name for name in dict.fromkeys(means["dataset"]) if name != SYNTHETIC]
    if not planted_sets:
        return "No planted data set ran under this profile: nothing to read."
    means = means[means["dataset"].isin(planted_sets)]
    chance = design[design["dataset"].isin(planted_sets)].groupby("dataset")["chance_near"].mean()

    def across(values: pd.Series) -> str:
        return f"{values.mean():.0%} (per set {values.min():.0%}–{values.max():.0%})"

    def method(name: str) -> pd.Series:
        return means[(means["family"] == "paper") & (means["method"] == name)].set_index("dataset")["near"]

    ladder = means[means["family"] == "ladder"].groupby("dataset")["near"].max()
    methods = means[means["family"] != "ladder"].groupby("label")["near"].mean().sort_values(ascending=False)
    return (
        f"On {len(planted_sets)} planted data sets, where the class is a bump or dip no larger than the series' own "
        f"spread, the top point lies within ±1 step of the pattern (mean over sets and runs) for input magnitude in "
        f"{across(method('input_magnitude'))} of the series, at the placement chance of {across(chance)}; for TSInsight "
        f"as the tuning rule chose it in {across(method('tsinsight'))}, at the best rung of its ladder in "
        f"{across(ladder)}; the best method on average is {methods.index[0]} ({methods.iloc[0]:.0%})."
    )


def ladder_reasons(name: str, profile: str | Profile) -> pd.DataFrame:
    """Run 0's tuning ladder of ``name`` as the rule saw it (``zoo.tuned``'s table, validation data, no ground truth):
    ``ratio, sparsity, accuracy_change_low, converged, chosen, reason`` per rung."""
    table = zoo.tuned(name, budget(name, profile)).table
    return table[["ratio", "sparsity", "accuracy_change_low", "converged", "chosen", "reason"]].reset_index(drop=True)
