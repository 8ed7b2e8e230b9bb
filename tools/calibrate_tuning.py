"""Calibrate the tuning rule's alignment thresholds (``tsinsight.tuning``, rule c) on the synthetic set's ground truth.

Run seeds the book never uses (``--seeds``, default 100 101) train their own classifier and auto-encoder under the
profile; every candidate of the sweep ladder is fine-tuned to convergence (``zoo.fit_sweep``) and scored on the
*validation* split: sparsity, the alignment scores of :func:`tsinsight.explainer.alignment`, and how often its top
point lies on the injected anomaly (±1 step, on the anomaly's channel; ``ground_truth.localisation``) against the
input magnitude's. A candidate *points at the evidence* when its localisation is not more than two standard errors
(binomial, over the anomalous validation series) below the input magnitude's; the thresholds of rule (c) are read
off this table — every candidate that does not point at the evidence must fail them — and written into ``tuning.py``
with it, before the book runs.

    python tools/calibrate_tuning.py --profile cpu --seeds 100 101
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from tsinsight import paper, tuning, zoo
from tsinsight.evaluation.ground_truth import localisation
from tsinsight.explainer import alignment, near_zero_share
from tsinsight.training import accuracy, convergence

NAME = "synthetic_anomaly"


def calibrate(profile: str, seeds: list[int]) -> pd.DataFrame:
    data = zoo.dataset(NAME, profile)
    val = data.val
    gamma, beta = paper.hyperparameters(NAME)
    grid = tuning.sweep_grid(gamma, beta, data.n_channels * data.length)
    config = zoo.explainer_config(profile)
    rows = []
    for seed in seeds:
        classifier = zoo.classifier(NAME, profile, seed).model
        base = accuracy(classifier, val.x, val.y)
        for (g, b), trained in zip(grid, zoo.fit_sweep(NAME, profile, grid, seed=seed, progress=True), strict=True):
            output = trained.model.reconstruct(val.x)
            ended = convergence(trained.history, config.early_stopping_patience, config.max_epochs)
            rows.append(dict(seed=seed, ratio=tuning.sparsity_ratio(g, b, data.n_channels * data.length), beta=b,
                             epochs=ended["epochs"], converged=ended["stopped_early"],
                             change=accuracy(trained.model.pipeline, val.x, val.y) - base,
                             sparsity=near_zero_share(output, val.x), **alignment(output, val.x),
                             localisation=localisation(output, val.evidence),
                             input_localisation=localisation(val.x, val.evidence)))  # fmt: skip
    table = pd.DataFrame(rows)
    reference = table["input_localisation"]
    n = int(val.evidence.reshape(len(val), -1).any(axis=1).sum())
    table["points_at_evidence"] = table["localisation"] >= reference - 2 * np.sqrt(reference * (1 - reference) / n)
    table["passes_c"] = (table["sign_agreement"] >= tuning.MIN_SIGN_AGREEMENT) & (
        table["kept_correlation"] >= tuning.MIN_KEPT_CORRELATION
    )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--seeds", type=int, nargs="+", default=[100, 101])
    args = parser.parse_args()
    table = calibrate(args.profile, args.seeds)
    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.precision", 3):
        print(table.to_string(index=False))


if __name__ == "__main__":
    main()
