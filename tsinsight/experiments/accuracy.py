"""Table 3 and Figs. 1–2: the test accuracy of every trained model, their training curves, and the γ × β trade-off."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from tsinsight import paper, zoo
from tsinsight.evaluation.suppress import area_under_curve, suppression
from tsinsight.explainer import Pipeline, alignment, mode_weights, near_zero_share
from tsinsight.profiles import Profile, get_profile
from tsinsight.training import accuracy, convergence, majority_share
from tsinsight.tuning import SPARSITY_TOLERANCE

VARIANTS = ("tsinsight", "palacio", "sparsity_only")  # the fine-tuned auto-encoders of Figs. 1–2


def accuracy_table(
    name: str,
    profile: str | Profile,
    runs: int | None = None,
    kind: str = "cnn",
    gamma: float | None = None,
    beta: float | None = None,
    *,
    weights: str = "tuned",
    progress: bool = False,
) -> pd.DataFrame:
    """Test accuracy of every model of ``name`` for run seeds ``0..runs-1`` (None: the profile's runs), trained or cached.

    Models: ``classifier`` alone, ``autoencoder`` (the plain auto-encoder in front of the classifier) and
    each of ``VARIANTS`` in front of it. γ, β left ``None`` come from ``weights`` (``zoo.default_weights``).
    Columns: ``dataset, run, model, accuracy`` (fraction), ``seconds`` (training time), ``epochs``, ``best_epoch``,
    ``stopped_early`` and ``capped`` (``training.convergence``: the fit ended by early stopping or at its cap), ``gamma, beta,
    weights`` (``tuned``, ``table3`` or ``given``), ``kind, profile, n_test, majority`` (the commonest class's share
    of the test set), ``source, substitute``. :func:`tsinsight.claims.table3_claims` reads this table.
    """
    profile = get_profile(profile)
    origin = "given" if gamma is not None or beta is not None else weights
    rows = []

    def row(*args, **kwargs):
        rows.append(_accuracy_row(name, profile, kind, origin, *args, **kwargs))

    for seed in profile.run_seeds(runs):
        base = zoo.classifier(name, profile, seed, kind, progress=progress)
        plain = zoo.autoencoder(name, profile, seed, progress=progress)
        row(seed, "classifier", base.model, base)
        row(seed, "autoencoder", Pipeline(plain.model, base.model), plain)
        for mode in VARIANTS:
            fitted = variant(
                name, profile, seed, mode, kind, gamma, beta, weights=weights, runs=runs, progress=progress
            )
            row(seed, mode, fitted.model.pipeline, fitted, fitted.model.gamma, fitted.model.beta)
    return pd.DataFrame(rows)


def swept(gamma: float | None, beta: float | None, weights: str = "tuned") -> bool:
    """Whether the tuning sweep decides the explainers' γ, β: neither given and ``weights="tuned"``."""
    return gamma is None and beta is None and weights == "tuned"


def variant(
    name: str,
    profile: str | Profile,
    seed: int,
    mode: str,
    kind: str = "cnn",
    gamma: float | None = None,
    beta: float | None = None,
    *,
    weights: str = "tuned",
    runs: int | None = None,
    progress: bool = False,
) -> zoo.Trained:
    """Run ``seed``'s explainer in ``mode`` (one of ``VARIANTS``), as every function of this page asks for it.

    With neither γ nor β given and ``weights="tuned"`` it is the zoo's, whose weights the tuning sweep chooses. With
    one or both given, the other comes from Table 3 (``zoo.default_weights``), and with ``weights="table3"`` both do;
    then no sweep runs, and every run's variants of those weights (seeds
    ``0..runs-1``; one run at a time for a recurrent classifier) are fitted together as one stacked group, the way
    the zoo fits the runs' explainers, so that re-running a page with new weights costs one stacked fit.
    """
    profile = get_profile(profile)
    if swept(gamma, beta, weights):
        return zoo.explainer(name, profile, seed, mode, kind=kind, progress=progress)
    filled = zoo.default_weights(name, profile, "tsinsight", gamma, beta, kind, weights=weights)
    seeds = [seed] if kind == "lstm" else list(profile.run_seeds(runs))
    group = [(run, each, *mode_weights(each, *filled).values()) for run in seeds for each in VARIANTS]
    return zoo.explainer(
        name, profile, seed, mode, kind=kind, progress=progress, group=group, **mode_weights(mode, *filled)
    )


def weights_origin(name: str, gamma: float | None, beta: float | None, weights: str = "tuned") -> str:
    """A sentence saying where a page's γ, β come from when the tuning sweep does not decide them (Markdown)."""
    if weights not in zoo.WEIGHTS:
        raise ValueError(f"unknown weights {weights!r}: choose one of {zoo.WEIGHTS}")
    table3 = dict(zip(("gamma", "beta"), paper.starting_weights(name), strict=True))
    given = {"gamma": gamma, "beta": beta}
    if swept(gamma, beta, weights):
        raise ValueError("with neither γ nor β given and weights='tuned', the tuning sweep decides: nothing to say")
    if gamma is None and beta is None:
        parts = ['γ and β are Table 3\'s (`weights="table3"`)']
    else:
        parts = [f"{symbol} = {given[w]:g} is given" if given[w] is not None else f"{symbol} = {table3[w]:g} is Table 3's"
                 for w, symbol in (("gamma", "γ"), ("beta", "β"))]  # fmt: skip
    return (
        f"{' and '.join(parts)}: every run's TSInsight, sparsity-only and Palacio et al. explainers are fitted with "
        f"them, together as one stacked model, and the tuning sweep is not run (give neither γ nor β, with "
        f'`weights="tuned"`, to run it and see its choice).'
    )


def _accuracy_row(
    name, profile: Profile, kind, origin, seed, model_name, model, trained, gamma=None, beta=None
) -> dict:
    """One row of :func:`accuracy_table`: ``model``'s test accuracy and how its fit (``trained``) ended."""
    data = zoo.dataset(name, profile)
    config = zoo.explainer_config(profile) if model_name in VARIANTS else profile.train_config()
    ended = convergence(trained.history, config.early_stopping_patience, config.max_epochs)
    return dict(dataset=name, run=seed, model=model_name, accuracy=accuracy(model, data.test.x, data.test.y),
                seconds=trained.seconds, epochs=len(trained.history), best_epoch=ended["best_epoch"],
                stopped_early=ended["stopped_early"], capped=ended["capped"], gamma=gamma, beta=beta,
                weights=None if gamma is None and beta is None else origin, kind=kind, profile=profile.name,
                n_test=len(data.test), majority=majority_share(data.test.y), source=data.source,
                substitute=data.substitute)  # fmt: skip


def paper_table3(
    name: str, profile: str | Profile = "paper", runs: int | None = None, kind: str = "cnn", *, progress: bool = False
) -> pd.DataFrame:
    """Table 3 as the paper made it: the classifier and TSInsight with the paper's own γ, β for ``name`` (its Table 3
    row; Table 2's for a data set the paper does not have), for run seeds ``0..runs-1`` (None: the profile's runs).

    Unlike :func:`accuracy_table` there is no tuning sweep and no other variant, so the paper-scale table costs only
    what the paper's did: each run's classifier and auto-encoder, and every run's TSInsight fitted together as one
    stacked model (``zoo.fit_runs``: each member with its own seed, classifier, early stopping and best weights).
    Rows as :func:`accuracy_table`'s, for the models ``classifier`` and ``tsinsight`` (weights ``table3``);
    :func:`compare_table3` sets them beside the paper's.
    """
    profile = get_profile(profile)
    gamma, beta = paper.starting_weights(name)
    seeds = list(profile.run_seeds(runs))
    group = [(seed, "tsinsight", gamma, beta) for seed in seeds]
    rows = []
    for seed in seeds:
        base = zoo.classifier(name, profile, seed, kind, progress=progress)
        rows.append(_accuracy_row(name, profile, kind, "table3", seed, "classifier", base.model, base))
    for seed in seeds:
        fitted = zoo.explainer(name, profile, seed, "tsinsight", gamma, beta, kind, progress=progress, group=group)
        rows.append(
            _accuracy_row(name, profile, kind, "table3", seed, "tsinsight", fitted.model.pipeline, fitted, gamma, beta)
        )
    return pd.DataFrame(rows)


def training_histories(
    name: str,
    profile: str | Profile,
    runs: int | None = None,
    kind: str = "cnn",
    gamma: float | None = None,
    beta: float | None = None,
    *,
    weights: str = "tuned",
) -> pd.DataFrame:
    """The per-epoch histories of every model of :func:`accuracy_table` in one long table (``model, run`` added)."""
    profile = get_profile(profile)
    frames = []
    for seed in profile.run_seeds(runs):
        frames.append(zoo.classifier(name, profile, seed, kind).history.assign(model="classifier", run=seed))
        frames.append(zoo.autoencoder(name, profile, seed).history.assign(model="autoencoder", run=seed))
        for mode in VARIANTS:
            fitted = variant(name, profile, seed, mode, kind, gamma, beta, weights=weights, runs=runs)
            frames.append(fitted.history.assign(model=mode, run=seed))
    return pd.concat(frames, ignore_index=True)


def outputs(
    name: str,
    profile: str | Profile,
    x,
    seed: int = 0,
    kind: str = "cnn",
    gamma=None,
    beta=None,
    *,
    weights="tuned",
    runs: int | None = None,
) -> dict:
    """Figs. 1–2: the output of the plain auto-encoder and of each of ``VARIANTS`` on ``x``, by model name
    (``runs``: as given to :func:`accuracy_table`, whose stacked group of given weights it reads)."""
    profile = get_profile(profile)
    shown = {"autoencoder": zoo.autoencoder(name, profile, seed).model}
    result = {"autoencoder": _reconstruct(shown["autoencoder"], x)}
    for mode in VARIANTS[::-1]:
        fitted = variant(name, profile, seed, mode, kind, gamma, beta, weights=weights, runs=runs)
        result[mode] = fitted.model.reconstruct(x)
    return result


@torch.no_grad()
def _reconstruct(autoencoder, x):
    return autoencoder(torch.as_tensor(x)).numpy()


def compare_table3(accuracies: pd.DataFrame) -> pd.DataFrame:
    """Table 3 beside ours: one row per data set of ``accuracies`` (rows of :func:`accuracy_table`), in percent.

    Columns per model (``classifier``, ``tsinsight``): ``<model>_paper``, ``<model>_ours`` (mean over runs),
    ``<model>_std`` (standard deviation over runs; NaN for one run), ``<model>_diff`` (ours − paper); plus
    ``gamma, beta`` (ours), ``runs``, ``profile``, ``source``, ``substitute``.
    """
    rows = []
    for name, group in accuracies.groupby("dataset", sort=False):
        tsinsight_rows = group[group["model"] == "tsinsight"]
        out = dict(dataset=name, label=paper.label(name),
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
    suppression_auc``, ``classifier_accuracy`` (the classifier alone), ``dataset, profile``.
    """
    profile = get_profile(profile)
    data = zoo.dataset(name, profile)
    evaluated = zoo.evaluation_set(name, profile)
    x, y = evaluated.x, evaluated.y
    paper_gamma, paper_beta = paper.starting_weights(name)
    settings = [("grid", "tsinsight", float(g), float(b)) for g in gammas for b in betas]
    settings += [("paper", "tsinsight", paper_gamma, paper_beta), ("saliency", "saliency", None, None)]
    classifier_accuracy = accuracy(zoo.classifier(name, profile, seed, kind).model, data.test.x, data.test.y)
    group = list(dict.fromkeys((g, b) for _, mode, g, b in settings if mode == "tsinsight"))  # fitted together
    rows = []
    for setting, mode, gamma, beta in settings:
        stacked = dict(group=group) if mode == "tsinsight" else {}
        fitted = zoo.explainer(name, profile, seed, mode, gamma, beta, kind, progress=progress, **stacked).model
        curve = suppression(fitted.classifier, x, y, fitted.attribute(x))
        rows.append(dict(setting=setting, mode=mode, gamma=gamma, beta=beta,
                         accuracy=accuracy(fitted.pipeline, data.test.x, data.test.y),
                         sparsity=fitted.sparsity(data.test.x, tolerance), suppression_auc=area_under_curve(curve)))  # fmt: skip
    return pd.DataFrame(rows).assign(classifier_accuracy=classifier_accuracy, dataset=name, profile=profile.name)


def weights_comparison(name: str, profile: str | Profile, kind: str = "cnn", runs: int | None = None) -> pd.DataFrame:
    """TSInsight's output with the tuned γ, β (every run) beside Table 3's (run 0), on the test split.

    Columns: ``weights`` (``table3``, ``tuned``), ``run``, ``gamma, beta, accuracy`` (pipeline),
    ``classifier_accuracy``, ``zeroed_accuracy`` (the classifier on the output with every near-zero point set to
    exactly 0: whether the points called zero are zero to the classifier), ``sparsity`` (share of output points
    ≤ 0.05·std x, ``near_zero_share``) with ``sparsity_01`` / ``sparsity_10`` (at 0.01 and 0.1·std), the quantiles
    ``q50, q90`` of ``|output|``/std x, ``kept_share, sign_agreement, kept_correlation`` (``explainer.alignment``:
    does the output follow the input where it is not zero), ``stopped_early``, ``best_epoch``, ``fell_back`` (the
    tuning found no qualifying setting), ``kind``, ``profile``, ``dataset``. :func:`tsinsight.claims.sparse_output_claims`
    reads it.
    """
    profile = get_profile(profile)
    test = zoo.dataset(name, profile).test
    choice = zoo.tuned(name, profile, kind)
    config = zoo.explainer_config(profile)
    rows = []
    for weights, seeds in (("table3", [0]), ("tuned", profile.run_seeds(runs))):
        for seed in seeds:
            base = zoo.classifier(name, profile, seed, kind).model
            trained = zoo.explainer(name, profile, seed, kind=kind, weights=weights)
            fitted = trained.model
            output = fitted.reconstruct(test.x)
            scale = np.abs(output) / test.x.std()
            zeroed = np.where(scale <= SPARSITY_TOLERANCE, 0.0, output).astype(np.float32)
            ended = convergence(trained.history, config.early_stopping_patience, config.max_epochs)
            rows.append(dict(weights=weights, run=seed, gamma=fitted.gamma, beta=fitted.beta,
                             accuracy=accuracy(fitted.pipeline, test.x, test.y),
                             classifier_accuracy=accuracy(base, test.x, test.y),
                             zeroed_accuracy=accuracy(base, zeroed, test.y),
                             sparsity=near_zero_share(output, test.x), sparsity_01=near_zero_share(output, test.x, 0.01),
                             sparsity_10=near_zero_share(output, test.x, 0.1), q50=float(np.quantile(scale, 0.5)),
                             q90=float(np.quantile(scale, 0.9)), **alignment(output, test.x),
                             stopped_early=ended["stopped_early"], best_epoch=ended["best_epoch"]))  # fmt: skip
    return pd.DataFrame(rows).assign(fell_back=choice.fell_back, kind=kind, profile=profile.name, dataset=name)
