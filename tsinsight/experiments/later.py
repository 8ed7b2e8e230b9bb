"""TSInsight against the explainers published after it: the book's yardsticks on the paper's thirteen methods and the
four of :data:`tsinsight.attribution.LATER_METHODS` (issue 23), on the zoo's models of every data set.

The later methods' attributions are cached artifacts under the same keys as the suppression pages' (so the
thirteen are read, never recomputed); their suppression curves are computed under every filler and order of
:mod:`tsinsight.experiments.robustness`, whose page has saved the thirteen's.

Where the two masks run was fixed by measured cost before any result was seen (``benchmarks/bench_later_methods.py``:
one CPU thread, an untrained CNN of each data set's shape, seconds per 1000 samples): ExtremalMask 290 (Forest Cover)
to 3427 (ECG Thorax), Dynamic Masks 134 to 868, DeepLIFT at most 4.2 and GradientSHAP at most 72. ExtremalMask's
perturbation network is recurrent over time, so its cost grows with the length. Under ``cpu`` (150 samples × 2 runs
per data set) the masks on all seven data sets would take about an hour of one thread, longer than the rest of the
book's evaluation. So without a GPU the masks run where ExtremalMask costs at most 1000 s per 1000 samples: the data
sets of at most :data:`MASK_MAX_LENGTH` steps (synthetic anomalies, 50; Electric Devices, 96; Forest Cover, 50;
Character Trajectories, 206 once padded: 870 s), not UWave (315 steps, 1360 s), FordA (500) or ECG Thorax (750);
about 13 minutes of one thread under ``cpu``, which :func:`fit_masks` shares out over the CPU's cores (a mask fit
keeps one core busy whatever torch's thread count: :mod:`tsinsight.parallel`). The ``paper`` profile (a GPU) runs
them everywhere. ``smoke`` fits them for :data:`SMOKE_MASK_EPOCHS` epochs: its numbers check that the page runs,
they are not results.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from tsinsight import zoo
from tsinsight.attribution import LATER_METHODS, METHODS, applies, attribute, cached_attribute
from tsinsight.evaluation.attribution_stats import gini
from tsinsight.evaluation.ground_truth import ground_truth_scores
from tsinsight.evaluation.suppress import suppression
from tsinsight.experiments.attributions import anomalous_samples
from tsinsight.experiments.robustness import SETTINGS
from tsinsight.later_methods import DYNAMASK_EPOCHS, EXTREMAL_EPOCHS, MASK_BATCH_SIZE, MASK_METHODS
from tsinsight.models import make_classifier
from tsinsight.parallel import cached_attributes
from tsinsight.profiles import Profile, get_profile
from tsinsight.report import method_label
from tsinsight.training import majority_share

MASK_MAX_LENGTH = 250  # without a GPU, the masks run on data sets of at most this many steps (see above)
SMOKE_MASK_EPOCHS = 3
FULL_EPOCHS = {"extremal_mask": EXTREMAL_EPOCHS, "dynamic_mask": DYNAMASK_EPOCHS}
SHORT_EPOCHS = (5, 25)  # two short mask fits separate a fit's set-up from its steps (:func:`seconds_per_1000`)
SMOKE_SHORT_EPOCHS = (1, 2)  # the same under smoke, whose costs check that the page runs


def mask_epochs(profile: str | Profile) -> int | None:
    """The masks' epochs under ``profile``: their own (None) but under ``smoke``."""
    return SMOKE_MASK_EPOCHS if get_profile(profile).name == "smoke" else None


def pool_workers(profile: str | Profile) -> int | None:
    """The worker processes of :func:`fit_masks`: one per core (None), but one under ``smoke``, whose fits of a few
    epochs take less than starting a worker (it imports torch and the package)."""
    return 1 if mask_epochs(profile) is not None else None


def left_out(name: str, profile: str | Profile, method: str) -> str | None:
    """Why ``method`` does not run on ``name`` under ``profile`` (None when it runs)."""
    profile = get_profile(profile)
    data = zoo.dataset(name, profile)
    architecture = make_classifier("cnn", data.n_channels, data.n_classes, data.length)  # the zoo's, untrained
    reason = applies(method, architecture)
    if reason is not None:
        return reason
    length = data.length
    if method in MASK_METHODS and profile.name != "paper" and length > MASK_MAX_LENGTH:
        return (
            f"its series have {length} steps: without a GPU the masks run on at most {MASK_MAX_LENGTH} (measured cost)"
        )
    return None


def later_methods_of(name: str, profile: str | Profile) -> list[str]:
    """The later methods that run on ``name`` under ``profile`` (:func:`left_out` says why the others do not)."""
    return [method for method in LATER_METHODS if left_out(name, profile, method) is None]


def later_attributions(
    name: str, profile: Profile, run: int, x: np.ndarray, figure: str, methods
) -> dict[str, np.ndarray]:
    """The ``methods``' attributions of ``x`` by run ``run``'s classifier of ``name``, cached under the page ``figure``'s
    key (the masks at :func:`mask_epochs`)."""
    return {call["method"]: cached_attribute(**call) for call in later_calls(name, profile, run, x, figure, methods)}


def later_calls(name: str, profile: Profile, run: int, x: np.ndarray, figure: str, methods) -> list[dict]:
    """The :func:`~tsinsight.attribution.cached_attribute` keywords of :func:`later_attributions`, one set per method."""
    key = {"dataset": name, "profile": profile.name, "run": run, "figure": figure}
    classifier = zoo.classifier(name, profile, seed=run).model
    epochs = mask_epochs(profile)
    return [
        dict(method=method, classifier=classifier, x=x, key=key, seed=run,
             epochs=epochs if method in MASK_METHODS else None)
        for method in methods
    ]  # fmt: skip


def fit_masks(names, profile: str | Profile, runs: int | None = None) -> None:
    """The two masks' attributions that :func:`later_curves` and, on the synthetic set, :func:`later_ground_truth`
    read, computed into the cache side by side, one per CPU core (:mod:`tsinsight.parallel`; the same numbers as one
    after the other)."""
    profile = get_profile(profile)
    calls = []
    for name in names:
        masks = [method for method in later_methods_of(name, profile) if method in MASK_METHODS]
        if not masks:
            continue
        inputs = {"fig4": zoo.evaluation_set(name, profile).x}
        if name == "synthetic_anomaly":
            inputs["ground_truth"] = zoo.dataset(name, profile).test.x[anomalous_samples(name, profile)]
        for run in profile.run_seeds(runs):
            for figure, x in inputs.items():
                calls += later_calls(name, profile, run, x, figure, masks)
    compute_masks(calls, profile)


def compute_masks(calls: list[dict], profile: str | Profile) -> None:
    """Mask ``calls`` (of :func:`later_calls`) computed into the cache on :func:`pool_workers` processes, ExtremalMask's
    first (the longer fits: the pool's tail is shorter)."""
    calls = sorted(calls, key=lambda call: MASK_METHODS.index(call["method"]))
    cached_attributes(calls, workers=pool_workers(profile), desc="masks")


def later_curves(name: str, profile: str | Profile, runs: int | None = None, settings=SETTINGS) -> pd.DataFrame:
    """Suppression curves of the later methods that run on ``name``, under every ``(filler, order)`` of ``settings``.

    The columns of :func:`tsinsight.experiments.robustness.robustness_curves` (``method, level, kept, accuracy, run,
    filler, order, dataset, majority``), on the same evaluation samples, so the two tables concatenate.
    """
    profile = get_profile(profile)
    evaluated = zoo.evaluation_set(name, profile)
    methods = later_methods_of(name, profile)
    frames = []
    for run in profile.run_seeds(runs):
        classifier = zoo.classifier(name, profile, seed=run).model
        for method, attribution in later_attributions(name, profile, run, evaluated.x, "fig4", methods).items():
            for filler, order in settings:
                curve = suppression(
                    classifier, evaluated.x, evaluated.y, attribution, filler=filler, order=order, seed=run
                )
                frames.append(curve.assign(method=method, run=run, filler=filler, order=order))
    columns = ["method", "level", "kept", "accuracy", "run", "filler", "order", "dataset", "majority"]
    if not frames:
        return pd.DataFrame(columns=columns)
    table = pd.concat(frames, ignore_index=True)
    return table.assign(dataset=name, majority=majority_share(evaluated.y))[columns]


def later_sparseness(name: str, profile: str | Profile, runs: int | None = None) -> pd.DataFrame:
    """The Gini index of the later methods' attributions of the suppression inputs, as ``sparseness_table`` has it
    for the thirteen: ``method, run, gini, gini_std, dataset``."""
    profile = get_profile(profile)
    evaluated = zoo.evaluation_set(name, profile)
    rows = []
    for run in profile.run_seeds(runs):
        methods = later_methods_of(name, profile)
        for method, attribution in later_attributions(name, profile, run, evaluated.x, "fig4", methods).items():
            values = gini(attribution)
            rows.append(dict(method=method, run=run, gini=float(values.mean()), gini_std=float(values.std())))
    return pd.DataFrame(rows, columns=["method", "run", "gini", "gini_std"]).assign(dataset=name)


def later_ground_truth(name: str, profile: str | Profile, runs: int | None = None) -> pd.DataFrame:
    """The later methods' ground-truth scores on the anomalous samples of ``name``, as the ground-truth page has them
    for the thirteen: ``method, aup, aur, top1, run, dataset``."""
    profile = get_profile(profile)
    test = zoo.dataset(name, profile).test
    chosen = anomalous_samples(name, profile)
    rows = []
    for run in profile.run_seeds(runs):
        methods = later_methods_of(name, profile)
        for method, attribution in later_attributions(
            name, profile, run, test.x[chosen], "ground_truth", methods
        ).items():
            rows.append({"method": method, **ground_truth_scores(attribution, test.evidence[chosen]), "run": run})
    return pd.DataFrame(rows, columns=["method", "aup", "aur", "top1", "run"]).assign(dataset=name)


def seconds_per_1000(
    method: str, classifier, x: np.ndarray, explainer=None, *, epochs: int | None = None, short_epochs=SHORT_EPOCHS
) -> float:
    """Seconds ``method`` takes for 1000 samples like ``x``, measured here (nothing cached).

    A method whose cost is per sample is timed on ``x`` and scaled. A mask fits one mask per chunk of
    :data:`~tsinsight.later_methods.MASK_BATCH_SIZE` inputs with one step per epoch, so its unit of work is a chunk:
    fits at the two ``short_epochs`` on one chunk give the set-up and the step, and 1000 samples are
    ``1000 / chunk`` fits at the full epochs (``epochs``: others). ``x`` is tiled to fill a chunk.
    """

    def timed(inputs: np.ndarray, **options) -> float:
        start = time.perf_counter()
        attribute(method, classifier, inputs, explainer=explainer, **options)
        return time.perf_counter() - start

    if method not in MASK_METHODS:
        return timed(x) * 1000 / len(x)
    chunk = np.resize(x, (MASK_BATCH_SIZE, *x.shape[1:]))
    short, long = (timed(chunk, epochs=epochs) for epochs in short_epochs)
    step = max(0.0, long - short) / (short_epochs[1] - short_epochs[0])
    fit = max(0.0, short - short_epochs[0] * step) + (epochs or FULL_EPOCHS[method]) * step
    return fit * 1000 / len(chunk)


def method_costs(name: str, profile: str | Profile, samples: int = 16) -> pd.DataFrame:
    """Seconds per 1000 samples of every method that runs on ``name`` (the thirteen and the later ones), measured on
    run 0's models and ``samples`` evaluation inputs: ``method, seconds_per_1000, dataset``. The masks at their full
    epochs whatever the profile (:func:`seconds_per_1000`), projected from shorter fits under ``smoke``."""
    profile = get_profile(profile)
    short_epochs = SMOKE_SHORT_EPOCHS if profile.name == "smoke" else SHORT_EPOCHS
    x = zoo.evaluation_set(name, profile).x[:samples]
    classifier, explainers = zoo.classifier(name, profile).model, zoo.explainers(name, profile, 0)
    methods = [method for method in METHODS if method != "none"] + later_methods_of(name, profile)
    rows = [
        dict(
            method=method,
            seconds_per_1000=seconds_per_1000(method, classifier, x, explainers.get(method), short_epochs=short_epochs),
        )
        for method in methods
    ]
    return pd.DataFrame(rows).assign(dataset=name)


def comparisons(curves: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The blocks of ``curves`` that a ranking can compare, by label: Friedman's design needs every method of a block
    on every data set of it. With the masks on fewer data sets than the rest, two blocks: the methods that ran on every
    data set, on all of them; and every method, on the data sets where every method ran. Otherwise one block."""
    present = curves.groupby("dataset", sort=False)["method"].agg(lambda methods: frozenset(methods) - {"none"})
    if present.empty:
        return {}
    common, everything = frozenset.intersection(*present), frozenset.union(*present)
    blocks = {f"{len(common)} methods on {len(present)} data set(s)": curves[curves["method"].isin(common | {"none"})]}
    full = [name for name, methods in present.items() if methods == everything]
    if common != everything and full:
        blocks[f"{len(everything)} methods on {len(full)} data set(s)"] = curves[curves["dataset"].isin(full)]
    return blocks


def place_sentence(ranking: pd.DataFrame, label: str, method: str = "tsinsight") -> str:
    """Where ``method`` stands in a :func:`tsinsight.experiments.attributions.suppression_ranking`, in one sentence."""
    table = ranking.reset_index(drop=True)
    row = table[table["method"] == method].iloc[0]
    place = int(row.name) + 1
    best = table.iloc[0]
    together = ""
    if table["top_group"].notna().any():
        tied = list(table.loc[table["top_group"].astype(bool), "method"])
        together = (
            f"; the Friedman–Nemenyi test cannot separate it from the best ({len(tied)} method(s) in that group)"
            if method in tied
            else "; the Friedman–Nemenyi test separates it from the best"
        )
    return (
        f"{label}: {method_label(method)} is {place} of {len(table)} by mean rank ({row.mean_rank:.2f}, 95 % interval "
        f"{row.rank_low:.2f}–{row.rank_high:.2f}); the best is {method_label(best.method)} ({best.mean_rank:.2f}){together}."
    )


def later_sentence(ranking: pd.DataFrame, method: str = "tsinsight") -> str:
    """Which of the later methods in ``ranking`` rank above ``method`` and which below, by mean rank, in one sentence."""
    ranks = ranking.set_index("method")["mean_rank"]
    ours = ranks[method]
    later = [name for name in LATER_METHODS if name in ranks.index]

    def listed(names) -> str:
        return ", ".join(f"{method_label(name)} ({ranks[name]:.2f})" for name in names) or "none"

    above = [name for name in later if ranks[name] < ours]
    below = [name for name in later if ranks[name] >= ours]
    return f"Later methods above {method_label(method)} ({ours:.2f}): {listed(above)}; at or below it: {listed(below)}."
