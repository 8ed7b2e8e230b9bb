"""Benchmark of the four methods published after the paper: seconds per 1000 samples, per data set, on one thread.

Each data set's shape (channels, classes, length) gets an untrained CNN (``make_classifier("cnn", ...)``: the cost
does not depend on the weights) and random inputs, on the CPU with ``torch.set_num_threads(1)``. Every method runs
at its fixed settings (:mod:`tsinsight.later_methods`); the times are extrapolated to 1000 samples:

- DeepLIFT and GradientSHAP cost the same per sample whatever the batch: the time on ``--samples`` inputs
  × 1000 / ``--samples``.
- ExtremalMask and Dynamic Masks fit one mask per chunk of 100 inputs with one step per epoch, so their unit
  of work is a chunk, not a sample (a fit on 16 inputs costs nearly what one on 100 does: scaling it by
  1000 / 16 would overstate them several times over). A fit costs ``set-up + epochs × step``, every step
  alike: one chunk of 100 random inputs is fitted at two short epoch counts (``tsinsight.experiments.later.SHORT_EPOCHS``), which gives
  the set-up and the step; 1000 samples are 10 fits at the full epochs. ``--check`` fits one chunk at the
  full epochs on the first data set and prints that time beside the extrapolated one.

    python benchmarks/bench_later_methods.py [--samples 16] [--datasets ford_a ecg_thorax] [--check]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import torch

from tsinsight import later_methods
from tsinsight.attribution import LATER_METHODS, attribute
from tsinsight.experiments.later import seconds_per_1000
from tsinsight.models import make_classifier

# (channels, classes, length) of each data set, in the order of the paper's Table 1.
SHAPES = {
    "synthetic_anomaly": (3, 2, 50),
    "electric_devices": (1, 7, 96),
    "character_trajectories": (3, 20, 182),
    "ford_a": (1, 2, 500),
    "forest_cover": (10, 2, 50),
    "ecg_thorax": (1, 42, 750),
    "uwave_gesture": (3, 8, 315),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=16, help="inputs per timing of DeepLIFT and GradientSHAP")
    parser.add_argument("--datasets", nargs="+", choices=list(SHAPES), default=list(SHAPES))
    parser.add_argument("--methods", nargs="+", choices=LATER_METHODS, default=list(LATER_METHODS))
    parser.add_argument("--check", action="store_true", help="time one full fit of 100 inputs against the estimate")
    args = parser.parse_args()

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    warm = make_classifier("cnn", 1, 2, 16).eval()  # the first call imports tint and pytorch-lightning
    for method in args.methods:
        attribute(method, warm, rng.normal(size=(2, 1, 16)).astype(np.float32), epochs=1)
    print(f"torch {torch.__version__}, 1 CPU thread; gradients timed on {args.samples} samples, masks on fits of 100")

    rows = []
    for name in args.datasets:
        channels, classes, length = SHAPES[name]
        torch.manual_seed(0)
        classifier = make_classifier("cnn", channels, classes, length).eval()
        x = rng.normal(size=(args.samples, channels, length)).astype(np.float32)
        row = {"data set": name, "shape (C, K, T)": f"({channels}, {classes}, {length})"}
        for method in args.methods:
            row[method] = seconds_per_1000(method, classifier, x)
        rows.append(row)
        print(
            ", ".join(f"{key}: {value:.1f}" if isinstance(value, float) else str(value) for key, value in row.items())
        )
    table = pd.DataFrame(rows).set_index("data set")
    print("\nseconds per 1000 samples (untrained CNN, one CPU thread)")
    print(table.to_string(float_format=lambda value: f"{value:,.1f}"))

    if args.check:
        name = args.datasets[0]
        channels, classes, length = SHAPES[name]
        torch.manual_seed(0)
        classifier = make_classifier("cnn", channels, classes, length).eval()
        chunk = rng.normal(size=(later_methods.MASK_BATCH_SIZE, channels, length)).astype(np.float32)
        for method in (m for m in args.methods if m in later_methods.MASK_METHODS):
            start = time.perf_counter()
            attribute(method, classifier, chunk)
            measured = (time.perf_counter() - start) * 1000 / len(chunk)
            print(f"check {name} {method}: measured {measured:,.1f} s per 1000 (one full fit of 100), "
                  f"estimated {table.loc[name, method]:,.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
