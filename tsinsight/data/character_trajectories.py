"""UCI Character Trajectories (``character_trajectories``): pen trajectories of 20 letters, 3 channels.

The 2858 UCI characters are re-split 1383/606/869, stratified by letter with the seed; with only the mirror's
labelled half (1429), the same proportions (a substitute). Each channel is z-scored with the training split's
statistics over the real (unpadded) steps, then every character is zero-padded at the end to 206 steps.
"""

from __future__ import annotations

import urllib.request
from pathlib import Path

import numpy as np

from tsinsight.artifacts import atomic_write_bytes
from tsinsight.data.dataset import Dataset, Split, channel_standardiser
from tsinsight.data.sources import DataNotFoundError, Found, Spec, downloads_dir, ensure, first, how_to_get, read_matlab

URL = "https://archive.ics.uci.edu/ml/machine-learning-databases/character-trajectories/mixoutALL_shifted.mat"
FOLDER = "uci/CharacterTrajectories"
LENGTH = 206
PAPER_SIZES = (1383, 606, 869)


def read_mat(path: str | Path) -> tuple[list[np.ndarray], np.ndarray, list[str]]:
    """Character Trajectories as ``(series list of (3, T), labels 1..20, the 20 letters)``.

    Reads both the UCI file ``mixoutALL_shifted.mat`` (``mixout`` and ``consts.charlabels``/``consts.key``)
    and the mirror's ``labelled_half.mat`` (``xtrain``, ``ytrain``, ``key``).
    """
    mat = read_matlab(path)
    if "mixout" in mat and "consts" in mat:
        consts = mat["consts"][0, 0]
        series, labels, key = mat["mixout"], consts["charlabels"], consts["key"]
    elif "xtrain" in mat and "ytrain" in mat and "key" in mat:
        series, labels, key = mat["xtrain"], mat["ytrain"], mat["key"]
    else:
        raise ValueError(
            f"{path} is not a Character Trajectories file: expected 'mixout' and 'consts' (UCI) or "
            f"'xtrain', 'ytrain' and 'key' (mirror), found {sorted(mat)}"
        )
    series = [np.asarray(s, dtype=np.float64) for s in np.asarray(series, dtype=object).ravel()]
    labels = np.asarray(labels).ravel().astype(np.int64)
    letters = [str(np.asarray(k).ravel()[0]) for k in np.asarray(key, dtype=object).ravel()]
    if len(series) != len(labels):
        raise ValueError(f"{path}: {len(series)} series but {len(labels)} labels")
    if any(s.ndim != 2 or s.shape[0] != 3 for s in series):
        raise ValueError(f"{path}: every character must be a (3, T) array of x, y and pen force")
    return series, labels, letters


def _find(roots: list[Path]) -> Found | None:
    def file(name: str):
        return lambda root: {"all": root / FOLDER / name} if (root / FOLDER / name).is_file() else None

    return first(roots, file("mixoutALL_shifted.mat"), "uci") or first(roots, file("labelled_half.mat"), "half")


def _download() -> Found:
    """Fetch the full UCI file ``mixoutALL_shifted.mat`` into ``downloads/uci/CharacterTrajectories/``."""
    path = ensure(downloads_dir() / FOLDER) / "mixoutALL_shifted.mat"
    try:
        with urllib.request.urlopen(URL, timeout=60) as response:
            payload = response.read()
    except OSError as error:
        raise DataNotFoundError(f"downloading {URL} failed: {error}") from error
    atomic_write_bytes(path, lambda handle: handle.write(payload))
    return Found({"all": path}, downloads_dir(), "uci")


def _build(found: Found, seed: int, progress: bool) -> Dataset:
    from sklearn.model_selection import train_test_split  # on first use (tsinsight.imports)

    series, labels, letters = read_mat(found.files["all"])
    if max(s.shape[1] for s in series) > LENGTH:
        raise ValueError(f"{found.files['all']}: a character is longer than the paper's padded length {LENGTH}")
    n = len(series)
    total = sum(PAPER_SIZES)
    n_val, n_test = (
        (PAPER_SIZES[1], PAPER_SIZES[2])
        if n == total
        else (round(n * PAPER_SIZES[1] / total), round(n * PAPER_SIZES[2] / total))
    )
    y = labels - 1
    rest, test = train_test_split(np.arange(n), test_size=n_test, stratify=y, random_state=seed)
    train, val = train_test_split(rest, test_size=n_val, stratify=y[rest], random_state=seed)
    x = np.zeros((n, 3, LENGTH))
    valid = np.zeros_like(x, dtype=bool)
    for i, s in enumerate(series):
        x[i, :, : s.shape[1]], valid[i, :, : s.shape[1]] = s, True
    train, val, test = np.sort(train), np.sort(val), np.sort(test)
    mean, std = channel_standardiser(x[train], valid[train])
    x = np.where(valid, (x - mean[None, :, None]) / std[None, :, None], 0.0)
    substitute = found.variant != "uci"
    note = (
        f"the mirror's labelled half of UCI Character Trajectories ({n} of 2858 characters) re-split in the paper's "
        "proportions 1383:606:869, stratified by letter; zero-padded to 206 steps"
        if substitute
        else ""
    )
    return Dataset(
        name="character_trajectories",
        train=Split(x[train], y[train]),
        val=Split(x[val], y[val]),
        test=Split(x[test], y[test]),
        n_classes=len(letters),
        n_channels=3,
        length=LENGTH,
        channel_names=["x", "y", "pen force"],
        class_names=letters,
        source=f"UCI Character Trajectories {found.files['all'].name} ({found.root})",
        substitute=substitute,
        note=note,
    )


SPEC = Spec(
    name="character_trajectories",
    construction="ct-1",
    find=_find,
    build=_build,
    looked_for=[f"{FOLDER}/mixoutALL_shifted.mat", f"{FOLDER}/labelled_half.mat"],
    how_to_get=how_to_get(f"fetches {URL}"),
    download=_download,
)
