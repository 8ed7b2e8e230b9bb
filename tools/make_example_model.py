"""Write a tiny classifier the project has never seen, and its data, for the "Your model" page.

``python tools/make_example_model.py [FOLDER]`` (default ``examples/your_model``) writes:

- ``data.npz``: two-channel series of 64 steps in two classes; a class-1 series carries a bump of 8 steps on
  channel 0 at a random place, a class-0 series none, and ``evidence`` marks the bump (the ground truth);
- ``classifier.pt``: a small convolutional network defined here (not one of ``tsinsight.models``), trained for a
  few epochs and saved as TorchScript (``torch.jit.trace``), the format a user would hand over.

It needs a minute on one CPU core and nothing from the data mirror. Then::

    make notebook NB=your_model P="classifier=examples/your_model/classifier.pt data=examples/your_model/data.npz"
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

CHANNELS, LENGTH, BUMP = 2, 64, 8


class TinyConvNet(nn.Module):
    """Two convolutions, global max-pooling and a linear read-out: a user's own small model."""

    def __init__(self, channels: int = CHANNELS, classes: int = 2):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv1d(channels, 16, 5, padding=2), nn.ReLU(), nn.Conv1d(16, 16, 5, padding=2), nn.ReLU()
        )
        self.head = nn.Linear(16, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).amax(dim=2))


def make_data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = rng.normal(0.0, 0.5, size=(n, CHANNELS, LENGTH)).astype(np.float32)
    y = rng.integers(0, 2, size=n)
    evidence = np.zeros_like(x, dtype=bool)
    for i in np.flatnonzero(y == 1):
        start = rng.integers(0, LENGTH - BUMP)
        x[i, 0, start : start + BUMP] += 2.0
        evidence[i, 0, start : start + BUMP] = True
    return x, y, evidence


def main(folder: str = "examples/your_model") -> Path:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    x_train, y_train, _ = make_data(600, rng)
    x_test, y_test, evidence = make_data(200, rng)
    model = TinyConvNet()
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    xt, yt = torch.as_tensor(x_train), torch.as_tensor(y_train)
    for _ in range(15):
        for batch in torch.randperm(len(xt)).split(32):
            optimiser.zero_grad()
            nn.functional.cross_entropy(model(xt[batch]), yt[batch]).backward()
            optimiser.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(torch.as_tensor(x_test)).argmax(1).numpy() == y_test).mean()
    torch.jit.trace(model, xt[:2]).save(str(out / "classifier.pt"))
    np.savez(out / "data.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test, evidence=evidence)
    print(f"wrote {out / 'classifier.pt'} (test accuracy {accuracy:.1%}) and {out / 'data.npz'}")
    return out


if __name__ == "__main__":
    main(*sys.argv[1:])
