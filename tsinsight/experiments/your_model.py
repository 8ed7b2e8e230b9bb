"""The book's evaluation of a classifier the project has never seen (``notebooks/your_model.ipynb``).

The classifier and data come from :mod:`tsinsight.loading`. Its auto-encoder and its TSInsight explainer (γ, β
chosen by :func:`tsinsight.tuning.tune`, the book's rule) and the Palacio et al. baseline are trained here and
cached like every model of the book, keyed by fingerprints of the classifier's weights and of the data. Then
the evaluations of the book's pages run on it: the suppression test of every method that applies, its ranking
with a bootstrap interval over folds of the test samples, the robustness settings, the sanity check and, with an
evidence mask, the ground truth.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from tsinsight import tuning
from tsinsight.artifacts import cached, fingerprint
from tsinsight.attribution import METHODS, TABLE, attribute
from tsinsight.data import Dataset
from tsinsight.evaluation.attribution_stats import gini
from tsinsight.evaluation.ground_truth import ground_truth_table
from tsinsight.evaluation.ranking import mean_rank_interval
from tsinsight.evaluation.sanity import sanity_check
from tsinsight.evaluation.suppress import FILLERS, ORDERS, auc_table, score, suppression_curves
from tsinsight.explainer import ConvergenceWarning, TSInsight, alignment, near_zero_share
from tsinsight.models import AutoEncoder
from tsinsight.paper import TABLE2
from tsinsight.profiles import Profile
from tsinsight.training import accuracy, convergence, fit_autoencoder

FOLDS = 5  # the test samples are cut into this many folds: the ranking's interval resamples them


def _weights_of(module: nn.Module) -> list[np.ndarray]:
    return [tensor.detach().cpu().numpy() for tensor in module.state_dict().values()]


def model_key(classifier: nn.Module, dataset: Dataset, profile: Profile) -> dict:
    """What a user's models are cached under: the classifier's weights, the data and the profile's budget."""
    splits = {
        name: fingerprint(getattr(dataset, name).x, getattr(dataset, name).y) for name in ("train", "val", "test")
    }
    return dict(classifier=fingerprint(*_weights_of(classifier)), data=splits, profile=profile.as_dict(), zoo="your-1")


def applicable_methods(classifier: nn.Module, dataset: Dataset, methods=METHODS) -> tuple[list[str], dict[str, str]]:
    """The ``methods`` that run on this classifier, and for each that does not, why (tried on two test inputs)."""
    x = dataset.test.x[:2]
    usable, why = [], {}
    for method in methods:
        if method not in TABLE:
            raise ValueError(f"unknown attribution method {method!r}: choose from {', '.join(METHODS)}")
        if TABLE[method].kind == "explainer":
            usable.append(method)
            continue
        if isinstance(classifier, torch.jit.ScriptModule) and method in (
            "guided_backprop",
            "gradcam",
            "guided_gradcam",
        ):
            why[method] = "a TorchScript model takes no module hooks (save a state dict with its module path for it)"
            continue
        if method in ("gradcam", "guided_gradcam") and not isinstance(
            getattr(classifier, "feature_layer", None), nn.Module
        ):
            why[method] = "GradCAM needs the classifier's last convolutional block as `classifier.feature_layer`"
            continue
        try:
            attribute(method, classifier, x, n_steps=4, n_samples=4)
        except Exception as error:  # a method the model cannot take: say so instead of leaving it out silently
            why[method] = f"{type(error).__name__}: {error}"
            continue
        usable.append(method)
    return usable, why


@dataclass
class Explained:
    """The user's trained models: the auto-encoder, the tuned TSInsight, Palacio et al., and what tuning chose."""

    autoencoder: nn.Module
    explainers: dict[str, TSInsight]
    tuning: pd.DataFrame
    gamma: float
    beta: float
    fell_back: bool
    histories: dict[str, pd.DataFrame]


def _restore(classifier: nn.Module, dataset: Dataset, stored: dict, mode: str, **weights) -> TSInsight:
    autoencoder = AutoEncoder(dataset.n_channels, dataset.length)
    autoencoder.load_state_dict(stored["state_dict"])
    return TSInsight(classifier, autoencoder, mode=mode, **weights)


def explain(classifier: nn.Module, dataset: Dataset, profile: Profile, *, progress: bool = False) -> Explained:
    """Train (or read from the cache) the auto-encoder, the tuned TSInsight and Palacio et al. for ``classifier``."""
    key = model_key(classifier, dataset, profile)
    config = profile.train_config(progress=progress)
    explainer_config = profile.train_config(max_epochs=profile.explainer_epochs, progress=progress)

    def pretrain() -> dict:
        torch.manual_seed(config.seed)  # its initial weights: torch's global generator is seeded anew in each process
        autoencoder = AutoEncoder(dataset.n_channels, dataset.length)
        history = fit_autoencoder(autoencoder, dataset, config)
        return dict(state_dict=autoencoder.state_dict(), history=history)

    stored_ae = cached("autoencoder", dict(key, model="autoencoder", train=config.key()), pretrain)
    autoencoder = AutoEncoder(dataset.n_channels, dataset.length)
    autoencoder.load_state_dict(stored_ae["state_dict"])
    start_gamma, start_beta = TABLE2["gamma"], TABLE2["beta"]

    def tune() -> dict:
        with warnings.catch_warnings():  # a capped candidate is recorded in the table; it cannot be chosen
            warnings.simplefilter("ignore", ConvergenceWarning)
            tuned = tuning.tune(classifier, autoencoder, dataset, explainer_config, gamma=start_gamma, beta=start_beta)
        history = tuned.explainer.history
        return dict(state_dict=tuned.explainer.autoencoder.state_dict(), table=tuned.table, gamma=tuned.gamma,
                    beta=tuned.beta, fell_back=tuned.fell_back, history=history)  # fmt: skip

    tuned = cached("explainer", dict(key, model="tuned", train=explainer_config.key(), rule=tuning.RULE), tune)

    def palacio() -> dict:
        explainer = TSInsight(classifier, copy.deepcopy(autoencoder), mode="palacio")
        history = explainer.fit(dataset, explainer_config)
        return dict(state_dict=explainer.autoencoder.state_dict(), history=history)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the page reports each fit's convergence
        stored_palacio = cached("explainer", dict(key, model="palacio", train=explainer_config.key()), palacio)
    explainers = {
        "tsinsight": _restore(classifier, dataset, tuned, "tsinsight", gamma=tuned["gamma"], beta=tuned["beta"]),
        "palacio": _restore(classifier, dataset, stored_palacio, "palacio"),
    }
    histories = {
        "autoencoder": stored_ae["history"],
        "tsinsight": tuned["history"],
        "palacio": stored_palacio["history"],
    }
    return Explained(
        autoencoder, explainers, tuned["table"], tuned["gamma"], tuned["beta"], tuned["fell_back"], histories
    )


def summary(classifier: nn.Module, dataset: Dataset, explained: Explained, profile: Profile) -> pd.DataFrame:
    """One row per model: test accuracy, and for the explainers their sparsity, alignment and convergence."""
    x, y = dataset.test.x, dataset.test.y
    rows = [dict(model="classifier", accuracy=accuracy(classifier, x, y))]
    for mode, explainer in explained.explainers.items():
        output = explainer.reconstruct(x)
        config = profile.train_config(max_epochs=profile.explainer_epochs)
        state = convergence(explained.histories[mode], config.early_stopping_patience, config.max_epochs)
        rows.append(
            dict(
                model=mode,
                accuracy=accuracy(explainer.pipeline, x, y),
                gamma=explainer.gamma,
                beta=explainer.beta,
                near_zero=near_zero_share(output, x),
                gini=float(np.mean(gini(np.abs(output)))),
                **alignment(output, x),
                **state,
            )  # fmt: skip
        )
    return pd.DataFrame(rows)


def _folds(n: int, seed: int = 0) -> list[np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return [np.sort(fold) for fold in np.array_split(order, min(FOLDS, n))]


def curves(
    classifier: nn.Module, dataset: Dataset, explained: Explained, profile: Profile, methods: list[str], *,
    filler: str = "zero", order: str = "lerf", progress: bool = False,
) -> pd.DataFrame:  # fmt: skip
    """Suppression curves of ``methods`` on the profile's ``n_eval`` test samples, one curve per fold (``run``)."""
    x, y = dataset.test.x[: profile.n_eval], dataset.test.y[: profile.n_eval]
    key = dict(model_key(classifier, dataset, profile), gamma=explained.gamma, beta=explained.beta)
    frames = [
        suppression_curves(
            classifier,
            x[fold],
            y[fold],
            explainers=explained.explainers,
            methods=methods,
            run=index,
            key=key,
            progress=progress,
            filler=filler,
            order=order,
        )  # fmt: skip
        for index, fold in enumerate(_folds(len(x)))
    ]
    return pd.concat(frames, ignore_index=True).assign(dataset=dataset.name, filler=filler, order=order)


def ranking(curves_table: pd.DataFrame, *, n_boot: int = 2000) -> pd.DataFrame:
    """Mean rank of each method (1 = best) over the folds, with its 95 % bootstrap interval, per setting."""
    frames = []
    for (filler, order), group in curves_table.groupby(["filler", "order"], sort=False):
        aucs = auc_table(group, by=("dataset", "method", "run"))
        aucs["auc"] = score(aucs["auc"], order)
        frames.append(mean_rank_interval(aucs, n_boot=n_boot).assign(filler=filler, order=order))
    return pd.concat(frames, ignore_index=True)


def robustness(
    classifier: nn.Module, dataset: Dataset, explained: Explained, profile: Profile, methods: list[str], *,
    progress: bool = False,
) -> pd.DataFrame:  # fmt: skip
    """:func:`curves` under every filler and deletion order of the robustness page."""
    settings = [(filler, order) for filler in FILLERS for order in ORDERS]
    return pd.concat(
        [
            curves(classifier, dataset, explained, profile, methods, filler=f, order=o, progress=progress)
            for f, o in settings
        ],
        ignore_index=True,
    )


def sanity(classifier: nn.Module, dataset: Dataset, explained: Explained, profile: Profile, methods: list[str]):
    """The cascading-randomisation check of the methods that do not need a refitted explainer, or why it cannot run."""
    chosen = [m for m in methods if m != "none" and TABLE[m].kind != "explainer"]
    try:
        return sanity_check(classifier, dataset.test.x[: min(profile.n_eval, 64)], methods=chosen, progress=False), None
    except Exception as error:  # a TorchScript model's layers cannot be re-initialised one by one, for one
        return None, f"{type(error).__name__}: {error}"


def ground_truth(classifier: nn.Module, dataset: Dataset, explained: Explained, profile: Profile, methods: list[str]):
    """AUP, AUR and top-1 of each method against the evidence mask of the test split (None without one)."""
    if dataset.test.evidence is None:
        return None
    x, evidence = dataset.test.x[: profile.n_eval], dataset.test.evidence[: profile.n_eval]
    if not evidence.reshape(len(x), -1).any():
        return None
    key = dict(model_key(classifier, dataset, profile), gamma=explained.gamma, beta=explained.beta)
    chosen = [m for m in methods if m != "none"]
    return ground_truth_table(classifier, x, evidence, explainers=explained.explainers, methods=chosen, key=key,
                              progress=False)  # fmt: skip
