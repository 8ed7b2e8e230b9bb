"""Calibrate and validate the tuning rule (``tsinsight.tuning``) on data sets with ground truth.

Run seeds the book never uses (``--seeds``, default 100 101) train their own classifier and auto-encoder under the
profile; every candidate of the sweep ladder is fine-tuned to convergence (``zoo.fit_sweep``, cached) and judged as
the book judges it (``tuning.tune``: accuracy on ``zoo.judging_split``, sparsity and alignment on the validation
split), so the table says which rung the rule takes (``chosen``) and why (``reason``). Beside each rung:
``localisation``, how often its top output point lies on the evidence (±1 step, on the evidence's channel;
``ground_truth.localisation``), and the input magnitude's. The rule never sees these two columns: they calibrate
and validate it. ``--dataset`` takes any data set with evidence masks: ``synthetic_anomaly`` (a spike, which the
input magnitude finds by construction) or a planted set (:mod:`tsinsight.data.planted`: a pattern the magnitude
finds only at about chance).

    python tools/calibrate_tuning.py --profile cpu --seeds 100 101 [--dataset planted_electric_devices] [--out t.csv]

Measured for rules v4 and v5 (issue 34; cpu profile, 2 CPU cores; v3, the rule before, for comparison). v4
(sparsity × kept correlation) was committed before its validation ladders ran and failed one of them (synthetic,
seed 102: it took the code at ρ = 5, top point 0.645, by 0.0005); v5 multiplies in sign agreement and was validated
on two fresh seeds:

    | role        | data set                 |   seed |   v5: ρ | near zero   |   top point on evidence | best rung        |   best accurate rung |   input magnitude | v3: ρ (top point)   |
    |:------------|:-------------------------|-------:|--------:|:------------|------------------------:|:-----------------|---------------------:|------------------:|:--------------------|
    | calibration | planted Electric Devices |    100 |    0.3  | 12%         |                   0.288 | 0.342 (ρ = 3)    |                0.289 |             0.306 | 0.3 (0.288)         |
    | calibration | planted FordA            |    100 |    2    | 53%         |                   0.148 | 0.210 (ρ = 3)    |                0.148 |             0.118 | 2 (0.148)           |
    | calibration | synthetic                |    100 |    3    | 82%         |                   0.91  | 0.982 (ρ = 1)    |                0.982 |             0.928 | 1.99 (0.928)        |
    | calibration | synthetic                |    101 |    3    | 91%         |                   0.94  | 0.982 (ρ = 1.99) |                0.982 |             0.928 | 3 (0.940)           |
    | validation (v4) | planted ECG Thorax       |    100 |    0.3  | 8%          |                   0.018 | 0.061 (ρ = 30)   |                0.019 |             0.02  | 0.3 (0.018)         |
    | validation (v4) | planted Character Traj.  |    100 |    0.3  | 25%         |                   0.114 | 0.144 (ρ = 5.01) |                0.117 |             0.114 | 0.3 (0.114)         |
    | validation (v4), then calibration | synthetic |    102 |    3    | 74%         |                   0.928 | 0.958 (ρ = 1)    |                0.958 |             0.928 | 3 (0.928)           |
    | validation (v5) | synthetic                |    103 |    1.99 | 56%         |                   0.946 | 0.970 (ρ = 1)    |                0.97  |             0.928 | 1.99 (0.946)        |
    | validation (v5) | synthetic                |    104 |    3    | 89%         |                   0.952 | 0.952 (ρ = 0.15) |                0.952 |             0.928 | 1.99 (0.952)        |
"""

from __future__ import annotations

import argparse

import pandas as pd

from tsinsight import paper, tuning, zoo
from tsinsight.evaluation.ground_truth import localisation


def calibrate(profile: str, seeds: list[int], name: str = "synthetic_anomaly") -> pd.DataFrame:
    """The tuning table of every seed, as the book's ``zoo.tuned`` makes it (``tuning.tune`` on the sweep's converged
    fits, accuracy judged on ``zoo.judging_split``), with each rung's ``localisation`` and the input magnitude's."""
    data = zoo.dataset(name, profile)
    val = data.val
    gamma, beta = paper.starting_weights(name)
    grid = tuning.sweep_grid(gamma, beta, data.n_channels * data.length)
    config = zoo.explainer_config(profile)
    judge = zoo.judging_split(name, profile)
    tables = []
    for seed in seeds:
        fitted = zoo.fit_sweep(name, profile, grid, seed=seed, progress=True)
        result = tuning.tune(zoo.classifier(name, profile, seed).model, zoo.autoencoder(name, profile, seed).model, data,
                             config, gamma=gamma, beta=beta, grid=grid, judge=judge,
                             fit=lambda _, fitted=fitted: [(t.model, t.history) for t in fitted])  # fmt: skip
        table = result.table.assign(dataset=name, seed=seed, fell_back=result.fell_back)
        table["localisation"] = [localisation(trained.model.reconstruct(val.x), val.evidence) for trained in fitted]
        table["input_localisation"] = localisation(val.x, val.evidence)
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--seeds", type=int, nargs="+", default=[100, 101])
    parser.add_argument("--dataset", default="synthetic_anomaly", help="a data set with evidence masks")
    parser.add_argument("--out", help="also write the table to this CSV file")
    args = parser.parse_args()
    table = calibrate(args.profile, args.seeds, args.dataset)
    if args.out:
        table.to_csv(args.out, index=False)
    shown = ["seed", "ratio", "epochs", "converged", "accuracy_change", "accuracy_change_low", "n_judged", "sparsity",
             "kept_per_input", "sign_agreement", "kept_correlation", "trade_off", "qualifies", "chosen", "localisation",
             "input_localisation"]  # fmt: skip
    with pd.option_context("display.width", 250, "display.max_columns", 30, "display.precision", 3):
        print(table[shown].to_string(index=False))


if __name__ == "__main__":
    main()
