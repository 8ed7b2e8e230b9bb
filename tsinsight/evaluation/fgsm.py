"""Accuracy under the fast gradient sign attack (FGSM) as its max ε grows (Fig. 6, Section 6.4).

The paper attacks the classifier alone, Palacio et al.'s auto-encoder + classifier and TSInsight's
auto-encoder + classifier, white-box: the attack's gradient flows through the whole pipeline it
attacks. The attack is Captum's :class:`captum.robust.FGSM` with the cross-entropy of the true label
(untargeted): x' = x + ε·sign(∇ₓ CE(f(x), y)), an L∞ perturbation of size ε, unbounded in value (the
series are standardised, not images in [0, 1]).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm import tqdm

from tsinsight.checks import check_labelled_inputs
from tsinsight.imports import captum
from tsinsight.models import rnn_backward_allowed
from tsinsight.training import resolve_device


def fgsm_accuracy(
    model: nn.Module,
    x: np.ndarray | torch.Tensor,
    y: np.ndarray | torch.Tensor,
    epsilons: Sequence[float],
    *,
    crafted_on: nn.Module | None = None,
    batch_size: int = 256,
    device: str | torch.device | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Accuracy of ``model`` on FGSM adversarial examples of ``(x, y)``, one row per ε: columns ``epsilon, accuracy``.

    The examples are crafted with the gradient of ``crafted_on`` (default: ``model`` itself, a white-box
    attack). Passing the classifier alone while ``model`` is an explainer's pipeline gives the other reading of
    Section 6.4: examples made against the classifier, then cleaned by the auto-encoder in front of it.

    ``model`` maps ``(batch, channels, length)`` to logits: a classifier, or an explainer's
    ``.pipeline`` (auto-encoder then classifier) to attack through the auto-encoder. It is evaluated in
    eval mode on a private copy on ``device`` (``None``: CUDA when available, else CPU). ε = 0 leaves the
    inputs unchanged, so its row is the clean accuracy. Accuracy is a fraction in [0, 1].
    """
    inputs, labels = check_labelled_inputs(x, y, model)
    if crafted_on is not None:
        check_labelled_inputs(x, y, crafted_on, "model the examples are crafted on")
    epsilons = _check_epsilons(epsilons)
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    device = resolve_device(device)
    model = copy.deepcopy(model).to(device).eval()
    source = model if crafted_on is None else copy.deepcopy(crafted_on).to(device).eval()
    for parameter in [*model.parameters(), *source.parameters()]:
        parameter.requires_grad_(False)  # the attack needs gradients with respect to the input only
    attack = captum("robust").FGSM(source, loss_func=nn.CrossEntropyLoss(reduction="none"))

    correct = np.zeros(len(epsilons), dtype=np.int64)
    starts = range(0, len(inputs), batch_size)
    for start in tqdm(starts, desc="FGSM", disable=not progress):
        # Captum warns about (and then sets) an input that does not require gradients: set it here.
        batch = inputs[start : start + batch_size].to(device).requires_grad_(True)
        target = labels[start : start + batch_size].to(device)
        for index, epsilon in enumerate(epsilons):
            with rnn_backward_allowed(source):
                adversarial = attack.perturb(batch, epsilon=epsilon, target=target).detach()
            with torch.no_grad():
                correct[index] += int((model(adversarial).argmax(dim=1) == target).sum())
    return pd.DataFrame({"epsilon": epsilons, "accuracy": correct / len(inputs)})


def fgsm_curves(
    models: dict[str, nn.Module],
    x: np.ndarray | torch.Tensor,
    y: np.ndarray | torch.Tensor,
    epsilons: Sequence[float],
    *,
    batch_size: int = 256,
    device: str | torch.device | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """:func:`fgsm_accuracy` for each named model on the same inputs: columns ``model, epsilon, accuracy``."""
    if not models:
        raise ValueError("models is empty: pass a dict of name → nn.Module")
    frames = [
        fgsm_accuracy(model, x, y, epsilons, batch_size=batch_size, device=device, progress=progress).assign(model=name)
        for name, model in models.items()
    ]
    return pd.concat(frames, ignore_index=True)[["model", "epsilon", "accuracy"]]


def _check_epsilons(epsilons: Sequence[float]) -> list[float]:
    values = [float(epsilon) for epsilon in np.atleast_1d(np.asarray(epsilons, dtype=np.float64))]
    if not values:
        raise ValueError("epsilons is empty: pass the grid of max ε to attack with, e.g. [0, 0.05, 0.1]")
    if any(not np.isfinite(value) or value < 0 for value in values):
        raise ValueError(f"every ε must be finite and non-negative, got {values}")
    return values
