"""The Explore page's data: TSInsight along its tuning ladder and every method on a few test series, from the caches.

Nothing here trains or attributes anew when the book's earlier pages have run: the ladder's explainers are the
tuning sweep's candidates of run 0 (``zoo.tuned`` and ``zoo.fit_sweep``, fitted and stored by the training page), the
attributions are the suppression test's (``cached_attribute`` with Fig. 4's key, stored by the suppression page), and
the suppression curves are that page's result table. :func:`explorer_data` gathers them for one data set;
:mod:`tsinsight.explorer` draws them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tsinsight import paper, zoo
from tsinsight.attribution import METHODS, cached_attribute
from tsinsight.explainer import near_zero_share
from tsinsight.profiles import Profile, get_profile
from tsinsight.training import predict
from tsinsight.tuning import SPARSITY_TOLERANCE

SERIES = 4  # test series per data set: the page carries every rung's output and every method's attribution of each
RUN = 0  # the tuning sweep runs on run 0's classifier and auto-encoder


def series_choice(y: np.ndarray, n: int = SERIES) -> list[int]:
    """Positions of ``n`` series in ``y``: the first of each class (in class order), then the next ones in order."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n is a number of series, a positive integer; got {n!r}")
    y = np.asarray(y)
    first = [int(np.flatnonzero(y == label)[0]) for label in np.unique(y)]
    rest = [i for i in range(len(y)) if i not in first]
    return (first + rest)[:n]


def normalised(attributions: np.ndarray) -> np.ndarray:
    """Each series' attribution magnitude divided by its largest point: 1 marks what the method deems most important.

    The suppression test reads only the order of the points (the paper ranks them "by the absolute magnitude"), so
    this scale, which keeps the order, puts methods of different units on one axis. An all-zero attribution stays 0.
    """
    values = np.abs(np.asarray(attributions, dtype=np.float32))
    largest = values.reshape(len(values), -1).max(axis=1).reshape(-1, *([1] * (values.ndim - 1)))
    return np.divide(values, largest, out=np.zeros_like(values), where=largest > 0)


def explorer_data(
    name: str, profile: str | Profile, curves: pd.DataFrame, n_series: int = SERIES, kind: str = "cnn"
) -> dict:
    """What the Explore page shows of data set ``name``, from the zoo's and the attributions' caches.

    ``curves`` is the suppression page's table of ``name`` (``suppression_<name>``: ``method, level, accuracy, run``).
    The series are ``n_series`` of Fig. 4's evaluation inputs (:func:`series_choice`). Returns a dict:

    - ``dataset``, ``label``, ``channels`` (names), ``classes`` (names), ``series`` (their positions among Fig. 4's
      evaluation inputs), ``y`` (their classes), ``x`` ``(series, channels, length)``;
    - ``ladder``: the tuning sweep's table (``tsinsight.tuning.COLUMNS``), whose ``reason`` says why each rung was
      taken or refused;
      ``chosen_rung`` (the row TSInsight's explainer is: the chosen one, or Table 3's when the rule fell back);
    - ``outputs`` ``(rungs, series, channels, length)``: each rung's output D(E(x)); ``near_zero`` ``(rungs, series)``:
      the share of each output's points within 0.05 · std of its series (the tuning's sparsity);
      ``predictions`` ``(rungs, series)``: the class the pipeline predicts at each rung;
    - ``methods`` (names, ``none`` left out), ``attributions`` ``(methods, series, channels, length)``: :func:`normalised`;
    - ``curves``: the suppression curves averaged over runs (``method, level, accuracy``), ``none`` included.
    """
    missing = sorted(set(METHODS) - set(curves["method"]))
    if missing:
        raise ValueError(f"the suppression table of {name} lacks the methods {missing}: run its suppression page again")
    profile = get_profile(profile)
    tuning = zoo.tuned(name, profile, kind)
    rungs = zoo.fit_sweep(name, profile, tuning.grid, kind, RUN)
    data = zoo.dataset(name, profile)
    evaluated = zoo.evaluation_set(name, profile)
    picks = series_choice(evaluated.y, n_series)
    x = evaluated.x[picks]

    outputs = np.stack([rung.model.reconstruct(x) for rung in rungs]).astype(np.float32)
    near_zero = np.array([[near_zero_share(out, series, SPARSITY_TOLERANCE) for out, series in zip(rung, x, strict=True)]
                          for rung in outputs])  # fmt: skip
    predictions = np.stack([predict(rung.model.pipeline, x) for rung in rungs])
    weights = [(float(g), float(b)) for g, b in tuning.grid]
    chosen_rung = weights.index((float(tuning.gamma), float(tuning.beta)))

    classifier = zoo.classifier(name, profile, RUN, kind).model
    explainers = zoo.explainers(name, profile, RUN, kind)
    key = {"dataset": name, "profile": profile.name, "run": RUN, "figure": "fig4"}  # the suppression page's
    methods = [method for method in METHODS if method != "none"]
    attributions = np.stack([
        cached_attribute(method, classifier, evaluated.x, key=key, explainer=explainers.get(method), seed=RUN)[picks]
        for method in methods
    ])  # fmt: skip

    mean_curves = curves.groupby(["method", "level"], sort=False)["accuracy"].mean().reset_index()
    ladder = tuning.table.reset_index(drop=True)
    return dict(
        dataset=name,
        label=paper.label(name),
        channels=list(data.channel_names or [f"channel {c}" for c in range(data.n_channels)]),
        classes=[str(c) for c in (data.class_names or range(data.n_classes))],
        series=picks,
        y=np.asarray(evaluated.y[picks]),
        x=np.asarray(x, dtype=np.float32),
        ladder=ladder,
        chosen_rung=chosen_rung,
        fell_back=bool(tuning.fell_back),
        outputs=outputs,
        near_zero=near_zero,
        predictions=predictions,
        methods=methods,
        attributions=normalised(attributions.reshape(-1, *x.shape[1:])).reshape(attributions.shape),
        curves=mean_curves,
    )
