"""Several TSInsight explainers that share a classifier and a seed, fitted together as one stacked model.

A γ/β sweep (:mod:`tsinsight.tuning`) fine-tunes 6–9 copies of one pretrained auto-encoder in front of one frozen
classifier with one ``TrainConfig``: the same batches in the same order, only the loss weights differ. On a few
CPU cores these small networks are overhead-bound, so :func:`fit_together` runs all the auto-encoders at once on
each batch (``torch.func.vmap`` over the members' stacked parameters) and the classifier once on all their
outputs, while every member keeps its own Adam, learning-rate schedule, early stopping, best weights and history.

Each member follows :meth:`TSInsight.fit`'s arithmetic except for rounding: the vmapped convolutions run as
grouped convolutions, whose results differ from a single network's in the last bit (and, in the backward pass,
with the number of members still training). A well-conditioned fit ends the same (``tests/test_stacking.py``:
same epochs, best epochs, learning rates and validation accuracies, weights within 2e-6). A long fine-tuning is
not well-conditioned: Adam amplifies rounding-level differences, so that fitting alone from a start moved by one
ulp changes the weights and stopping epochs as much as stacking does. Measured on the synthetic set (cpu profile,
six sweep candidates run to early stopping): the stopping epoch moved in 4 of 6 fits stacked and in 3 of 6 one
ulp away, the test accuracy by at most 0.001 stacked and 0.002 one ulp away. There the stacked fit is one more
draw of that rounding noise, not a bitwise reproduction of the separate fits.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, vmap
from tqdm import tqdm

from tsinsight.checks import Batch, check_splits
from tsinsight.explainer import TSInsight, check_unchanged, state_snapshot, warn_if_capped
from tsinsight.models import rnn_backward_allowed
from tsinsight.training import TrainConfig, accuracy, history_frame, resolve_device

# The modes whose loss is a function of the auto-encoder's output (and x, y) alone: "palacio" trains only the
# decoder and "saliency" needs per-input saliency maps, so those are fitted one by one with TSInsight.fit.
STACKABLE_MODES = ("tsinsight", "sparsity_only")


@dataclass
class _Member:
    """One explainer's side of the stacked fit: what ``training.fit`` keeps in local variables for a single fit."""

    explainer: TSInsight
    config: TrainConfig
    home: torch.device  # where its models return to
    optimizer: torch.optim.Optimizer = field(init=False)
    scheduler: torch.optim.lr_scheduler.ReduceLROnPlateau = field(init=False)
    best_loss: float = math.inf
    best_state: dict | None = None
    stale: int = 0
    stopped: bool = False
    rows: list[tuple] = field(default_factory=list)

    def __post_init__(self):
        autoencoder, config = self.explainer.autoencoder, self.config
        self.optimizer = torch.optim.Adam(
            list(autoencoder.parameters()), lr=config.lr, weight_decay=config.weight_decay
        )
        self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            self.optimizer, mode="min", factor=config.lr_factor, patience=config.lr_patience
        )

    def end_epoch(self, epoch: int, train_loss: float, val_loss: float, val_metric: float, seconds: float) -> None:
        """``training.fit``'s end of an epoch: schedule, history row, best state, early stopping."""
        lr = self.optimizer.param_groups[0]["lr"]
        self.scheduler.step(val_loss)
        self.rows.append((epoch, train_loss, val_loss, val_metric, lr, seconds))
        if val_loss < self.best_loss:
            self.best_loss, self.stale = val_loss, 0
            self.best_state = copy.deepcopy(self.explainer.autoencoder.state_dict())
        else:
            self.stale += 1
            self.stopped = self.stale >= self.config.early_stopping_patience


def fit_together(explainers: list[TSInsight], dataset, config: TrainConfig | None = None) -> list[pd.DataFrame]:
    """Fit each of ``explainers`` as ``explainer.fit(dataset, config)`` would, all in one stacked model.

    The explainers must share one classifier object and one mode (``"tsinsight"`` or ``"sparsity_only"``), and
    each must hold its own auto-encoder, all of one architecture (e.g. ``copy.deepcopy`` of one pretrained
    auto-encoder). Every epoch runs the same shuffled batches (``config.seed``) through all members still
    training; each member has its own Adam, reduce-on-plateau schedule, early stopping, best weights (restored at
    the end) and history, and drops out of the stacked model when it stops. Returns the histories in the order of
    ``explainers`` (also set as each one's ``history``, with the convergence record in ``attrs`` and a
    ``ConvergenceWarning`` for each capped fit, as ``TSInsight.fit`` does). ``seconds`` in a history is the
    member's share of the stacked epoch (the epoch's time divided by the members it trained).
    """
    config = config or TrainConfig()
    members = list(explainers)
    _check_stackable(members)
    train, val = check_splits(dataset)
    for explainer in members:
        explainer._check_devices()
        explainer._check_models(*train)
    classifier = members[0].classifier
    before = state_snapshot(classifier)
    device = resolve_device(config.device)
    homes = [next(explainer.autoencoder.parameters()).device for explainer in members]
    for explainer in members:
        explainer.pipeline.to(device)
    fits = [_Member(explainer, config, home) for explainer, home in zip(members, homes, strict=True)]
    # The parameters are swapped in by functional_call; a weightless (meta) copy gives the forward pass.
    template = copy.deepcopy(members[0].autoencoder).to("meta")
    torch.manual_seed(config.seed)
    shuffler = torch.Generator().manual_seed(config.seed)
    n = len(train[0])
    bar = tqdm(
        range(1, config.max_epochs + 1), desc=f"TSInsight ×{len(fits)}", disable=not config.progress, leave=False
    )
    with rnn_backward_allowed(classifier):
        for epoch in bar:
            active = [member for member in fits if not member.stopped]
            if not active:
                break
            start = time.perf_counter()
            template.train()
            totals = [0.0] * len(active)
            for index in _epoch_batches(shuffler, n, config.batch_size):
                x, y = (t[index].to(device) for t in train)
                losses = _total_losses(active, template, x, y)
                for member in active:
                    member.optimizer.zero_grad(set_to_none=True)
                losses.sum().backward()  # the members' parameters are disjoint: each gets its own total's gradient
                for member in active:
                    member.optimizer.step()
                totals = [t + loss * len(index) for t, loss in zip(totals, losses.tolist(), strict=True)]
            template.eval()
            val_losses = _evaluate(active, template, val, config.batch_size, device)
            metrics = [accuracy(member.explainer.pipeline, *val[:2]) for member in active]
            seconds = (time.perf_counter() - start) / len(active)
            for member, total, val_loss, metric in zip(active, totals, val_losses, metrics, strict=True):
                member.end_epoch(epoch, total / n, val_loss, metric, seconds)
            bar.set_postfix(active=f"{sum(not m.stopped for m in fits)}/{len(fits)}")
    histories = []
    for member in fits:
        autoencoder = member.explainer.autoencoder
        if member.best_state is not None:  # None only when every validation loss was NaN
            autoencoder.load_state_dict(member.best_state)
        member.explainer.pipeline.to(member.home).eval()
        history = history_frame(member.rows, config)
        history.attrs["metric"] = "val_accuracy"
        member.explainer.history = history
        histories.append(history)
    check_unchanged(classifier, before)
    for explainer, history in zip(members, histories, strict=True):
        warn_if_capped(history, config, repr(explainer))
    return histories


def stacked_outputs(autoencoders: list[nn.Module], template: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The outputs of ``autoencoders`` (all of ``template``'s architecture) on ``x``, shaped ``(members, *x.shape)``.

    The parameters are stacked afresh at every call (not once with ``stack_module_state``) so that gradients flow
    back through ``torch.stack`` to each member's own leaf parameters, which its own optimiser steps.
    """
    members = [dict(autoencoder.named_parameters()) for autoencoder in autoencoders]
    stacked = {name: torch.stack([params[name] for params in members]) for name in members[0]}
    return vmap(lambda params: functional_call(template, params, (x,)))(stacked)


def stacked_terms(explainers: list[TSInsight], out: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> dict:
    """:meth:`TSInsight.loss_of_output` of each explainer on its output ``out[m]``, as tensors of one value per member.

    The explainers share the classifier, which runs once on all outputs, ``(members · batch, C, T)``; every term is
    averaged over the batch per member, as ``loss_of_output`` averages it over its batch (not over all members).
    """
    k, b = out.shape[:2]
    logits = explainers[0].classifier(out.reshape(k * b, *out.shape[2:]))
    terms = {"cross_entropy": F.cross_entropy(logits, y.repeat(k), reduction="none").view(k, b).mean(dim=1)}
    if explainers[0].mode == "tsinsight":
        gamma = torch.tensor([e.gamma for e in explainers], device=out.device)
        terms["reconstruction"] = gamma * (out - x).pow(2).flatten(1).mean(dim=1)
    beta = torch.tensor([e.beta for e in explainers], device=out.device)
    terms["sparsity"] = beta * out.abs().sum(dim=(2, 3)).mean(dim=1)
    terms["total"] = sum(terms.values())
    return terms


def _total_losses(members: list[_Member], template: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    explainers = [member.explainer for member in members]
    out = stacked_outputs([explainer.autoencoder for explainer in explainers], template, x)
    return stacked_terms(explainers, out, x, y)["total"]


# training.fit draws its batches inline; this is the same draw, one epoch at a time, for a shared shuffler.
def _epoch_batches(shuffler: torch.Generator, n: int, batch_size: int) -> tuple[torch.Tensor, ...]:
    return torch.randperm(n, generator=shuffler).split(batch_size)


@torch.no_grad()
def _evaluate(members: list[_Member], template: nn.Module, data: Batch, batch_size: int, device) -> list[float]:
    """``training.evaluate_loss`` for every member at once: the sample-weighted mean total loss over ``data``."""
    n, totals = len(data[0]), [0.0] * len(members)
    for start in range(0, n, batch_size):
        x, y = (t[start : start + batch_size].to(device) for t in data[:2])
        losses = _total_losses(members, template, x, y).tolist()
        totals = [t + loss * len(x) for t, loss in zip(totals, losses, strict=True)]
    return [t / n for t in totals]


def _check_stackable(members: list[TSInsight]) -> None:
    if not members:
        raise ValueError("fit_together needs at least one explainer")
    for explainer in members:
        if not isinstance(explainer, TSInsight):
            raise TypeError(f"fit_together fits TSInsight explainers, got {type(explainer).__name__}")
    first = members[0]
    if any(explainer.classifier is not first.classifier for explainer in members):
        raise ValueError(
            "the explainers must share one classifier object: build each as TSInsight(classifier, ...) with the same "
            "classifier, or fit them one by one with TSInsight.fit"
        )
    modes = sorted({explainer.mode for explainer in members})
    if len(modes) > 1:
        raise ValueError(f"the explainers mix modes {modes}: call fit_together once per mode")
    if first.mode not in STACKABLE_MODES:
        raise ValueError(
            f"mode {first.mode!r} cannot be stacked (only {list(STACKABLE_MODES)}, whose loss depends on the output "
            "alone): fit these explainers one by one with TSInsight.fit"
        )
    if len({id(explainer.autoencoder) for explainer in members}) < len(members):
        raise ValueError(
            "two explainers hold the same auto-encoder object: give each its own copy (copy.deepcopy(autoencoder))"
        )

    def architecture(module: nn.Module) -> tuple:
        return type(module), [(name, tuple(p.shape)) for name, p in module.named_parameters()]

    if any(architecture(explainer.autoencoder) != architecture(first.autoencoder) for explainer in members):
        raise ValueError(
            "the auto-encoders differ in architecture (class, parameter names or shapes): only identical ones stack; "
            "group them by architecture or fit them one by one with TSInsight.fit"
        )
    # vmap cannot update BatchNorm statistics in place, and dropout under vmap would draw other random numbers.
    for explainer in members:
        layers = list(explainer.autoencoder.modules())
        if any(True for _ in explainer.autoencoder.buffers()) or any(
            isinstance(m, nn.modules.dropout._DropoutNd) for m in layers
        ):
            raise ValueError(
                "an auto-encoder with buffers (BatchNorm) or dropout cannot be stacked exactly: "
                "fit it with TSInsight.fit"
            )
