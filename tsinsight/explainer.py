"""The TSInsight explainer: an auto-encoder fine-tuned in front of a frozen classifier (Section 3, Fig. 7).

``TSInsight(classifier, autoencoder, gamma=..., beta=...)`` takes a pretrained classifier and a pretrained
auto-encoder; ``fit`` fine-tunes the auto-encoder (the classifier never changes) and ``attribute`` returns
the magnitude of the auto-encoder's output, the paper's attribution. The loss modes (``TSInsight.loss`` computes every term):

- ``tsinsight`` (Eq. 1): CE(Φ(D(E(x))), y) + γ·MSE(x, D(E(x))) + β·‖D(E(x))‖₁ + λ·‖W_E, W_D‖²;
  encoder and decoder are trained.
- ``palacio`` (Palacio et al. 2018, Fig. 1b): CE only, only the decoder is trained.
- ``sparsity_only`` (Fig. 2a): CE + β·‖D(E(x))‖₁, no reconstruction term.
- ``saliency`` (end of Section 3): CE + ‖(x − D(E(x))) ⊙ γ*(x)‖² + C·‖D(E(x)) ⊙ β*‖₁ with C = 10,
  γ*(x) = I(x) and β* = 1 − (the training set's average I), I the classifier's saliency (below).

Normalisation (the paper writes norms and does not say how they are averaged): the reconstruction term is
a *mean* squared error over channels and time, as its name says; the sparsity term is the L1 *norm*
(sum over channels and time) the equation writes; every term is averaged over the batch like the CE.
With the paper's β of 1e-5 … 1e-3 this makes sparsity bite where the reconstruction error is small:
with both terms as means, β that small would have no visible effect. λ is ``TrainConfig.weight_decay``,
applied by Adam to the trained auto-encoder parameters only.

Saliency I(x): the paper writes ∂a_L/∂x, the gradient of the classifier's last-layer activations (the
logits) with respect to the input. It is the ``gradient`` attribution of :mod:`tsinsight.attribution` (the
gradient of all classes' logits, one definition for the whole book), computed on the classifier alone and
min–max scaled per input to [0, 1].
"""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from tsinsight.attribution import attribute
from tsinsight.checks import (
    Batch,
    check_autoencoder,
    check_classifier,
    check_data,
    check_inputs,
    check_model,
    check_splits,
)
from tsinsight.models import AutoEncoder, evaluating, rnn_backward_allowed
from tsinsight.training import TrainConfig, accuracy, fit

MODES = ("tsinsight", "palacio", "sparsity_only", "saliency")
SALIENCY_C = 10.0  # the paper's constant C scaling the saliency-weighted sparsity term
# The weights each mode's loss takes; the others must stay None.
MODE_WEIGHTS: dict[str, tuple[str, ...]] = {
    "tsinsight": ("gamma", "beta"),
    "palacio": (),
    "sparsity_only": ("beta",),
    "saliency": (),
}


def mode_weights(mode: str, gamma: float | None = None, beta: float | None = None) -> dict[str, float | None]:
    """``gamma``/``beta`` as keyword arguments for ``TSInsight(mode=mode)``, the weights the mode does not use set to None."""
    if mode not in MODE_WEIGHTS:
        raise ValueError(f"unknown mode {mode!r}: choose one of {list(MODES)}")
    given = {"gamma": gamma, "beta": beta}
    return {name: given[name] if name in MODE_WEIGHTS[mode] else None for name in given}


def near_zero_share(output, x, tolerance: float = 0.05) -> float:
    """Share of the points of ``output`` whose magnitude is at most ``tolerance`` · (standard deviation of ``x``)."""
    if not tolerance > 0:
        raise ValueError(f"tolerance must be positive, got {tolerance!r}")
    return float((np.abs(np.asarray(output)) <= tolerance * np.asarray(x).std()).mean())


def alignment(output, x, tolerance: float = 0.05) -> dict[str, float]:
    """Whether an output follows its input on the points it keeps, or encodes the class some other way.

    Kept points are those :func:`near_zero_share` does not call near zero (``|output|`` > ``tolerance`` · std x).
    Returns ``kept_share``, ``sign_agreement`` (share of kept points where the output has the input's sign) and
    ``kept_correlation`` (Pearson correlation of output and input over the kept points of all inputs, pooled).
    An output that is a shrunk or thresholded copy of the input scores 1 and a high correlation however sparse it
    is; a *code* (sparse spikes whose place or size, not the input's value, carries the class) scores near 0.5 and
    near 0. With fewer than two kept points (or constant ones) the two scores are NaN: there is nothing to align.
    """
    out, x = np.asarray(output, dtype=np.float64), np.asarray(x, dtype=np.float64)
    if out.shape != x.shape:
        raise ValueError(f"output {out.shape} and input {x.shape} must have the same shape")
    if not tolerance > 0:
        raise ValueError(f"tolerance must be positive, got {tolerance!r}")
    kept = np.abs(out) > tolerance * x.std()
    scores = dict(kept_share=float(kept.mean()), sign_agreement=math.nan, kept_correlation=math.nan)
    if kept.sum() >= 2:
        o, v = out[kept], x[kept]
        scores["sign_agreement"] = float((np.sign(o) == np.sign(v)).mean())
        if np.ptp(o) > 0 and np.ptp(v) > 0:
            scores["kept_correlation"] = float(np.corrcoef(o, v)[0, 1])
    return scores


class ConvergenceWarning(UserWarning):
    """A fine-tuning stopped at its epoch cap instead of by early stopping."""


def state_snapshot(module: nn.Module) -> dict[str, torch.Tensor]:
    """A CPU copy of ``module``'s state, for :func:`check_unchanged` after a fit."""
    return {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}


def check_unchanged(classifier: nn.Module, before: dict[str, torch.Tensor]) -> None:
    """Raise if ``classifier``'s state differs in any bit from the snapshot ``before``: it must stay frozen."""
    after = classifier.state_dict()
    if before.keys() != after.keys() or any(not torch.equal(before[k], after[k].cpu()) for k in before):
        raise RuntimeError("the classifier changed while fitting TSInsight; it must stay frozen")


def warn_if_capped(history: pd.DataFrame, config, who: str, stacklevel: int = 2) -> None:
    """A :class:`ConvergenceWarning`, pointing at the caller of the fitting function, when the fit of ``history``
    reached ``config.max_epochs`` before early stopping."""
    if history.attrs["capped"]:
        warnings.warn(
            f"{who}'s fine-tuning reached max_epochs={config.max_epochs} before early stopping (best epoch "
            f"{history.attrs['best_epoch']}): its output is not converged. Raise TrainConfig.max_epochs.",
            ConvergenceWarning,
            stacklevel=stacklevel + 1,
        )


class Pipeline(nn.Module):
    """The auto-encoder followed by the classifier; the classifier stays in eval mode whatever ``train()`` says."""

    def __init__(self, autoencoder: nn.Module, classifier: nn.Module):
        super().__init__()
        self.autoencoder, self.classifier = autoencoder, classifier

    def train(self, mode: bool = True) -> Pipeline:
        super().train(mode)
        self.classifier.eval()  # frozen: its BatchNorm statistics must not move
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.autoencoder(x))


def _width(autoencoder: nn.Module) -> int | None:
    encoder = getattr(autoencoder, "encoder", None)
    last = encoder[-2] if isinstance(encoder, nn.Sequential) and len(encoder) >= 2 else None
    return getattr(last, "out_channels", None)


class TSInsight:
    """An attribution model: an auto-encoder fine-tuned in front of a frozen classifier.

    ``gamma`` weighs reconstruction and ``beta`` the L1 sparsity of the auto-encoder's output (the paper's
    Table 3 gives them per data set: ``tsinsight.paper.hyperparameters``). ``mode`` picks the loss (see
    the module docstring); a weight that the mode does not use must be left ``None``. The classifier is
    frozen in place (``requires_grad`` off, eval mode) and every fit checks that it is bit-identical
    afterwards. The auto-encoder is fine-tuned in place.
    """

    def __init__(self, classifier: nn.Module, autoencoder: nn.Module, *, gamma=None, beta=None, mode="tsinsight"):
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}: choose one of {list(MODES)}")
        for name, module in (("classifier", classifier), ("autoencoder", autoencoder)):
            if not isinstance(module, nn.Module):
                raise TypeError(f"{name} must be a torch.nn.Module, got {type(module).__name__}")
        for name, value in (("gamma", gamma), ("beta", beta)):
            if name not in MODE_WEIGHTS[mode]:
                if value is not None:
                    raise ValueError(f"mode {mode!r} does not use {name}; leave it None (got {value!r})")
                continue
            if value is None:
                raise ValueError(f"mode {mode!r} needs {name} (the paper's Table 3: tsinsight.paper.hyperparameters)")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if mode == "palacio" and not isinstance(getattr(autoencoder, "decoder", None), nn.Module):
            raise ValueError("mode 'palacio' trains only the decoder: the auto-encoder needs a .decoder module")
        channels = (getattr(classifier, "n_channels", None), getattr(autoencoder, "n_channels", None))
        if None not in channels and channels[0] != channels[1]:
            raise ValueError(f"the classifier takes {channels[0]} channels but the auto-encoder {channels[1]}")
        self.classifier, self.autoencoder = classifier, autoencoder
        self.gamma = None if gamma is None else float(gamma)
        self.beta = None if beta is None else float(beta)
        self.mode = mode
        for parameter in self.classifier.parameters():  # one by one: a TorchScript module has no requires_grad_
            parameter.requires_grad_(False)
        self.classifier.eval()
        self.pipeline = Pipeline(autoencoder, classifier)
        self.saliency_average: torch.Tensor | None = None  # (channels, length), set by fit in mode "saliency"
        self.history: pd.DataFrame | None = None  # the last fit's, with its convergence in ``attrs``

    def __repr__(self) -> str:
        return f"TSInsight(mode={self.mode!r}, gamma={self.gamma}, beta={self.beta})"

    # ------------------------------------------------------------------ weights on disk
    FORMAT = "tsinsight-explainer-1"

    def save(self, path) -> None:
        """Write the fitted auto-encoder's weights and the explainer's settings to ``path`` (tensors and numbers
        only: :meth:`load` reads it with ``weights_only=True``). The classifier is not saved: it is the caller's."""
        shape = {name: getattr(self.autoencoder, name, None) for name in ("n_channels", "length")}
        torch.save(
            {
                "format": self.FORMAT,
                "mode": self.mode,
                "gamma": self.gamma,
                "beta": self.beta,
                "autoencoder": {**shape, "width": _width(self.autoencoder)},
                "state_dict": {k: v.detach().cpu() for k, v in self.autoencoder.state_dict().items()},
                "saliency_average": self.saliency_average,
            },
            path,
        )

    @classmethod
    def load(cls, path, classifier: nn.Module, autoencoder: nn.Module | None = None) -> TSInsight:
        """The explainer :meth:`save` wrote, in front of ``classifier``; its auto-encoder is a
        :class:`tsinsight.models.AutoEncoder` of the saved shape unless ``autoencoder`` is given to load into."""
        stored = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(stored, dict) or stored.get("format") != cls.FORMAT:
            raise ValueError(f"{path} was not written by TSInsight.save: nothing to load")
        if autoencoder is None:
            shape = stored["autoencoder"]
            if None in shape.values():
                raise ValueError(f"{path} holds a custom auto-encoder: pass an instance of it as autoencoder=")
            autoencoder = AutoEncoder(shape["n_channels"], shape["length"], shape["width"])
        autoencoder.load_state_dict(stored["state_dict"])
        explainer = cls(classifier, autoencoder, gamma=stored["gamma"], beta=stored["beta"], mode=stored["mode"])
        explainer.saliency_average = stored["saliency_average"]
        return explainer

    # ------------------------------------------------------------------ the loss
    def saliency(self, x: torch.Tensor) -> torch.Tensor:
        """I(x): the classifier's ``gradient`` attribution (all classes), min–max scaled per input to [0, 1]."""
        grads = torch.as_tensor(attribute("gradient", self.classifier, x.detach()), device=x.device)
        flat = grads.flatten(1)
        low, high = flat.min(dim=1, keepdim=True).values, flat.max(dim=1, keepdim=True).values
        return ((flat - low) / (high - low).clamp_min(1e-12)).view_as(x).detach()

    def loss(self, x: torch.Tensor, y: torch.Tensor, saliency: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """The loss terms on a batch, weights applied, and their sum under ``"total"``.

        Keys: ``cross_entropy`` always; ``reconstruction`` (modes tsinsight, saliency); ``sparsity`` (modes
        tsinsight, sparsity_only, saliency); ``total``. Weight decay is not a term here: Adam applies it.
        In mode ``saliency`` the per-input γ*(x) is ``saliency`` when given (precomputed I(x)), else computed.
        """
        return self.loss_of_output(self.autoencoder(x), x, y, saliency)

    def loss_of_output(
        self, out: torch.Tensor, x: torch.Tensor, y: torch.Tensor, saliency: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        """The loss terms of :meth:`loss` given the auto-encoder's output ``out`` on ``x`` (stacked fits reuse it)."""
        out = out.float()  # under bfloat16 autocast (TrainConfig.precision) the terms are still summed in float32
        terms = {"cross_entropy": F.cross_entropy(self.classifier(out), y)}
        if self.mode == "tsinsight":
            terms["reconstruction"] = self.gamma * F.mse_loss(out, x)
            terms["sparsity"] = self.beta * out.abs().sum(dim=(1, 2)).mean()
        elif self.mode == "sparsity_only":
            terms["sparsity"] = self.beta * out.abs().sum(dim=(1, 2)).mean()
        elif self.mode == "saliency":
            if self.saliency_average is None:
                raise RuntimeError("mode 'saliency' needs the data set's average saliency: call fit first")
            gamma_star = self.saliency(x) if saliency is None else saliency
            beta_star = 1.0 - self.saliency_average.to(x.device)
            terms["reconstruction"] = ((x - out) * gamma_star).pow(2).mean()
            terms["sparsity"] = SALIENCY_C * (out * beta_star).abs().sum(dim=(1, 2)).mean()
        terms["total"] = sum(terms.values())
        return terms

    # ------------------------------------------------------------------ fitting
    def fit(self, dataset, config: TrainConfig | None = None) -> pd.DataFrame:
        """Fine-tune the auto-encoder on ``dataset.train`` until early stopping on ``dataset.val``; return the history.

        The history's ``val_metric`` is the validation accuracy of the pipeline (auto-encoder + classifier); its
        ``attrs`` say whether the fit stopped early or reached ``config.max_epochs`` first (``capped``, with a
        warning: the output is then not converged, typically shrunk rather than sparse).
        """
        config = config or TrainConfig()
        self._check_devices()
        train, val = check_splits(dataset)
        self._check_models(*train)
        if self.mode == "saliency":
            train, val = (self._with_saliency(*split, config.batch_size) for split in (train, val))
            self.saliency_average = train[2].mean(dim=0)
        history = self._fit(train, val, config, desc=f"TSInsight ({self.mode})")
        history.attrs["metric"] = "val_accuracy"
        self.history = history
        warn_if_capped(history, config, "TSInsight")
        return history

    def fit_instance(self, x, y, config: TrainConfig | None = None) -> TSInsight:
        """An instance-level explainer (Section 6.2): a copy fine-tuned on the single input ``x`` with label ``y``.

        ``x`` is shaped ``(channels, length)`` or ``(1, channels, length)``. There is no held-out data: each epoch
        is one step on that input, and the fit stops when its own loss has not improved for
        ``config.early_stopping_patience`` steps (at most ``config.max_epochs``); the copy's ``history`` says
        how it ended (``training.convergence``). This explainer is left unchanged.
        """
        config = config or TrainConfig()
        self._check_devices()
        if isinstance(y, (bool, np.bool_)) or not isinstance(y, (int, np.integer, torch.Tensor)):
            raise ValueError(f"y must be the input's integer class index, got {y!r}")
        if isinstance(y, torch.Tensor) and (y.numel() != 1 or y.is_floating_point() or y.dtype == torch.bool):
            raise ValueError(
                f"y must be the input's integer class index, got a {y.dtype} tensor shaped {tuple(y.shape)}"
            )
        x = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
        x = x.unsqueeze(0) if x.dim() == 2 else x
        if x.dim() != 3 or len(x) != 1:
            raise ValueError(f"fit_instance takes one input shaped (channels, length), got {tuple(x.shape)}")
        x, y = check_data(x.detach().cpu(), torch.as_tensor([int(y)]), "instance")
        instance = copy.deepcopy(self)
        instance._check_models(x, y)
        data = (x, y)
        if self.mode == "saliency":
            data = instance._with_saliency(x, y, 1)
            if instance.saliency_average is None:
                instance.saliency_average = data[2][0]
        instance.history = instance._fit(data, data, config, desc="TSInsight (instance)")
        return instance

    def _fit(self, train: Batch, val: Batch, config: TrainConfig, desc: str) -> pd.DataFrame:
        before = state_snapshot(self.classifier)
        trained = self.autoencoder.decoder if self.mode == "palacio" else self.autoencoder
        with rnn_backward_allowed(self.classifier):
            history = fit(
                self.pipeline,
                lambda batch: self.loss(*batch)["total"],
                train,
                val,
                config,
                parameters=list(trained.parameters()),
                metric=lambda: accuracy(self.pipeline, *val[:2]),
                desc=desc,
            )
        check_unchanged(self.classifier, before)
        return history

    def _check_devices(self) -> None:
        """Both models on the same single device, with float32 weights."""
        models = {"classifier": self.classifier, "autoencoder": self.autoencoder}
        devices = {name: {str(t.device) for t in (*m.parameters(), *m.buffers())} for name, m in models.items()}
        if (
            len(devices["classifier"]) == len(devices["autoencoder"]) == 1
            and devices["classifier"] != devices["autoencoder"]
        ):
            raise ValueError(
                f"the classifier is on {devices['classifier'].pop()} but the auto-encoder on "
                f"{devices['autoencoder'].pop()}: move both to one device "
                "(explainer.classifier.to(device); explainer.autoencoder.to(device))"
            )
        for name, module in models.items():
            check_model(module, name)

    def _check_models(self, x: torch.Tensor, y: torch.Tensor) -> None:
        check_classifier(self.classifier, x, y, "classifier")
        check_autoencoder(self.autoencoder, x)

    def _with_saliency(self, x: torch.Tensor, y: torch.Tensor, batch_size: int) -> Batch:
        device = next(self.classifier.parameters()).device
        parts = [self.saliency(x[i : i + batch_size].to(device)).cpu() for i in range(0, len(x), batch_size)]
        return x, y, torch.cat(parts)

    # ------------------------------------------------------------------ using it
    def reconstruct(self, x, batch_size: int = 1024):
        """The auto-encoder's output D(E(x)): numpy in → numpy out, tensor in → tensor (same dtype, device)."""
        return self._apply(x, batch_size, absolute=False)

    def attribute(self, x, batch_size: int = 1024):
        """TSInsight's attribution ``|D(E(x))|``, shaped like ``x`` (numpy in → numpy out, tensor in → tensor out)."""
        return self._apply(x, batch_size, absolute=True)

    def sparsity(self, x, tolerance: float = 0.05) -> float:
        """Share of output points that are near zero: ``|D(E(x))|`` ≤ ``tolerance`` · (standard deviation of ``x``)."""
        x = np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x, dtype=np.float32)
        return near_zero_share(self.reconstruct(x), x, tolerance)

    @torch.no_grad()
    def _apply(self, x, batch_size: int, absolute: bool):
        is_tensor = isinstance(x, torch.Tensor)
        tensor = x if is_tensor else torch.as_tensor(np.asarray(x))
        if tensor.dim() != 3:
            raise ValueError(f"x must be shaped (samples, channels, length), got {tuple(tensor.shape)}")
        check_inputs(tensor)
        self._check_devices()
        device = next(self.autoencoder.parameters()).device
        with evaluating(self.autoencoder, gradients=False):
            parts = [
                self.autoencoder(tensor[i : i + batch_size].to(device).float())
                for i in range(0, len(tensor), batch_size)
            ]
        out = torch.cat(parts) if parts else torch.zeros(tensor.shape)
        out = out.abs() if absolute else out
        if is_tensor:
            return out.to(device=x.device, dtype=x.dtype if x.is_floating_point() else out.dtype)
        return out.cpu().numpy().astype(np.asarray(x).dtype if np.asarray(x).dtype.kind == "f" else np.float32)
