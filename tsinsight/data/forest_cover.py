"""Forest Cover (``forest_cover``) as the ODDS anomaly benchmark ``cover.mat``: UCI covtype classes 2 (normal) and
4 (anomaly), the 10 quantitative attributes, 286048 rows, cut into length-50 windows (see :func:`build`); each
channel is z-scored with the training rows' statistics.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.io
from numpy.lib.stride_tricks import sliding_window_view

from tsinsight.data.dataset import SPLITS, Dataset, Split
from tsinsight.data.sources import Found, Spec, downloads_dir, ensure, first, how_to_get, read_matlab
from tsinsight.paper import TABLE1

FILE = "odds/cover.mat"
# Rows are cut into chunks; each chunk goes wholly to one split and windows never cross chunks.
WINDOW = 50
CHUNK = 1000
ROWS = 286048
ATTRIBUTES = [
    "elevation",
    "aspect",
    "slope",
    "horizontal distance to hydrology",
    "vertical distance to hydrology",
    "horizontal distance to roadways",
    "hillshade 9am",
    "hillshade noon",
    "hillshade 3pm",
    "horizontal distance to fire points",
]


def read_cover_mat(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """ODDS ``cover.mat``: ``X`` (rows × 10 quantitative attributes) and ``y`` (1 = anomaly) in the original row order."""
    mat = read_matlab(path)
    if "X" not in mat or "y" not in mat:
        raise ValueError(f"{path} is not the ODDS cover.mat: it must hold 'X' and 'y', found {sorted(mat)}")
    x, y = np.asarray(mat["X"], dtype=np.float64), np.asarray(mat["y"]).ravel().astype(np.int64)
    if x.ndim != 2 or len(x) != len(y):
        raise ValueError(f"{path}: X {x.shape} and y {y.shape} do not describe the same rows")
    return x, y


def download_cover() -> dict[str, Path]:
    """Build ODDS ``cover.mat`` from scikit-learn's ``fetch_covtype``: classes 2 (normal) and 4 (anomaly), the
    10 quantitative attributes, the original row order; stored under ``downloads/odds/cover.mat``."""
    from sklearn.datasets import fetch_covtype

    covtype = fetch_covtype(data_home=ensure(downloads_dir() / "sklearn"), download_if_missing=True)
    keep = np.isin(covtype.target, (2, 4))
    x = covtype.data[keep, :10].astype(np.int16)
    y = (covtype.target[keep] == 4).astype(np.uint8)[:, None]
    path = ensure(downloads_dir() / "odds") / "cover.mat"
    scipy.io.savemat(path, {"X": x, "y": y})
    return {"cover": path}


def build(found: Found, seed: int, progress: bool) -> Dataset:
    """Forest Cover as length-50 windows of the 10 attributes, labelled anomalous when a window holds an anomaly.

    The paper does not say how its 218596 sequences were cut. Here the rows (in ODDS order) are cut into
    contiguous chunks of 1000 rows; the chunks are dealt to train/val/test with the seed in Table 1's proportions
    (107110 : 45906 : 65580), separately for chunks with and without anomalies (the anomalies sit in a few
    regions of the file, so a plain three-block cut would leave the test split without any). Inside a chunk,
    windows start at every row (stride 1) and never cross the chunk's end, so no row is shared between splits;
    of each split's windows, the paper's count (scaled by rows / 286048 for smaller files) is kept, evenly
    spaced (a mean stride of about 1.25 rows).
    """
    rows, row_labels = read_cover_mat(found.files["cover"])
    rng = np.random.default_rng(seed)
    chunks = np.array_split(np.arange(len(rows)), max(1, len(rows) // CHUNK))
    chunks = [c for c in chunks if len(c) >= WINDOW]
    paper = np.array([TABLE1["forest_cover"][s] for s in SPLITS], dtype=float)
    share = paper / paper.sum()
    owner = np.empty(len(chunks), dtype=int)
    has_anomaly = np.array([row_labels[c].any() for c in chunks])
    for stratum in (True, False):
        members = rng.permutation(np.flatnonzero(has_anomaly == stratum))
        counts = np.floor(share * len(members)).astype(int)
        counts[np.argsort(-(share * len(members) - counts), kind="stable")[: len(members) - counts.sum()]] += 1
        owner[members] = np.repeat(np.arange(3), counts)
    windows_hold_anomaly = sliding_window_view(row_labels, WINDOW).any(axis=1)
    train_rows = np.concatenate([c for c, o in zip(chunks, owner, strict=True) if o == 0])
    mean, std = rows[train_rows].mean(axis=0), rows[train_rows].std(axis=0)
    # channel-major rows make every window a contiguous run of 50 values: the fastest gather
    channels = np.ascontiguousarray(((rows - mean) / np.where(std > 0, std, 1.0)).T.astype(np.float32))
    splits = {}
    for index, split_name in enumerate(SPLITS):
        starts = np.concatenate(
            [c[: len(c) - WINDOW + 1] for c, o in zip(chunks, owner, strict=True) if o == index] or [np.array([], int)]
        )
        wanted = min(len(starts), round(paper[index] * len(rows) / ROWS))
        starts = starts[np.round(np.linspace(0, len(starts) - 1, wanted)).astype(int)] if wanted else starts[:0]
        windows = np.take(sliding_window_view(channels, WINDOW, axis=1), starts, axis=1)
        splits[split_name] = Split(
            np.ascontiguousarray(windows.transpose(1, 0, 2)), windows_hold_anomaly[starts].astype(np.int64)
        )
    exact = len(rows) == ROWS
    return Dataset(
        name="forest_cover",
        **splits,
        n_classes=2,
        n_channels=rows.shape[1],
        length=WINDOW,
        channel_names=list(ATTRIBUTES) if rows.shape[1] == 10 else [f"attribute {k + 1}" for k in range(rows.shape[1])],
        class_names=["normal", "anomalous"],
        source=f"ODDS cover.mat (UCI covtype classes 2 and 4) ({found.root})",
        substitute=True,
        note=(
            f"{'the paper’s split sizes; ' if exact else ''}our windowing (the paper does not state its): "
            f"{CHUNK}-row chunks of the ODDS row order dealt to train/val/test with the seed in Table 1's "
            f"proportions, length-{WINDOW} windows inside chunks (no row shared between splits), evenly "
            "spaced starts; a window is anomalous when it holds an anomalous row"
        ),
    )


SPEC = Spec(
    name="forest_cover",
    construction=f"forest-2-chunk{CHUNK}-window{WINDOW}",
    find=lambda roots: first(roots, lambda root: {"cover": root / FILE} if (root / FILE).is_file() else None, "odds"),
    build=build,
    looked_for=[FILE],
    how_to_get=how_to_get("scikit-learn's fetch_covtype"),
    download=lambda: Found(download_cover(), downloads_dir(), "odds"),
    memory_mapped=True,
)
