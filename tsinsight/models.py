"""The networks: a 1-D CNN and an LSTM classifier, and the convolutional auto-encoder TSInsight fine-tunes.

The paper does not give its architectures. The classifier follows the authors' public TSViz code
(``shoaibahmed/TSViz-Core``, ``src/tsviz.py``, ``loadModel``), the closest published trace of their networks:

- ``CNNClassifier``: three blocks of Conv1d (kernel 5, same padding) → BatchNorm → ReLU with 16, 32, 64
  filters, max-pooling by 2 after the first two, the last feature map flattened into a linear layer. TSViz
  uses LeakyReLU(0.3) and kernel 3; we use ``nn.ReLU`` (guided backpropagation overrides ReLU modules) and
  kernel 5, which learns FordA within the paper's budget (90.8 % against 87.9 % with kernel 3). A three-block
  CNN with global average pooling, our first choice, stayed near chance on ECG Thorax (42 classes): the
  flattened head sees *where* a pattern occurs, which is what separates those heartbeats.
- ``LSTMClassifier``: a one-layer LSTM with 64 hidden units read over time, chrono-initialised; the last
  hidden state feeds a linear layer. Its per-step outputs pass through ``features`` (an identity) laid out
  as ``(batch, hidden, time)`` so that GradCAM can weigh time steps as it does a CNN's feature map.
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
    """The authors' TSViz network in PyTorch: three Conv1d blocks, max-pooling, a flattened, position-aware head.

    Blocks of Conv1d (kernel 5, same padding) → BatchNorm → ReLU with 16, 32 and 64 filters, max-pooling by 2
    after the first two; the last feature map, ``(batch, 64, length // 4)``, is flattened into a linear layer.
    The head sees where in time a pattern occurs, so the network needs the series ``length``. Returns logits.
    """

    def __init__(self, n_channels: int, n_classes: int, length: int, widths: tuple[int, ...] = (16, 32, 64)):
        super().__init__()
        _check_positive(n_channels=n_channels, n_classes=n_classes, length=length)
        pools = len(widths) - 1
        if length < 2**pools:
            raise ValueError(f"length must be at least {2**pools} for {pools} poolings by 2, got {length}")
        self.n_channels, self.n_classes, self.length = n_channels, n_classes, length
        blocks, c_in = [], n_channels
        for i, width in enumerate(widths):
            block = [nn.Conv1d(c_in, width, 5, padding=2), nn.BatchNorm1d(width), nn.ReLU()]
            blocks.append(nn.Sequential(*block, *([nn.MaxPool1d(2)] if i < pools else [])))
            c_in = width
        self.features = nn.Sequential(*blocks)
        self.head = nn.Linear(c_in * (length // 2**pools), n_classes)

    @property
    def feature_layer(self) -> nn.Module:
        """The last feature map over time, ``(batch, 64, length // 4)`` (GradCAM's layer)."""
        return self.features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))


class LSTMClassifier(nn.Module):
    """A one-layer LSTM whose last hidden state is classified, with chrono-initialised gates; returns logits.

    Chrono initialisation (Tallec & Ollivier, ICLR 2018): the forget-gate bias is log U(1, horizon − 1) and the
    input-gate bias its negative, so that cells keep what they store for about ``horizon`` steps; the input
    weights are scaled by ``input_scale`` so that strong inputs can open the gates. With PyTorch's default
    initialisation the LSTM stays at the majority class of the synthetic set for ten epochs.
    """

    def __init__(self, n_channels: int, n_classes: int, hidden: int = 64, horizon: int = 50, input_scale: float = 4.0):
        super().__init__()
        _check_positive(n_channels=n_channels, n_classes=n_classes, hidden=hidden, horizon=horizon)
        self.n_channels, self.n_classes = n_channels, n_classes
        self.lstm = nn.LSTM(n_channels, hidden, batch_first=True)
        with torch.no_grad():  # PyTorch's gate order: input, forget, cell, output
            forget = torch.log(torch.empty(hidden).uniform_(1, max(horizon - 1, 2)))
            self.lstm.bias_ih_l0.zero_()
            self.lstm.bias_hh_l0.zero_()
            self.lstm.bias_ih_l0[:hidden] = -forget
            self.lstm.bias_ih_l0[hidden : 2 * hidden] = forget
            self.lstm.weight_ih_l0.mul_(input_scale)
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


def make_classifier(kind: str, n_channels: int, n_classes: int, length: int) -> nn.Module:
    """A fresh classifier of ``kind`` (``"cnn"`` or ``"lstm"``) for series of ``length`` steps."""
    if kind not in CLASSIFIERS:
        raise ValueError(f"unknown classifier kind {kind!r}: choose one of {sorted(CLASSIFIERS)}")
    if kind == "cnn":
        return CNNClassifier(n_channels, n_classes, length)
    return LSTMClassifier(n_channels, n_classes)


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
