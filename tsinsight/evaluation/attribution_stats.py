"""Where in time attribution mass lies, and how much two attributions of one input agree (Fig. 9, Section 6.1–6.2).

Section 6.1 claims that TSInsight with an LSTM classifier makes the last time steps the most salient,
while with a CNN the saliency is spread: :func:`mass_per_step` and :func:`last_points_share` measure
that. Section 6.2 contrasts a model-level explainer (fine-tuned on the whole data set) with an
instance-level one (fine-tuned on one input): :func:`rank_correlation` and :func:`top_k_overlap` say
how alike their attributions of the same input are, and :func:`agreement` tabulates both over a batch.
:func:`gini` measures how sparse (concentrated on few points) each attribution is.

Attributions are arrays shaped like the inputs, ``(n, channels, length)`` or one ``(channels, length)``;
only their magnitude counts.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import pandas as pd


def mass_per_step(attributions: np.ndarray) -> np.ndarray:
    """The average share of attribution mass at each time step: a ``(length,)`` array summing to 1.

    Each input's absolute attribution is summed over channels and normalised to sum 1, so every input weighs
    the same; the shares are then averaged over inputs. Inputs whose attribution is all zero carry no
    mass to distribute and are left out; if every input is all zero a ``ValueError`` is raised.
    """
    values = _as_batch(attributions)
    per_step = np.abs(values).sum(axis=1)  # (n, length)
    totals = per_step.sum(axis=1)
    keep = totals > 0
    if not keep.any():
        raise ValueError("every attribution is all zero: there is no mass to distribute over time")
    return (per_step[keep] / totals[keep, None]).mean(axis=0)


def last_points_share(attributions: np.ndarray, *, fraction: float = 0.1) -> float:
    """The share of attribution mass (as in :func:`mass_per_step`) in the last ``fraction`` of the time steps.

    The last ⌈fraction · length⌉ steps count; a uniform spread gives about ``fraction``.
    """
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must lie in (0, 1), got {fraction!r}")
    shares = mass_per_step(attributions)
    return float(shares[-math.ceil(fraction * len(shares)) :].sum())


def rank_correlation(first: np.ndarray, second: np.ndarray) -> float:
    """Spearman's rank correlation between the magnitudes of two attributions of the same input (all points).

    NaN when either attribution is constant (no ranking to compare).
    """
    a, b = _pair(first, second)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    from scipy.stats import spearmanr  # on first use (tsinsight.imports)

    return float(spearmanr(a, b).statistic)


def top_k_overlap(first: np.ndarray, second: np.ndarray, k: int | float = 0.05) -> float:
    """The share of the ``k`` points of largest magnitude in ``first`` that are also among ``second``'s top ``k``.

    ``k`` is a count (int ≥ 1) or a fraction of all points (float in (0, 1]; rounded up). Ties are
    broken by position (a stable sort), the same way for both attributions.
    """
    a, b = _pair(first, second)
    count = _top_count(k, a.size)
    top_a = np.argsort(-a, kind="stable")[:count]
    top_b = np.argsort(-b, kind="stable")[:count]
    return len(np.intersect1d(top_a, top_b)) / count


def agreement(first: np.ndarray, second: np.ndarray, *, k: int | float = 0.05) -> pd.DataFrame:
    """Per-input :func:`rank_correlation` and :func:`top_k_overlap` of two batches of attributions.

    Columns ``sample`` (the index in the batch), ``rank_correlation``, ``top_k_overlap``.
    """
    a, b = _as_batch(first), _as_batch(second)
    if a.shape != b.shape:
        raise ValueError(f"the attributions must have the same shape, got {a.shape} and {b.shape}")
    return pd.DataFrame(
        {
            "sample": np.arange(len(a)),
            "rank_correlation": [rank_correlation(p, q) for p, q in zip(a, b, strict=True)],
            "top_k_overlap": [top_k_overlap(p, q, k) for p, q in zip(a, b, strict=True)],
        }
    )


def gini(attributions: np.ndarray) -> np.ndarray:
    """The Gini index of each input's absolute attribution, over all its points (channels and time): a ``(n,)`` array.

    The sparseness measure of Hurley & Rickard (2009), "Comparing measures of sparsity", used as the sparseness
    of attributions by Chalasani et al. (2020), "Concise explanations of neural networks using adversarial
    training", and by Quantus' ``Sparseness`` metric. With the ``m`` magnitudes ``a_1 ≤ … ≤ a_m`` of one
    input sorted ascending (``|attribution|`` flattened over channels and time), the index is::

        G = Σ_k (2k − m − 1) · a_k / (m · Σ_k a_k),  k = 1 … m

    — the formula of Quantus' implementation (``Sparseness.evaluate_batch`` in
    ``quantus/metrics/complexity/sparseness.py``, github.com/understandable-machine-intelligence-lab/Quantus,
    release 0.6.0). G is 0 for a uniform attribution and (m − 1)/m — approaching 1 — for one non-zero point;
    it is invariant to the attribution's scale and ignores signs.

    An all-zero attribution gives 0, Quantus' convention: Quantus adds 1e-7 to every magnitude before sorting,
    so an all-zero attribution scores as a uniform one (0). Here the formula is applied without that shift —
    otherwise exact values such as 0.75 for ``[0, 0, 0, 1]`` would move by about 1e-7 (relative to the
    largest magnitude, which Quantus normalises to 1 by default) — and the all-zero case is set to 0 explicitly.

    A batch ``(n, channels, length)`` gives ``n`` values; a single ``(channels, length)`` attribution is a batch
    of one and gives a ``(1,)`` array. NaN or infinite values are refused (``ValueError``).
    """
    values = _as_batch(attributions)
    magnitudes = np.sort(np.abs(values).reshape(len(values), -1), axis=1)
    m = magnitudes.shape[1]
    weights = 2 * np.arange(1, m + 1) - m - 1
    totals = magnitudes.sum(axis=1)
    numerators = (weights * magnitudes).sum(axis=1)
    out = np.zeros(len(magnitudes))
    nonzero = totals > 0
    out[nonzero] = numerators[nonzero] / (m * totals[nonzero])
    return out


def _as_batch(attributions: np.ndarray) -> np.ndarray:
    values = np.asarray(attributions, dtype=np.float64)
    if values.ndim == 2:
        values = values[None]
    if values.ndim != 3 or values.size == 0:
        raise ValueError(
            f"attributions must be shaped (n, channels, length) or (channels, length), got shape {values.shape}"
        )
    if not np.isfinite(values).all():
        raise ValueError("attributions contain NaN or infinite values")
    return values


def _pair(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64)
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"the two attributions must have the same non-empty shape, got {a.shape} and {b.shape}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("attributions contain NaN or infinite values")
    return np.abs(a).ravel(), np.abs(b).ravel()


def _top_count(k: int | float, size: int) -> int:
    if isinstance(k, bool) or not isinstance(k, Real):
        raise ValueError(f"k must be a count (int) or a fraction (float), got {k!r}")
    if isinstance(k, Integral):
        if not 1 <= k <= size:
            raise ValueError(f"k = {k} must lie between 1 and the number of points ({size})")
        return int(k)
    if not 0 < k <= 1:
        raise ValueError(f"a fractional k must lie in (0, 1], got {k!r}")
    return math.ceil(k * size)
