"""The thirteen attribution methods of the paper's suppression test (Section 5, Figs. 3–4), built on Captum.

Every method returns a non-negative importance per input point, shaped like the input: the paper ranks
points "by the absolute magnitude of the corresponding feature attribution". The methods, as the paper (Section 5) and
its Fig. 4 caption define them:

- ``none``: no importance measure; a constant. The paper's *None* line is the unsuppressed input, which
  :func:`tsinsight.evaluation.suppress.suppression` evaluates when given ``attribution=None``; the
  constant exists so that every name yields an array (ranking it gives a fixed pseudo-random order).
- ``random``: uniform noise from ``numpy.random.default_rng(seed)``.
- ``input_magnitude``: ``|x|``.
- ``occlusion``: Captum ``Occlusion`` with a zero window of 1 channel × 3 steps slid over every channel and
  position (stride 1); the drop in the predicted class's softmax confidence, averaged over the windows
  that cover a point.
- ``tsinsight`` / ``palacio``: ``explainer.attribute(x)``, the magnitude of the fine-tuned auto-encoder's
  output (a fitted :class:`tsinsight.TSInsight` in the matching mode).
- ``gradient``, ``gradient_x_input``, ``integrated_gradients``, ``smoothgrad``, ``guided_backprop``: Captum
  ``Saliency``, ``InputXGradient``, ``IntegratedGradients`` (100 steps, right Riemann sum from a zero
  baseline), ``NoiseTunnel`` smoothgrad over ``Saliency`` (100 samples) and ``GuidedBackprop``. The paper
  takes these "w.r.t. all the output classes": we differentiate the **sum of the logits** — what
  ``tf.gradients(logits, x)`` returns, one backward pass — and take the absolute value of the result.
  Summing before the absolute value lets opposite class gradients cancel (in a two-class head trained to
  ``z₁ ≈ −z₀`` much of it does); that is the paper's definition, so we keep it.
- ``gradcam`` / ``guided_gradcam``: Captum ``LayerGradCam`` (ReLU'd, as Selvaraju et al. define it) on
  ``classifier.feature_layer`` for the predicted class, upsampled to the input length and broadcast over
  channels; ``GuidedGradCam`` multiplies it with guided backpropagation of the predicted class.

SmoothGrad's noise is the paper's: zero mean and variance ``2 / (max x − min x)`` per input (so its
standard deviation is the square root of that). Captum's ``NoiseTunnel`` takes one standard deviation for
the whole batch, so the noise is drawn in units of each input's own σ (``x / σ`` with unit noise, the
model fed ``σ · z``) and the gradient is scaled back: mathematically the same, one batched call.

Four methods published after the paper are rows of ``TABLE`` too, in ``LATER_METHODS``, not ``METHODS``:
:mod:`tsinsight.later_methods` fixes and computes them; :func:`applies` says where one cannot apply.

The classifier is put in eval mode for the computation and restored afterwards; cuDNN is switched off
around the gradients of recurrent models, whose cuDNN kernels have no backward in eval mode.
:func:`cached_attribute` stores attributions as artifacts so that no page computes one twice.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from tsinsight import later_methods as later
from tsinsight.artifacts import cached, fingerprint
from tsinsight.checks import check_inputs
from tsinsight.imports import captum
from tsinsight.models import evaluating

IG_STEPS = 100  # the paper's 100 discrete steps between the zero baseline and the input
SMOOTHGRAD_SAMPLES = 100  # the paper's 100 noise vectors
OCCLUSION_WINDOW = 3  # the paper's filter size, slid over each channel and position
# Model inputs (samples × steps, noise draws or occlusions) per forward pass, by device type.
DEFAULT_BATCH_SIZE = {"cpu": 256, "cuda": 2048}


class _SumOfLogits(nn.Module):
    """The classifier's logits summed over classes: the scalar whose gradient is "w.r.t. all classes"."""

    def __init__(self, classifier: nn.Module):
        super().__init__()
        self.classifier = classifier

    def forward(self, x: torch.Tensor, scale: torch.Tensor | None = None) -> torch.Tensor:
        if scale is not None:  # SmoothGrad's per-input noise units (see the module docstring)
            x = x * scale[:, None, None]
        return self.classifier(x).sum(dim=1)


class _Confidence(nn.Module):
    """The classifier's softmax output: occlusion measures the drop in the predicted class's confidence."""

    def __init__(self, classifier: nn.Module):
        super().__init__()
        self.classifier = classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.classifier(x), dim=1)


def attribute(
    method: str,
    classifier: nn.Module,
    x: np.ndarray | torch.Tensor,
    *,
    explainer: Any = None,
    seed: int = 0,
    batch_size: int | None = None,
    n_steps: int = IG_STEPS,
    n_samples: int = SMOOTHGRAD_SAMPLES,
    epochs: int | None = None,
    progress: bool = False,
) -> np.ndarray:
    """The ``method`` attribution of ``classifier`` on ``x`` ``(n, channels, length)``: float32, ≥ 0, like ``x``.

    ``explainer`` is the fitted :class:`tsinsight.TSInsight` that ``tsinsight`` and ``palacio`` read.
    ``seed`` fixes ``random`` and SmoothGrad's noise (for a given ``batch_size``, which sets how the noise
    is drawn). ``batch_size`` bounds the model inputs per forward pass (default 256 on the CPU, 2048 on a
    GPU). ``n_steps`` (integrated gradients) and ``n_samples`` (SmoothGrad) default to the paper's 100,
    ``epochs`` (the masks of :mod:`tsinsight.later_methods`) to theirs; lower them only to make a test fast.
    """
    if method not in TABLE:
        raise ValueError(f"unknown attribution method {method!r}: choose one of {', '.join(TABLE)}")
    if (reason := later.applies(method, classifier)) is not None:
        raise ValueError(f"{method} cannot explain this classifier: {reason}")
    x_np = _check_input(classifier, x)
    batch_size = _resolve_batch_size(classifier, batch_size)
    for name, value in dict(batch_size=batch_size, n_steps=n_steps, n_samples=n_samples).items():
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")

    kind = TABLE[method].kind
    if method in later.LATER_METHODS:
        result = later.later_attribute(method, classifier, x_np, seed, batch_size, epochs, progress)
    elif kind == "baseline":
        result = TABLE[method].compute(x_np, seed)
    elif kind == "explainer":
        result = _explainer_attribution(method, classifier, explainer, x_np, batch_size)
    else:
        result = _model_attribution(method, classifier, x_np, seed, batch_size, n_steps, n_samples, progress)

    result = np.abs(np.asarray(result, dtype=np.float32))
    if result.shape != x_np.shape:
        raise RuntimeError(f"{method} returned shape {result.shape} for inputs of shape {x_np.shape}")
    if not np.isfinite(result).all():
        raise FloatingPointError(f"{method} produced non-finite attributions: check the classifier for NaN weights")
    return result


def cached_attribute(
    method: str,
    classifier: nn.Module,
    x: np.ndarray | torch.Tensor,
    *,
    key: dict[str, Any] | None,
    explainer: Any = None,
    seed: int = 0,
    batch_size: int | None = None,
    epochs: int | None = None,
    progress: bool = False,
) -> np.ndarray:
    """:func:`attribute` stored as an ``attributions`` artifact (``key=None``: computed, not stored).

    ``key`` holds what the caller knows the inputs by (data set, profile, model kind and seed, ...). The
    artifact key adds the method, seed, number of samples and fingerprints of ``x`` and of the weights of
    the classifier and explainer, so a retrained model or a different sample never reads a stale array.
    """
    options = dict(explainer=explainer, seed=seed, batch_size=batch_size, epochs=epochs, progress=progress)
    if key is None:
        return attribute(method, classifier, x, **options)
    x_np = _check_input(classifier, x)
    batch_size = _resolve_batch_size(classifier, batch_size)
    parts = {
        **key,
        "method": method,
        "seed": seed,
        "batch_size": batch_size,  # SmoothGrad's noise is drawn per chunk
        "n_samples": len(x_np),
        "x": fingerprint(x_np),
        "classifier": fingerprint(*_weights(classifier)),
        "explainer": fingerprint(*_weights(explainer))
        if method in EXPLAINER_METHODS and explainer is not None
        else None,
    } | (
        {"epochs": epochs} if epochs is not None else {}
    )  # an override of the masks' epochs; every other key stays as it was
    return cached(
        "attributions", parts, lambda: attribute(method, classifier, x_np, **options | {"batch_size": batch_size})
    )


def _check_input(classifier: nn.Module, x: np.ndarray | torch.Tensor) -> np.ndarray:
    check_inputs(x, model=classifier)
    x_np = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    return x_np.astype(np.float32, copy=False)


def _resolve_batch_size(classifier: nn.Module, batch_size: int | None) -> int:
    if batch_size is not None:
        return batch_size
    return DEFAULT_BATCH_SIZE.get(next(classifier.parameters()).device.type, DEFAULT_BATCH_SIZE["cpu"])


def _explainer_attribution(
    method: str, classifier: nn.Module, explainer: Any, x: np.ndarray, batch_size: int
) -> np.ndarray:
    if explainer is None or not hasattr(explainer, "attribute"):
        raise ValueError(f"method {method!r} needs explainer=<a fitted TSInsight in mode {method!r}>")
    mode = getattr(explainer, "mode", method)
    if mode != method:
        raise ValueError(f"method {method!r} got an explainer fitted in mode {mode!r}; pass the {method!r} one")
    fitted_on = getattr(explainer, "classifier", None)
    if fitted_on is not None and fingerprint(*_weights(fitted_on)) != fingerprint(*_weights(classifier)):
        raise ValueError(
            f"the {method!r} explainer was fitted in front of another classifier: its attribution would explain "
            "that one; pass the explainer fitted on this classifier"
        )
    parts = [np.asarray(explainer.attribute(x[start : start + batch_size])) for start in range(0, len(x), batch_size)]
    return np.concatenate(parts)


def _model_attribution(
    method: str,
    classifier: nn.Module,
    x: np.ndarray,
    seed: int,
    batch_size: int,
    n_steps: int,
    n_samples: int,
    progress: bool,
) -> np.ndarray:
    device = next(classifier.parameters()).device
    compute = TABLE[method].compute
    # Inputs per forward pass are samples × expansion; chunk the samples so one pass stays near batch_size.
    expansion = {"n_steps": n_steps, "n_samples": n_samples, None: 1}[TABLE[method].expansion]
    chunk = max(1, batch_size // expansion)
    starts = range(0, len(x), chunk)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc=method, leave=False)
    parts = []
    gradients = TABLE[method].gradient_based  # occlusion only runs forward passes, which cuDNN's RNNs support
    with (
        evaluating(classifier, gradients=gradients),
        torch.random.fork_rng(devices=[device] if device.type == "cuda" else []),
    ):
        torch.manual_seed(seed)
        for start in starts:
            inputs = torch.as_tensor(x[start : start + chunk], device=device)
            inputs.requires_grad_(gradients)  # Captum warns when it has to switch gradients on
            settings = dict(batch_size=batch_size, n_steps=n_steps, n_samples=n_samples)
            parts.append(compute(classifier, inputs, **settings).detach().cpu().numpy())
    return np.concatenate(parts)


def _predicted(classifier: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return classifier(inputs).argmax(dim=1)


def _gradient(classifier: nn.Module, inputs: torch.Tensor, **_: int) -> torch.Tensor:
    return captum().Saliency(_SumOfLogits(classifier)).attribute(inputs, abs=True)


def _gradient_x_input(classifier: nn.Module, inputs: torch.Tensor, **_: int) -> torch.Tensor:
    return captum().InputXGradient(_SumOfLogits(classifier)).attribute(inputs)


def _integrated_gradients(classifier: nn.Module, inputs: torch.Tensor, *, batch_size: int, n_steps: int, **_: int):
    integrated_gradients = captum().IntegratedGradients(_SumOfLogits(classifier))
    return integrated_gradients.attribute(
        inputs, baselines=0.0, n_steps=n_steps, method="riemann_right", internal_batch_size=batch_size
    )


def _smoothgrad(classifier: nn.Module, inputs: torch.Tensor, *, batch_size: int, n_samples: int, **_: int):
    flat = inputs.flatten(1)
    spread = flat.max(dim=1).values - flat.min(dim=1).values
    if (spread <= 0).any():
        raise ValueError("SmoothGrad's noise variance 2 / (max x − min x) is undefined for a constant input")
    sigma = torch.sqrt(2.0 / spread)
    tunnel = captum().NoiseTunnel(captum().Saliency(_SumOfLogits(classifier)))
    scaled = tunnel.attribute(
        inputs / sigma[:, None, None],
        nt_type="smoothgrad",
        nt_samples=n_samples,
        nt_samples_batch_size=max(1, batch_size // len(inputs)),
        stdevs=1.0,
        abs=False,  # SmoothGrad averages the signed gradients; the absolute value is taken afterwards
        additional_forward_args=(sigma,),
    )
    return scaled / sigma[:, None, None]  # d/dz f(σ z) = σ ∇f: back to the gradient w.r.t. x


@contextlib.contextmanager
def _guided_relu_notice_silenced() -> Iterator[None]:
    # Captum announces on every call that it hooks the ReLUs (and removes the hooks afterwards): expected here.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Setting backward hooks on ReLU activations", category=UserWarning)
        yield


def _guided_backprop(classifier: nn.Module, inputs: torch.Tensor, **_: int) -> torch.Tensor:
    with _guided_relu_notice_silenced():
        return captum().GuidedBackprop(_SumOfLogits(classifier)).attribute(inputs)


def _gradcam(classifier: nn.Module, inputs: torch.Tensor, **_: int) -> torch.Tensor:
    gradcam = captum().LayerGradCam(classifier, classifier.feature_layer)
    layer_map = gradcam.attribute(inputs, target=_predicted(classifier, inputs), relu_attributions=True)
    upsampled = captum().LayerAttribution.interpolate(layer_map, inputs.shape[2:], interpolate_mode="linear")
    return upsampled.expand_as(inputs)


def _guided_gradcam(classifier: nn.Module, inputs: torch.Tensor, **_: int) -> torch.Tensor:
    target = _predicted(classifier, inputs)
    with _guided_relu_notice_silenced():
        guided_gradcam = captum().GuidedGradCam(classifier, classifier.feature_layer)
        return guided_gradcam.attribute(inputs, target=target, interpolate_mode="linear")


def _occlusion(classifier: nn.Module, inputs: torch.Tensor, *, batch_size: int, **_: int) -> torch.Tensor:
    occlusion = captum().Occlusion(_Confidence(classifier))
    return occlusion.attribute(
        inputs,
        sliding_window_shapes=(1, OCCLUSION_WINDOW),
        strides=(1, 1),
        baselines=0.0,
        target=_predicted(classifier, inputs),
        perturbations_per_eval=max(1, batch_size // len(inputs)),
    )


@dataclass(frozen=True)
class Method:
    """One attribution method: its name, its label in figures and tables, how it is computed and its kind.

    ``kind``: ``baseline`` (computed from the input alone: ``compute(x, seed)``), ``explainer`` (read from a
    fitted TSInsight in that mode) or ``model`` (Captum on the classifier, one chunk of inputs at a time:
    ``compute(classifier, inputs, batch_size=, n_steps=, n_samples=)``; ``expansion`` names the setting that
    multiplies the model inputs per sample).
    """

    name: str
    label: str
    kind: str
    gradient_based: bool = False
    compute: Callable[..., Any] | None = None
    expansion: str | None = None


# The paper's thirteen, in the order of its Fig. 4 legend.
TABLE: dict[str, Method] = {
    method.name: method
    for method in (
        Method("none", "None", "baseline", compute=lambda x, seed: np.ones_like(x)),
        Method("random", "Random", "baseline", compute=lambda x, seed: _uniform(x, seed)),
        Method("input_magnitude", "Input magnitude", "baseline", compute=lambda x, seed: np.abs(x)),
        Method("occlusion", "Occlusion", "model", compute=_occlusion),
        Method("tsinsight", "TSInsight", "explainer"),
        Method("palacio", "Palacio et al.", "explainer"),
        Method("gradient", "Gradient", "model", True, _gradient),
        Method("gradient_x_input", "Gradient ⊙ Input", "model", True, _gradient_x_input),
        Method("integrated_gradients", "Integrated Gradients", "model", True, _integrated_gradients, "n_steps"),
        Method("smoothgrad", "SmoothGrad", "model", True, _smoothgrad, "n_samples"),
        Method("guided_backprop", "Guided Backprop", "model", True, _guided_backprop),
        Method("gradcam", "GradCAM", "model", True, _gradcam),
        Method("guided_gradcam", "Guided GradCAM", "model", True, _guided_gradcam),
        Method("extremal_mask", "ExtremalMask", "model", True, later.extremal_mask),  # LATER_METHODS from here
        Method("dynamic_mask", "Dynamic Masks", "model", True, later.dynamic_mask),
        Method("deeplift", "DeepLIFT", "model", True, later.deeplift),
        Method("gradient_shap", "GradientSHAP", "model", True, later.gradient_shap),
    )
}
LATER_METHODS: tuple[str, ...] = later.LATER_METHODS
METHODS: tuple[str, ...] = tuple(name for name in TABLE if name not in LATER_METHODS)  # the paper's thirteen
applies = later.applies
EXPLAINER_METHODS: tuple[str, ...] = tuple(name for name, method in TABLE.items() if method.kind == "explainer")


def label(name: str) -> str:
    """The readable name of attribution method ``name`` (the name itself for one the table does not hold)."""
    return TABLE[name].label if name in TABLE else name


def _uniform(x: np.ndarray, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random(x.shape, dtype=np.float32)


def _weights(obj: Any) -> list[np.ndarray]:
    """The tensors of a model, or of an explainer's auto-encoder (what makes its attributions what they are)."""
    module = obj if isinstance(obj, nn.Module) else getattr(obj, "autoencoder", None)
    if not isinstance(module, nn.Module):
        return []
    return [tensor.detach().cpu().numpy() for tensor in module.state_dict().values()]
