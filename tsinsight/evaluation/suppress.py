"""The suppression test of Fig. 4: keep only the points an attribution ranks highest, zero the rest, classify.

If a method's top-ranked points carry the evidence the classifier used, its prediction survives the
suppression of everything else. Per sample the points (channel × time) are ranked by attribution,
the top ``1 − level`` share is kept and the rest set to zero, and the accuracy of the classifier on
the suppressed inputs is reported against ``level``, the fraction suppressed.

All levels of one attribution are evaluated together: a rank tensor compared with each level's
number of kept points gives every masked input at once, and the (level, sample) pairs go through the
classifier in chunks of ``batch_size`` — one forward pass per chunk, never one per sample and level.
The area under the accuracy–suppression curve summarises a curve in one number (higher is better);
:func:`method_ranking` ranks the methods by it within each data set and averages the ranks, as the
paper's "most competitive on average" does.

Two choices of the paper can be varied (issue 15; Hooker et al. 2019, Rong et al. 2022): the value a removed
point takes (``filler``, see :data:`FILLERS`; the paper's is ``"zero"``) and which points go first (``order``:
the paper's ``"lerf"`` removes the least relevant first, keeping the most important; ``"morf"`` removes the most
relevant first, where a faithful attribution makes the accuracy fall fast, so a *lower* area is better).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from tsinsight.attribution import METHODS, cached_attribute, evaluating
from tsinsight.checks import check_inputs
from tsinsight.training import predict

DEFAULT_LEVELS: tuple[float, ...] = tuple(np.round(np.linspace(0.0, 1.0, 21), 2))  # 0 %, 5 %, …, 100 % suppressed
DEFAULT_BATCH_SIZE = 512  # suppressed inputs per forward pass
# What a removed point becomes: the paper's zero, the series' own mean per channel (over all its points, removed
# ones included), linear interpolation along time between the nearest kept points of the same channel (the nearest
# kept value beyond the last one; zero in a channel with no kept point) and ROAD's noisy linear imputation.
FILLERS: tuple[str, ...] = ("zero", "mean", "linear", "road")
# Each deletion order with the direction of its area: "lerf" removes the least relevant first, keeping the most
# important (the paper's; a faithful attribution keeps the accuracy up: higher is better); "morf" removes the most
# relevant first (a faithful attribution makes the accuracy fall fast: lower is better).
HIGHER_IS_BETTER: dict[str, bool] = {"lerf": True, "morf": False}
ORDERS: tuple[str, ...] = tuple(HIGHER_IS_BETTER)


def score(area: np.ndarray | pd.Series, order: str) -> np.ndarray | pd.Series:
    """The area under a curve of ``order`` as a score where higher is better (1 − area where lower is better)."""
    _check_filler("zero", order)
    return area if HIGHER_IS_BETTER[order] else 1 - area


# ROAD's noise: the standard deviation Rong et al. (2022) add to every imputed value (their and Quantus' default).
# Quantus' ``noisy_linear_imputation`` solves ROAD's linear system over the 8-neighbourhood of an image pixel
# (channels × height × width, one mask shared by all channels), one sparse solve per sample; our points are
# ranked per channel and time step. Along one time axis that system — every removed point the mean of its two
# neighbours — is solved exactly by linear interpolation between the nearest kept points (the nearest kept value
# beyond the ends), which we compute batched on the classifier's device and add the noise to.
ROAD_NOISE = 0.01


def rank_points(attribution: np.ndarray) -> np.ndarray:
    """Per sample, each point's rank by attribution (0 = most important), as ``int64`` of ``(n, channels·length)``.

    Ties are broken in a fixed pseudo-random order (the same for every call): index order would favour the
    first channel wherever a method gives every channel the same value (GradCAM broadcasts over channels).
    """
    attribution = np.asarray(attribution)
    if attribution.ndim != 3:
        raise ValueError(f"attributions must be shaped (n, channels, length), got shape {attribution.shape}")
    flat = attribution.reshape(len(attribution), -1)
    tie_break = np.random.default_rng(0).random(flat.shape)
    order = np.lexsort((tie_break, -flat), axis=1)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(flat.shape[1])[None, :].repeat(len(flat), axis=0), axis=1)
    return ranks


def kept_points(level: float, n_points: int) -> int:
    """How many of ``n_points`` survive when the fraction ``level`` is suppressed."""
    return n_points - int(np.rint(level * n_points))


def road_noise(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """The Gaussian noise (std :data:`ROAD_NOISE`) that the ``road`` filler adds to removed points, per input point.

    Drawn once per call to :func:`suppression`, so a sample sees the same noise at every level.
    """
    return (np.random.default_rng(seed).standard_normal(shape) * ROAD_NOISE).astype(np.float32)


def fill(x: np.ndarray, keep: np.ndarray, filler: str = "zero", noise: np.ndarray | None = None) -> np.ndarray:
    """``x`` ``(n, channels, length)`` with the points where ``keep`` is false replaced as ``filler`` says.

    A plain per-channel loop (``np.interp`` for the interpolation): the reference the batched test is checked
    against. ``noise`` (shaped like ``x``) is what ``road`` adds to the interpolated points.
    """
    x = np.asarray(x, dtype=np.float32)
    keep = np.asarray(keep, dtype=bool)
    _check_filler(filler)
    if filler == "zero":
        return np.where(keep, x, np.float32(0.0))
    if filler == "mean":
        return np.where(keep, x, x.mean(axis=-1, keepdims=True))
    filled = np.zeros_like(x)
    steps = np.arange(x.shape[-1])
    for index in np.ndindex(x.shape[:-1]):
        if keep[index].any():
            filled[index] = np.interp(steps, steps[keep[index]], x[index][keep[index]])
    if filler == "road":
        if noise is None or np.shape(noise) != x.shape:
            raise ValueError(f"the road filler needs noise shaped like x {x.shape}, e.g. road_noise(x.shape, seed)")
        filled = filled + noise
    return np.where(keep, x, filled)


def suppression(
    classifier: nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    attribution: np.ndarray | None,
    levels: Sequence[float] = DEFAULT_LEVELS,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    filler: str = "zero",
    order: str = "lerf",
    seed: int = 0,
) -> pd.DataFrame:
    """Accuracy of ``classifier`` on ``x`` after suppressing the least-attributed fraction ``level`` of each sample.

    Returns a table with one row per level: ``level`` (fraction suppressed), ``kept`` (points kept per
    sample) and ``accuracy`` (fraction of ``y`` predicted). ``attribution=None`` is the paper's *None*:
    no importance measure, so nothing is suppressed and every level shows the clean accuracy.
    ``filler`` (:data:`FILLERS`) is what a suppressed point becomes, ``order`` (:data:`ORDERS`) whether the
    least (``lerf``, the paper's) or the most (``morf``) attributed points go first; ``seed`` draws ROAD's noise.
    """
    _check_filler(filler, order)
    x, y, levels = _check(classifier, x, y, attribution, levels)
    n, n_points = len(x), x[0].size
    keep = np.array([kept_points(level, n_points) for level in levels])
    if attribution is None:
        clean = float((predict(classifier, x, batch_size) == y).mean())
        return pd.DataFrame({"level": levels, "kept": n_points, "accuracy": clean})

    device = next(classifier.parameters()).device
    ranks = torch.as_tensor(rank_points(attribution), device=device)
    if order == "morf":  # keep the lowest-ranked points: the top ``n_points - kept`` are removed
        ranks = n_points - 1 - ranks
    inputs = torch.as_tensor(x, device=device).reshape(n, -1)
    keep_t = torch.as_tensor(keep, device=device)
    means = torch.as_tensor(x.mean(axis=-1, keepdims=True), device=device) if filler == "mean" else None
    noise = torch.as_tensor(road_noise(x.shape, seed), device=device) if filler == "road" else None
    correct = np.zeros(len(levels) * n, dtype=bool)
    pairs = torch.arange(len(levels) * n, device=device)  # pair p is (level p // n, sample p % n)
    with evaluating(classifier, gradients=False), torch.no_grad():
        for chunk in pairs.split(batch_size):
            level_index, sample_index = chunk // n, chunk % n
            mask = ranks[sample_index] < keep_t[level_index, None]
            if filler == "zero":
                masked = (inputs[sample_index] * mask).reshape(len(chunk), *x.shape[1:])
            else:
                shape = (len(chunk), *x.shape[1:])
                masked = _fill_batch(
                    inputs[sample_index].reshape(shape),
                    mask.reshape(shape),
                    filler,
                    means[sample_index] if means is not None else None,
                    noise[sample_index] if noise is not None else None,
                )
            predicted = classifier(masked).argmax(dim=1).cpu().numpy()
            correct[chunk.cpu().numpy()] = predicted == y[sample_index.cpu().numpy()]
    accuracy = correct.reshape(len(levels), n).mean(axis=1)
    return pd.DataFrame({"level": levels, "kept": keep, "accuracy": accuracy})


def _fill_batch(
    x: torch.Tensor, keep: torch.Tensor, filler: str, means: torch.Tensor | None, noise: torch.Tensor | None
) -> torch.Tensor:
    """:func:`fill` on a batch of tensors ``(b, channels, length)`` without a loop (the ``zero`` filler excepted)."""
    if filler == "mean":
        return torch.where(keep, x, means)
    length = x.shape[-1]
    steps = torch.arange(length, device=x.device).expand_as(x)
    # The nearest kept step at or before each step (-1: none) and at or after it (length: none).
    left = torch.where(keep, steps, -1).cummax(dim=-1).values
    right = torch.where(keep, steps, length).flip(-1).cummin(dim=-1).values.flip(-1)
    left_value = x.gather(-1, left.clamp(min=0))
    right_value = x.gather(-1, right.clamp(max=length - 1))
    share = (steps - left) / (right - left).clamp(min=1)
    between = left_value + share.to(x.dtype) * (right_value - left_value)
    filled = torch.where(left < 0, right_value, torch.where(right >= length, left_value, between))
    filled = torch.where((left < 0) & (right >= length), torch.zeros_like(x), filled)  # nothing kept in the channel
    if filler == "road":
        filled = filled + noise
    return torch.where(keep, x, filled)


def suppress(
    x: np.ndarray,
    attribution: np.ndarray,
    level: float,
    *,
    filler: str = "zero",
    order: str = "lerf",
    noise: np.ndarray | None = None,
) -> np.ndarray:
    """``x`` with the fraction ``level`` of each sample's least-attributed points set to zero (Fig. 3, right).

    ``filler`` and ``order`` vary the test as in :func:`suppression`; ``noise`` is ROAD's (default
    :func:`road_noise` of ``x``'s shape with seed 0).
    """
    _check_filler(filler, order)
    x = np.asarray(x, dtype=np.float32)
    if np.shape(attribution) != x.shape or x.ndim != 3:
        raise ValueError(
            f"x {x.shape} and attribution {np.shape(attribution)} must share one (n, channels, length) shape"
        )
    if not 0 <= level <= 1:
        raise ValueError(f"level is the fraction suppressed, in [0, 1]; got {level}")
    ranks = rank_points(attribution).reshape(x.shape)
    kept = kept_points(level, x[0].size)
    keep = ranks < kept if order == "lerf" else ranks >= x[0].size - kept
    if filler == "road" and noise is None:
        noise = road_noise(x.shape)
    return fill(x, keep, filler, noise)


def suppression_naive(
    classifier: nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    attribution: np.ndarray,
    levels: Sequence[float],
    *,
    filler: str = "zero",
    order: str = "lerf",
    seed: int = 0,
) -> pd.DataFrame:
    """:func:`suppression` with one classifier call per sample and level: the benchmark's reference."""
    _check_filler(filler, order)
    x, y, levels = _check(classifier, x, y, attribution, levels)
    device = next(classifier.parameters()).device
    noise = road_noise(x.shape, seed)
    rows = []
    with evaluating(classifier, gradients=False), torch.no_grad():
        for level in levels:
            hits = 0
            for index, (sample, sample_attribution, label) in enumerate(zip(x, attribution, y, strict=True)):
                masked = suppress(
                    sample[None], sample_attribution[None], level, filler=filler, order=order, noise=noise[[index]]
                )
                hits += int(classifier(torch.as_tensor(masked, device=device)).argmax(dim=1).item() == label)
            rows.append({"level": level, "kept": kept_points(level, x[0].size), "accuracy": hits / len(x)})
    return pd.DataFrame(rows)


def example_index(classifier: nn.Module, x: np.ndarray, y: np.ndarray, evidence: np.ndarray | None = None) -> int:
    """The sample Fig. 3 shows: the first correctly classified one, and one with evidence when ``evidence`` is given.

    Falls back to the first sample with evidence (or the first sample) when none is classified correctly.
    """
    x, y = np.asarray(x, dtype=np.float32), np.asarray(y)
    candidates = np.ones(len(x), dtype=bool)
    if evidence is not None:
        candidates = np.asarray(evidence, dtype=bool).reshape(len(x), -1).any(axis=1)
        if not candidates.any():
            raise ValueError("no sample carries evidence; pass evidence=None to pick among all samples")
    correct = predict(classifier, x, DEFAULT_BATCH_SIZE) == y
    chosen = np.flatnonzero(candidates & correct)
    return int(chosen[0] if len(chosen) else np.flatnonzero(candidates)[0])


def area_under_curve(curve: pd.DataFrame) -> float:
    """Trapezoidal area under one accuracy–suppression curve (``level``, ``accuracy``), levels in [0, 1]."""
    missing = {"level", "accuracy"} - set(curve.columns)
    if missing:
        raise ValueError(f"a suppression curve needs the columns level and accuracy; missing {sorted(missing)}")
    if curve["level"].duplicated().any():
        raise ValueError("the curve has repeated levels: pass one method and run at a time (see auc_table)")
    ordered = curve.sort_values("level")
    return float(np.trapezoid(ordered["accuracy"], ordered["level"]))


def auc_table(curves: pd.DataFrame, by: Sequence[str] = ("method", "run")) -> pd.DataFrame:
    """The area under each curve of a long table: one row per combination of ``by`` with an ``auc`` column."""
    by = [column for column in by if column in curves.columns]
    if not by:
        raise ValueError(f"auc_table groups the curves by columns that the table lacks: {list(curves.columns)}")
    return curves.groupby(by, sort=False)[["level", "accuracy"]].apply(area_under_curve).rename("auc").reset_index()


def method_ranking(
    curves: pd.DataFrame, *, dataset_column: str = "dataset", exclude: Iterable[str] = ("none",)
) -> pd.DataFrame:
    """Methods ranked by area under the suppression curve, per data set and on average (1 = best).

    The AUC of a method on a data set is averaged over its runs; methods are ranked within each data set
    (ties share the mean rank) and ``mean_rank`` averages over data sets. ``none`` — the unsuppressed
    reference, not a method — is left out by default.
    """
    frame = curves[~curves["method"].isin(list(exclude))]
    if dataset_column not in frame.columns:
        frame = frame.assign(**{dataset_column: "all"})
    auc = auc_table(frame, by=(dataset_column, "method", "run"))
    mean_auc = auc.groupby([dataset_column, "method"], sort=False)["auc"].mean().unstack(dataset_column)
    ranks = mean_auc.rank(axis=0, ascending=False)
    table = ranks.add_prefix("rank_").assign(
        mean_rank=ranks.mean(axis=1), mean_auc=mean_auc.mean(axis=1), datasets=ranks.notna().sum(axis=1)
    )
    return table.sort_values(["mean_rank", "mean_auc"], ascending=[True, False]).rename_axis("method").reset_index()


def suppression_curves(
    classifier: nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    *,
    explainers: Mapping[str, Any] | None = None,
    methods: Sequence[str] = METHODS,
    levels: Sequence[float] = DEFAULT_LEVELS,
    seed: int = 0,
    run: int = 0,
    key: dict[str, Any] | None = None,
    batch_size: int | None = None,
    progress: bool = True,
    filler: str = "zero",
    order: str = "lerf",
) -> pd.DataFrame:
    """Suppression curves of every method for one classifier: a long table (``method, level, kept, accuracy, run``).

    ``explainers`` maps ``tsinsight``/``palacio`` to the fitted explainers those methods read. Attributions
    go through :func:`tsinsight.attribution.cached_attribute` with the caller's ``key`` (data set, profile,
    model seed, ...): ``None`` computes them without storing. ``none`` is evaluated unsuppressed (see
    :func:`suppression`). ``filler`` and ``order`` vary the test (:func:`suppression`; ``seed`` also draws
    ROAD's noise).
    """
    _check_filler(filler, order)
    explainers = dict(explainers or {})
    unknown = [method for method in methods if method not in METHODS]
    if unknown:
        raise ValueError(f"unknown attribution methods {unknown}: choose from {', '.join(METHODS)}")
    _check(classifier, x, y, None, levels)  # before any attribution is computed
    chosen = list(methods)
    if progress:
        from tqdm.auto import tqdm

        chosen = tqdm(chosen, desc="suppression", leave=False)
    frames = []
    for method in chosen:
        if method == "none":
            attribution = None
        else:
            attribution = cached_attribute(
                method, classifier, x, key=key, explainer=explainers.get(method), seed=seed, batch_size=batch_size
            )
        curve = suppression(classifier, x, y, attribution, levels, filler=filler, order=order, seed=seed)
        frames.append(curve.assign(method=method, run=run))
    return pd.concat(frames, ignore_index=True)[["method", "level", "kept", "accuracy", "run"]]


def _check_filler(filler: str, order: str = "lerf") -> None:
    if filler not in FILLERS:
        raise ValueError(f"unknown filler {filler!r}: choose one of {', '.join(FILLERS)}")
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}: choose lerf (the paper's: keep the most important) or morf")


def _check(classifier: nn.Module, x, y, attribution, levels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else x
    y = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else y
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim != 3:
        raise ValueError(f"inputs must be shaped (n, channels, length), got shape {x.shape}")
    if y.shape != (len(x),):
        raise ValueError(f"labels must be shaped ({len(x)},) to match the inputs, got shape {y.shape}")
    if attribution is not None and np.shape(attribution) != x.shape:
        raise ValueError(f"the attribution's shape {np.shape(attribution)} differs from the inputs' {x.shape}")
    if attribution is not None and not np.isfinite(attribution).all():
        raise ValueError("the attribution holds NaN or infinite values: a ranking of them would be arbitrary")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels must be integer class indices, got dtype {y.dtype}")
    levels = np.asarray(levels, dtype=float)
    if levels.ndim != 1 or len(levels) == 0 or (levels < 0).any() or (levels > 1).any():
        raise ValueError(f"levels are fractions suppressed in [0, 1], got {levels.tolist()}")
    if not isinstance(classifier, nn.Module):
        raise TypeError(f"the classifier must be a torch nn.Module, got {type(classifier).__name__}")
    check_inputs(x, model=classifier, y=y)
    return x.astype(np.float32, copy=False), y, levels
