"""Benchmark of one stacked explainer epoch at each data set's shape: its time, its arithmetic rate against the
machine's, and the speed-ups of the explainer fits against the plain float32 path measured in the same run.

For each data set of Table 1 (its channels, length and classes; random inputs and labels, for the arithmetic does
not depend on the values) it builds the book's CNN classifier and auto-encoder and fits the tuning sweep's
candidates (as many as ``tuning.sweep_grid`` gives that data set from Table 3's γ, β) for one epoch of
``--steps`` batches of the ``cpu`` profile's 32 series, with :func:`tsinsight.stacking.fit_together`, which also
runs the validation pass. The FLOPs of the epoch are counted from the layers (``torch.utils.flop_counter``), and
the achieved rate is set against the machine's peak, measured here as the rate of a 2048 × 2048 matrix product in
the same precision on the same threads (the most this CPU's BLAS reaches, a tighter bound than the data sheet's).

Variants, each a ratio against float32 in the same run: ``bfloat16`` (``TrainConfig.precision``: autocast for the
training steps) and, with ``--compile``, ``torch.compile`` of the stacked loss (not used by the package: see the
printed ratio).

With ``--device cuda --profile paper`` it measures the GPU path at the ``paper`` profile's batches of 256.

    python benchmarks/bench_epoch.py [--steps 20] [--datasets ford_a ecg_thorax] [--compile] [--device cuda] [--profile paper]
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import time
import warnings

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from tsinsight import paper, stacking, tuning
from tsinsight.data import from_arrays
from tsinsight.explainer import ConvergenceWarning, TSInsight
from tsinsight.models import AutoEncoder, make_classifier
from tsinsight.profiles import get_profile

PRECISIONS = ("float32", "bfloat16")


def _synchronise(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def peak_gflops(dtype: torch.dtype, device: str, size: int = 2048, repeats: int = 10) -> float:
    a, b = (torch.randn(size, size, dtype=dtype, device=device) for _ in range(2))
    for _ in range(3):
        a @ b
    _synchronise(device)
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    _synchronise(device)
    return 2 * size**3 * repeats / (time.perf_counter() - start) / 1e9


def shape_of(name: str) -> tuple[int, int, int]:
    row = paper.TABLE1[name]
    return row["channels"], row["length"], row["classes"]


def epoch(
    name: str, steps: int, precision: str, profile: str, device: str, *, count: bool = False, compiled: bool = False
) -> tuple[float, float]:
    """Seconds of one stacked epoch (and its FLOPs when ``count``) for ``name``'s shape."""
    channels, length, classes = shape_of(name)
    batch = get_profile(profile).batch_size
    rng = np.random.default_rng(0)
    n = batch * steps
    x = rng.standard_normal((n + n // 3, channels, length)).astype(np.float32)
    y = np.arange(len(x)) % classes
    data = from_arrays(x[:n], y[:n], x[:batch], y[:batch], name=name, val_fraction=0.25)
    torch.manual_seed(0)
    classifier = make_classifier("cnn", channels, classes, length)
    autoencoder = AutoEncoder(channels, length)
    gamma, beta = paper.starting_weights(name)
    grid = tuning.sweep_grid(gamma, beta, channels * length)
    members = [TSInsight(classifier, copy.deepcopy(autoencoder), gamma=g, beta=b) for g, b in grid]
    config = get_profile(profile).train_config(max_epochs=1, progress=False, precision=precision, device=device)
    plain_step = stacking._Stack.losses_and_logits
    if compiled:  # for this measurement only: restored below
        stacking._Stack.losses_and_logits = torch.compile(plain_step)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # a first epoch, untimed: oneDNN creates its kernels for each shape and precision once (and torch.compile compiles)
        stacking.fit_together([copy.deepcopy(m) for m in members], data, config)
        counter = FlopCounterMode(display=False) if count else None
        start = time.perf_counter()
        with counter or contextlib.nullcontext():
            stacking.fit_together(members, data, config)
        _synchronise(device)
        seconds = time.perf_counter() - start
    stacking._Stack.losses_and_logits = plain_step
    return seconds, (counter.get_total_flops() if counter else float("nan"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20, help="training batches per epoch (the cpu profile: ~94)")
    parser.add_argument("--datasets", nargs="*", default=[n for n in paper.TABLE1 if n != "wesad"])
    parser.add_argument("--compile", action="store_true", help="also time torch.compile of the stacked loss")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--profile", default="cpu", help="whose batch size the epoch uses")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: PyTorch's, one per core)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    peaks = {p: peak_gflops(getattr(torch, p), args.device) for p in PRECISIONS}
    print(f"{args.device}, threads {torch.get_num_threads()}, batches of {get_profile(args.profile).batch_size}; peak (2048² matmul): "
          + ", ".join(f"{p} {v:.0f} GFLOP/s" for p, v in peaks.items()))  # fmt: skip
    print(f"{'data set':24s} {'members':>7s} {'GFLOP/epoch':>11s} {'float32 s':>9s} {'GFLOP/s':>7s} {'of peak':>7s} "
          f"{'bfloat16 s':>10s} {'speed-up':>8s}" + (f" {'compiled':>8s}" if args.compile else ""))  # fmt: skip
    for name in args.datasets:
        channels, length, _ = shape_of(name)
        members = len(tuning.sweep_grid(*paper.starting_weights(name), channels * length))
        run = dict(steps=args.steps, profile=args.profile, device=args.device)
        _, flops = epoch(name, precision="float32", count=True, **run)
        plain, _ = epoch(name, precision="float32", **run)
        low, _ = epoch(name, precision="bfloat16", **run)
        rate = flops / plain / 1e9
        line = (f"{name:24s} {members:7d} {flops / 1e9:11.1f} {plain:9.2f} {rate:7.1f} {rate / peaks['float32']:7.0%} "
                f"{low:10.2f} {plain / low:7.2f}×")  # fmt: skip
        if args.compile:
            compiled, _ = epoch(name, precision="float32", compiled=True, **run)
            line += f" {plain / compiled:7.2f}×"
        print(line, flush=True)


if __name__ == "__main__":
    main()
