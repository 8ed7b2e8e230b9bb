"""The property pages' experiments (Figs. 5, 6, 8, 9 and Section 6.2), run on the zoo's models and cached.

Each function takes a data set name and a profile, fetches the models it needs from :mod:`tsinsight.zoo`
(trained or cached), runs one evaluation of :mod:`tsinsight.evaluation` on the profile's evaluation subset
and returns the table its rule in :mod:`tsinsight.claims` reads. Expensive intermediate results are stored
keyed by the models' keys and a fingerprint of the inputs, so a page never recomputes what it (or another
page) already computed with the same models and data.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from torch import nn

from tsinsight import zoo
from tsinsight.artifacts import cached, fingerprint
from tsinsight.attribution import EXPLAINER_METHODS
from tsinsight.evaluation.attribution_stats import agreement, last_points_share, mass_per_step
from tsinsight.evaluation.fgsm import fgsm_accuracy
from tsinsight.evaluation.jacobian import jacobian_spectrum, spectrum_summary
from tsinsight.evaluation.landscape import landscape_summary, loss_landscape
from tsinsight.explainer import TSInsight
from tsinsight.profiles import Profile, get_profile
from tsinsight.training import accuracy, convergence, majority_share


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
    if model not in EXPLAINER_METHODS:
        raise ValueError(f"unknown model {model!r}: choose classifier, autoencoder or one of {EXPLAINER_METHODS}")
    trained = zoo.explainer(name, profile, seed, mode=model)
    return getattr(trained.model, part), trained.key


# ---------------------------------------------------------------------- Fig. 6
# How the adversarial examples of Section 6.4 are made: through the whole pipeline under attack (white-box), or on
# the classifier alone and then passed through the auto-encoder ("representation-guided denoising").
FGSM_READINGS = ("white_box", "classifier_crafted")


def fgsm_robustness(
    name: str,
    profile: str | Profile,
    epsilons,
    *,
    runs: int | None = None,
    models=("classifier", "palacio", "tsinsight"),
    readings=FGSM_READINGS,
) -> pd.DataFrame:
    """Fig. 6: accuracy under FGSM per reading, model and run seed; columns ``reading, model, run, epsilon, accuracy``.

    The classifier is attacked alone under both readings. An explainer's pipeline is attacked through itself
    (``white_box``) or evaluated on the examples crafted on the classifier alone (``classifier_crafted``).
    """
    profile = get_profile(profile)
    unknown = set(readings) - set(FGSM_READINGS)
    if unknown:
        raise ValueError(f"unknown FGSM readings {sorted(unknown)}: choose from {FGSM_READINGS}")
    evaluated = zoo.evaluation_set(name, profile)
    epsilons = [float(epsilon) for epsilon in epsilons]
    frames = []
    for reading in readings:
        for model in models:
            for seed in profile.run_seeds(runs):
                network, key = _model(name, profile, seed, model, "pipeline")
                source, source_key = (None, None)
                if reading == "classifier_crafted" and model != "classifier":
                    source, source_key = _model(name, profile, seed, "classifier", "pipeline")
                frame = cached(
                    "fgsm",
                    {"model": key, "x": fingerprint(evaluated.x, evaluated.y), "epsilons": epsilons}
                    | ({"crafted_on": source_key} if source_key else {}),
                    lambda network=network, source=source: fgsm_accuracy(
                        network, evaluated.x, evaluated.y, epsilons, crafted_on=source
                    ),
                )
                frames.append(frame.assign(reading=reading, model=model, run=seed))
    return pd.concat(frames, ignore_index=True)[["reading", "model", "run", "epsilon", "accuracy"]]


def fgsm_summary(curves: pd.DataFrame, name: str, profile: str | Profile) -> pd.DataFrame:
    """Mean and spread over runs of :func:`fgsm_robustness`'s curves: the table ``claims.fgsm_claims`` reads.

    Columns: ``reading, model, epsilon, accuracy_mean, accuracy_std, runs, dataset, n_eval, majority``.
    """
    evaluated = zoo.evaluation_set(name, profile)
    return (
        curves.groupby(["reading", "model", "epsilon"], sort=False)
        .accuracy.agg(accuracy_mean="mean", accuracy_std="std", runs="size")
        .reset_index()
        .assign(dataset=name, n_eval=len(evaluated), majority=majority_share(evaluated.y))
    )


# ---------------------------------------------------------------------- Fig. 5
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
        for seed in profile.run_seeds(runs):
            autoencoder, key = _model(name, profile, seed, model, "autoencoder")
            spectra[model, seed] = cached(
                "jacobian_spectrum",
                {"model": key, "x": fingerprint(x)},
                lambda autoencoder=autoencoder: jacobian_spectrum(autoencoder, x),
            )
    return spectra


def jacobian_summary(
    spectra: dict[tuple[str, int], np.ndarray], name: str, profile: str | Profile, *, threshold: float = 0.1
) -> pd.DataFrame:
    """One row per model, averaged over runs: the table ``claims.jacobian_claims`` reads.

    Columns: ``model, runs, share_below`` (share of singular values below ``threshold`` × the largest),
    ``share_below_std, effective_rank, effective_rank_std, effective_rank_share, largest, dimensions,
    threshold, dataset, n_eval``.
    """
    per_run = pd.DataFrame(
        [
            {"model": model, "run": seed, **spectrum_summary(values, relative_threshold=threshold)}
            for (model, seed), values in spectra.items()
        ]
    )
    return (
        per_run.groupby("model", sort=False)
        .agg(
            runs=("run", "size"),
            share_below=("share_below", "mean"),
            share_below_std=("share_below", "std"),
            effective_rank=("effective_rank", "mean"),
            effective_rank_std=("effective_rank", "std"),
            effective_rank_share=("effective_rank_share", "mean"),
            largest=("largest", "mean"),
            dimensions=("n", "first"),
        )
        .reset_index()
        .assign(threshold=threshold, dataset=name, n_eval=len(zoo.evaluation_set(name, profile)))
    )


# ---------------------------------------------------------------------- Fig. 8
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


def landscape_table(
    surfaces: dict[str, pd.DataFrame], name: str, profile: str | Profile, *, seed: int = 0, direction_seed: int = 0
) -> pd.DataFrame:
    """One row of :func:`~tsinsight.evaluation.landscape.landscape_summary` per surface: what ``claims.landscape_claims`` reads."""
    profile = get_profile(profile)
    return pd.DataFrame([{"model": model, **landscape_summary(frame)} for model, frame in surfaces.items()]).assign(
        dataset=name,
        points=profile.landscape_grid,
        samples=len(zoo.evaluation_set(name, profile, n=profile.landscape_samples)),
        seed=seed,
        direction_seed=direction_seed,
    )


# ---------------------------------------------------------------------- Fig. 9
KINDS = ("cnn", "lstm")


def architecture_attributions(
    name: str, profile: str | Profile, runs: int | None = None
) -> dict[tuple[str, int], np.ndarray]:
    """TSInsight's attribution on the evaluation subset with each classifier kind, by ``(kind, run seed)``."""
    profile = get_profile(profile)
    x = zoo.evaluation_set(name, profile).x
    return {
        (kind, seed): zoo.explainer(name, profile, seed, kind=kind).model.attribute(x)
        for kind in KINDS
        for seed in profile.run_seeds(runs)
    }


def architectures_summary(
    attributions: dict[tuple[str, int], np.ndarray], name: str, profile: str | Profile, *, last_fraction: float = 0.1
) -> pd.DataFrame:
    """Fig. 9 per classifier kind, averaged over runs: the table ``claims.architectures_claims`` reads.

    Columns: ``kind, runs, last_points_share`` (share of the attribution mass in the last ``last_fraction`` of
    the steps), ``last_points_share_std, classifier_accuracy, tsinsight_accuracy`` (test split), ``uniform_share,
    last_fraction, dataset, n_eval, peak_step`` (the step of the largest average mass), ``length, majority``.
    """
    profile = get_profile(profile)
    test = zoo.dataset(name, profile).test
    rows = []
    for (kind, seed), attribution in attributions.items():
        explainer = zoo.explainer(name, profile, seed, kind=kind).model
        rows.append(
            {
                "kind": kind,
                "run": seed,
                "classifier_accuracy": accuracy(explainer.classifier, test.x, test.y),
                "tsinsight_accuracy": accuracy(explainer.pipeline, test.x, test.y),
                "last_points_share": last_points_share(attribution, fraction=last_fraction),
            }
        )
    length = test.x.shape[-1]
    summary = (
        pd.DataFrame(rows)
        .groupby("kind", sort=False)
        .agg(
            runs=("run", "size"),
            last_points_share=("last_points_share", "mean"),
            last_points_share_std=("last_points_share", "std"),
            classifier_accuracy=("classifier_accuracy", "mean"),
            tsinsight_accuracy=("tsinsight_accuracy", "mean"),
        )
        .reset_index()
        .assign(
            uniform_share=math.ceil(last_fraction * length) / length,
            last_fraction=last_fraction,
            dataset=name,
            n_eval=len(next(iter(attributions.values()))),
        )
    )
    summary["peak_step"] = [int(mass_profile(attributions, kind).mean(axis=0).argmax()) for kind in summary.kind]
    summary["length"] = length
    summary["majority"] = majority_share(test.y)
    return summary


def mass_profile(attributions: dict[tuple[str, int], np.ndarray], kind: str) -> np.ndarray:
    """The average attribution mass per time step of each run with classifier ``kind``: ``(runs, length)``."""
    return np.stack([mass_per_step(values) for (k, _), values in attributions.items() if k == kind])


# ---------------------------------------------------------------------- Section 6.2
def instance_choice(name: str, profile: str | Profile, instances: int) -> list[int]:
    """Test inputs explained both ways: the first of each class (anomalous and normal alike), then the next ones."""
    y = zoo.dataset(name, profile).test.y
    first_of_class = [int(np.flatnonzero(y == label)[0]) for label in np.unique(y)]
    rest = [i for i in range(len(y)) if i not in first_of_class]
    return (first_of_class + rest)[:instances]


def instance_fits(name: str, profile: str | Profile, indices, *, seed: int = 0) -> list[dict]:
    """Section 6.2: TSInsight fine-tuned on each test input alone (``fit_instance``): its ``attribution`` and ``history``.

    Each instance-level explainer starts from the same pretrained classifier and auto-encoder as the
    model-level one, with its γ and β, and takes steps on its one input until its own loss stops improving
    (Table 2's patience, at most ``profile.instance_epochs`` steps).
    """
    profile = get_profile(profile)
    test = zoo.dataset(name, profile).test
    classifier = zoo.classifier(name, profile, seed)
    autoencoder = zoo.autoencoder(name, profile, seed)
    model_level = zoo.explainer(name, profile, seed).model
    gamma, beta = model_level.gamma, model_level.beta
    config = zoo.explainer_config(profile, seed, max_epochs=profile.instance_epochs)

    def fit_one(index: int) -> dict:
        start = TSInsight(classifier.model, autoencoder.model, gamma=gamma, beta=beta)
        fitted = start.fit_instance(test.x[index], int(test.y[index]), config)
        ended = convergence(fitted.history, config.early_stopping_patience, config.max_epochs)
        return dict(attribution=fitted.attribute(test.x[index : index + 1])[0], history=fitted.history, **ended)

    key = {"classifier": classifier.key, "autoencoder": autoencoder.key, "gamma": gamma, "beta": beta}
    return [
        cached(
            "instance_fit", {**key, "index": int(index), "train": config.key()}, lambda index=index: fit_one(int(index))
        )
        for index in indices
    ]


def instance_attributions(name: str, profile: str | Profile, indices, *, seed: int = 0) -> np.ndarray:
    """The attributions of :func:`instance_fits`, stacked ``(len(indices), channels, length)``."""
    return np.stack([fit["attribution"] for fit in instance_fits(name, profile, indices, seed=seed)])


def instance_agreement(
    name: str, profile: str | Profile, indices, *, seed: int = 0, top_k: float = 0.05
) -> pd.DataFrame:
    """Model- vs instance-level attributions of ``indices``: the table ``claims.instance_claims`` reads.

    Columns: ``rank_correlation, top_k_overlap, sample, label, k, dataset, instance_epochs``.
    """
    profile = get_profile(profile)
    test = zoo.dataset(name, profile).test
    model_level = zoo.explainer(name, profile, seed).model.attribute(test.x[indices])
    fits = instance_fits(name, profile, indices, seed=seed)
    instance_level = np.stack([fit["attribution"] for fit in fits])
    return agreement(model_level, instance_level, k=top_k).assign(
        sample=list(indices),
        label=test.y[indices],
        k=top_k,
        dataset=name,
        instance_epochs=profile.instance_epochs,
        instance_steps=[fit["epochs"] for fit in fits],
        instance_stopped_early=[fit["stopped_early"] for fit in fits],
    )
