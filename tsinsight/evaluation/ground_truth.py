"""Ground-truth scores of attributions on ``synthetic_anomaly``, where the evidence of each anomaly is known.

The paper judges attributions only indirectly (suppression). On the synthetic anomaly data the spike
that makes a sample anomalous is known (``Split.evidence``), so a method can be scored directly, as
Ismail et al. (NeurIPS 2020, "Benchmarking deep learning interpretability in time series predictions")
do: sweep a threshold over each sample's ranking — flag its top ``k`` points for every ``k`` from 1 to
all — and compute the precision (share of flagged points that are evidence) and recall (share of the
evidence flagged) at each threshold. The areas under precision and under recall, with the flagged
fraction ``k / points`` (from ``1 / points`` to 1) on the x axis, summarise the sweep (AUP, AUR; higher
is better; a perfect ranking of one evidence point scores AUR ``1 − 1 / points``). We add the
share of samples whose single top-ranked point is evidence (``top1``). Points are ranked as in the
suppression test (:func:`tsinsight.evaluation.suppress.rank_points`, ties in a fixed pseudo-random order).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from torch import nn

from tsinsight.attribution import METHODS, cached_attribute
from tsinsight.checks import check_inputs
from tsinsight.evaluation.suppress import rank_points


def precision_recall_curves(attribution: np.ndarray, evidence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per sample and threshold ``k`` (top 1, 2, …, all points flagged): precision and recall, ``(n, points)`` each.

    Every sample must hold at least one evidence point.
    """
    attribution, evidence = np.asarray(attribution), np.asarray(evidence, dtype=bool)
    if attribution.shape != evidence.shape or attribution.ndim != 3:
        raise ValueError(
            f"attribution {attribution.shape} and evidence {evidence.shape} must share one (n, channels, length) shape"
        )
    flat_evidence = evidence.reshape(len(evidence), -1)
    n_evidence = flat_evidence.sum(axis=1)
    if (n_evidence == 0).any():
        raise ValueError("some samples carry no evidence: score only the anomalous ones (evidence.any() per sample)")
    check_inputs(attribution, what="the attribution")
    order = np.argsort(rank_points(attribution), axis=1)  # point indices from most to least important
    hits = np.cumsum(np.take_along_axis(flat_evidence, order, axis=1), axis=1)
    flagged = np.arange(1, flat_evidence.shape[1] + 1)
    return hits / flagged, hits / n_evidence[:, None]


def ground_truth_scores(attribution: np.ndarray, evidence: np.ndarray) -> dict[str, float]:
    """AUP, AUR and top-1 hit rate of one attribution against the known evidence, averaged over samples."""
    precision, recall = precision_recall_curves(attribution, evidence)
    fraction = np.arange(1, precision.shape[1] + 1) / precision.shape[1]
    top_hit = np.asarray(evidence, dtype=bool).reshape(len(precision), -1)[
        np.arange(len(precision)), rank_points(attribution).argmin(axis=1)
    ]
    return {
        "aup": float(np.trapezoid(precision.mean(axis=0), fraction)),
        "aur": float(np.trapezoid(recall.mean(axis=0), fraction)),
        "top1": float(top_hit.mean()),
        "n_samples": len(precision),
    }


def localisation(attribution: np.ndarray, evidence: np.ndarray, window: int = 1) -> float:
    """Share of samples whose top point (largest ``|attribution|``) lies on an evidence point's channel within ±``window`` steps.

    Only samples that carry evidence count; the top point is the first maximum of ``|attribution|`` (row-major:
    channel, then time). This is the "does the explanation point at the anomaly" score of the tuning rule's
    calibration and of the synthetic set's done-when; ``window=0`` asks for the exact point.
    """
    attribution, evidence = np.abs(np.asarray(attribution, dtype=np.float64)), np.asarray(evidence, dtype=bool)
    if attribution.shape != evidence.shape or attribution.ndim != 3:
        raise ValueError(
            f"attribution {attribution.shape} and evidence {evidence.shape} must share one (n, channels, length) shape"
        )
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 0:
        raise ValueError(f"window must be a number of steps >= 0, got {window!r}")
    anomalous = evidence.reshape(len(evidence), -1).any(axis=1)
    if not anomalous.any():
        raise ValueError("none of the samples carries evidence: pass anomalous samples of synthetic_anomaly")
    attribution, evidence = attribution[anomalous], evidence[anomalous]
    length = attribution.shape[2]
    top = attribution.reshape(len(attribution), -1).argmax(axis=1)
    channel, step = np.divmod(top, length)
    hits = [
        evidence[i, channel[i], max(0, step[i] - window) : step[i] + window + 1].any() for i in range(len(attribution))
    ]
    return float(np.mean(hits))


def ground_truth_table(
    classifier: nn.Module,
    x: np.ndarray,
    evidence: np.ndarray,
    *,
    explainers: Mapping[str, Any] | None = None,
    methods: Sequence[str] = tuple(method for method in METHODS if method != "none"),
    seed: int = 0,
    key: dict[str, Any] | None = None,
    batch_size: int | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Every method's ground-truth scores on the samples of ``x`` that carry evidence: ``method, aup, aur, top1``.

    Samples without evidence (the normal ones) are dropped first. ``explainers`` maps ``tsinsight`` and
    ``palacio`` to their fitted explainers; attributions are cached under the caller's ``key`` (see
    :func:`tsinsight.attribution.cached_attribute`). ``none`` is left out by default: a constant has no
    ranking to score.
    """
    check_inputs(x, model=classifier)
    x, evidence = np.asarray(x, dtype=np.float32), np.asarray(evidence, dtype=bool)
    if x.shape != evidence.shape:
        raise ValueError(f"inputs {x.shape} and evidence {evidence.shape} must have the same shape")
    anomalous = evidence.reshape(len(x), -1).any(axis=1)
    if not anomalous.any():
        raise ValueError("none of the samples carries evidence: pass anomalous samples of synthetic_anomaly")
    x, evidence = x[anomalous], evidence[anomalous]
    chosen = list(methods)
    if progress:
        from tqdm.auto import tqdm

        chosen = tqdm(chosen, desc="ground truth", leave=False)
    rows = []
    for method in chosen:
        attribution = cached_attribute(
            method, classifier, x, key=key, explainer=(explainers or {}).get(method), seed=seed, batch_size=batch_size
        )
        rows.append({"method": method, **ground_truth_scores(attribution, evidence)})
    return pd.DataFrame(rows)
