"""Four attribution methods published after the paper, each from the library that implements it.

They sit beside the paper's thirteen in :data:`tsinsight.attribution.TABLE` but not in its ``METHODS``: the
paper's Fig. 4 verdict stays about the paper's methods. Each returns, like the others, the absolute value of its
attribution per input point, shaped like the input ``(n, channels, length)``, as float32.

- ``extremal_mask``: ExtremalMask (Enguehard, "Learning perturbations to explain time series predictions",
  ICML 2023), ``tint.attr.ExtremalMask`` of time-interpret: a mask in [0, 1] per point, learnt together with
  a perturbation network that proposes what replaces the masked points (the preservation game).
- ``dynamic_mask``: Dynamic Masks (Crabbé & van der Schaar, "Explaining time series predictions with dynamic
  masks", ICML 2021), ``tint.attr.DynaMask``: a mask per point, learnt so that the kept points preserve the
  prediction, under a regulariser that drives a fixed fraction of the mask to 1.
- ``deeplift``: Captum ``DeepLift`` (Shrikumar, Greenside & Kundaje, ICML 2017), rescale rule, from the zero
  series.
- ``gradient_shap``: Captum ``GradientShap`` (Lundberg & Lee, NeurIPS 2017).

All four explain the **predicted class** (the target of DeepLift and GradientShap; the class whose
cross-entropy the masks preserve), as their authors define them: one output at a time. Every setting below
is fixed here and was chosen before any suppression result was seen, from the library's defaults or the
values its authors use in their own experiments:

- Masks: tint's experiment on MIMIC-III mortality (``experiments/mimic3/mortality/main.py`` of
  time_interpret v0.3.0), the ExtremalMask paper's benchmark whose black box, like ours, classifies a whole
  series once, sets the loss (``MASK_LOSS``: cross-entropy of the perturbed output against the predicted
  class, the DynaMask paper's log-loss) and the optimiser (Adam). One fit per chunk of ``MASK_BATCH_SIZE``
  = 100 inputs (that experiment's batch), one Adam step per epoch; the chunks do not depend on
  ``batch_size`` or the device.
- ExtremalMask: ``EXTREMAL_EPOCHS`` = 500, ``EXTREMAL_LR`` = 0.01, ``EXTREMAL_LAMBDA_1`` (mask size) =
  ``EXTREMAL_LAMBDA_2`` (perturbation size) = 1, and the paper's perturbation network: a bidirectional GRU
  with as many hidden units as channels followed by a linear layer back to the channels (tint's ``RNN`` and
  ``MLP``), initialised from ``seed``. Preservation mode, tint's default.
- DynaMask: tint's defaults for the mask game — preservation (``deletion_mode=False``), fade to the moving
  average (``DYNAMASK_PERTURBATION``), one keep ratio ``DYNAMASK_KEEP_RATIO`` = 0.5, size regulariser
  ``DYNAMASK_SIZE_REG_INIT`` = 0.5 multiplied ×``DYNAMASK_SIZE_REG_DILATION`` = 100 over the fit, no time
  regulariser, ``DYNAMASK_LR`` = 1e-3 — and ``DYNAMASK_EPOCHS`` = 1000 (the DynaMask paper's and tint's
  experiments' epochs; at Adam's 1e-3 per step, tint's default of 100 epochs moves no mask coefficient more
  than about 0.1 from its start at 0.5). Not the experiment's deletion mode: tint returns ``1 − mask`` there,
  which inverts the original method's ranking once its regulariser runs. Not the Gaussian blur of the state
  experiment: its memory grows with the square of the length (ECG Thorax: 750). Not a grid of keep ratios:
  tint keeps the ratio of least error, not the paper's smallest area under an error threshold, so a grid
  multiplies the cost without restoring the paper's rule.
- DeepLift: zero baseline (``BASELINE``), as in tint's experiments and as Integrated Gradients here.
- GradientShap: baselines drawn from the zero series alone, ``GRADIENT_SHAP_SAMPLES`` = 50 draws per input
  with Gaussian noise of standard deviation ``GRADIENT_SHAP_STDEV`` = 1e-4 (tint's experiments). Those
  experiments pass the pool ``{0, x}``; Captum draws each input's baselines from the whole pool, so the
  inputs would become each other's baselines and an attribution would depend on the rest of its chunk (and
  so on ``batch_size`` and the device). Captum draws the baselines and the points on the path from numpy's
  global generator and the noise from torch's: both are seeded by ``seed`` (numpy's state is restored
  afterwards) and drawn per chunk, like SmoothGrad's noise.

tint works on ``(batch, time, features)``: the classifier is wrapped to transpose its input and the attribution
is transposed back. Its masks train through pytorch-lightning, which runs here on the classifier's device
(the CPU unless the classifier is on a GPU), without logger, checkpoints, progress bar or model summary, in a
temporary root directory, its messages silenced; the classifier stays in eval mode with its weights frozen
(no ``.grad`` left on them). tint 0.3.0 applies DynaMask's regularisers in ``training_step_end``, a hook that
pytorch-lightning 2 no longer calls: :func:`_mask_net` applies them in ``training_step``, as Lightning 1 did.

Where a method cannot apply: DeepLift's rescale rule needs the nonlinearities as modules, and PyTorch's
``nn.LSTM`` fuses its sigmoids and tanh (Captum's own note), so DeepLift refuses recurrent classifiers (Captum
would return gradient × input under DeepLift's name). The CNN takes every method: none of them feeds it
shorter series (tint's time-forward variants would, and its flattened head takes only the full length; we use
none of them, as our classifiers predict once per series). :func:`applies` says why a method cannot apply.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import logging
import tempfile
import warnings
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from tsinsight.imports import captum
from tsinsight.models import contains_rnn, evaluating

LATER_METHODS: tuple[str, ...] = ("extremal_mask", "dynamic_mask", "deeplift", "gradient_shap")
MASK_METHODS: tuple[str, ...] = ("extremal_mask", "dynamic_mask")

MASK_BATCH_SIZE = 100  # inputs per mask fit: tint's MIMIC-III experiment
MASK_LOSS = "cross_entropy"  # the perturbed output against the predicted class (tint's MIMIC-III experiment)
EXTREMAL_EPOCHS = 500
EXTREMAL_LR = 0.01
EXTREMAL_LAMBDA_1 = 1.0  # weight of the mask's size
EXTREMAL_LAMBDA_2 = 1.0  # weight of the perturbation's size
DYNAMASK_EPOCHS = 1000
DYNAMASK_LR = 1e-3  # tint's default
DYNAMASK_PERTURBATION = "fade_moving_average"  # tint's default
DYNAMASK_KEEP_RATIO = 0.5  # tint's default
DYNAMASK_SIZE_REG_INIT = 0.5  # tint's default
DYNAMASK_SIZE_REG_DILATION = 100.0  # tint's default, the DynaMask paper's δ
DYNAMASK_TIME_REG = 0.0  # tint's default
BASELINE = 0.0  # DeepLift's reference and GradientShap's baseline distribution (a point mass at the zero series)
GRADIENT_SHAP_SAMPLES = 50
GRADIENT_SHAP_STDEV = 1e-4
_LIGHTNING_LOGGERS = ("pytorch_lightning", "lightning.pytorch", "lightning_fabric", "lightning.fabric")


def applies(method: str, classifier: nn.Module) -> str | None:
    """Why attribution ``method`` cannot explain ``classifier`` (here, with what is installed), or None if it can."""
    if method == "deeplift" and contains_rnn(classifier):
        return (
            "DeepLIFT's rescale rule needs every nonlinearity as a module, and PyTorch's recurrent layers fuse "
            "their sigmoids and tanh (Captum would return gradient × input under DeepLIFT's name)"
        )
    if method in MASK_METHODS and importlib.util.find_spec("tint") is None:
        return "it needs time-interpret and pytorch-lightning: pip install 'tsinsight[later]'"
    return None


def later_attribute(
    method: str,
    classifier: nn.Module,
    x: np.ndarray,
    seed: int = 0,
    batch_size: int = 256,
    epochs: int | None = None,
    progress: bool = False,
) -> np.ndarray:
    """The signed or mask attribution of ``method`` on checked inputs ``x``; :func:`tsinsight.attribution.attribute`
    takes its absolute value. ``epochs`` overrides the masks' epochs (to make a test fast)."""
    if epochs is not None and (not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1):
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    compute, chunk = {
        "extremal_mask": (extremal_mask, MASK_BATCH_SIZE),
        "dynamic_mask": (dynamic_mask, MASK_BATCH_SIZE),
        "deeplift": (deeplift, max(1, batch_size // 2)),  # DeepLift runs inputs and baselines in one pass
        "gradient_shap": (gradient_shap, max(1, batch_size // GRADIENT_SHAP_SAMPLES)),
    }[method]
    device = next(classifier.parameters()).device
    starts = range(0, len(x), chunk)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc=method, leave=False)
    parts = []
    with (
        evaluating(classifier),
        _frozen(classifier),
        torch.random.fork_rng(devices=[device] if device.type == "cuda" else []),
        _numpy_seeded(seed),
    ):
        torch.manual_seed(seed)
        for start in starts:
            inputs = torch.as_tensor(x[start : start + chunk], device=device)
            parts.append(compute(classifier, inputs, epochs=epochs).detach().cpu().numpy())
    return np.concatenate(parts)


def deeplift(classifier: nn.Module, inputs: torch.Tensor, **_) -> torch.Tensor:
    """Captum DeepLift (rescale rule) of the predicted class from the zero series."""
    inputs = inputs.clone().requires_grad_(True)
    with _notices_silenced():
        method = captum().DeepLift(classifier)
        return method.attribute(inputs, baselines=BASELINE, target=_predicted(classifier, inputs))


def gradient_shap(classifier: nn.Module, inputs: torch.Tensor, **_) -> torch.Tensor:
    """Captum GradientShap of the predicted class, baselines drawn from the zero series."""
    inputs = inputs.clone().requires_grad_(True)
    method = captum().GradientShap(classifier)
    return method.attribute(
        inputs,
        baselines=torch.full_like(inputs[:1], BASELINE),
        n_samples=GRADIENT_SHAP_SAMPLES,
        stdevs=GRADIENT_SHAP_STDEV,
        target=_predicted(classifier, inputs),
    )


def extremal_mask(classifier: nn.Module, inputs: torch.Tensor, *, epochs: int | None = None, **_) -> torch.Tensor:
    """tint's ExtremalMask with the paper's perturbation network, one fit on ``inputs`` (see the module docstring)."""
    from tint.attr import ExtremalMask
    from tint.attr.models import ExtremalMaskNet
    from tint.models import MLP, RNN

    model, data = _TimeFirst(classifier), inputs.transpose(1, 2).contiguous()
    features = data.shape[-1]
    perturbation = nn.Sequential(
        RNN(input_size=features, rnn="gru", hidden_size=features, bidirectional=True), MLP([2 * features, features])
    )
    mask_net = ExtremalMaskNet(
        forward_func=model,
        model=perturbation.to(data.device),
        lambda_1=EXTREMAL_LAMBDA_1,
        lambda_2=EXTREMAL_LAMBDA_2,
        loss=MASK_LOSS,
        optim="adam",
        lr=EXTREMAL_LR,
    )
    return _fitted_mask(ExtremalMask, model, data, mask_net, epochs or EXTREMAL_EPOCHS)


def dynamic_mask(classifier: nn.Module, inputs: torch.Tensor, *, epochs: int | None = None, **_) -> torch.Tensor:
    """tint's DynaMask in the preservation game, one fit on ``inputs`` (see the module docstring)."""
    from tint.attr import DynaMask

    model, data = _TimeFirst(classifier), inputs.transpose(1, 2).contiguous()
    mask_net = _mask_net()(
        forward_func=model,
        perturbation=DYNAMASK_PERTURBATION,
        keep_ratio=DYNAMASK_KEEP_RATIO,
        size_reg_factor_init=DYNAMASK_SIZE_REG_INIT,
        size_reg_factor_dilation=DYNAMASK_SIZE_REG_DILATION,
        time_reg_factor=DYNAMASK_TIME_REG,
        loss=MASK_LOSS,
        optim="adam",
        lr=DYNAMASK_LR,
    )
    return _fitted_mask(DynaMask, model, data, mask_net, epochs or DYNAMASK_EPOCHS)


def _fitted_mask(method: type, model: nn.Module, data: torch.Tensor, mask_net, epochs: int) -> torch.Tensor:
    """tint's mask ``method`` of ``model`` fitted on ``data`` (time first) with ``mask_net`` for ``epochs``, channels first."""
    with lightning_trainer(data.device, epochs) as trainer:
        mask = method(model).attribute(data, trainer=trainer, mask_net=mask_net, batch_size=MASK_BATCH_SIZE)
    return mask.transpose(1, 2)


class _TimeFirst(nn.Module):
    """The classifier on tint's layout: inputs ``(batch, time, features)``, transposed to ``(batch, channels, length)``."""

    def __init__(self, classifier: nn.Module):
        super().__init__()
        self.classifier = classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(x.transpose(1, 2))


@functools.cache
def _mask_net() -> type:
    """tint's ``MaskNet`` with DynaMask's regularisers applied in ``training_step`` (see the module docstring)."""
    from tint.attr.models import MaskNet

    class RegularisedMaskNet(MaskNet):
        def training_step(self, batch, batch_idx):
            return self.net.regularisation(super().training_step(batch, batch_idx))

        def training_step_end(self, step_output):  # Lightning 1 would apply the regularisers a second time
            return step_output

    return RegularisedMaskNet


@contextlib.contextmanager
def lightning_trainer(device: torch.device, epochs: int) -> Iterator[object]:
    """A quiet pytorch-lightning ``Trainer`` of ``epochs`` on ``device`` that writes nothing to the working directory."""
    from pytorch_lightning import Trainer

    accelerator, devices = ("gpu", [device.index or 0]) if device.type == "cuda" else ("cpu", 1)
    loggers = [logging.getLogger(name) for name in _LIGHTNING_LOGGERS]
    levels = [logger.level for logger in loggers]
    with tempfile.TemporaryDirectory(prefix="tsinsight-lightning-") as root, warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"(pytorch_lightning|lightning|lightning_fabric)(\.|$)")
        warnings.filterwarnings("ignore", message=r".*(does not have many workers|smaller than the logging interval)")
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        try:
            yield Trainer(
                max_epochs=epochs,
                accelerator=accelerator,
                devices=devices,
                logger=False,
                enable_checkpointing=False,
                enable_progress_bar=False,
                enable_model_summary=False,
                default_root_dir=root,
            )
        finally:
            for logger, level in zip(loggers, levels, strict=True):
                logger.setLevel(level)


@contextlib.contextmanager
def _numpy_seeded(seed: int) -> Iterator[None]:
    """numpy's global generator seeded for the block (Captum's GradientShap draws from it), its state restored."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


@contextlib.contextmanager
def _frozen(module: nn.Module) -> Iterator[None]:
    """``module``'s weights without gradients for the block: the masks' fits backpropagate to their masks only."""
    flags = [(parameter, parameter.requires_grad) for parameter in module.parameters()]
    for parameter, _ in flags:
        parameter.requires_grad_(False)
    try:
        yield
    finally:
        for parameter, flag in flags:
            parameter.requires_grad_(flag)


@contextlib.contextmanager
def _notices_silenced() -> Iterator[None]:
    # Captum announces that it hooks the activations (and removes the hooks afterwards): expected here.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Setting forward, backward hooks", category=UserWarning)
        yield


def _predicted(classifier: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return classifier(inputs).argmax(dim=1)
