"""The checks of what a user passes in: models, inputs, labels and data sets, each bad input one clear error.

Every public function of the library checks its arguments here before any work, so that a wrong shape, a NaN, a
label outside the model's classes or a model on two devices fails at once with a message that names the fix.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from tsinsight.models import evaluating

Batch = tuple[torch.Tensor, torch.Tensor]


def as_tensor(x) -> torch.Tensor:
    return x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))


def check_model(model: nn.Module, what: str = "classifier") -> torch.device:
    """The one device of ``model``'s weights, after checking they are float32 and all on that device."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"the {what} must be a torch.nn.Module, got {type(model).__name__}")
    tensors = [*model.parameters(), *model.buffers()]
    if not tensors:
        raise ValueError(f"the {what} has no parameters: pass a trained model")
    devices = sorted({str(tensor.device) for tensor in tensors})
    if len(devices) > 1:
        raise ValueError(
            f"the {what}'s weights are on several devices ({', '.join(devices)}): move it with .to(device)"
        )
    if devices[0] == "meta":
        raise ValueError(f"the {what} is on the 'meta' device and holds no weights: load or move it to a real device")
    dtypes = sorted({str(t.dtype) for t in tensors if t.is_floating_point() and t.dtype != torch.float32})
    if dtypes:
        raise TypeError(
            f"the {what}'s weights are {', '.join(dtypes)} but inputs are fed as torch.float32: call {what}.float()"
        )
    return tensors[0].device


def check_inputs(
    x, *, what: str = "x", model: nn.Module | None = None, y=None, model_name: str = "classifier", ndim: int | None = 3
) -> None:
    """Raise one clear error when ``x`` (and labels ``y`` for ``model``) cannot be evaluated; return nothing.

    ``x``: a numpy array or tensor of real numbers, ``(n, channels, length)`` (any ``(n, ...)`` with
    ``ndim=None``), non-empty, finite. ``model`` (when given): float32 weights on one device, taking
    ``x``'s channels. ``y`` (when given): one integer class index per input, within the classes of ``model``
    (the width of its output, run on one input).
    """
    dtype = x.dtype if isinstance(x, (torch.Tensor, np.ndarray)) else np.asarray(x).dtype
    if dtype in (torch.bool, torch.complex64, torch.complex128) or (
        isinstance(dtype, np.dtype) and dtype.kind not in "iuf"
    ):
        raise TypeError(f"{what} must hold real numbers, got dtype {dtype}")
    shape = tuple(x.shape) if isinstance(x, (torch.Tensor, np.ndarray)) else np.shape(x)
    if ndim is not None and len(shape) != ndim:
        raise ValueError(f"{what} must be shaped (n, channels, length), got shape {shape}")
    if len(shape) < 2 or shape[0] == 0:
        raise ValueError(
            f"{what} is empty or not a batch (shape {shape}): pass a non-empty batch (n, channels, length)"
        )
    finite = torch.isfinite(x) if isinstance(x, torch.Tensor) else np.isfinite(np.asarray(x))
    if not bool(finite.all()):
        bad = int((~finite).sum())
        raise ValueError(f"{what} holds {bad} NaN or infinite values: clean or impute the data first")
    if model is None:
        return
    device = check_model(model, model_name)
    expected = getattr(model, "n_channels", None)
    if expected is not None and ndim == 3 and shape[1] != expected:
        raise ValueError(f"the {model_name} takes {expected} channels but {what} has {shape[1]}")
    if y is None:
        return
    labels = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
    if labels.shape != (shape[0],):
        raise ValueError(f"y must hold one label per input: expected shape ({shape[0]},), got {labels.shape}")
    if labels.dtype.kind not in "iu":
        raise ValueError(f"labels must be integer class indices, got dtype {labels.dtype}")
    first = torch.as_tensor(np.asarray(x[:1].detach().cpu() if isinstance(x, torch.Tensor) else x[:1]))
    with evaluating(model, gradients=False), torch.no_grad():
        n_classes = model(first.float().to(device)).shape[-1]
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= n_classes:
        raise ValueError(
            f"y holds labels from {low} to {high} but the {model_name} has {n_classes} classes (0..{n_classes - 1}): "
            "labels must be class indices of this model"
        )


def check_labelled_inputs(
    x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor, model: nn.Module | None = None, name: str = "model"
) -> tuple[torch.Tensor, torch.Tensor]:
    """``x`` as a float tensor ``(n, ...)`` and ``y`` as one integer label per input, or a clear error.

    With ``model``: its weights must be float32 on one device and ``y`` within its classes.
    """
    if np.shape(x)[:1] in ((), (0,)):
        raise ValueError(f"x must be a non-empty batch shaped (n, channels, length), got shape {tuple(np.shape(x))}")
    if np.shape(y) != np.shape(x)[:1]:
        raise ValueError(f"y must hold one label per input: expected shape ({len(x)},), got {tuple(np.shape(y))}")
    check_inputs(x, model=model, y=y, model_name=name, ndim=None)
    if model is None:  # check_inputs checks the labels only against a model
        labels = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
        if labels.dtype.kind not in "iu" or (labels < 0).any():
            raise ValueError(f"labels must be integer class indices >= 0, got dtype {labels.dtype}")
    inputs = x.detach().float() if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x), dtype=torch.float32)
    labels = y.detach().long() if isinstance(y, torch.Tensor) else torch.as_tensor(np.asarray(y), dtype=torch.long)
    return inputs, labels


def check_splits(dataset, names: Sequence[str] = ("train", "val")) -> list[Batch]:
    """``(x, y)`` tensors of the named splits of ``dataset``, checked: 3-D, finite, non-empty, integer labels."""
    splits = []
    for name in names:
        split = getattr(dataset, name, None)
        if split is None:
            raise TypeError(f"the data set has no {name!r} split: pass a tsinsight.data.Dataset")
        splits.append(check_data(split.x, split.y, f"{name} split"))
    if splits[0][0].shape[1:] != splits[-1][0].shape[1:]:
        raise ValueError(f"splits differ in shape: {tuple(splits[0][0].shape[1:])} vs {tuple(splits[-1][0].shape[1:])}")
    return splits


def check_data(x, y, what: str = "data") -> Batch:
    """``(x, y)`` as float32 / int64 tensors after checking shape, finiteness and labels."""
    x, y = as_tensor(x).float(), as_tensor(y)
    if x.dim() != 3:
        raise ValueError(f"{what}: x must be shaped (samples, channels, length), got {tuple(x.shape)}")
    if len(x) == 0:
        raise ValueError(f"{what} is empty")
    if not torch.isfinite(x).all():
        bad = int((~torch.isfinite(x)).sum())
        raise ValueError(f"{what}: x holds {bad} NaN or infinite values; clean or impute the data first")
    if y.dim() != 1 or len(y) != len(x) or y.is_floating_point() or y.dtype == torch.bool:
        raise ValueError(f"{what}: y must be {len(x)} integer class labels, got {y.dtype} shaped {tuple(y.shape)}")
    if len(y) and int(y.min()) < 0:
        raise ValueError(f"{what}: labels must be 0..k-1, found {int(y.min())}")
    return x, y.long()


def check_classifier(model: nn.Module, x: torch.Tensor, y: torch.Tensor, what: str = "classifier") -> None:
    """Run one input through ``model`` (eval mode, no grad) and check it returns one logit per class of ``y``."""
    device = next(model.parameters()).device
    try:
        with evaluating(model, gradients=False), torch.no_grad():
            logits = model(x[:2].to(device))
    except Exception as error:
        raise ValueError(
            f"the {what} cannot take the data's inputs shaped (batch, {x.shape[1]}, {x.shape[2]}): {error}. "
            "Build it for the data set's channels (and length)."
        ) from error
    if logits.dim() != 2 or len(logits) != min(2, len(x)):
        raise ValueError(f"the {what} must return logits shaped (batch, classes), got {tuple(logits.shape)}")
    if int(y.max()) >= logits.shape[1]:
        raise ValueError(
            f"the {what} returns {logits.shape[1]} logits but the labels go up to {int(y.max())}: "
            "build it with the data set's n_classes"
        )


def check_autoencoder(model: nn.Module, x: torch.Tensor) -> None:
    """Check that ``model`` maps a batch of ``x`` to an output of the same shape."""
    device = next(model.parameters()).device
    try:
        with torch.no_grad():
            out = model(x[:2].to(device))
    except Exception as error:
        raise ValueError(
            f"the auto-encoder cannot take the data's inputs shaped (batch, {x.shape[1]}, {x.shape[2]}): {error}. "
            "Build it with the data set's n_channels and length."
        ) from error
    if tuple(out.shape) != tuple(x[:2].shape):
        raise ValueError(
            f"the auto-encoder maps inputs shaped {tuple(x[:2].shape)} to {tuple(out.shape)}; it must keep the shape"
        )
