"""The networks: a 1-D CNN and an LSTM classifier, and the convolutional auto-encoder TSInsight fine-tunes.

The paper does not give its architectures; these are small, standard choices:

- ``CNNClassifier``: three blocks of Conv1d (kernel 5, same padding) → BatchNorm → ReLU with 32, 64, 64
  filters, global average pooling over time, then a linear layer. Global pooling lets one network take
  any series length.
- ``LSTMClassifier``: a one-layer LSTM with 64 hidden units read over time; the last hidden state feeds a
  linear layer. Its per-step outputs pass through ``features`` (an identity) laid out as
  ``(batch, hidden, time)`` so that GradCAM can weigh time steps as it does a CNN's feature map.
- ``AutoEncoder``: an encoder of two stride-2 Conv1d layers (32 and 64 filters, kernel 5) with ReLU,
  a decoder of two stride-2 ConvTranspose1d layers (kernel 4) with a ReLU between them and a linear
  last layer, cropped back to the input's length: a 4× temporal bottleneck with an unbounded output.

All activations are ``nn.ReLU`` modules (not functional calls), which guided backpropagation and
GradCAM hook into. Every model takes inputs shaped ``(batch, channels, length)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

import torch
from torch import nn


class CNNClassifier(nn.Module):
    """A 1-D convolutional classifier with global average pooling; returns logits."""

    def __init__(self, n_channels: int, n_classes: int, width: int = 64):
        super().__init__()
        _check_positive(n_channels=n_channels, n_classes=n_classes, width=width)
        self.n_channels, self.n_classes = n_channels, n_classes

        def block(c_in: int, c_out: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv1d(c_in, c_out, 5, padding=2), nn.BatchNorm1d(c_out), nn.ReLU())

        self.features = nn.Sequential(block(n_channels, width // 2), block(width // 2, width), block(width, width))
        self.head = nn.Linear(width, n_classes)

    @property
    def feature_layer(self) -> nn.Module:
        """The last feature map over time (GradCAM's layer)."""
        return self.features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=-1))


class LSTMClassifier(nn.Module):
    """A one-layer LSTM whose last hidden state is classified; returns logits."""

    def __init__(self, n_channels: int, n_classes: int, hidden: int = 64):
        super().__init__()
        _check_positive(n_channels=n_channels, n_classes=n_classes, hidden=hidden)
        self.n_channels, self.n_classes = n_channels, n_classes
        self.lstm = nn.LSTM(n_channels, hidden, batch_first=True)
        self.features = nn.Identity()
        self.head = nn.Linear(hidden, n_classes)

    @property
    def feature_layer(self) -> nn.Module:
        """The per-step hidden states laid out ``(batch, hidden, time)`` (GradCAM's layer)."""
        return self.features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs, _ = self.lstm(x.transpose(1, 2))
        steps = self.features(outputs.transpose(1, 2))
        return self.head(steps[..., -1])


class AutoEncoder(nn.Module):
    """A convolutional auto-encoder with a 4× temporal bottleneck and a linear output of the input's shape."""

    def __init__(self, n_channels: int, length: int, width: int = 64):
        super().__init__()
        _check_positive(n_channels=n_channels, length=length, width=width)
        self.n_channels, self.length = n_channels, length
        self.encoder = nn.Sequential(
            nn.Conv1d(n_channels, width // 2, 5, stride=2, padding=2),
            nn.ReLU(),
            nn.Conv1d(width // 2, width, 5, stride=2, padding=2),
            nn.ReLU(),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose1d(width, width // 2, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.ConvTranspose1d(width // 2, n_channels, 4, stride=2, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or x.shape[1] != self.n_channels:
            raise ValueError(
                f"AutoEncoder expects (batch, {self.n_channels}, length) inputs, got shape {tuple(x.shape)}"
            )
        length = x.shape[-1]
        decoded = self.decoder(self.encoder(x))
        return decoded[..., :length]  # the stride-2 round trip rounds the length up to a multiple of 4


CLASSIFIERS: dict[str, type[nn.Module]] = {"cnn": CNNClassifier, "lstm": LSTMClassifier}


def make_classifier(kind: str, n_channels: int, n_classes: int) -> nn.Module:
    """A fresh classifier of ``kind`` (``"cnn"`` or ``"lstm"``)."""
    try:
        return CLASSIFIERS[kind](n_channels, n_classes)
    except KeyError:
        raise ValueError(f"unknown classifier kind {kind!r}: choose one of {sorted(CLASSIFIERS)}") from None


def contains_rnn(*modules: nn.Module) -> bool:
    """Whether any of ``modules`` holds a recurrent layer (LSTM, GRU, RNN)."""
    return any(isinstance(layer, nn.RNNBase) for module in modules for layer in module.modules())


@contextmanager
def rnn_backward_allowed(*modules: nn.Module):
    """Switch cuDNN off while gradients flow through a recurrent layer in eval mode.

    cuDNN's RNN backward refuses to run in eval mode ("cudnn RNN backward can only be called in training
    mode"), yet a frozen classifier must stay in eval mode while TSInsight or an attribution method
    differentiates through it. PyTorch's native RNN kernels have no such restriction.
    """
    with torch.backends.cudnn.flags(enabled=not contains_rnn(*modules)):
        yield


@contextmanager
def evaluating(model: nn.Module, *, gradients: bool = True) -> Iterator[None]:
    """``model`` in eval mode for the duration of the block, its previous mode restored afterwards.

    With ``gradients`` cuDNN is switched off for recurrent models: its RNN kernels cannot backpropagate
    in eval mode.
    """
    was_training = model.training
    model.eval()
    try:
        with rnn_backward_allowed(model) if gradients else nullcontext():
            yield
    finally:
        model.train(was_training)


def _check_positive(**sizes: int) -> None:
    for name, value in sizes.items():
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
