"""Planted evidence in real series: ``planted_<base>``, a paper data set whose labels come from a planted pattern.

The synthetic set's evidence is a spike, so the largest ``|x|`` *is* the evidence and input magnitude localises
it by construction. Here the evidence is a pattern that magnitude does not reveal. Every series of the base
data set (its own train / validation / test splits, each cut to at most :data:`MAX_SERIES` series, stratified by
the base's class) gets one of two patterns at a random place (uniform over the steps before any zero padding) on
a random channel (uniform over the series' non-constant channels), and its label is which one
(:data:`CLASS_NAMES`); the base's own label is discarded. The two patterns are a Hann bump of
:func:`pattern_width` steps and its negative, a dip: equal energy, told apart by phase (sign) only.

The pattern is blended in so that the window's spread stays the series' own: at a step where the pattern's
shape is ``s`` (``|s| ≤`` :data:`AMPLITUDE` ``= 1``), the value becomes ``m + sqrt(1 − s²)·(x − m) + s·σ``, with
``m`` and ``σ`` the series' mean and standard deviation on that channel (over its real steps). The background's
deviation gives up exactly the variance the pattern brings, so the planted points are no larger than the series'
own spread and the largest ``|x|`` lands on them at about the rate a window placed at random would catch it (the
design check, ``tools/check_planted.py``). Added on top of the background instead (tried with chirps at the
series' spread), the pattern raised ``|x|`` in the window enough for the largest ``|x|`` to land on it 2.4 to 2.7
times as often as the evidence's share of the points (FordA, Character Trajectories, Forest Cover). Zero-mean
patterns (a chirp rising or falling, one sine cycle of either sign, a Ricker wavelet of either sign) were tried
first: the book's CNN did not learn them on FordA within the ``cpu`` budget (50–70 % after 10 epochs); the bump
and dip it learns. A bump shifts the series' mean by about ``width / (2·length)`` standard deviations; on the
z-normalised UCR sets (mean exactly 0) that level alone told the label, and the CNN read it: moving a planted
series as a whole by twice the opposite of that shift (the window's shape kept) took its accuracy from 100 % to
0–3 % (FordA, Electric Devices). So every series' level is also moved, on each channel, by a random offset of
:data:`LEVEL` standard deviations (over its real steps): the level no longer tells the label.

A base with fewer than :data:`MIN_TRAIN` training series (FordA: 2520, ECG Thorax: 1244, Character
Trajectories: 692) has each series planted in several copies (:func:`copies`), in every split. Labels are
balanced overall (within one series) and within each base class, or, with copies, within the copies of each
series (its background then says nothing about the label). ``evidence`` marks exactly the pattern's points;
outside it every value is the background (the base series and its level offset), untouched: putting the
background back removes the evidence and nothing else (:func:`backgrounds` gives it). Everything is drawn from
``seed`` (the seed of ``load``, which also draws the base's validation split): the same seed gives the same arrays.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from tsinsight.data.dataset import SPLITS, Dataset, Split

# The paper's data sets a planted version exists of: univariate and multivariate, short and long. Not Forest
# Cover: its 50-step windows of unrelated rows hid a 12- or 24-step bump from the book's CNN within the ``cpu``
# budget (57 % test accuracy at best, measured before the level offsets); not UWave: 80 training series.
BASES = ("ford_a", "electric_devices", "ecg_thorax", "character_trajectories")
PREFIX = "planted_"
CLASS_NAMES = ["bump", "dip"]
MAX_SERIES = {"train": 10_000, "val": 5_000, "test": 5_000}  # per split, before planting
MIN_TRAIN = 3_000  # a base with fewer training series has every series planted in several copies (see base_splits)
WIDTH = 64  # the pattern's width in steps, at most a quarter of the series (see pattern_width)
AMPLITUDE = 1.0  # the pattern's peak, in standard deviations of the series on the channel it is planted in
LEVEL = 0.3  # each series' level is moved by N(0, LEVEL²) standard deviations on each channel (see plant)
# Bump when the generator's output changes: it is part of the cache's construction key.
GENERATOR_VERSION = "planted-4"


def planted_name(base: str) -> str:
    """The planted data set's name for ``base``: ``planted_<base>``."""
    return PREFIX + base


def base_name(name: str) -> str:
    """The base data set of a planted data set's ``name``; a clear error for a name that is not one."""
    base = name.removeprefix(PREFIX)
    if not name.startswith(PREFIX) or base not in BASES:
        raise ValueError(f"unknown planted data set {name!r}: choose one of {[planted_name(b) for b in BASES]}")
    return base


def pattern_width(length: int) -> int:
    """The pattern's width for series of ``length`` steps: :data:`WIDTH`, at most a quarter of the series."""
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 12:
        raise ValueError(f"a planted pattern needs series of at least 12 steps; got length {length!r}")
    return int(min(WIDTH, length // 4))


def patterns(width: int) -> np.ndarray:
    """The two patterns, ``(2, width)``: a Hann bump and its negative, a dip (equal energy, opposite phase).

    The bump is the Hann window of ``width + 2`` points without its two end zeros: no point is 0 and the peak is 1
    (an even ``width`` misses the centre: just under 1, 0.9994 at 64 steps, 0.996 at 24).
    """
    bump = np.hanning(width + 2)[1:-1]
    return np.stack([bump, -bump])


def active_length(x: np.ndarray) -> np.ndarray:
    """Each series' number of real steps: up to its last step where some channel is not exactly 0 (the zero padding
    of variable-length sets, e.g. Character Trajectories, does not count)."""
    nonzero = (x != 0).any(axis=1)
    return np.where(nonzero.any(axis=1), x.shape[2] - np.argmax(nonzero[:, ::-1], axis=1), 0)


def _masked_mean(x: np.ndarray, steps: np.ndarray) -> np.ndarray:
    return ((x * steps[:, None, :]).sum(axis=2) / steps.sum(axis=1)[:, None])[..., None]


def balanced_labels(groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Labels 0/1, one per entry of ``groups``: balanced within each group (±1) and overall (±1), else random.

    Members are shuffled within their group, the groups laid end to end and labels alternated along that order
    from a random first label, so each group and the whole hold as many 0s as 1s to within one.
    """
    order = np.lexsort((rng.random(len(groups)), groups))
    labels = np.empty(len(groups), dtype=np.int64)
    labels[order] = (np.arange(len(groups)) + rng.integers(2)) % 2
    return labels


def plant(
    x: np.ndarray, groups: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Plant one pattern in each series of ``x`` ``(n, channels, length)``: ``(planted x, labels, evidence,
    background)``, the background being ``x`` with its level offsets but no pattern (float32, like the planted x).

    ``groups`` (the base's labels) are what the labels are balanced within; ``rng`` draws places, channels,
    labels and level offsets. See the module's description.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 3 or len(x) == 0:
        raise ValueError(f"x must be a non-empty array shaped (n, channels, length); got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("x holds NaN or infinite values: a planted pattern's scale would be undefined")
    if np.shape(groups) != (len(x),):
        raise ValueError(f"groups must hold one entry per series ({len(x)}); got shape {np.shape(groups)}")
    n, channels, length = x.shape
    width = pattern_width(length)
    active = active_length(x)
    if (active < width).any():
        raise ValueError(
            f"{int((active < width).sum())} series have fewer than {width} steps before their zero padding: "
            "too short to carry the pattern"
        )
    steps_in = np.arange(length)[None, :] < active[:, None]
    mean = _masked_mean(x, steps_in)  # (n, channels, 1)
    spread = np.sqrt((((x - mean) ** 2) * steps_in[:, None, :]).sum(axis=2) / active[:, None])
    usable = spread > 1e-6  # not constant (up to rounding)
    if not usable.any(axis=1).all():
        raise ValueError(
            f"{int((~usable.any(axis=1)).sum())} series are constant on every channel: a pattern scaled to their "
            "spread would be zero, so their label could not be learnt; drop constant series before planting"
        )
    # a channel uniformly among the series' non-constant ones, then a start uniformly within its real steps
    channel = np.where(usable, rng.random(usable.shape), -1.0).argmax(axis=1)
    start = np.floor(rng.random(n) * (active - width + 1)).astype(np.int64)
    labels = balanced_labels(np.asarray(groups), rng)
    rows, steps = np.arange(n)[:, None], start[:, None] + np.arange(width)
    shape = AMPLITUDE * patterns(width)[labels]  # (n, width), in units of the series' spread
    # each series' level moved on each channel (its real steps), so that the shift a bump or dip brings to the
    # series' mean does not tell the label: without it the cpu budget's CNN read the level, not the window
    level = LEVEL * spread * rng.standard_normal((n, channels))
    background = (x + level[:, :, None] * steps_in[:, None, :]).astype(np.float32).astype(np.float64)
    centre = (mean[:, :, 0] + level)[np.arange(n), channel][:, None]  # (n, 1)
    deviation = background[rows, channel[:, None], steps] - centre
    planted = background.copy()
    # the background keeps sqrt(1 − shape²) of its deviation and the pattern fills the rest of the variance
    planted[rows, channel[:, None], steps] = (
        centre + np.sqrt(1 - shape**2) * deviation + shape * spread[np.arange(n), channel][:, None]
    )
    evidence = np.zeros(x.shape, dtype=bool)
    evidence[rows, channel[:, None], steps] = True
    return planted.astype(np.float32), labels, evidence, background.astype(np.float32)


def copies(base: Dataset) -> int:
    """How many planted copies each base series gets: enough for :data:`MIN_TRAIN` training series (at least 1)."""
    return max(1, math.ceil(MIN_TRAIN / max(1, len(base.train))))


def base_splits(base: Dataset, seed: int) -> Dataset:
    """The base's series behind ``planted_<base>`` loaded with the same ``seed``: its splits cut to
    :data:`MAX_SERIES` (stratified by its class, drawn with ``seed``), each series repeated :func:`copies` times
    (the whole split over again, so copies of one series never sit side by side)."""
    caps = {f"max_{split}": cap for split, cap in MAX_SERIES.items()}
    capped = base.subsample(**caps, seed=seed)
    k = copies(base)
    order = {s: np.tile(np.arange(len(getattr(capped, s))), k) for s in SPLITS}  # copy i of series j at i·n + j
    return replace(capped, **{s: getattr(capped, s).take(order[s]) for s in SPLITS})


def _generated(base: Dataset, seed: int) -> dict[str, tuple]:
    if base.name not in BASES:
        raise ValueError(f"no planted version of {base.name!r}: choose a base among {list(BASES)}")
    series = base_splits(base, seed)
    k = copies(base)
    streams = np.random.SeedSequence([seed, 0x97A17ED]).spawn(len(SPLITS))  # distinct from the base's own draws
    out = {}
    for split_name, stream in zip(SPLITS, streams, strict=True):
        split = getattr(series, split_name)
        # one copy per series: balanced within its base class; several: within the series (its background says nothing)
        groups = split.y if k == 1 else np.tile(np.arange(len(split) // k), k)
        out[split_name] = plant(split.x, groups, np.random.default_rng(stream))
    return out


def backgrounds(base: Dataset, seed: int) -> Dataset:
    """``planted_<base>`` (same ``seed``) without its patterns: each series' untouched background (the base series
    with its level offsets), with the planted labels and evidence. Putting it back into the window removes the
    evidence and nothing else."""
    generated = _generated(base, seed)
    return replace(build(base, seed, generated), **{s: Split(g[3], g[1], g[2]) for s, g in generated.items()})


def build(base: Dataset, seed: int, generated: dict[str, tuple] | None = None) -> Dataset:
    """``planted_<base>`` from the loaded base data set and ``seed`` (each split's stream spawned from it)."""
    generated = generated or _generated(base, seed)
    splits = {s: Split(*g[:3]) for s, g in generated.items()}
    width = pattern_width(base.length)
    return replace(
        base,
        name=planted_name(base.name),
        **splits,
        n_classes=2,
        class_names=list(CLASS_NAMES),
        source=f"generated by tsinsight.data.planted ({GENERATOR_VERSION}, seed {seed}) from {base.name}: {base.source}",
        substitute=False,
        note=(
            f"{base.name}'s series (at most {MAX_SERIES['train']}/{MAX_SERIES['val']}/{MAX_SERIES['test']} per "
            f"split, each in {copies(base)} cop{'y' if copies(base) == 1 else 'ies'}), each with a {width}-step bump or dip of one standard deviation blended in at a random place "
            "and channel; the label is which of the two"
        ),
    )
