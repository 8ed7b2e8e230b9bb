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

import functools
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from tsinsight import artifacts, paper
from tsinsight.explainer import TSInsight
from tsinsight.models import AutoEncoder, make_classifier
from tsinsight.profiles import Profile, get_profile
from tsinsight.training import TrainConfig, fit_autoencoder, fit_classifier

# Bump when a change to models, training or the explainer makes stored models wrong.
ZOO_VERSION = "1"
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


def _load(name: str, seed: int):
    from tsinsight.data import load

    return load(name, seed=seed)


@functools.lru_cache(maxsize=16)
def _dataset(name: str, profile: Profile, seed: int):
    full = _load(name, seed)
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


def _config(profile: Profile, seed: int, progress: bool) -> TrainConfig:
    return TrainConfig.for_profile(profile, seed=seed, progress=progress)


def _timed(train) -> dict:
    start = time.perf_counter()
    stored = train()
    stored["seconds"] = time.perf_counter() - start
    return stored


def classifier(
    name: str, profile: str | Profile, seed: int = 0, kind: str = "cnn", *, progress: bool = False
) -> Trained:
    """The classifier of ``kind`` (``"cnn"`` or ``"lstm"``) trained on ``name`` with run ``seed``."""
    profile = get_profile(profile)
    data = dataset(name, profile)
    config = _config(profile, seed, progress)
    key = dict(_data_key(name, profile), model="classifier", kind=kind, seed=seed, train=config.key(), zoo=ZOO_VERSION)
    make_classifier(kind, data.n_channels, data.n_classes)  # fail on an unknown kind before training

    def train() -> dict:
        torch.manual_seed(seed)
        model = make_classifier(kind, data.n_channels, data.n_classes)
        history = fit_classifier(model, data, config)
        return dict(state_dict=model.cpu().state_dict(), history=history)

    stored = artifacts.cached("classifier", key, lambda: _timed(train))
    model = make_classifier(kind, data.n_channels, data.n_classes)
    model.load_state_dict(stored["state_dict"])
    return Trained(model.eval(), stored["history"], stored["seconds"], key)


def autoencoder(name: str, profile: str | Profile, seed: int = 0, *, progress: bool = False) -> Trained:
    """The auto-encoder trained (MSE) on ``name`` with run ``seed``."""
    profile = get_profile(profile)
    data = dataset(name, profile)
    config = _config(profile, seed, progress)
    key = dict(_data_key(name, profile), model="autoencoder", seed=seed, train=config.key(), zoo=ZOO_VERSION)

    def train() -> dict:
        torch.manual_seed(seed)
        model = AutoEncoder(data.n_channels, data.length)
        history = fit_autoencoder(model, data, config)
        return dict(state_dict=model.cpu().state_dict(), history=history)

    stored = artifacts.cached("autoencoder", key, lambda: _timed(train))
    model = AutoEncoder(data.n_channels, data.length)
    model.load_state_dict(stored["state_dict"])
    return Trained(model.eval(), stored["history"], stored["seconds"], key)


def explainer(
    name: str,
    profile: str | Profile,
    seed: int = 0,
    mode: str = "tsinsight",
    gamma: float | None = None,
    beta: float | None = None,
    kind: str = "cnn",
    *,
    progress: bool = False,
) -> Trained:
    """The ``TSInsight`` explainer in ``mode`` fine-tuned on ``name`` from the zoo's classifier and auto-encoder.

    ``gamma``/``beta`` left ``None`` take the paper's Table 3 values for the modes that use them
    (``tsinsight``: both; ``sparsity_only``: β); ``palacio`` and ``saliency`` use neither.
    """
    profile = get_profile(profile)
    # a weight the mode does not use stays as given: TSInsight rejects it unless it is None
    if mode == "tsinsight" and gamma is None:
        gamma = paper.hyperparameters(name)[0]
    if mode in ("tsinsight", "sparsity_only") and beta is None:
        beta = paper.hyperparameters(name)[1]
    data = dataset(name, profile)
    config = _config(profile, seed, progress)
    base_classifier = classifier(name, profile, seed, kind, progress=progress)
    base_autoencoder = autoencoder(name, profile, seed, progress=progress)
    explainer_args = dict(gamma=gamma, beta=beta, mode=mode)

    def build() -> TSInsight:
        return TSInsight(base_classifier.model, AutoEncoder(data.n_channels, data.length), **explainer_args)

    build()  # check mode and weights before any training
    key = dict(
        _data_key(name, profile),
        model="explainer",
        **explainer_args,
        kind=kind,
        seed=seed,
        classifier=base_classifier.key,
        autoencoder=base_autoencoder.key,
        train=config.key(),
        zoo=ZOO_VERSION,
    )

    def train() -> dict:
        start = TSInsight(base_classifier.model, base_autoencoder.model, **explainer_args)
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


# ---------------------------------------------------------------------- tables built from the zoo's models
VARIANTS = ("tsinsight", "palacio", "sparsity_only")  # the fine-tuned auto-encoders of Figs. 1–2


def variant_weights(mode: str, gamma: float | None, beta: float | None) -> dict:
    """The weights a mode takes: γ for tsinsight only, β for tsinsight and sparsity_only."""
    return dict(
        gamma=gamma if mode == "tsinsight" else None, beta=beta if mode in ("tsinsight", "sparsity_only") else None
    )


def accuracy_table(
    name: str,
    profile: str | Profile,
    runs: int | None = None,
    kind: str = "cnn",
    gamma: float | None = None,
    beta: float | None = None,
    *,
    progress: bool = False,
) -> pd.DataFrame:
    """Test accuracy of every model of ``name`` for run seeds ``0..runs-1`` (None: the profile's runs), trained or cached.

    Models: ``classifier`` alone, ``autoencoder`` (the plain auto-encoder in front of the classifier) and
    each of ``VARIANTS`` in front of it. Columns: ``dataset, run, model, accuracy`` (fraction), ``seconds``
    (training time), ``epochs``, ``gamma, beta, kind, profile, n_test, majority`` (the commonest class's share
    of the test set), ``source, substitute``.
    """
    from tsinsight.explainer import Pipeline
    from tsinsight.training import accuracy

    profile = get_profile(profile)
    runs = profile.runs if runs is None else runs
    if not isinstance(runs, int) or runs < 1:
        raise ValueError(f"runs must be a positive integer, got {runs!r}")
    data = dataset(name, profile)
    test = data.test
    majority = float(np.bincount(test.y).max() / len(test.y))  # accuracy of always answering the commonest class
    rows = []

    def row(seed, model_name, model, trained, gamma=None, beta=None):
        rows.append(
            dict(dataset=name, run=seed, model=model_name, accuracy=accuracy(model, test.x, test.y),
                 seconds=trained.seconds, epochs=len(trained.history), gamma=gamma, beta=beta, kind=kind,
                 profile=profile.name, n_test=len(test), majority=majority, source=data.source,
                 substitute=data.substitute)
        )  # fmt: skip

    for seed in range(runs):
        base = classifier(name, profile, seed, kind, progress=progress)
        plain = autoencoder(name, profile, seed, progress=progress)
        row(seed, "classifier", base.model, base)
        row(seed, "autoencoder", Pipeline(plain.model, base.model), plain)
        for mode in VARIANTS:
            fitted = explainer(
                name, profile, seed, mode, kind=kind, progress=progress, **variant_weights(mode, gamma, beta)
            )
            row(seed, mode, fitted.model.pipeline, fitted, fitted.model.gamma, fitted.model.beta)
    return pd.DataFrame(rows)


def training_histories(
    name: str,
    profile: str | Profile,
    runs: int | None = None,
    kind: str = "cnn",
    gamma: float | None = None,
    beta: float | None = None,
) -> pd.DataFrame:
    """The per-epoch histories of every model of :func:`accuracy_table` in one long table (``model, run`` added)."""
    profile = get_profile(profile)
    frames = []
    for seed in range(profile.runs if runs is None else runs):
        frames.append(classifier(name, profile, seed, kind).history.assign(model="classifier", run=seed))
        frames.append(autoencoder(name, profile, seed).history.assign(model="autoencoder", run=seed))
        for mode in VARIANTS:
            fitted = explainer(name, profile, seed, mode, kind=kind, **variant_weights(mode, gamma, beta))
            frames.append(fitted.history.assign(model=mode, run=seed))
    return pd.concat(frames, ignore_index=True)


def compare_table3(accuracies: pd.DataFrame) -> pd.DataFrame:
    """Table 3 beside ours: one row per data set of ``accuracies`` (rows of :func:`accuracy_table`), in percent.

    Columns per model (``classifier``, ``tsinsight``): ``<model>_paper``, ``<model>_ours`` (mean over runs),
    ``<model>_std`` (standard deviation over runs; NaN for one run), ``<model>_diff`` (ours − paper); plus
    ``gamma, beta`` (ours), ``runs``, ``profile``, ``source``, ``substitute``.
    """
    rows = []
    for name, group in accuracies.groupby("dataset", sort=False):
        tsinsight_rows = group[group["model"] == "tsinsight"]
        out = dict(dataset=name, label=paper.TABLE1.get(name, {}).get("label", name),
                   gamma=tsinsight_rows["gamma"].iloc[0] if len(tsinsight_rows) else None,
                   beta=tsinsight_rows["beta"].iloc[0] if len(tsinsight_rows) else None,
                   runs=group["run"].nunique(), profile=group["profile"].iloc[0],
                   source=group["source"].iloc[0], substitute=bool(group["substitute"].iloc[0]))  # fmt: skip
        for model in ("classifier", "tsinsight"):
            ours = 100 * group.loc[group["model"] == model, "accuracy"]
            reported = paper.TABLE3.get(name, {}).get(model, float("nan"))
            out.update({f"{model}_paper": reported, f"{model}_ours": ours.mean(), f"{model}_std": ours.std(),
                        f"{model}_diff": ours.mean() - reported})  # fmt: skip
        rows.append(out)
    return pd.DataFrame(rows)


def tradeoff(
    name: str,
    profile: str | Profile,
    gammas,
    betas,
    seed: int = 0,
    kind: str = "cnn",
    *,
    tolerance: float = 0.05,
    progress: bool = False,
) -> pd.DataFrame:
    """Accuracy against sparsity and suppression score over a γ × β grid, the paper's setting and ``saliency`` mode.

    For each explainer (trained or cached): ``accuracy`` of the pipeline on the test split, ``sparsity``
    (``TSInsight.sparsity`` with ``tolerance``) and ``suppression_auc``, the area under the Fig. 4
    suppression curve of the classifier with TSInsight's attribution on ``profile.n_eval`` test inputs.
    Columns: ``setting`` (``grid``, ``paper`` or ``saliency``), ``mode, gamma, beta, accuracy, sparsity,
    suppression_auc``.
    """
    from tsinsight.evaluation.suppression import area_under_curve, suppression
    from tsinsight.training import accuracy

    profile = get_profile(profile)
    data = dataset(name, profile)
    evaluated = evaluation_set(name, profile)
    x, y = evaluated.x, evaluated.y
    paper_gamma, paper_beta = paper.hyperparameters(name)
    settings = [("grid", "tsinsight", float(g), float(b)) for g in gammas for b in betas]
    settings += [("paper", "tsinsight", paper_gamma, paper_beta), ("saliency", "saliency", None, None)]
    rows = []
    for setting, mode, gamma, beta in settings:
        fitted = explainer(name, profile, seed, mode, gamma, beta, kind, progress=progress).model
        curve = suppression(fitted.classifier, x, y, fitted.attribute(x))
        rows.append(dict(setting=setting, mode=mode, gamma=gamma, beta=beta,
                         accuracy=accuracy(fitted.pipeline, data.test.x, data.test.y),
                         sparsity=fitted.sparsity(data.test.x, tolerance), suppression_auc=area_under_curve(curve)))  # fmt: skip
    return pd.DataFrame(rows)
