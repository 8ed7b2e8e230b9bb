"""The trained models every notebook asks for, by data set name and profile: trained once, then cached.

``zoo.classifier("ford_a", "cpu", seed=2)`` returns the CNN trained on FordA (capped to the ``cpu``
profile's sizes) with run seed 2, loading it from the artifacts directory when an artifact with the same
key exists and training (and storing) it otherwise. A key holds everything the weights depend on: the
data set and its source, the profile's budgets, the model kind, the hyperparameters, the seed, the
``TrainConfig`` fields and ``ZOO_VERSION``. An explainer's key also holds the keys of the classifier and
auto-encoder it starts from.

All runs of a data set share one split (data seed 0), so that runs differ only in the run seed (model
initialisation and shuffling) and are evaluated on the same test samples.
"""

from __future__ import annotations

import copy
import functools
import time
import warnings
from dataclasses import dataclass, field, replace

import pandas as pd
import torch
from torch import nn

from tsinsight import artifacts, paper, stacking, tuning
from tsinsight.attribution import EXPLAINER_METHODS
from tsinsight.data import load
from tsinsight.explainer import MODE_WEIGHTS, ConvergenceWarning, TSInsight
from tsinsight.models import AutoEncoder, make_classifier
from tsinsight.profiles import Profile, get_profile
from tsinsight.training import TrainConfig, fit_autoencoder, fit_classifier

# Bump when a change to models, training or the explainer makes stored models wrong.
ZOO_VERSION = "2"  # 2: the TSViz-shaped CNN and the chrono-initialised LSTM
DATA_SEED = 0


@dataclass
class Trained:
    """A trained model with its per-epoch ``history`` and the ``seconds`` its training took (when it was trained).

    ``model`` is an ``nn.Module`` in eval mode on the CPU, or the ``TSInsight`` object for ``zoo.explainer``.
    """

    model: nn.Module | TSInsight
    history: pd.DataFrame
    seconds: float
    key: dict = field(repr=False)


@functools.lru_cache(maxsize=16)
def _dataset(name: str, profile: Profile, seed: int):
    full = load(name, seed=seed)
    return full.subsample(max_train=profile.max_train, max_val=profile.max_val, max_test=profile.max_test, seed=seed)


def dataset(name: str, profile: str | Profile, seed: int = DATA_SEED):
    """The data set ``name`` loaded and cut to the profile's caps (stratified, deterministic for ``seed``)."""
    return _dataset(name, get_profile(profile), seed)


def evaluation_set(name: str, profile: str | Profile, n: int | None = None):
    """The test samples an evaluation runs on: ``n`` (default ``profile.n_eval``) of them, stratified and seeded.

    Several archives sort their test sets by class, so the first ``n`` samples could hold a single class.
    Returns a ``Split`` (``x``, ``y`` and, for ``synthetic_anomaly``, ``evidence``).
    """
    profile = get_profile(profile)
    return dataset(name, profile).subsample(max_test=n or profile.n_eval, seed=DATA_SEED).test


def _data_key(name: str, profile: Profile) -> dict:
    data = dataset(name, profile)
    return dict(
        dataset=name,
        source=data.source,
        substitute=data.substitute,
        sizes=[len(data.train), len(data.val), len(data.test)],
        shape=[data.n_channels, data.length, data.n_classes],
        profile=profile.name,
        max_train=profile.max_train,
        max_val=profile.max_val,
        max_test=profile.max_test,
        data_seed=DATA_SEED,
    )


def explainer_config(profile: str | Profile, seed: int = 0, *, progress: bool = False, **overrides) -> TrainConfig:
    """The training of every explainer fit: the profile's, with its own epoch cap (``profile.explainer_epochs``).

    Fine-tuning runs until early stopping (Table 2's patience on the validation loss); the cap only guards
    against a fit that never settles, and a fit that reaches it is flagged (``training.convergence``).
    """
    profile = get_profile(profile)
    return profile.train_config(seed=seed, progress=progress, **({"max_epochs": profile.explainer_epochs} | overrides))


def _timed(train) -> dict:
    start = time.perf_counter()
    stored = train()
    stored["seconds"] = time.perf_counter() - start
    return stored


def classifier(
    name: str, profile: str | Profile, seed: int = 0, kind: str = "cnn", *, progress: bool = False
) -> Trained:
    """The classifier of ``kind`` (``"cnn"`` or ``"lstm"``) trained on ``name`` with run ``seed``."""
    data = dataset(name, profile)
    make_classifier(kind, data.n_channels, data.n_classes, data.length)  # fail on an unknown kind before training
    build = functools.partial(make_classifier, kind, data.n_channels, data.n_classes, data.length)
    return _pretrained("classifier", name, profile, seed, build, fit_classifier, progress, kind=kind)


def autoencoder(name: str, profile: str | Profile, seed: int = 0, *, progress: bool = False) -> Trained:
    """The auto-encoder trained (MSE) on ``name`` with run ``seed``."""
    data = dataset(name, profile)
    build = functools.partial(AutoEncoder, data.n_channels, data.length)
    return _pretrained("autoencoder", name, profile, seed, build, fit_autoencoder, progress)


def _pretrained(model: str, name: str, profile, seed: int, build, fit, progress: bool, **kind) -> Trained:
    """``build()`` trained by ``fit`` on ``name`` with run ``seed`` under the profile's budget, cached."""
    profile = get_profile(profile)
    data, config = dataset(name, profile), profile.train_config(seed=seed, progress=progress)
    key = dict(_data_key(name, profile), model=model, **kind, seed=seed, train=config.key(), zoo=ZOO_VERSION)

    def train() -> dict:
        torch.manual_seed(seed)
        fresh = build()
        history = fit(fresh, data, config)
        return dict(state_dict=fresh.cpu().state_dict(), history=history)

    stored = artifacts.cached(model, key, lambda: _timed(train))
    trained = build()
    trained.load_state_dict(stored["state_dict"])
    return Trained(trained.eval(), stored["history"], stored["seconds"], key)


def explainer(
    name: str,
    profile: str | Profile,
    seed: int = 0,
    mode: str = "tsinsight",
    gamma: float | None = None,
    beta: float | None = None,
    kind: str = "cnn",
    *,
    weights: str = "tuned",
    progress: bool = False,
    group: list[tuple[float, float]] | None = None,
) -> Trained:
    """The ``TSInsight`` explainer in ``mode`` fine-tuned on ``name`` from the zoo's classifier and auto-encoder.

    ``gamma``/``beta`` left ``None`` take, for the modes that use them (``tsinsight``: both; ``sparsity_only``:
    β), the values chosen by :func:`tuned` (``weights="tuned"``, the default) or the paper's Table 3
    (``weights="table3"``); ``palacio`` and ``saliency`` use neither.
    """
    profile = get_profile(profile)
    defaulted = group is None and gamma is beta is None and weights in WEIGHTS
    if defaulted and seed == 0 and mode == "tsinsight":
        # run 0's tuned explainer, and Table 3's (the sweep's first candidate), are members of the tuning sweep
        group = tuned(name, profile, kind, progress=progress).grid
    gamma, beta = default_weights(name, profile, mode, gamma, beta, kind, weights=weights, progress=progress)
    if defaulted and group is None:  # the runs' other explainers are fitted together (run_groups)
        group = next((g for g in run_groups(name, profile, kind) if (seed, mode, gamma, beta) in g), None)
    data = dataset(name, profile)
    config = explainer_config(profile, seed, progress=progress)
    base_classifier = classifier(name, profile, seed, kind, progress=progress)
    base_autoencoder = autoencoder(name, profile, seed, progress=progress)
    explainer_args = dict(gamma=gamma, beta=beta, mode=mode)

    def build() -> TSInsight:
        return TSInsight(base_classifier.model, AutoEncoder(data.n_channels, data.length), **explainer_args)

    build()  # check mode and weights before any training
    key = _explainer_key(name, profile, seed, kind, explainer_args, base_classifier, base_autoencoder, config, group)
    if group is not None and not artifacts.stored("explainer", key):  # fitting the group stores every member
        fit = fit_sweep if len(group[0]) == 2 else fit_runs
        fit(name, profile, group, kind, seed, progress=progress)

    def train() -> dict:
        start = TSInsight(base_classifier.model, base_autoencoder.model, **explainer_args)
        with warnings.catch_warnings():  # a capped fit is recorded in its history and flagged on its page
            warnings.simplefilter("ignore", ConvergenceWarning)
            history = start.fit(data, config)
        return dict(
            state_dict=start.autoencoder.cpu().state_dict(), saliency_average=start.saliency_average, history=history
        )

    stored = artifacts.cached("explainer", key, lambda: _timed(train))
    result = build()
    result.autoencoder.load_state_dict(stored["state_dict"])
    result.autoencoder.eval()
    result.saliency_average = stored["saliency_average"]
    return Trained(result, stored["history"], stored["seconds"], key)


def _explainer_key(
    name, profile, seed, kind, explainer_args, base_classifier, base_autoencoder, config, group=None
) -> dict:
    # A stacked fit is one fit of the whole group: over a long fit, rounding differences between the stacked and the
    # single arithmetic grow (as a one-ulp change of the start does), so a member is stored under its group's key.
    stacked = {} if group is None else {"group": [list(point) for point in group]}
    return dict(
        _data_key(name, profile),
        model="explainer",
        **explainer_args,
        kind=kind,
        seed=seed,
        classifier=base_classifier.key,
        autoencoder=base_autoencoder.key,
        train=config.key(),
        zoo=ZOO_VERSION,
        **stacked,
    )


def fit_sweep(
    name: str, profile: str | Profile, grid, kind: str = "cnn", seed: int = 0, *, progress: bool = False
) -> list[Trained]:
    """The TSInsight explainers of run ``seed`` for every (γ, β) of ``grid``, fitted together as one stacked model.

    The candidates share the classifier, the pretrained auto-encoder and the seed, so one stacked fit
    (:func:`tsinsight.stacking.fit_together`) trains them all, each with its own optimiser and early stopping.
    Each is stored under its own key with the group (the whole grid) in it, and the group is fitted again whole
    when any member is missing, so that a member never depends on which other fit ran first. ``seconds`` of a
    member is its share of the stacked fit's time.
    """
    profile = get_profile(profile)
    grid = list(dict.fromkeys((float(g), float(b)) for g, b in grid))  # a setting listed twice is fitted once
    data = dataset(name, profile)
    config = explainer_config(profile, seed, progress=progress)
    base_classifier = classifier(name, profile, seed, kind, progress=progress)
    base_autoencoder = autoencoder(name, profile, seed, progress=progress)
    keys = [
        _explainer_key(name, profile, seed, kind, dict(gamma=g, beta=b, mode="tsinsight"), base_classifier,
                       base_autoencoder, config, grid)
        for g, b in grid
    ]  # fmt: skip
    if not all(artifacts.stored("explainer", key) for key in keys):
        starts = [
            TSInsight(base_classifier.model, copy.deepcopy(base_autoencoder.model), gamma=g, beta=b) for g, b in grid
        ]
        _fit_and_store(starts, keys, data, config)
    return [explainer(name, profile, seed, "tsinsight", g, b, kind, progress=progress, group=grid) for g, b in grid]


def run_groups(name: str, profile: str | Profile, kind: str = "cnn") -> list[list[tuple]]:
    """The explainers of every run that the tuning sweep does not hold, in groups fitted together, as members
    ``(seed, mode, gamma, beta)``: each run's sparsity-only and Palacio et al. explainers, and after run 0 (whose are
    sweep members) its tuned and Table 3 TSInsight. One group for all runs; one per run for a recurrent classifier,
    which cannot be vmapped (:mod:`tsinsight.stacking`)."""
    profile = get_profile(profile)
    choice, table3 = tuned(name, profile, kind), paper.starting_weights(name)
    groups = []
    for seed in profile.run_seeds():
        members = [(seed, "tsinsight", choice.gamma, choice.beta), (seed, "tsinsight", *table3)] if seed else []
        members += [(seed, "sparsity_only", None, choice.beta), (seed, "palacio", None, None)]
        groups.append(list(dict.fromkeys(members)))  # Table 3's weights may be the tuned ones
    return groups if kind == "lstm" else [[member for group in groups for member in group]]


def fit_runs(name: str, profile: str | Profile, group, kind: str = "cnn", seed: int = 0, *, progress: bool = False):
    """Fit the members ``(seed, mode, gamma, beta)`` of ``group`` together, each from its run's classifier and
    auto-encoder, and store each under its key with the group in it (``seed`` unused: the members carry theirs)."""
    profile = get_profile(profile)
    data, starts, keys, bases = dataset(name, profile), [], [], {}
    for run, mode, gamma, beta in group:
        if run not in bases:  # one classifier object per run: the stack shares it (a recurrent one must be shared)
            bases[run] = classifier(name, profile, run, kind, progress=progress), autoencoder(name, profile, run)
        args, (base_classifier, base_autoencoder) = dict(gamma=gamma, beta=beta, mode=mode), bases[run]
        starts.append(TSInsight(base_classifier.model, copy.deepcopy(base_autoencoder.model), **args))
        keys.append(_explainer_key(name, profile, run, kind, args, *bases[run], explainer_config(profile, run), group))
    _fit_and_store(starts, keys, data, explainer_config(profile, 0, progress=progress), [member[0] for member in group])


def _fit_and_store(starts: list[TSInsight], keys: list[dict], data, config: TrainConfig, seeds=None) -> None:
    """Fit ``starts`` together and store each under its key; ``seconds`` is its share of the stacked fit's time."""
    begin = time.perf_counter()
    with warnings.catch_warnings():  # a capped fit is recorded in its history and flagged on its page
        warnings.simplefilter("ignore", ConvergenceWarning)
        histories = stacking.fit_together(starts, data, config, seeds=seeds)
    share = (time.perf_counter() - begin) / len(starts)
    for key, start, history in zip(keys, starts, histories, strict=True):
        stored = dict(state_dict=start.autoencoder.cpu().state_dict(), saliency_average=None, history=history)
        artifacts.cached("explainer", key, lambda stored=stored: stored | {"seconds": share})


WEIGHTS = ("tuned", "table3")  # where the γ, β an explainer is not given come from


def default_weights(
    name: str,
    profile: str | Profile,
    mode: str,
    gamma: float | None = None,
    beta: float | None = None,
    kind: str = "cnn",
    *,
    weights: str = "tuned",
    progress: bool = False,
) -> tuple[float | None, float | None]:
    """``gamma``, ``beta`` with the ones ``mode`` uses and the caller left ``None`` filled from ``weights``.

    When the caller gives one of them, the other comes from Table 3 (``paper.starting_weights``) whatever
    ``weights`` says: only neither given with ``weights="tuned"`` runs the tuning sweep, so that re-running a page
    with β alone costs the fits of that β, not a sweep. A weight the mode does not use stays as given (``TSInsight``
    rejects it unless it is ``None``).
    """
    if weights not in WEIGHTS:
        raise ValueError(f"unknown weights {weights!r}: choose one of {WEIGHTS}")
    given = {"gamma": gamma, "beta": beta}
    if not any(given[weight] is None for weight in MODE_WEIGHTS.get(mode, ())):
        return gamma, beta
    if weights == "table3" or gamma is not None or beta is not None:
        filled = dict(zip(("gamma", "beta"), paper.starting_weights(name), strict=True))
    else:
        choice = tuned(name, profile, kind, progress=progress)
        filled = {"gamma": choice.gamma, "beta": choice.beta}
    return tuple(filled[w] if v is None and w in MODE_WEIGHTS[mode] else v for w, v in given.items())


@dataclass
class Tuning:
    """The γ, β :func:`tuned` chose for a data set, whether it fell back to Table 3, and the sweep behind it."""

    gamma: float
    beta: float
    fell_back: bool
    table: pd.DataFrame
    key: dict = field(repr=False)
    grid: list[tuple[float, float]] = field(default_factory=list)  # the candidates, fitted together on run 0


def tuned(name: str, profile: str | Profile, kind: str = "cnn", *, progress: bool = False) -> Tuning:
    """TSInsight's γ, β for ``name``, chosen by :func:`tsinsight.tuning.tune` on run 0's validation split, cached.

    The sweep starts at the paper's Table 3 values and climbs the ladder of :func:`tsinsight.tuning.sweep_grid`
    (ρ = β·C·T/γ at half-decades); each candidate is the zoo's explainer of run 0 with those
    weights (so the chosen one is already trained). Every run of the data set then uses the chosen γ, β, as
    the paper's hand-tuned values are one setting per data set.
    """
    profile = get_profile(profile)
    gamma, beta = paper.starting_weights(name)
    base_classifier = classifier(name, profile, 0, kind, progress=progress)
    base_autoencoder = autoencoder(name, profile, 0, progress=progress)
    data = dataset(name, profile)
    grid = tuning.sweep_grid(gamma, beta, data.n_channels * data.length)
    judge = judging_split(name, profile)
    config = explainer_config(profile, 0, progress=progress)
    key = dict(
        _data_key(name, profile),
        model="tuning",
        kind=kind,
        grid=[list(point) for point in grid],
        tolerance=tuning.TOLERANCE,
        rule=tuning.RULE,
        thresholds=[tuning.CONFIDENCE_Z, tuning.MIN_KEPT_PER_INPUT],
        judged=len(judge),
        train=config.key(),
        classifier=base_classifier.key,
        autoencoder=base_autoencoder.key,
        zoo=ZOO_VERSION,
    )

    def sweep() -> dict:
        result = tuning.tune(
            base_classifier.model,
            base_autoencoder.model,
            data,
            config,
            gamma=gamma,
            beta=beta,
            grid=grid,
            judge=judge,
            fit=lambda candidates: [
                (trained.model, trained.history)
                for trained in fit_sweep(name, profile, candidates, kind, 0, progress=progress)
            ],
        )
        return dict(gamma=result.gamma, beta=result.beta, fell_back=result.fell_back, table=result.table)

    stored = artifacts.cached("tuning", key, sweep)
    return Tuning(stored["gamma"], stored["beta"], stored["fell_back"], stored["table"], key, grid)


def judging_split(name: str, profile: str | Profile):
    """The held-out split the tuning judges accuracy on: the data set's whole validation split, up to the profile's
    ``max_judged`` series (the profile's cap on validation bounds the cost of early stopping; a judgement is a few
    forward passes, and a larger sample tightens its confidence bound). It holds no training series."""
    profile = get_profile(profile)
    return _dataset(name, replace(profile, max_val=profile.max_judged), DATA_SEED).val


def explainers(name: str, profile: str | Profile, seed: int = 0, kind: str = "cnn") -> dict[str, TSInsight]:
    """The fitted explainers the attribution methods ``tsinsight`` and ``palacio`` read, by method name."""
    return {mode: explainer(name, profile, seed, mode, kind=kind).model for mode in EXPLAINER_METHODS}
