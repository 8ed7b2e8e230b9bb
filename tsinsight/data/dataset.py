"""The in-memory form of a data set (``Dataset`` of three ``Split``s) and the split helpers every loader shares.

A split holds ``x`` as float32 ``(n, channels, length)`` and ``y`` as int64 class indices ``0..k-1``; the
synthetic set also carries ``evidence``, a boolean mask shaped like ``x`` marking the injected anomaly.
The helpers here draw the validation split per class, subsample splits without losing class balance and
standardise channels with statistics of the training split only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

SPLITS = ("train", "val", "test")


@dataclass
class Split:
    """One split of a data set: inputs ``x`` ``(n, channels, length)``, labels ``y`` and optional ``evidence``."""

    x: np.ndarray
    y: np.ndarray
    evidence: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.x.ndim != 3:
            raise ValueError(f"Split.x must have shape (n, channels, length); got shape {self.x.shape}")
        if self.y.shape != (len(self.x),):
            raise ValueError(f"Split.y must have shape ({len(self.x)},) to match x; got {self.y.shape}")
        if self.evidence is not None and self.evidence.shape != self.x.shape:
            raise ValueError(f"Split.evidence must be shaped like x {self.x.shape}; got {self.evidence.shape}")
        self.x = np.asarray(self.x, dtype=np.float32)
        self.y = np.asarray(self.y, dtype=np.int64)
        if self.evidence is not None:
            self.evidence = np.asarray(self.evidence, dtype=bool)

    def __len__(self) -> int:
        return len(self.y)

    def take(self, indices: np.ndarray) -> Split:
        """The samples at ``indices`` (evidence kept aligned)."""
        evidence = None if self.evidence is None else self.evidence[indices]
        return Split(self.x[indices], self.y[indices], evidence)


@dataclass
class Dataset:
    """A data set with its train / validation / test splits and what is known about where it came from.

    ``source`` says where the arrays came from; ``substitute`` is True when the data differs from the paper's
    (another version of the archive, another windowing) and ``note`` then says how.
    """

    name: str
    train: Split
    val: Split
    test: Split
    n_classes: int
    n_channels: int
    length: int
    channel_names: list[str] = field(default_factory=list)
    class_names: list[str] = field(default_factory=list)
    source: str = ""
    substitute: bool = False
    note: str = ""

    def __post_init__(self) -> None:
        for split_name in SPLITS:
            split = getattr(self, split_name)
            if split.x.shape[1:] != (self.n_channels, self.length):
                raise ValueError(
                    f"{self.name}: {split_name}.x has shape {split.x.shape}, expected (n, {self.n_channels}, {self.length})"
                )
            if len(split) and (split.y.min() < 0 or split.y.max() >= self.n_classes):
                raise ValueError(f"{self.name}: {split_name}.y holds labels outside 0..{self.n_classes - 1}")
        if not self.channel_names:
            self.channel_names = [f"channel {c}" for c in range(self.n_channels)]
        if not self.class_names:
            self.class_names = [str(k) for k in range(self.n_classes)]
        if len(self.channel_names) != self.n_channels or len(self.class_names) != self.n_classes:
            raise ValueError(f"{self.name}: {self.n_channels} channel names and {self.n_classes} class names expected")

    def subsample(
        self, *, max_train: int | None = None, max_val: int | None = None, max_test: int | None = None, seed: int = 0
    ) -> Dataset:
        """A copy with each split cut to at most ``max_*`` samples (None: all), stratified by class, deterministic.

        The kept samples stay in their original order; ``evidence`` stays aligned with ``x``.
        """
        rng = np.random.default_rng(seed)
        splits = {}
        for split_name, cap in (("train", max_train), ("val", max_val), ("test", max_test)):
            split = getattr(self, split_name)
            if cap is not None and cap < 0:
                raise ValueError(f"max_{split_name} must be a non-negative number of samples or None; got {cap}")
            splits[split_name] = (
                split if cap is None or cap >= len(split) else split.take(stratified_subset(split.y, cap, rng))
            )
        return replace(self, **splits)

    def describe(self) -> dict:
        """A flat summary: name, source, substitute flag, note, split sizes, shape and number of classes."""
        return dict(
            name=self.name,
            source=self.source,
            substitute=self.substitute,
            note=self.note,
            train=len(self.train),
            val=len(self.val),
            test=len(self.test),
            length=self.length,
            channels=self.n_channels,
            classes=self.n_classes,
        )


def stratified_subset(y: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of ``size`` samples of ``y`` with each class kept in proportion (largest remainders)."""
    classes, counts = np.unique(y, return_counts=True)
    quota = counts * size / len(y)
    take = np.floor(quota).astype(int)
    # hand the samples lost to flooring to the classes with the largest remainders (ties: smaller class index)
    order = np.argsort(-(quota - take), kind="stable")
    take[order[: size - take.sum()]] += 1
    chosen = [rng.permutation(np.flatnonzero(y == c))[:k] for c, k in zip(classes, take, strict=True)]
    return np.sort(np.concatenate(chosen))


def per_class_holdout(y: np.ndarray, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Split indices of ``y`` into (kept, held out) with ceil(fraction·n_c) of each class held out.

    This is the rule that reproduces the paper's validation sizes of the UCR sets exactly.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"val_fraction must lie strictly between 0 and 1; got {fraction}")
    held = []
    for c in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == c))
        held.append(members[: math.ceil(fraction * len(members))])
    held_out = np.sort(np.concatenate(held))
    kept = np.setdiff1d(np.arange(len(y)), held_out)
    return kept, held_out


def encode_labels(*label_arrays: np.ndarray) -> tuple[list[np.ndarray], list[str]]:
    """Map labels (numbers or strings) to ``0..k-1`` consistently over all arrays; return codes and class names.

    Classes are ordered numerically when every label is a number (so "10" comes after "9"), else as strings.
    """
    joined = np.concatenate([np.asarray(a).ravel() for a in label_arrays])
    try:
        numeric = joined.astype(np.float64)
    except ValueError:
        numeric = None
    if numeric is not None:
        classes, codes = np.unique(numeric, return_inverse=True)
        names = [str(int(c)) if float(c).is_integer() else str(c) for c in classes]
    else:
        classes, codes = np.unique(joined.astype(str), return_inverse=True)
        names = [str(c) for c in classes]
    out, start = [], 0
    for a in label_arrays:
        out.append(codes[start : start + len(a)].astype(np.int64))
        start += len(a)
    return out, names


def channel_standardiser(x_train: np.ndarray, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation of ``x_train`` ``(n, channels, length)`` (over ``mask`` if given).

    Only the training split is ever passed here, so no statistic of validation or test data reaches training.
    """
    x64 = x_train.astype(np.float64)
    if mask is None:
        mean = x64.mean(axis=(0, 2))
        std = x64.std(axis=(0, 2))
    else:
        count = mask.sum(axis=(0, 2))
        mean = (x64 * mask).sum(axis=(0, 2)) / count
        std = np.sqrt((((x64 - mean[None, :, None]) ** 2) * mask).sum(axis=(0, 2)) / count)
    std = np.where(std > 0, std, 1.0)
    return mean, std


def _as_3d(x: np.ndarray, what: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 2:
        x = x[:, None, :]
    if x.ndim != 3:
        raise ValueError(f"{what} must have shape (n, length) or (n, channels, length); got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.number):
        raise ValueError(f"{what} must be numeric; got dtype {x.dtype}")
    return x.astype(np.float32)


def from_arrays(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    name: str,
    val_fraction: float = 0.3,
    seed: int = 0,
    standardise: bool = False,
    channel_names: list[str] | None = None,
    source: str = "arrays given by the user",
    substitute: bool = False,
    note: str = "",
) -> Dataset:
    """A ``Dataset`` from arrays, split the way the paper splits the UCR sets.

    ``x`` is ``(n, length)`` or ``(n, channels, length)``; labels may be any numbers or strings and are mapped
    to ``0..k-1`` (numeric order when numeric). The validation split holds ceil(val_fraction·n_c) samples of
    each class c drawn from the training arrays with ``seed``; the test arrays are the test split.
    ``standardise=True`` z-scores each channel with the training split's mean and standard deviation
    (the UCR rows are already z-normalised per series, so the archive loaders leave it off).
    """
    x_train, x_test = _as_3d(x_train, "x_train"), _as_3d(x_test, "x_test")
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    if len(y_train) != len(x_train) or len(y_test) != len(x_test):
        raise ValueError(
            f"labels must match samples: x_train has {len(x_train)} and y_train {len(y_train)}; "
            f"x_test has {len(x_test)} and y_test {len(y_test)}"
        )
    for what, x in (("x_train", x_train), ("x_test", x_test)):
        if len(x) == 0 or x.shape[1] == 0 or x.shape[2] == 0:
            raise ValueError(
                f"{name}: {what} is empty (shape {x.shape}): a data set needs at least one training and one test "
                "sample, each with at least one channel and one time step"
            )
    for what, y in (("y_train", y_train), ("y_test", y_test)):
        if y.ndim != 1:
            raise ValueError(f"{name}: {what} must be one label per sample, got shape {y.shape}")
        if y.dtype.kind == "f" and not np.isfinite(y).all():
            raise ValueError(f"{name}: {what} holds NaN or infinite labels; drop those samples or give them a class")
    if x_train.shape[1:] != x_test.shape[1:]:
        raise ValueError(f"x_train {x_train.shape[1:]} and x_test {x_test.shape[1:]} differ in (channels, length)")
    if not (np.isfinite(x_train).all() and np.isfinite(x_test).all()):
        raise ValueError(f"{name}: the arrays hold NaN or infinite values; pad or impute them first")
    if len(np.unique(y_train)) < 2:
        raise ValueError(
            f"{name}: y_train holds a single class ({np.unique(y_train)[0]!r}): a classifier needs at least two "
            "classes to learn from and TSInsight a decision to explain; pass training samples of every class"
        )
    (codes_train, codes_test), class_names = encode_labels(y_train, y_test)
    kept, held_out = per_class_holdout(codes_train, val_fraction, np.random.default_rng(seed))
    if len(kept) == 0:
        raise ValueError(
            f"{name}: with val_fraction={val_fraction} every one of the {len(codes_train)} training samples goes to "
            "validation, leaving the training split empty: pass more training samples or a smaller val_fraction"
        )
    if standardise:
        mean, std = channel_standardiser(x_train[kept])
        x_train = ((x_train - mean[None, :, None]) / std[None, :, None]).astype(np.float32)
        x_test = ((x_test - mean[None, :, None]) / std[None, :, None]).astype(np.float32)
    return Dataset(
        name=name,
        train=Split(x_train[kept], codes_train[kept]),
        val=Split(x_train[held_out], codes_train[held_out]),
        test=Split(x_test, codes_test),
        n_classes=len(class_names),
        n_channels=x_train.shape[1],
        length=x_train.shape[2],
        channel_names=list(channel_names) if channel_names else [],
        class_names=class_names,
        source=source,
        substitute=substitute,
        note=note,
    )
