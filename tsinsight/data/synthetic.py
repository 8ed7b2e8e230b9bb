"""The synthetic anomaly detection data set of the TSViz paper (Siddiqui et al. 2019), regenerated with a seed.

A sample is 50 steps of 3 channels (pressure, temperature, torque), each a Gaussian random walk z-scored per
channel. With probability 0.25 an anomaly is attempted at a channel c ∈ {0, 1, 2} and a time t ∈ 1..48 with
factor f = sign(N(0, 1))·N(3, 0.75); only when c > 0 is x[c, t] multiplied by f and the sample labelled 1, so
about 1/6 of the samples are anomalous and pressure never carries an anomaly. The authors' code redraws t
while x[c, t] < 1.0; drawing t uniformly among the steps with x[c, t] ≥ 1.0 is the same distribution and
vectorises. A z-scored walk with no step ≥ 1.0 in 1..48 (rare) would make their loop endless: there we take
the largest value in 1..48. The injected point is recorded in ``evidence``: the ground truth of where the
evidence for the label is.
"""

from __future__ import annotations

import numpy as np

CHANNELS = ["pressure", "temperature", "torque"]
LENGTH = 50
ANOMALY_PROBABILITY = 0.25
# Bump when the generator's output changes: it is part of the cache's checksum of this "source".
GENERATOR_VERSION = "tsviz-1"


def generate(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` samples: ``x`` float32 ``(n, 3, 50)``, labels ``y`` (1 = anomalous) and the boolean ``evidence`` mask."""
    if n < 0:
        raise ValueError(f"the number of samples must be non-negative; got {n}")
    walk = np.cumsum(rng.standard_normal((n, len(CHANNELS), LENGTH)), axis=2)
    std = walk.std(axis=2, keepdims=True)
    x = (walk - walk.mean(axis=2, keepdims=True)) / np.where(std > 0, std, 1.0)

    attempted = rng.random(n) < ANOMALY_PROBABILITY
    factor = np.sign(rng.standard_normal(n)) * rng.normal(3.0, 0.75, n)
    channel = rng.integers(0, len(CHANNELS), n)
    inject = np.flatnonzero(attempted & (channel > 0))

    # t uniform among the steps 1..48 whose value is at least 1.0 (the authors' redraw loop, vectorised)
    inner = x[inject, channel[inject], 1 : LENGTH - 1]
    eligible = inner >= 1.0
    scores = np.where(eligible, rng.random(inner.shape), -1.0)
    fallback = ~eligible.any(axis=1)
    scores[fallback] = inner[fallback]  # no step ≥ 1.0: the largest value instead
    t = 1 + scores.argmax(axis=1)

    x[inject, channel[inject], t] *= factor[inject]
    y = np.zeros(n, dtype=np.int64)
    y[inject] = 1
    evidence = np.zeros(x.shape, dtype=bool)
    evidence[inject, channel[inject], t] = True
    return x.astype(np.float32), y, evidence


def generate_splits(seed: int, n_train: int = 45000, n_val: int = 5000, n_test: int = 10000) -> dict[str, np.ndarray]:
    """The paper's protocol: ``n_train + n_val`` samples generated for training, the last ``n_val`` of them for
    validation, and ``n_test`` generated separately (an independent stream of the same seed) for test."""
    train_rng, test_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    x, y, evidence = generate(n_train + n_val, train_rng)
    x_test, y_test, evidence_test = generate(n_test, test_rng)
    return {
        "train_x": x[:n_train],
        "train_y": y[:n_train],
        "train_evidence": evidence[:n_train],
        "val_x": x[n_train:],
        "val_y": y[n_train:],
        "val_evidence": evidence[n_train:],
        "test_x": x_test,
        "test_y": y_test,
        "test_evidence": evidence_test,
    }
