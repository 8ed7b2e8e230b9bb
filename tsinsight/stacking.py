"""Several TSInsight explainers fitted together as one stacked model: the candidates of a γ/β sweep, and the runs.

A γ/β sweep (:mod:`tsinsight.tuning`) fine-tunes 6–9 copies of one pretrained auto-encoder in front of one frozen
classifier with one ``TrainConfig``: the same batches in the same order, only the loss weights differ. The runs of a
data set fine-tune auto-encoders of one architecture in front of classifiers of one architecture, each with its own
seed. On a few CPU cores, and even more on a GPU, these small networks are overhead-bound, so :func:`fit_together`
runs all the auto-encoders at once on each batch (``torch.func.vmap`` over the members' stacked parameters) and the
classifier once on all their outputs (or, when the members have their own classifiers, vmapped over theirs, in eval
mode so that BatchNorm reads its stored statistics), while every member keeps its own batches (its seed), Adam,
learning-rate schedule, early stopping, best weights and history. Its mode is ``tsinsight``, ``sparsity_only`` (γ = 0)
or ``palacio`` (cross-entropy alone, only the decoder trained).

Each member follows :meth:`TSInsight.fit`'s arithmetic except for rounding: the vmapped convolutions run as
grouped convolutions, whose results differ from a single network's in the last bit (and, in the backward pass,
with the number of members still training). A well-conditioned fit ends the same (``tests/test_stacking.py``:
same epochs, best epochs, learning rates and validation accuracies, weights within 2e-6). A long fine-tuning is
not well-conditioned: Adam amplifies rounding-level differences, so that fitting alone from a start moved by one
ulp changes the weights and stopping epochs as much as stacking does. Measured on the synthetic set (cpu profile,
six sweep candidates run to early stopping): the stopping epoch moved in 4 of 6 fits stacked and in 3 of 6 one
ulp away, the test accuracy by at most 0.001 stacked and 0.002 one ulp away. There the stacked fit is one more
draw of that rounding noise, not a bitwise reproduction of the separate fits. Recurrent classifiers cannot be
vmapped (PyTorch has no batching rule for ``aten::lstm``): their members must share one classifier.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from dataclasses import dataclass, field, replace

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, vmap
from tqdm import tqdm

from tsinsight.checks import Batch, check_splits
from tsinsight.explainer import TSInsight, check_unchanged, state_snapshot, warn_if_capped
from tsinsight.models import contains_rnn, rnn_backward_allowed
from tsinsight.training import TrainConfig, history_frame, resolve_device

# The modes whose loss is a function of the auto-encoder's output (and x, y) alone; "saliency" needs per-input
# saliency maps, so it is fitted one by one with TSInsight.fit.
STACKABLE_MODES = ("tsinsight", "sparsity_only", "palacio")


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
    shuffler: torch.Generator = field(init=False)
    rows: list[tuple] = field(default_factory=list)

    def __post_init__(self):
        autoencoder, config = self.explainer.autoencoder, self.config
        trained = autoencoder.decoder if self.explainer.mode == "palacio" else autoencoder  # as TSInsight.fit
        self.optimizer = torch.optim.Adam(list(trained.parameters()), lr=config.lr, weight_decay=config.weight_decay)
        self.shuffler = torch.Generator().manual_seed(config.seed)  # its own batches, as training.fit draws them
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


def fit_together(
    explainers: list[TSInsight], dataset, config: TrainConfig | None = None, *, seeds: list[int] | None = None
) -> list[pd.DataFrame]:
    """Fit each of ``explainers`` as ``explainer.fit(dataset, replace(config, seed=its seed))`` would, in one stacked model.

    Each explainer holds its own auto-encoder, all of one architecture (e.g. ``copy.deepcopy`` of a pretrained one),
    and is in mode ``"tsinsight"``, ``"sparsity_only"`` or ``"palacio"``; the classifiers are one object or several of
    one architecture (a run's own). ``seeds`` gives each member the seed of its batches (default: all
    ``config.seed``). Every member has its own shuffled batches, Adam, reduce-on-plateau schedule, early stopping,
    best weights (restored at the end) and history, and drops out of the stacked model when it stops. Returns the
    histories in the order of ``explainers`` (also set as each one's ``history``, with the convergence record in
    ``attrs`` and a ``ConvergenceWarning`` for each capped fit, as ``TSInsight.fit`` does). ``seconds`` in a history is
    the member's share of the stacked epoch (the epoch's time divided by the members it trained).
    """
    config = config or TrainConfig()
    members = list(explainers)
    seeds = [config.seed] * len(members) if seeds is None else list(seeds)
    _check_stackable(members, seeds)
    train, val = check_splits(dataset)
    for explainer in members:
        explainer._check_devices()
        explainer._check_models(*train)
    classifiers = list({id(e.classifier): e.classifier for e in members}.values())
    before = [state_snapshot(classifier) for classifier in classifiers]
    device = resolve_device(config.device)
    homes = [next(explainer.autoencoder.parameters()).device for explainer in members]
    for explainer in members:
        explainer.pipeline.to(device)
    fits = [_Member(e, replace(config, seed=seed), home) for e, seed, home in zip(members, seeds, homes, strict=True)]
    stack = _Stack(members)
    torch.manual_seed(seeds[0])  # as TSInsight.fit does (nothing draws from it: the auto-encoders have no dropout)
    n = len(train[0])
    bar = tqdm(
        range(1, config.max_epochs + 1), desc=f"TSInsight ×{len(fits)}", disable=not config.progress, leave=False
    )
    with contextlib.ExitStack() as frozen:
        for classifier in classifiers:
            frozen.enter_context(rnn_backward_allowed(classifier))
        for epoch in bar:
            active = [member for member in fits if not member.stopped]
            if not active:
                break
            start = time.perf_counter()
            stack.template.train()
            totals = [0.0] * len(active)
            orders = [_epoch_batches(member.shuffler, n, config.batch_size) for member in active]
            for indices in zip(*orders, strict=True):
                # members of one seed share their batches (one input for all); else each has its own samples
                index = indices[0] if len(set(seeds)) == 1 else torch.stack(indices)
                x, y = train[0][index].to(device), train[1][index].to(device)
                with config.autocast(device):
                    losses, _ = stack.losses_and_logits(active, x, y)
                for member in active:
                    member.optimizer.zero_grad(set_to_none=True)
                losses.sum().backward()  # the members' parameters are disjoint: each gets its own total's gradient
                for member in active:
                    member.optimizer.step()
                totals = [t + loss * index.shape[-1] for t, loss in zip(totals, losses.tolist(), strict=True)]
            stack.template.eval()
            val_losses, metrics = _evaluate(stack, active, val, config.batch_size, device)
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
        history = history_frame(member.rows, member.config)
        history.attrs["metric"] = "val_accuracy"
        member.explainer.history = history
        histories.append(history)
    for classifier, state in zip(classifiers, before, strict=True):
        check_unchanged(classifier, state)
    for explainer, history in zip(members, histories, strict=True):
        warn_if_capped(history, config, repr(explainer))
    return histories


class _Stack:
    """The forward pass of the stacked model: weightless (meta) copies of the auto-encoder and, when the members have
    their own classifiers, of the classifier, into which ``functional_call`` swaps each member's tensors."""

    def __init__(self, members: list[TSInsight]):
        self.template = copy.deepcopy(members[0].autoencoder).to("meta")
        shared = all(e.classifier is members[0].classifier for e in members)
        self.classifier_template = None if shared else copy.deepcopy(members[0].classifier).to("meta").eval()

    def outputs(self, explainers: list[TSInsight], x: torch.Tensor) -> torch.Tensor:
        return stacked_outputs([e.autoencoder for e in explainers], self.template, x)

    def logits(self, explainers: list[TSInsight], out: torch.Tensor) -> torch.Tensor:
        """Each member's classifier on its output ``out[m]``: ``(members, batch, classes)``."""
        k, b = out.shape[:2]
        if self.classifier_template is None:  # one classifier: one call on all the outputs
            return explainers[0].classifier(out.reshape(k * b, *out.shape[2:])).view(k, b, -1)
        states = [{**dict(e.classifier.named_parameters()), **dict(e.classifier.named_buffers())} for e in explainers]
        stacked = {name: torch.stack([state[name] for state in states]) for name in states[0]}
        return vmap(lambda state, o: functional_call(self.classifier_template, state, (o,)))(stacked, out)

    def losses_and_logits(self, members: list[_Member], x: torch.Tensor, y: torch.Tensor):
        """Each member's total loss on ``(x, y)`` and its logits ``(members, batch, classes)``."""
        explainers = [member.explainer for member in members]
        out = self.outputs(explainers, x)
        logits = self.logits(explainers, out)
        return stacked_terms(explainers, out, x, y, logits)["total"], logits


def stacked_outputs(autoencoders: list[nn.Module], template: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The outputs of ``autoencoders`` (all of ``template``'s architecture) on ``x``, shaped ``(members, batch, …)``.

    ``x`` is one batch for all, ``(batch, C, T)``, or each member's own, ``(members, batch, C, T)``. The parameters are
    stacked afresh at every call (not once with ``stack_module_state``) so that gradients flow back through
    ``torch.stack`` to each member's own leaf parameters, which its own optimiser steps.
    """
    members = [dict(autoencoder.named_parameters()) for autoencoder in autoencoders]
    stacked = {name: torch.stack([params[name] for params in members]) for name in members[0]}
    per_member = 0 if x.dim() == 4 else None
    return vmap(lambda params, inputs: functional_call(template, params, (inputs,)), in_dims=(0, per_member))(
        stacked, x
    )


def stacked_terms(
    explainers: list[TSInsight], out: torch.Tensor, x: torch.Tensor, y: torch.Tensor, logits: torch.Tensor | None = None
) -> dict:
    """:meth:`TSInsight.loss_of_output` of each explainer on its output ``out[m]``, as tensors of one value per member.

    ``x``, ``y`` are one batch for all or each member's own (a leading members axis); ``logits`` (default: the shared
    classifier once on all outputs) are ``(members, batch, classes)``. Every term is averaged over the batch per member,
    as ``loss_of_output`` averages it over its batch. A mode without a term has weight 0 in it: ``sparsity_only`` has
    no reconstruction and ``palacio`` neither reconstruction nor sparsity.
    """
    out = out.float()  # under bfloat16 autocast the loss terms are still summed in float32
    k, b = out.shape[:2]
    if logits is None:
        logits = explainers[0].classifier(out.reshape(k * b, *out.shape[2:])).view(k, b, -1)
    y = y if y.dim() == 2 else y.expand(k, b)
    x = x if x.dim() == out.dim() else x.expand_as(out)
    cross_entropy = F.cross_entropy(logits.reshape(k * b, -1), y.reshape(k * b), reduction="none").view(k, b)
    terms = {"cross_entropy": cross_entropy.mean(dim=1)}
    gamma = torch.tensor([e.gamma if e.mode == "tsinsight" else 0.0 for e in explainers], device=out.device)
    beta = torch.tensor([e.beta if e.mode != "palacio" else 0.0 for e in explainers], device=out.device)
    modes = {e.mode for e in explainers}
    if "tsinsight" in modes:
        terms["reconstruction"] = gamma * (out - x).pow(2).flatten(1).mean(dim=1)
    if modes - {"palacio"}:
        terms["sparsity"] = beta * out.abs().sum(dim=(2, 3)).mean(dim=1)
    terms["total"] = sum(terms.values())
    return terms


# training.fit draws its batches inline; this is the same draw, one epoch at a time, for a member's own shuffler.
def _epoch_batches(shuffler: torch.Generator, n: int, batch_size: int) -> tuple[torch.Tensor, ...]:
    return torch.randperm(n, generator=shuffler).split(batch_size)


@torch.no_grad()
def _evaluate(
    stack: _Stack, members: list[_Member], data: Batch, batch_size: int, device
) -> tuple[list[float], list[float]]:
    """``training.evaluate_loss`` and ``training.accuracy`` for every member at once, from one stacked pass over
    ``data``: each member's sample-weighted mean total loss and the fraction of ``data`` its pipeline classifies right."""
    n, totals, right = len(data[0]), [0.0] * len(members), torch.zeros(len(members), dtype=torch.long)
    for start in range(0, n, batch_size):
        x, y = (t[start : start + batch_size].to(device) for t in data[:2])
        losses, logits = stack.losses_and_logits(members, x, y)
        totals = [t + loss * len(x) for t, loss in zip(totals, losses.tolist(), strict=True)]
        right += (logits.argmax(dim=-1) == y).sum(dim=-1).cpu()
    return [t / n for t in totals], (right / n).tolist()


def _check_stackable(members: list[TSInsight], seeds: list[int]) -> None:
    if not members:
        raise ValueError("fit_together needs at least one explainer")
    for explainer in members:
        if not isinstance(explainer, TSInsight):
            raise TypeError(f"fit_together fits TSInsight explainers, got {type(explainer).__name__}")
    if len(seeds) != len(members) or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds):
        raise ValueError(f"seeds must hold one non-negative integer per explainer ({len(members)}), got {seeds!r}")
    first = members[0]
    odd = sorted({e.mode for e in members} - set(STACKABLE_MODES))
    if odd:
        raise ValueError(
            f"mode {odd[0]!r} cannot be stacked (only {list(STACKABLE_MODES)}, whose loss depends on the output "
            "alone): fit these explainers one by one with TSInsight.fit"
        )
    if len({id(explainer.autoencoder) for explainer in members}) < len(members):
        raise ValueError(
            "two explainers hold the same auto-encoder object: give each its own copy (copy.deepcopy(autoencoder))"
        )

    def architecture(module: nn.Module) -> tuple:
        return type(module), [
            (name, tuple(t.shape)) for name, t in (*module.named_parameters(), *module.named_buffers())
        ]

    if any(architecture(explainer.autoencoder) != architecture(first.autoencoder) for explainer in members):
        raise ValueError(
            "the auto-encoders differ in architecture (class, parameter names or shapes): only identical ones stack; "
            "group them by architecture or fit them one by one with TSInsight.fit"
        )
    if any(explainer.classifier is not first.classifier for explainer in members):
        if any(architecture(e.classifier) != architecture(first.classifier) for e in members):
            raise ValueError(
                "the classifiers differ in architecture: only explainers whose classifiers share one stack; group "
                "them by architecture or fit them one by one with TSInsight.fit"
            )
        if contains_rnn(first.classifier):
            raise ValueError(
                "recurrent classifiers cannot be vmapped (PyTorch has no batching rule for aten::lstm): stack only "
                "the explainers that share one classifier object, or fit them one by one with TSInsight.fit"
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
