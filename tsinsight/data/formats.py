"""Readers of the archives' own file formats: UCR text (tsv/txt, optionally gzipped), UEA ``.ts``, the MATLAB files
of ODDS Forest Cover and UCI Character Trajectories, and the WESAD per-subject pickles.

Each reader returns plain numpy arrays; splitting and preprocessing happen in :mod:`tsinsight.data.registry`.
"""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.io

# The chest device (RespiBAN) of WESAD, 700 Hz: the eight channels in the order the loader stacks them.
WESAD_CHEST_CHANNELS = ["ACC x", "ACC y", "ACC z", "ECG", "EMG", "EDA", "Temp", "Resp"]
WESAD_SAMPLING_HZ = 700


def _open_text(path: Path):
    return gzip.open(path, "rt") if path.suffix == ".gz" else open(path)


def read_ucr_text(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """A UCR file (``.tsv``, ``.txt``, optionally ``.gz``): label first, then the values. Returns ``(x (n, length), y)``.

    The 2018 archive writes tabs, the older ``.txt`` files spaces; whitespace of any kind separates values.
    """
    path = Path(path)
    try:
        table = pd.read_csv(path, sep=r"\s+", header=None, dtype=np.float64)
    except (ValueError, pd.errors.ParserError, EOFError, OSError) as error:
        raise ValueError(f"{path} is not a UCR text file (label then values per row): {error}") from error
    if table.shape[1] < 2 or len(table) == 0:
        raise ValueError(f"{path} is not a UCR text file: expected rows of a label then values, got {table.shape}")
    values = table.to_numpy()
    return values[:, 1:], values[:, 0]


def read_ts(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """A UEA/sktime ``.ts`` file (optionally ``.gz``) with class labels. Returns ``(x (n, dims, length), y as str)``.

    Hand-written because neither tslearn nor scikit-learn reads ``.ts`` (tslearn reads the archive's
    ``.txt``/``.arff`` only) and the format is simple: ``@`` header lines, then one case per line with the
    dimensions separated by ``:``, values by ``,`` and the class label last. Missing values (``?``) become
    NaN; cases of unequal length are NaN-padded at the end; time-stamped series are not supported.
    """
    path = Path(path)
    header: dict[str, str] = {}
    cases: list[list[np.ndarray]] = []
    labels: list[str] = []
    in_data = False
    with _open_text(path) as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if not in_data:
                if not line.startswith("@"):
                    raise ValueError(f"{path}:{number}: expected an @ header line before @data, got {line[:40]!r}")
                key, _, value = line[1:].partition(" ")
                if key.lower() == "data":
                    in_data = True
                    if header.get("timestamps", "false").lower() == "true":
                        raise ValueError(f"{path}: time-stamped .ts files are not supported")
                else:
                    header[key.lower()] = value.strip()
                continue
            *dims, label = line.split(":")
            if not dims:
                raise ValueError(f"{path}:{number}: a case needs values and a class label separated by ':'")
            try:
                cases.append([np.array([np.nan if v == "?" else float(v) for v in d.split(",")]) for d in dims])
            except ValueError as error:
                raise ValueError(f"{path}:{number}: a value is not a number ({error})") from error
            labels.append(label.strip())
    if not in_data:
        raise ValueError(f"{path} is not a .ts file: no @data line")
    if header.get("classlabel", "false").split()[0].lower() != "true":
        raise ValueError(f"{path}: the file holds no class labels (@classLabel false)")
    if not cases:
        raise ValueError(f"{path}: no cases after @data")
    n_dims = {len(c) for c in cases}
    if len(n_dims) != 1:
        raise ValueError(f"{path}: cases have different numbers of dimensions {sorted(n_dims)}")
    length = max(len(d) for c in cases for d in c)
    x = np.full((len(cases), n_dims.pop(), length), np.nan)
    for i, case in enumerate(cases):
        for j, values in enumerate(case):
            x[i, j, : len(values)] = values
    return x, np.array(labels)


def read_cover_mat(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """ODDS ``cover.mat``: ``X`` (rows × 10 quantitative attributes) and ``y`` (1 = anomaly) in the original row order."""
    mat = _loadmat(path)
    if "X" not in mat or "y" not in mat:
        raise ValueError(f"{path} is not the ODDS cover.mat: it must hold 'X' and 'y', found {sorted(_keys(mat))}")
    x, y = np.asarray(mat["X"], dtype=np.float64), np.asarray(mat["y"]).ravel().astype(np.int64)
    if x.ndim != 2 or len(x) != len(y):
        raise ValueError(f"{path}: X {x.shape} and y {y.shape} do not describe the same rows")
    return x, y


def read_character_trajectories_mat(path: str | Path) -> tuple[list[np.ndarray], np.ndarray, list[str]]:
    """Character Trajectories as ``(series list of (3, T), labels 1..20, the 20 letters)``.

    Reads both the UCI file ``mixoutALL_shifted.mat`` (``mixout`` and ``consts.charlabels``/``consts.key``)
    and the mirror's ``labelled_half.mat`` (``xtrain``, ``ytrain``, ``key``).
    """
    mat = _loadmat(path)
    if "mixout" in mat and "consts" in mat:
        consts = mat["consts"][0, 0]
        series, labels, key = mat["mixout"], consts["charlabels"], consts["key"]
    elif "xtrain" in mat and "ytrain" in mat and "key" in mat:
        series, labels, key = mat["xtrain"], mat["ytrain"], mat["key"]
    else:
        raise ValueError(
            f"{path} is not a Character Trajectories file: expected 'mixout' and 'consts' (UCI) or "
            f"'xtrain', 'ytrain' and 'key' (mirror), found {sorted(_keys(mat))}"
        )
    series = [np.asarray(s, dtype=np.float64) for s in np.asarray(series, dtype=object).ravel()]
    labels = np.asarray(labels).ravel().astype(np.int64)
    letters = [str(np.asarray(k).ravel()[0]) for k in np.asarray(key, dtype=object).ravel()]
    if len(series) != len(labels):
        raise ValueError(f"{path}: {len(series)} series but {len(labels)} labels")
    if any(s.ndim != 2 or s.shape[0] != 3 for s in series):
        raise ValueError(f"{path}: every character must be a (3, T) array of x, y and pen force")
    return series, labels, letters


def read_wesad_subject(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """One official WESAD pickle (``S<k>/S<k>.pkl``): the chest signals ``(samples, 8)`` and the label per sample.

    The pickles were written by Python 2, hence ``encoding="latin1"``. Channels follow ``WESAD_CHEST_CHANNELS``.
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            record = pickle.load(handle, encoding="latin1")
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
    if signals.shape[1] != len(WESAD_CHEST_CHANNELS):
        raise ValueError(f"{path}: expected {len(WESAD_CHEST_CHANNELS)} chest channels, found {signals.shape[1]}")
    return signals, np.asarray(record["label"]).ravel().astype(np.int64)


def _loadmat(path: str | Path) -> dict:
    try:
        return scipy.io.loadmat(path)
    except (ValueError, TypeError, OSError, NotImplementedError) as error:
        raise ValueError(f"{path} is not a readable MATLAB v5 file: {error}") from error


def _keys(mat: dict) -> list[str]:
    return [k for k in mat if not k.startswith("__")]
