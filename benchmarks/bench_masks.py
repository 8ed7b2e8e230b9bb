"""Benchmark of the masks side by side (:mod:`tsinsight.parallel`) against one after the other, and their numbers.

    python benchmarks/bench_masks.py [--series 50] [--epochs 250] [--runs 2]

Fits ExtremalMask and Dynamic Masks for ``runs`` seeds on ``series`` series of Electric Devices' shape (1 × 96, seven
classes) with an untrained CNN of that shape, as the later-explainers and planted pages fit them (fewer epochs), once
in this process and once on the pool, each into its own empty artifacts folder. Prints both wall times, their ratio
and whether every attribution is the same bit for bit (it must be: the pool exists to give the serial numbers faster).
The pool's time includes starting its workers (a few seconds: each imports torch and the package).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
import torch

from tsinsight import parallel
from tsinsight.attribution import cached_attribute
from tsinsight.later_methods import MASK_METHODS
from tsinsight.models import make_classifier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=250)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    torch.manual_seed(0)
    classifier = make_classifier("cnn", 1, 7, 96).eval()
    x = np.random.default_rng(0).normal(size=(args.series, 1, 96)).astype(np.float32)
    calls = [
        dict(method=method, classifier=classifier, x=x, key={"bench": "masks"}, seed=run, epochs=args.epochs)
        for method in MASK_METHODS
        for run in range(args.runs)
    ]
    timings, values = {}, {}
    with tempfile.TemporaryDirectory() as folder:
        for way in ("serial", "pool"):
            os.environ["TSINSIGHT_ARTIFACTS"] = os.path.join(folder, way)
            start = time.perf_counter()
            if way == "serial":
                values[way] = [cached_attribute(**call) for call in calls]
            else:
                values[way] = parallel.cached_attributes(calls)
            timings[way] = time.perf_counter() - start
    same = all(np.array_equal(a, b) for a, b in zip(values["serial"], values["pool"], strict=True))
    print(
        f"{len(calls)} mask fits ({args.series} series × 96 steps, {args.epochs} epochs), "
        f"{torch.get_num_threads()} torch threads, {parallel.available_cores()} cores"
    )
    print(f"one after the other: {timings['serial']:.1f} s")
    print(f"side by side:        {timings['pool']:.1f} s  ({timings['serial'] / timings['pool']:.2f}× faster)")
    print(f"same numbers bit for bit: {same}")
    if not same:
        raise SystemExit("the pool's attributions differ from the serial ones")


if __name__ == "__main__":
    main()
