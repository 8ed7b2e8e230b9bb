"""Benchmark of the stacked fit: TSInsight candidates fitted one at a time (``TSInsight.fit``) against all at once
(:func:`tsinsight.stacking.fit_together`) on the synthetic anomaly data under the ``cpu`` profile.

The candidates share a freshly initialised CNN classifier and copies of one freshly initialised auto-encoder and
differ only in β (Table 3's γ; the β of ``tuning.sweep_grid``'s ladder); every fit runs a fixed number of epochs
(no early stopping). Prints both wall times, the speed-up, the largest weight difference between a candidate fitted
alone and stacked, and the largest difference in test accuracy. With ``--ulp`` it also fits each candidate alone
from starting weights moved by one ulp: the fits' own sensitivity to a rounding-level change, the yardstick for
the stacked fit's difference. With ``--runs N`` the members are instead the explainers of N runs, as
``zoo.run_groups`` stacks them: each run with its own classifier and seed, and in each a TSInsight, a sparsity-only and
a Palacio et al. explainer. Set ``TSINSIGHT_DATA_MIRROR`` as for ``make book``.

    python benchmarks/bench_stacking.py [--members 6 | --runs 2] [--epochs 3] [--device cpu] [--ulp]
"""

from __future__ import annotations

import argparse
import copy
import time
import warnings
from dataclasses import replace

import torch

from tsinsight import paper, tuning, zoo
from tsinsight.explainer import ConvergenceWarning, TSInsight
from tsinsight.models import AutoEncoder, make_classifier
from tsinsight.profiles import get_profile
from tsinsight.stacking import fit_together
from tsinsight.training import accuracy


def _timed(function):
    start = time.perf_counter()
    result = function()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return result, time.perf_counter() - start


def _weight_gap(a: TSInsight, b: TSInsight) -> float:
    return max(
        (p - q).abs().max().item() for p, q in zip(a.autoencoder.parameters(), b.autoencoder.parameters(), strict=True)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=6)
    parser.add_argument("--runs", type=int, default=0, help="stack N runs' explainers instead of sweep candidates")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--device", default=None)
    parser.add_argument("--ulp", action="store_true", help="also fit from 1-ulp-perturbed starts (the yardstick)")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed epoch budget: every fit is capped on purpose

    data = zoo.dataset("synthetic_anomaly", "cpu")
    config = get_profile("cpu").train_config(
        max_epochs=args.epochs, early_stopping_patience=100, progress=False, device=args.device
    )
    gamma, beta = paper.hyperparameters("synthetic_anomaly")
    grid = tuning.sweep_grid(gamma, beta, data.n_channels * data.length)[: args.members]
    torch.manual_seed(0)
    autoencoder = AutoEncoder(data.n_channels, data.length)
    classifiers = [
        make_classifier("cnn", data.n_channels, data.n_classes, data.length) for _ in range(max(1, args.runs))
    ]
    run_gamma, run_beta = grid[min(3, len(grid) - 1)]  # a run group: one tuned setting (rho = 2)
    # (classifier, seed, explainer settings) of each member
    plan = (
        [(classifiers[0], config.seed, dict(gamma=g, beta=b)) for g, b in grid]
        if not args.runs
        else [(classifiers[run], run, settings) for run in range(args.runs)
              for settings in (dict(gamma=run_gamma, beta=run_beta), dict(beta=run_beta, mode="sparsity_only"), dict(mode="palacio"))]
    )  # fmt: skip
    seeds = [seed for _, seed, _ in plan]

    def candidates(start) -> list[TSInsight]:
        return [TSInsight(classifier, copy.deepcopy(start), **settings) for classifier, _, settings in plan]

    # Warm up both paths first (the first Adam imports torch._dynamo, about a second; vmap's first call traces).
    small = data.subsample(max_train=64, max_val=32, max_test=32)
    warm = replace(config, max_epochs=1)
    candidates(autoencoder)[0].fit(small, warm)
    fit_together(candidates(autoencoder)[:2], small, warm)

    alone = candidates(autoencoder)
    _, seconds_alone = _timed(
        lambda: [e.fit(data, replace(config, seed=seed)) for e, seed in zip(alone, seeds, strict=True)]
    )
    together = candidates(autoencoder)
    _, seconds_together = _timed(lambda: fit_together(together, data, config, seeds=seeds))

    test = data.test
    print(
        f"synthetic_anomaly, cpu profile ({len(data.train)} training series, batch {config.batch_size}), "
        f"{len(plan)} {'members of ' + str(args.runs) + ' runs' if args.runs else 'candidates'} × {args.epochs} epochs, "
        f"{torch.get_num_threads()} threads, "
        f"device {config.device or 'auto'}"
    )
    print(f"  one at a time   {seconds_alone:7.1f} s")
    print(f"  together        {seconds_together:7.1f} s   (speed-up {seconds_alone / seconds_together:.2f}x)")
    print("  run  mode           gamma     beta      max |Δweight|   test acc alone / together")
    for seed, a, t in zip(seeds, alone, together, strict=True):
        acc_a, acc_t = accuracy(a.pipeline, test.x, test.y), accuracy(t.pipeline, test.x, test.y)
        print(f"  {seed:<4} {a.mode:<14} {a.gamma or 0:<9g} {a.beta or 0:<9g} {_weight_gap(a, t):12.2e}      "
              f"{acc_a:.4f} / {acc_t:.4f}")  # fmt: skip
    gaps = [_weight_gap(a, t) for a, t in zip(alone, together, strict=True)]
    acc_gaps = [
        abs(accuracy(a.pipeline, test.x, test.y) - accuracy(t.pipeline, test.x, test.y))
        for a, t in zip(alone, together, strict=True)
    ]
    print(f"  largest weight difference {max(gaps):.2e}, largest test accuracy difference {max(acc_gaps):.4f}")
    if args.ulp:
        nudged = copy.deepcopy(autoencoder)
        with torch.no_grad():
            for p in nudged.parameters():
                p.copy_(torch.nextafter(p, torch.full_like(p, torch.inf)))
        perturbed = candidates(nudged)
        for explainer, seed in zip(perturbed, seeds, strict=True):
            explainer.fit(data, replace(config, seed=seed))
        ulp = [_weight_gap(a, p) for a, p in zip(alone, perturbed, strict=True)]
        print("  alone vs alone from a start moved by 1 ulp: max |Δweight| " + ", ".join(f"{gap:.2e}" for gap in ulp))


if __name__ == "__main__":
    main()
