"""The property pages' experiments: an evaluation run on the zoo's trained models, cached as an artifact.

Each function takes a data set name and a profile, fetches the models it needs from :mod:`tsinsight.zoo`
(trained or cached), runs one evaluation of :mod:`tsinsight.evaluation` on the profile's evaluation subset
and stores the result keyed by the models' keys and a fingerprint of the inputs, so a page never
recomputes what it (or another page) already computed with the same models and data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from torch import nn

from tsinsight import zoo
from tsinsight.artifacts import cached, fingerprint
from tsinsight.evaluation.fgsm import fgsm_accuracy
from tsinsight.evaluation.jacobian import jacobian_spectrum
from tsinsight.evaluation.landscape import loss_landscape
from tsinsight.explainer import TSInsight
from tsinsight.profiles import Profile, get_profile
from tsinsight.training import TrainConfig

EXPLAINER_MODES = ("palacio", "tsinsight")


def _runs(profile: Profile, runs: int | None) -> range:
    count = profile.runs if runs is None else runs
    if not isinstance(count, int) or count < 1:
        raise ValueError(f"runs must be a positive integer or None (the profile's), got {runs!r}")
    return range(count)


def _model(name: str, profile: Profile, seed: int, model: str, part: str) -> tuple[nn.Module, dict]:
    """The network called ``model`` (classifier, autoencoder or an explainer mode) and its artifact key.

    For an explainer, ``part`` picks its ``pipeline`` (auto-encoder + classifier) or its ``autoencoder``.
    """
    if model == "classifier":
        trained = zoo.classifier(name, profile, seed)
        return trained.model, trained.key
    if model == "autoencoder":
        trained = zoo.autoencoder(name, profile, seed)
        return trained.model, trained.key
    if model not in EXPLAINER_MODES:
        raise ValueError(f"unknown model {model!r}: choose classifier, autoencoder or one of {EXPLAINER_MODES}")
    trained = zoo.explainer(name, profile, seed, mode=model)
    return getattr(trained.model, part), trained.key


def fgsm_robustness(
    name: str,
    profile: str | Profile,
    epsilons,
    *,
    runs: int | None = None,
    models=("classifier", "palacio", "tsinsight"),
) -> pd.DataFrame:
    """Fig. 6: accuracy under FGSM for each model and run seed; columns ``model, run, epsilon, accuracy``.

    The classifier is attacked alone; an explainer through its whole pipeline (white-box).
    """
    profile = get_profile(profile)
    evaluated = zoo.evaluation_set(name, profile)
    epsilons = [float(epsilon) for epsilon in epsilons]
    frames = []
    for model in models:
        for seed in _runs(profile, runs):
            network, key = _model(name, profile, seed, model, "pipeline")
            frame = cached(
                "fgsm",
                {"model": key, "x": fingerprint(evaluated.x, evaluated.y), "epsilons": epsilons},
                lambda network=network: fgsm_accuracy(network, evaluated.x, evaluated.y, epsilons),
            )
            frames.append(frame.assign(model=model, run=seed))
    return pd.concat(frames, ignore_index=True)[["model", "run", "epsilon", "accuracy"]]


def jacobian_spectra(
    name: str,
    profile: str | Profile,
    *,
    runs: int | None = None,
    models=("autoencoder", "palacio", "tsinsight"),
) -> dict[tuple[str, int], np.ndarray]:
    """Fig. 5: the singular values of each auto-encoder's average Jacobian, by ``(model, run seed)``."""
    profile = get_profile(profile)
    x = zoo.evaluation_set(name, profile).x
    spectra = {}
    for model in models:
        for seed in _runs(profile, runs):
            autoencoder, key = _model(name, profile, seed, model, "autoencoder")
            spectra[model, seed] = cached(
                "jacobian_spectrum",
                {"model": key, "x": fingerprint(x)},
                lambda autoencoder=autoencoder: jacobian_spectrum(autoencoder, x),
            )
    return spectra


def landscapes(name: str, profile: str | Profile, *, seed: int = 0, direction_seed: int = 0) -> dict[str, pd.DataFrame]:
    """Fig. 8: the loss surfaces of the classifier alone and of TSInsight's pipeline with only its auto-encoder moving."""
    profile = get_profile(profile)
    evaluated = zoo.evaluation_set(name, profile, n=profile.landscape_samples)
    x, y = evaluated.x, evaluated.y
    classifier = zoo.classifier(name, profile, seed)
    explainer = zoo.explainer(name, profile, seed)
    settings = {"points": profile.landscape_grid, "x": fingerprint(x, y), "direction_seed": direction_seed}
    return {
        "classifier": cached(
            "loss_landscape",
            {"model": classifier.key, "moving": "all", **settings},
            lambda: loss_landscape(classifier.model, x, y, points=profile.landscape_grid, seed=direction_seed),
        ),
        "tsinsight": cached(
            "loss_landscape",
            {"model": explainer.key, "moving": "autoencoder", **settings},
            lambda: loss_landscape(
                explainer.model.pipeline,
                x,
                y,
                moving=explainer.model.autoencoder,
                points=profile.landscape_grid,
                seed=direction_seed,
            ),
        ),
    }


def instance_attributions(name: str, profile: str | Profile, indices, *, seed: int = 0) -> np.ndarray:
    """Section 6.2: TSInsight fine-tuned on each test input alone (``fit_instance``), that input's attribution.

    Each instance-level explainer starts from the same pretrained classifier and auto-encoder as the
    model-level one, with the paper's γ and β, for ``profile.instance_epochs`` steps.
    """
    profile = get_profile(profile)
    test = zoo.dataset(name, profile).test
    classifier = zoo.classifier(name, profile, seed)
    autoencoder = zoo.autoencoder(name, profile, seed)
    model_level = zoo.explainer(name, profile, seed).model
    gamma, beta = model_level.gamma, model_level.beta
    config = TrainConfig.for_profile(profile, seed=seed, max_epochs=profile.instance_epochs, progress=False)

    def fit_one(index: int) -> np.ndarray:
        start = TSInsight(classifier.model, autoencoder.model, gamma=gamma, beta=beta)
        fitted = start.fit_instance(test.x[index], int(test.y[index]), config)
        return fitted.attribute(test.x[index : index + 1])[0]

    key = {"classifier": classifier.key, "autoencoder": autoencoder.key, "gamma": gamma, "beta": beta}
    return np.stack(
        [
            cached(
                "instance_attribution",
                {**key, "index": int(index), "train": config.key()},
                lambda index=index: fit_one(int(index)),
            )
            for index in indices
        ]
    )
