"""WESAD (``wesad``, Schmidt et al. 2018) from the user's copy of the official per-subject pickles only: the
archive is about 2 GB behind a licence page, so it is never downloaded. Each channel is z-scored with the
training windows' statistics; the windowing and the subject-wise split are in :func:`build`.

WESAD's own recordings are Python pickles (``S<k>/S<k>.pkl``): that is the archive's format, so
:func:`read_subject` reads them with :mod:`pickle`, which can run code stored in the file. Point
``$TSINSIGHT_WESAD_DIR`` only at a copy of the official archive. (The processed cache holds no pickle.)
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from tqdm import tqdm

from tsinsight.data.dataset import SPLITS, Dataset, Split, channel_standardiser
from tsinsight.data.sources import Found, Spec, first, search_roots

ENV = "TSINSIGHT_WESAD_DIR"
URL = "https://ubicomp.eti.uni-siegen.de/home/datasets/icmi18/"
# The chest device (RespiBAN), 700 Hz: the eight channels in the order they are stacked.
CHEST_CHANNELS = ["ACC x", "ACC y", "ACC z", "ECG", "EMG", "EDA", "Temp", "Resp"]
SAMPLING_HZ = 700
# One-second windows of the chest signals, one every four seconds of a labelled segment.
WINDOW = SAMPLING_HZ
STRIDE = 4 * SAMPLING_HZ
CLASSES = {1: "neutral", 3: "amusement", 2: "stress"}  # WESAD's label codes → the paper's class order


def read_subject(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """One official WESAD pickle (``S<k>/S<k>.pkl``): the chest signals ``(samples, 8)`` and the label per sample.

    The pickles were written by Python 2, hence ``encoding="latin1"``. Channels follow ``CHEST_CHANNELS``.
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            record = pickle.load(handle, encoding="latin1")  # the archive's own format (see the module docstring)
        chest = record["signal"]["chest"]
        parts = [
            np.asarray(chest[k], dtype=np.float64).reshape(len(record["label"]), -1)
            for k in ("ACC", "ECG", "EMG", "EDA", "Temp", "Resp")
        ]
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError) as error:
        raise ValueError(
            f"{path} is not an official WESAD subject pickle (a dict with 'signal' → 'chest' → ACC, ECG, EMG, EDA, "
            f"Temp, Resp and 'label'): {error!r}"
        ) from error
    signals = np.concatenate(parts, axis=1)
    if signals.shape[1] != len(CHEST_CHANNELS):
        raise ValueError(f"{path}: expected {len(CHEST_CHANNELS)} chest channels, found {signals.shape[1]}")
    return signals, np.asarray(record["label"]).ravel().astype(np.int64)


def roots(mirror: str | Path | None) -> list[Path]:
    """Folders that may hold the subject folders: ``$TSINSIGHT_WESAD_DIR``, then ``wesad/`` of every search root."""
    own = [Path(os.environ[ENV]).expanduser()] if os.environ.get(ENV) else []
    return own + [root / "wesad" for root in search_roots(mirror)]


def find_subjects(folder: Path) -> dict[str, Path] | None:
    """The official per-subject pickles ``S<k>/S<k>.pkl`` under ``folder`` by subject id, if any."""
    if not folder.is_dir():
        return None
    subjects = {p.parent.name: p for p in folder.glob("S*/S*.pkl") if p.stem == p.parent.name}
    return dict(sorted(subjects.items(), key=lambda item: int(item[0][1:]) if item[0][1:].isdigit() else 0)) or None


def build(found: Found, seed: int, progress: bool) -> Dataset:
    """WESAD from the official per-subject pickles: chest device (RespiBAN), 8 channels at 700 Hz.

    Windows of 700 steps (one second) start every 2800 steps (four seconds) inside each stretch of constant
    label 1 (baseline → neutral), 3 (amusement) or 2 (stress); other labels (transient, meditation, ignored)
    are dropped. The four-second spacing keeps the total near the paper's 8472 windows for the 15 subjects
    (its windowing is not stated). Subjects, not windows, are dealt to the splits with the seed, so no person
    is in two splits: 20 % of them (at least one) for test, 10 % (at least one) for validation, the rest for
    training, as Table 1's 5929 : 846 : 1697.
    """
    subjects = list(found.files)
    if len(subjects) < 3:
        raise ValueError(
            f"WESAD needs at least 3 subjects for a subject-wise train/val/test split; found {subjects}: "
            f"point ${ENV} at the unpacked archive holding S2/S2.pkl, S3/S3.pkl, …"
        )
    windows, labels = {}, {}
    for subject in tqdm(subjects, desc="WESAD subjects", disable=not progress):
        signals, codes = read_subject(found.files[subject])
        xs, ys = [], []
        change = np.flatnonzero(np.diff(codes)) + 1
        for start, stop in zip(np.r_[0, change], np.r_[change, len(codes)], strict=True):
            if codes[start] in CLASSES and stop - start >= WINDOW:
                starts = np.arange(start, stop - WINDOW + 1, STRIDE)
                xs.append(sliding_window_view(signals, WINDOW, axis=0)[starts].astype(np.float32))
                ys.append(np.full(len(starts), list(CLASSES).index(codes[start])))
        windows[subject] = np.concatenate(xs) if xs else np.zeros((0, len(CHEST_CHANNELS), WINDOW), np.float32)
        labels[subject] = np.concatenate(ys) if ys else np.zeros(0, np.int64)
    order = np.random.default_rng(seed).permutation(subjects)
    n_test = max(1, round(0.2 * len(subjects)))
    n_val = max(1, round(0.1 * len(subjects)))
    groups = {"test": order[:n_test], "val": order[n_test : n_test + n_val], "train": order[n_test + n_val :]}
    groups = {k: sorted(v, key=subjects.index) for k, v in groups.items()}
    x = {k: np.concatenate([windows[s] for s in v]) for k, v in groups.items()}
    y = {k: np.concatenate([labels[s] for s in v]) for k, v in groups.items()}
    mean, std = channel_standardiser(x["train"])
    return Dataset(
        name="wesad",
        **{k: Split((x[k] - mean[None, :, None]) / std[None, :, None], y[k]) for k in SPLITS},
        n_classes=3,
        n_channels=len(CHEST_CHANNELS),
        length=WINDOW,
        channel_names=list(CHEST_CHANNELS),
        class_names=list(CLASSES.values()),
        source=f"WESAD per-subject pickles ({found.root})",
        substitute=True,
        note=(
            "our windowing (the paper does not state its): chest signals, 700-step windows every 2800 steps inside "
            "segments of one label; subject-wise split " + ", ".join(f"{k}: {', '.join(v)}" for k, v in groups.items())
        ),
    )


SPEC = Spec(
    name="wesad",
    construction=f"wesad-1-window{WINDOW}-stride{STRIDE}",
    find=lambda found_roots: first(found_roots, find_subjects, "wesad"),
    build=build,
    looked_for=["S<k>/S<k>.pkl (the official per-subject pickles, e.g. S2/S2.pkl)"],
    how_to_get=(
        f"download WESAD from {URL} (free, about 2 GB), unpack it and set ${ENV} to the folder holding "
        "S2/S2.pkl, S3/S3.pkl, …"
    ),
    roots=roots,
    memory_mapped=True,
)
