"""Benchmark of the suppression test: batched evaluation against a naive loop, and the cost of each attribution.

1. The same attributions go through :func:`tsinsight.evaluation.suppress.suppression` (all levels in
   batched passes) and :func:`~tsinsight.evaluation.suppress.suppression_naive` (one classifier call per
   sample and level), once for every filler (zero, mean, linear, ROAD) in the deletion order ``--order``; the
   two tables must be identical. Prints both times and their ratio per filler (target ≥ 5×).
2. The time each of the thirteen methods takes, scaled to 1000 samples, at the paper's settings.

The classifier and auto-encoders have random weights: timing and the equality of the two evaluations do
not depend on training. Shapes default to the synthetic anomaly data (3 channels × 50 steps).

    python benchmarks/bench_suppression.py [--samples 1000] [--channels 3] [--length 50] [--timing-samples 200]
                                           [--order lerf]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import torch

from tsinsight.attribution import METHODS, attribute
from tsinsight.evaluation.suppress import DEFAULT_LEVELS, FILLERS, ORDERS, suppression, suppression_naive
from tsinsight.explainer import TSInsight
from tsinsight.models import AutoEncoder, make_classifier
from tsinsight.training import resolve_device


def _timed(function):
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    result = function()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000, help="samples in the suppression comparison")
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--length", type=int, default=50)
    parser.add_argument("--classes", type=int, default=2)
    parser.add_argument("--timing-samples", type=int, default=200, help="samples per method timing (scaled to 1000)")
    parser.add_argument("--kind", choices=["cnn", "lstm"], default="cnn")
    parser.add_argument("--order", choices=ORDERS, default="lerf", help="deletion order of the comparison")
    args = parser.parse_args()

    device = resolve_device(None)
    torch.manual_seed(0)
    classifier = make_classifier(args.kind, args.channels, args.classes, args.length).to(device).eval()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.samples, args.channels, args.length)).astype(np.float32)
    with torch.no_grad():
        y = classifier(torch.as_tensor(x, device=device)).argmax(1).cpu().numpy()
    print(f"device: {device}; classifier: {args.kind}; inputs: {x.shape}; {len(DEFAULT_LEVELS)} levels")

    attribution = attribute("gradient", classifier, x)
    suppression(classifier, x[:8], y[:8], attribution[:8], DEFAULT_LEVELS)  # warm-up
    print(f"suppression of {args.samples} samples × {len(DEFAULT_LEVELS)} levels, order {args.order}:")
    for filler in FILLERS:
        setting = dict(filler=filler, order=args.order)
        batched, batched_s = _timed(lambda s=setting: suppression(classifier, x, y, attribution, DEFAULT_LEVELS, **s))
        naive, naive_s = _timed(lambda s=setting: suppression_naive(classifier, x, y, attribution, DEFAULT_LEVELS, **s))
        pd.testing.assert_frame_equal(batched, naive)
        print(
            f"  filler {filler:<6}: batched {batched_s:.3f} s, naive loop {naive_s:.3f} s, identical results, "
            f"speed-up {naive_s / batched_s:.1f}×"
        )

    explainers = {
        "tsinsight": TSInsight(classifier, AutoEncoder(args.channels, args.length).to(device), gamma=1.0, beta=1e-3),
        "palacio": TSInsight(classifier, AutoEncoder(args.channels, args.length).to(device), mode="palacio"),
    }
    subset = x[: args.timing_samples]
    rows = []
    for method in METHODS:
        _, seconds = _timed(
            lambda method=method: attribute(method, classifier, subset, explainer=explainers.get(method))
        )
        rows.append({"method": method, "seconds_per_1000": seconds * 1000 / len(subset)})
    table = pd.DataFrame(rows)
    print(f"\nattribution time per 1000 samples (measured on {len(subset)}, paper settings):")
    print(table.to_string(index=False, float_format=lambda value: f"{value:.3f}"))


if __name__ == "__main__":
    main()
