"""Faithfulness and stability of attributions beyond suppression: Captum's infidelity and max-sensitivity.

- *Infidelity* (Yeh et al. 2019; :func:`captum.metrics.infidelity`): the expected squared gap between the change of
  the predicted class's logit under a random perturbation ``I`` and the attribution's linear prediction of it,
  ``attribution · I``. The perturbation is Gaussian noise (std :data:`INFIDELITY_NOISE`) subtracted from the input;
  ``normalize=True`` rescales each attribution by its best factor first, so methods of different units compare.
  The attributions are the magnitudes the suppression test ranks (the paper's definition), so a method is scored
  on how much of the output change its magnitudes carry.
- *Max-sensitivity* (:func:`captum.metrics.sensitivity_max`): the largest change of the attribution, relative to
  its norm, when the input moves uniformly within ±:data:`SENSITIVITY_RADIUS` per point; the attribution is
  computed again on every perturbed input.

Both are lower-is-better, one value per sample; :func:`faithfulness_table` averages them per method. The number of
perturbations is kept small (the evaluation runs on a CPU); every call batches all samples and perturbations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from tsinsight.attribution import METHODS, attribute, evaluating
from tsinsight.checks import check_inputs
from tsinsight.imports import captum

INFIDELITY_NOISE = 0.1  # std of the Gaussian perturbation (inputs are z-normalised series)
INFIDELITY_SAMPLES = 10  # perturbations per sample
SENSITIVITY_RADIUS = 0.02  # Captum's default radius of the uniform perturbation
SENSITIVITY_SAMPLES = 3  # perturbed inputs per sample, each attributed again


def faithfulness_table(
    classifier: nn.Module,
    x: np.ndarray,
    *,
    explainers: Mapping[str, Any] | None = None,
    methods: Sequence[str] = METHODS,
    seed: int = 0,
    infidelity_samples: int = INFIDELITY_SAMPLES,
    sensitivity_samples: int = SENSITIVITY_SAMPLES,
) -> pd.DataFrame:
    """Mean infidelity and max-sensitivity of each method on ``x``: ``method, infidelity, sensitivity`` (lower = better).

    ``explainers`` maps ``tsinsight``/``palacio`` to their fitted explainers; ``seed`` fixes the attributions'
    randomness and both perturbations. ``none`` (a constant, not a method) is left out.
    """
    check_inputs(x, model=classifier)
    x = np.asarray(x, dtype=np.float32)
    explainers = dict(explainers or {})
    device = next(classifier.parameters()).device
    inputs = torch.as_tensor(x, device=device)
    with evaluating(classifier, gradients=False), torch.no_grad():
        target = classifier(inputs).argmax(dim=1)
    generator = torch.Generator(device=device)

    def perturb(batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        noise = torch.randn(batch.shape, generator=generator, device=device) * INFIDELITY_NOISE
        return noise, batch - noise

    rows = []
    for method in methods:
        if method == "none":
            continue
        explainer = explainers.get(method)
        attribution = attribute(method, classifier, x, explainer=explainer, seed=seed)
        attribution = torch.as_tensor(attribution, device=device).contiguous()  # Captum views it flat

        def explain(batch, method=method, explainer=explainer, attribution=attribution) -> tuple[torch.Tensor]:
            batch = batch[0] if isinstance(batch, tuple) else batch  # Captum passes and expects tuples
            if batch is inputs:  # the unperturbed inputs: attributed above already
                return (attribution,)
            values = attribute(method, classifier, batch.detach().cpu().numpy(), explainer=explainer, seed=seed)
            return (torch.as_tensor(values, device=device).contiguous(),)

        generator.manual_seed(seed)
        with evaluating(classifier, gradients=False), torch.no_grad():
            infidelities = captum("metrics").infidelity(
                classifier,
                perturb,
                inputs,
                attribution,
                target=target,
                n_perturb_samples=infidelity_samples,
                normalize=True,
            )
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(seed)  # Captum draws the sensitivity perturbation from torch's global generator
            sensitivities = captum("metrics").sensitivity_max(
                explain, inputs, perturb_radius=SENSITIVITY_RADIUS, n_perturb_samples=sensitivity_samples
            )
        rows.append(
            {"method": method, "infidelity": float(infidelities.mean()), "sensitivity": float(sensitivities.mean())}
        )
    return pd.DataFrame(rows, columns=["method", "infidelity", "sensitivity"])
