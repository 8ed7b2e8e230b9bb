"""Training: the paper's Table 2 settings (``TrainConfig``) and the one training loop every fit uses.

``fit`` is deliberately small and readable: Adam on the given parameters, a loss function of a batch,
reduce-on-plateau on the validation loss, early stopping that restores the best validation weights, one
history row per epoch. ``fit_classifier`` (cross-entropy), ``fit_autoencoder`` (MSE) and the TSInsight
explainer's fine-tuning (``tsinsight.explainer``) are thin wrappers around it, so all three train the
same way. On the CPU a fit is deterministic for a given ``TrainConfig.seed``.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from tsinsight.checks import Batch, as_tensor, check_autoencoder, check_classifier, check_splits
from tsinsight.models import evaluating

# TrainConfig.precision: the arithmetic of the training steps (see TrainConfig)
PRECISIONS = {"float32": torch.float32, "bfloat16": torch.bfloat16}
HISTORY_COLUMNS = ["epoch", "train_loss", "val_loss", "val_metric", "lr", "seconds"]


@dataclass(frozen=True)
class TrainConfig:
    """How to train: the defaults are the paper's Table 2.

    ``weight_decay`` is the λ of the paper's Eq. 1, which the paper does not state; we use 1e-5, applied
    as Adam's (coupled, L2) weight decay on the parameters being trained. ``device=None`` picks CUDA when
    available, else the CPU. ``progress`` shows a progress bar over epochs.

    ``precision`` is the arithmetic of the training steps' forward and backward passes: ``"float32"``, or
    ``"bfloat16"`` (``torch.autocast``: convolutions and matrix products in bfloat16, the weights, the optimiser,
    the loss and every validation pass in float32). bfloat16 is other numerics, not a rounding of the same ones:
    it is an option, measured in ``benchmarks/bench_epoch.py``, and a profile uses it only where a build with it
    gave the same results as without it (:mod:`tsinsight.profiles`).
    """

    lr: float = 1e-4
    lr_factor: float = 0.9
    lr_patience: int = 4
    early_stopping_patience: int = 10
    max_epochs: int = 50
    batch_size: int = 256
    weight_decay: float = 1e-5
    seed: int = 0
    device: str | None = None
    progress: bool = True
    precision: str = "float32"

    def __post_init__(self):
        def fail(field: str, rule: str) -> None:
            raise ValueError(f"TrainConfig.{field} must be {rule}, got {getattr(self, field)!r}")

        for field in ("lr", "lr_factor", "weight_decay"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                fail(field, "a finite number")
        if self.lr <= 0:
            fail("lr", "positive")
        if not 0 < self.lr_factor < 1:
            fail("lr_factor", "in (0, 1) (the factor the learning rate is multiplied by on a plateau)")
        if self.weight_decay < 0:
            fail("weight_decay", "non-negative")
        for field, minimum in (("lr_patience", 0), ("early_stopping_patience", 1), ("max_epochs", 1),
                               ("batch_size", 1), ("seed", 0)):  # fmt: skip
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                fail(field, f"an integer >= {minimum}")
        if self.device is not None:
            resolve_device(self.device)
        if not isinstance(self.progress, bool):
            fail("progress", "True or False")
        if self.precision not in PRECISIONS:
            fail("precision", f"one of {sorted(PRECISIONS)}")

    def key(self) -> dict:
        """The fields that decide the trained weights (for artifact keys): all but ``device`` and ``progress``;
        ``precision`` only when it is not float32, so that the keys of float32 fits are those from before it existed."""
        ignored = ("device", "progress") + (("precision",) if self.precision == "float32" else ())
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in ignored}

    def autocast(self, device: torch.device):
        """The context of a training step's forward pass: ``torch.autocast`` in bfloat16, or nothing for float32."""
        return torch.autocast(device.type, dtype=PRECISIONS[self.precision], enabled=self.precision != "float32")


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``None`` → CUDA when available, else the CPU; otherwise the named device, checked to exist."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"unknown device {device!r}: use None (automatic), 'cpu' or 'cuda'") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available here: use None or 'cpu'")
    return resolved


def fit(
    model: nn.Module,
    loss_fn: Callable[[Batch], torch.Tensor],
    train: Batch,
    val: Batch,
    config: TrainConfig,
    *,
    parameters: Iterable[nn.Parameter] | None = None,
    metric: Callable[[], float] | None = None,
    desc: str = "training",
) -> pd.DataFrame:
    """Train ``parameters`` (default: all of ``model``'s) to minimise ``loss_fn`` and return the history.

    ``train`` and ``val`` are tuples of tensors with the samples along the first axis (e.g. ``(x, y)``);
    ``loss_fn`` receives a tuple of their batches, moved to the training device, and returns a scalar.
    Each epoch shuffles ``train`` with a generator seeded by ``config.seed``, takes Adam steps, evaluates
    the validation loss (in eval mode, without gradients) and ``metric()`` if given (higher is better,
    e.g. validation accuracy). The learning rate is reduced on validation-loss plateaus; training stops
    after ``config.early_stopping_patience`` epochs without improvement and the best validation weights
    (the whole ``model`` state) are restored. The model ends in eval mode on the device it started on.

    Returns one row per epoch: ``epoch, train_loss, val_loss, val_metric, lr, seconds``.
    """
    device = resolve_device(config.device)
    home = next(model.parameters()).device
    model.to(device)
    parameters = [p for p in (model.parameters() if parameters is None else parameters)]
    if not parameters:
        raise ValueError("nothing to train: the parameter list is empty")
    torch.manual_seed(config.seed)
    shuffler = torch.Generator().manual_seed(config.seed)
    optimizer = torch.optim.Adam(parameters, lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", factor=config.lr_factor, patience=config.lr_patience
    )
    n = len(train[0])
    best_loss, best_state, stale, rows = math.inf, None, 0, []
    bar = tqdm(range(1, config.max_epochs + 1), desc=desc, disable=not config.progress, leave=False)
    for epoch in bar:
        start = time.perf_counter()
        model.train()
        total = 0.0
        for index in torch.randperm(n, generator=shuffler).split(config.batch_size):
            with config.autocast(device):
                loss = loss_fn(tuple(t[index].to(device) for t in train))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(index)
        model.eval()
        val_loss = evaluate_loss(loss_fn, val, config.batch_size, device)
        val_metric = metric() if metric is not None else math.nan
        lr = optimizer.param_groups[0]["lr"]
        scheduler.step(val_loss)
        rows.append((epoch, total / n, val_loss, val_metric, lr, time.perf_counter() - start))
        bar.set_postfix(train_loss=f"{total / n:.4g}", val_loss=f"{val_loss:.4g}")
        if val_loss < best_loss:
            best_loss, best_state, stale = val_loss, copy.deepcopy(model.state_dict()), 0
        else:
            stale += 1
            if stale >= config.early_stopping_patience:
                break
    if best_state is not None:  # None only when every validation loss was NaN
        model.load_state_dict(best_state)
    model.to(home).eval()
    return history_frame(rows, config)


def history_frame(rows: list[tuple], config: TrainConfig) -> pd.DataFrame:
    """The per-epoch rows of a fit as its history table, with the fit's :func:`convergence` in ``attrs``."""
    history = pd.DataFrame(rows, columns=HISTORY_COLUMNS)
    history.attrs.update(convergence(history, config.early_stopping_patience, config.max_epochs))
    return history


def convergence(history: pd.DataFrame, patience: int, max_epochs: int) -> dict:
    """How a fit ended, read from its history: ``best_epoch``, ``epochs`` run, ``stopped_early`` and ``capped``.

    A fit *stopped early* (converged) when it ran ``patience`` epochs past its best validation loss, the rule of
    :func:`fit`; it was *capped* when it reached ``max_epochs`` before that. Stored histories carry no flags, so
    the flags are always derived from the rows (1-based epochs; a history whose losses are all NaN has no best).
    """
    losses = history["val_loss"].to_numpy(dtype=float)
    epochs = len(losses)
    best = int(np.nanargmin(losses)) + 1 if epochs and np.isfinite(losses).any() else 0
    stopped = bool(best and epochs - best >= patience)
    return dict(best_epoch=best, epochs=epochs, stopped_early=stopped, capped=not stopped and epochs >= max_epochs)


@torch.no_grad()
def evaluate_loss(loss_fn: Callable[[Batch], torch.Tensor], data: Batch, batch_size: int, device) -> float:
    """The sample-weighted mean of ``loss_fn`` over ``data`` in batches, without gradients."""
    n, total = len(data[0]), 0.0
    for start in range(0, n, batch_size):
        batch = tuple(t[start : start + batch_size].to(device) for t in data)
        total += loss_fn(batch).item() * len(batch[0])
    return total / n


def fit_classifier(model: nn.Module, dataset, config: TrainConfig | None = None) -> pd.DataFrame:
    """Train a classifier with cross-entropy on ``dataset.train``, early-stopped on ``dataset.val``.

    ``dataset`` is a ``tsinsight.data.Dataset`` (anything with ``train``/``val`` splits holding ``x``
    shaped ``(n, channels, length)`` and integer labels ``y``). The history's ``val_metric`` is the
    validation accuracy. The model is trained in place and left in eval mode.
    """
    config = config or TrainConfig()
    train, val = check_splits(dataset)
    check_classifier(model, train[0], train[1], "classifier")
    history = fit(
        model,
        lambda batch: F.cross_entropy(model(batch[0]), batch[1]),
        train,
        val,
        config,
        metric=lambda: accuracy(model, *val),
        desc="classifier",
    )
    history.attrs["metric"] = "val_accuracy"
    return history


def fit_autoencoder(model: nn.Module, dataset, config: TrainConfig | None = None) -> pd.DataFrame:
    """Train an auto-encoder to reconstruct ``dataset.train.x`` (MSE), early-stopped on ``dataset.val``.

    The history's ``val_metric`` is NaN: the validation loss is already the validation MSE.
    """
    config = config or TrainConfig()
    train, val = check_splits(dataset)
    check_autoencoder(model, train[0])
    return fit(
        model, lambda batch: F.mse_loss(model(batch[0]), batch[0]), train[:1], val[:1], config, desc="auto-encoder"
    )


@torch.no_grad()
def predict(model: nn.Module, x, batch_size: int = 1024) -> np.ndarray:
    """Class indices predicted by ``model`` for ``x`` (numpy or tensor, ``(n, channels, length)``)."""
    x = as_tensor(x).float()
    device = next(model.parameters()).device
    with evaluating(model, gradients=False):
        out = [model(x[i : i + batch_size].to(device)).argmax(dim=1).cpu() for i in range(0, len(x), batch_size)]
    return torch.cat(out).numpy() if out else np.zeros(0, dtype=np.int64)


def majority_share(y) -> float:
    """The accuracy of always answering the commonest class of ``y``: the floor a trained classifier must beat."""
    y = as_tensor(y).cpu().numpy()
    if len(y) == 0:
        raise ValueError("the majority share of an empty label set is undefined")
    return float(np.bincount(y).max() / len(y))


# A model must remove at least this share of the errors of always answering the majority class to count as trained:
# below it there is nothing to explain or to attack (a share, so that it also works on imbalanced Forest Cover).
LEARNT_SHARE = 0.2
# Accuracies reach learnt() as means over runs that pages sum in different orders: a model exactly at the bound (Forest
# Cover's, runs at 0.9667 and 0.98 against a 0.9667 majority) must not count as trained on one page and not on another.
_ROUNDING = 1e-9


def learnt(accuracy: float, majority: float) -> bool:
    """Whether a model with this accuracy (a fraction) removed ``LEARNT_SHARE`` of the majority-class guess's errors."""
    return accuracy >= majority + LEARNT_SHARE * (1 - majority) - _ROUNDING


def accuracy(model: nn.Module, x, y) -> float:
    """Fraction (in [0, 1]) of ``x`` that ``model`` classifies as ``y``."""
    y = as_tensor(y).cpu().numpy()
    if len(y) != len(x):
        raise ValueError(f"x has {len(x)} samples but y has {len(y)} labels")
    if len(y) == 0:
        raise ValueError("accuracy of an empty set is undefined: pass at least one sample")
    return float((predict(model, x) == y).mean())
