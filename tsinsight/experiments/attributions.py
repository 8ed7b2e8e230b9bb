"""Fig. 4 and the checks the paper lacks: suppression curves, ground-truth scores and the randomisation sanity check.

Each function runs one evaluation of :mod:`tsinsight.evaluation` on the zoo's trained models of a data set
for every run seed, on the profile's evaluation subset; attributions are cached artifacts keyed by the run.
"""

from __future__ import annotations

import copy
import inspect
import warnings

import numpy as np
import pandas as pd
from torch import nn

from tsinsight import attribution, zoo
from tsinsight.artifacts import cached, fingerprint
from tsinsight.attribution import EXPLAINER_METHODS, METHODS, cached_attribute
from tsinsight.evaluation import sanity
from tsinsight.evaluation.attribution_stats import gini
from tsinsight.evaluation.ground_truth import ground_truth_table
from tsinsight.evaluation.ranking import critical_difference, mean_rank_interval
from tsinsight.evaluation.sanity import sanity_check
from tsinsight.evaluation.suppress import auc_table, kept_points, method_ranking, rank_points
from tsinsight.evaluation.suppress import suppression_curves as curves_of
from tsinsight.explainer import ConvergenceWarning, TSInsight, mode_weights
from tsinsight.profiles import Profile, get_profile
from tsinsight.training import learnt, majority_share


def suppression_curves(
    name: str, profile: str | Profile, runs: int | None = None, *, filler: str = "zero", order: str = "lerf"
) -> pd.DataFrame:
    """Fig. 4 on one data set: ``method, level, kept, accuracy, run, dataset`` for every method and run seed.

    :func:`tsinsight.evaluation.suppress.method_ranking` and :func:`tsinsight.claims.suppression_claims` read
    the concatenation of these tables over data sets. ``filler`` and ``order`` change the test (the paper's: zero,
    keep the most relevant); attributions are cached per run, so other settings only run the classifier again.
    """
    profile = get_profile(profile)
    evaluated = zoo.evaluation_set(name, profile)
    frames = []
    for run in profile.run_seeds(runs):
        key = {"dataset": name, "profile": profile.name, "run": run, "figure": "fig4"}
        frames.append(
            curves_of(
                zoo.classifier(name, profile, seed=run).model,
                evaluated.x,
                evaluated.y,
                explainers=zoo.explainers(name, profile, run),
                seed=run,
                run=run,
                key=key,
                progress=False,
                filler=filler,
                order=order,
            )
        )
    return pd.concat(frames, ignore_index=True).assign(dataset=name, majority=majority_share(evaluated.y))


def example_table(
    attributions: dict[str, np.ndarray], index: int, evidence: np.ndarray | None = None, level: float = 0.95
) -> pd.DataFrame:
    """Fig. 3's example, one row per method of ``attributions`` (each shaped ``(channels, length)``, of test sample
    ``index``): ``top_share``, the share of its attribution's magnitude on the points it keeps when the fraction
    ``level`` is suppressed (NaN for an attribution that is zero everywhere), and ``keeps_evidence``, whether those
    points hold every point of ``evidence`` (a boolean mask like the input; None without one)."""
    rows = []
    for method, values in attributions.items():
        magnitude = np.abs(np.asarray(values, dtype=float))
        kept = rank_points(magnitude[None])[0].reshape(magnitude.shape) < kept_points(level, magnitude.size)
        total = magnitude.sum()
        rows.append(dict(method=method, index=int(index), top_share=magnitude[kept].sum() / total if total > 0 else np.nan,
                         keeps_evidence=None if evidence is None else bool(kept[np.asarray(evidence, bool)].all())))  # fmt: skip
    return pd.DataFrame(rows)


def sparseness_table(name: str, profile: str | Profile, runs: int | None = None) -> pd.DataFrame:
    """The Gini index (``attribution_stats.gini``) of every method's attributions of Fig. 4's inputs, per run.

    Columns ``method, run, gini`` (mean over inputs: 0 for an attribution spread evenly, → 1 for one point),
    ``gini_std``, ``dataset``. The attributions are the cached ones of :func:`suppression_curves` (same keys), so
    this costs no new attribution.
    """
    profile = get_profile(profile)
    evaluated = zoo.evaluation_set(name, profile)
    rows = []
    for run in profile.run_seeds(runs):
        key = {"dataset": name, "profile": profile.name, "run": run, "figure": "fig4"}
        classifier, explainers = zoo.classifier(name, profile, seed=run).model, zoo.explainers(name, profile, run)
        for method in METHODS:
            if method == "none":
                continue
            attribution = cached_attribute(
                method, classifier, evaluated.x, key=key, explainer=explainers.get(method), seed=run
            )
            values = gini(attribution)
            rows.append(dict(method=method, run=run, gini=float(values.mean()), gini_std=float(values.std())))
    return pd.DataFrame(rows).assign(dataset=name)


def suppression_ranking(curves: pd.DataFrame, *, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Fig. 4 across data sets: the methods' mean rank with its bootstrap interval, on data sets whose classifier learnt.

    ``curves`` concatenates :func:`suppression_curves` of several data sets. A data set counts when its
    classifier (the unsuppressed ``none`` accuracy, mean over runs) passes :func:`tsinsight.training.learnt`;
    the others are listed in ``excluded``: where the classifier learnt nothing, no attribution can keep its
    prediction alive, and the ranking would be noise. Columns: those of
    :func:`~tsinsight.evaluation.suppress.method_ranking` (``method, rank_<dataset>…, mean_rank, mean_auc,
    datasets``), ``rank_low, rank_high`` (95 % bootstrap interval over data sets and runs), ``top_group`` (the
    Friedman–Nemenyi test cannot separate the method from the best one; NaN with fewer than two data sets),
    ``excluded`` (comma-separated names). :func:`tsinsight.claims.suppression_claims` reads this table.
    """
    clean = curves[curves["method"] == "none"].groupby("dataset", sort=False)[["accuracy", "majority"]].mean()
    learnt_sets = [name for name, row in clean.iterrows() if learnt(row["accuracy"], row["majority"])]
    excluded = ", ".join(name for name in clean.index if name not in learnt_sets)
    kept = curves[curves["dataset"].isin(learnt_sets)]
    methods = [method for method in dict.fromkeys(curves["method"]) if method != "none"]
    if kept.empty:
        return pd.DataFrame({"method": methods, "mean_rank": np.nan, "rank_low": np.nan, "rank_high": np.nan,
                             "datasets": 0, "top_group": np.nan, "excluded": excluded})  # fmt: skip
    table = method_ranking(kept)
    aucs = auc_table(kept, by=("dataset", "method", "run"))
    interval = mean_rank_interval(aucs, n_boot=n_boot, seed=seed).set_index("method")[["rank_low", "rank_high"]]
    table = table.join(interval, on="method")
    if len(learnt_sets) >= 2:
        groups = critical_difference(aucs).cliques
        best = table["method"].iloc[0]
        top = {method for group in groups if best in group for method in group}
        table["top_group"] = table["method"].isin(top)
    else:
        table["top_group"] = np.nan
    return table.assign(excluded=excluded)


def anomalous_samples(name: str, profile: str | Profile) -> np.ndarray:
    """Indices of up to ``profile.n_eval`` test samples of ``name`` that carry known evidence."""
    profile = get_profile(profile)
    test = zoo.dataset(name, profile).test
    if test.evidence is None:
        raise ValueError(f"{name} has no known evidence positions: the ground-truth test needs synthetic_anomaly")
    return np.flatnonzero(test.evidence.reshape(len(test), -1).any(axis=1))[: profile.n_eval]


def ground_truth_scores(name: str, profile: str | Profile, runs: int | None = None) -> pd.DataFrame:
    """Every method's ground-truth scores per run: ``method, aup, aur, top1, run, dataset`` (Ismail et al. 2020)."""
    profile = get_profile(profile)
    test = zoo.dataset(name, profile).test
    chosen = anomalous_samples(name, profile)
    frames = []
    for run in profile.run_seeds(runs):
        key = {"dataset": name, "profile": profile.name, "run": run, "figure": "ground_truth"}
        table = ground_truth_table(
            zoo.classifier(name, profile, seed=run).model,
            test.x[chosen],
            test.evidence[chosen],
            explainers=zoo.explainers(name, profile, run),
            seed=run,
            key=key,
            progress=False,
        )
        frames.append(table.assign(run=run))
    return pd.concat(frames, ignore_index=True).assign(dataset=name)


def sanity_table(name: str, profile: str | Profile, *, seed: int = 0) -> pd.DataFrame:
    """Cascading randomisation of run ``seed``'s classifier: ``method, step, layer, correlation, std, defined, dataset``.

    TSInsight and Palacio et al. are fine-tuned again against each randomised classifier, from the zoo's
    pretrained auto-encoder with the same γ, β and the profile's training budget, exactly as the zoo fits
    the explainers of the trained classifier. The table is stored like every other artifact, keyed by the models,
    the evaluation inputs, the training settings and the source of the code that computes it, so that executing
    the page again (a rebuild, a new edition) reads it instead of fitting the eight explainers again.
    """
    profile = get_profile(profile)
    evaluated = zoo.evaluation_set(name, profile)
    key = {
        "dataset": name,
        "profile": profile.name,
        "seed": seed,
        "classifier": zoo.classifier(name, profile, seed=seed).key,
        "autoencoder": zoo.autoencoder(name, profile, seed=seed).key,
        "explainers": {mode: zoo.explainer(name, profile, seed, mode).key for mode in EXPLAINER_METHODS},
        "x": fingerprint(evaluated.x),
        "train": zoo.explainer_config(profile, seed).key(),
        "code": fingerprint(
            *(np.frombuffer(inspect.getsource(module).encode(), np.uint8) for module in (sanity, attribution))
        ),
    }
    return cached("sanity", key, lambda: _sanity_table(name, profile, seed))


def _sanity_table(name: str, profile: Profile, seed: int) -> pd.DataFrame:
    data = zoo.dataset(name, profile)
    pretrained = zoo.autoencoder(name, profile, seed=seed).model
    config = zoo.explainer_config(profile, seed)
    explainers = zoo.explainers(name, profile, seed)
    refits: list[bool] = []

    def refit(classifier: nn.Module, mode: str) -> TSInsight:
        fitted = explainers[mode]
        explainer = TSInsight(
            classifier, copy.deepcopy(pretrained), mode=mode, **mode_weights(mode, fitted.gamma, fitted.beta)
        )
        with warnings.catch_warnings():  # recorded below instead
            warnings.simplefilter("ignore", ConvergenceWarning)
            explainer.fit(data, config)
        refits.append(explainer.history.attrs["stopped_early"])
        return explainer

    table = sanity_check(
        zoo.classifier(name, profile, seed=seed).model,
        zoo.evaluation_set(name, profile).x,
        explainers=explainers,
        refit=refit,
        progress=False,
    )
    return table.assign(dataset=name, refits_stopped_early=float(np.mean(refits)) if refits else np.nan)
