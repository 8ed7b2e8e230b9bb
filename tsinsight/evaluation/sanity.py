"""Model-randomisation sanity check (Adebayo et al., NeurIPS 2018, "Sanity checks for saliency maps").

An attribution that explains a model must change when the model does. The cascading test re-initialises
the classifier's layers one after the other from the top (the linear head first, then the blocks below
it: the conv blocks of the CNN from the last to the first, the LSTM) and, after each step, measures the
Spearman rank correlation between every method's attributions on the trained and on the randomised
model — per sample, then averaged. A correlation that stays near 1 means the method ignores the weights.

TSInsight's attribution is the output of an auto-encoder fine-tuned against the classifier, so it can
only change when the auto-encoder is fine-tuned again: the caller passes ``refit(classifier, mode)``,
which returns an explainer fitted against the randomised classifier (the notebooks use the profile's
training budget).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from tsinsight.attribution import EXPLAINER_METHODS, METHODS, attribute
from tsinsight.checks import check_inputs
from tsinsight.evaluation import attribution_stats

SANITY_METHODS: tuple[str, ...] = tuple(method for method in METHODS if method != "none")  # a constant has no ranks


def cascade_layers(classifier: nn.Module) -> list[tuple[str, nn.Module]]:
    """The classifier's parametrised layers from the output back to the input, named by their module path.

    The children of a top-level ``nn.Sequential`` count one by one (the CNN's conv–batch-norm–ReLU blocks);
    modules are taken in registration order, which is the forward order of
    :class:`~tsinsight.models.CNNClassifier` and :class:`~tsinsight.models.LSTMClassifier`.
    """
    layers: list[tuple[str, nn.Module]] = []
    for name, child in classifier.named_children():
        parts = child.named_children() if isinstance(child, nn.Sequential) else [(None, child)]
        for part, module in parts:
            if any(True for _ in module.parameters()):
                layers.append((name if part is None else f"{name}.{part}", module))
    if not layers:
        raise ValueError(f"{type(classifier).__name__} has no parametrised layers to randomise")
    return layers[::-1]


def randomise(layer: nn.Module, seed: int) -> None:
    """Re-initialise every submodule of ``layer`` in place with its own default initialisation, seeded.

    Batch-norm layers go back to their initial affine parameters and running statistics.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for module in layer.modules():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
            if hasattr(module, "reset_running_stats"):
                module.reset_running_stats()


def cascading_randomisation(classifier: nn.Module, *, seed: int = 0) -> Iterator[tuple[str, nn.Module]]:
    """Copies of ``classifier`` with ever more layers randomised from the top: ``(layer name, model)`` pairs.

    The first pair is ``("none", an untouched copy)``; the ``k``-th randomises the top ``k`` layers of
    :func:`cascade_layers`. The original classifier is never modified; each yielded copy is independent.
    """
    model = copy.deepcopy(classifier)
    yield "none", copy.deepcopy(model)
    for step, (name, layer) in enumerate(cascade_layers(model), start=1):
        randomise(layer, seed + step)
        yield name, copy.deepcopy(model)


def per_sample_rank_correlation(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Spearman correlation between two attributions, per sample (NaN where either is constant)."""
    before, after = np.asarray(before), np.asarray(after)
    if before.shape != after.shape:
        raise ValueError(f"attributions of shapes {before.shape} and {after.shape} cannot be compared")
    return np.array([attribution_stats.rank_correlation(a, b) for a, b in zip(before, after, strict=True)])


def sanity_check(
    classifier: nn.Module,
    x: np.ndarray,
    *,
    methods: Sequence[str] = SANITY_METHODS,
    explainers: Mapping[str, Any] | None = None,
    refit: Callable[[nn.Module, str], Any] | None = None,
    seed: int = 0,
    batch_size: int | None = None,
    progress: bool = True,
    **attribute_options: int,
) -> pd.DataFrame:
    """Cascading randomisation: ``method, step, layer, correlation, std, defined`` for every method and step.

    ``step`` 0 (layer ``none``) recomputes the attributions on an untouched copy, so its correlation is 1
    for every deterministic method; step ``k`` has the top ``k`` layers randomised. ``correlation`` is the
    mean Spearman correlation over the samples where it is defined (``defined`` of them; a constant
    attribution has none), ``std`` its spread. ``tsinsight``/``palacio`` read ``explainers[method]`` on the
    trained classifier and ``refit(randomised_classifier, method)`` on each randomised one.
    ``attribute_options`` (``n_steps``, ``n_samples``) pass through to :func:`tsinsight.attribution.attribute`.
    """
    check_inputs(x, model=classifier)
    unknown = [method for method in methods if method not in METHODS]
    if unknown:
        raise ValueError(f"unknown attribution methods {unknown}: choose from {', '.join(METHODS)}")
    explainers = dict(explainers or {})
    needs_explainer = [method for method in methods if method in EXPLAINER_METHODS]
    if needs_explainer and refit is None:
        raise ValueError(f"{needs_explainer} need refit=<callable(classifier, mode) -> explainer fitted against it>")

    def attributions(model: nn.Module, method: str, explainer: Any) -> np.ndarray:
        return attribute(method, model, x, explainer=explainer, seed=seed, batch_size=batch_size, **attribute_options)

    reference = {method: attributions(classifier, method, explainers.get(method)) for method in methods}
    stages = list(cascading_randomisation(classifier, seed=seed))
    if progress:
        from tqdm.auto import tqdm

        stages = tqdm(stages, desc="sanity", leave=False)
    rows = []
    for step, (layer, model) in enumerate(stages):
        for method in methods:
            explainer = None
            if method in EXPLAINER_METHODS:
                explainer = explainers.get(method) if step == 0 else refit(copy.deepcopy(model), method)
            correlations = per_sample_rank_correlation(reference[method], attributions(model, method, explainer))
            defined = correlations[~np.isnan(correlations)]
            rows.append(
                {
                    "method": method,
                    "step": step,
                    "layer": layer,
                    "correlation": float(defined.mean()) if len(defined) else np.nan,
                    "std": float(defined.std()) if len(defined) else np.nan,
                    "defined": len(defined),
                }
            )
    return pd.DataFrame(rows)
