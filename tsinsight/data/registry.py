"""The paper's eight data sets: where each comes from, how it is built, split and preprocessed, and the public
entry points :func:`available`, :func:`load`, :func:`is_available` and :func:`summary`.

``load`` tries, in order: the processed cache (``<data dir>/cache``), a mirror laid out like the offline mirror
(``mirror=`` or ``$TSINSIGHT_DATA_MIRROR``) and earlier downloads (``<data dir>/downloads``), then the original
archive when ``download=True``. Per data set:

- **ford_a, electric_devices, ecg_thorax** (UCR 2018): validation = ceil(0.3·n_c) samples of each class c drawn
  from the archive's TRAIN with the seed, test = the archive's TEST (the paper's sizes exactly). The rows are
  z-normalised per series by the archive and are used as they are.
- **uwave_gesture**: the UCR univariate X, Y and Z files stacked as 3 channels, split like the other UCR sets
  (the paper's 624/272/3582). Without them, the UEA multivariate version (120/320 cases of the same
  recordings), each series z-normalised per channel as the UCR files are, split the same way: a substitute.
- **character_trajectories**: the 2858 UCI characters re-split 1383/606/869, stratified by letter with the seed;
  with only the mirror's labelled half (1429), the same proportions (a substitute). Each channel is
  z-scored with the training split's statistics over the real (unpadded) steps, then every character is
  zero-padded at the end to 206 steps.
- **forest_cover** (ODDS cover.mat, 286048 rows × 10): see :func:`_forest_cover_build`; each channel is z-scored
  with the training rows' statistics.
- **synthetic_anomaly**: generated (:mod:`tsinsight.data.synthetic`); already z-scored per sample.
- **wesad**: from the user's official per-subject pickles only; see :func:`_wesad_build`; each channel is
  z-scored with the training windows' statistics.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.model_selection import train_test_split
from tqdm import tqdm

from tsinsight.data import cache, sources
from tsinsight.data.dataset import Dataset, Split, channel_standardiser, from_arrays
from tsinsight.data.formats import (
    WESAD_CHEST_CHANNELS,
    WESAD_SAMPLING_HZ,
    read_character_trajectories_mat,
    read_cover_mat,
    read_ts,
    read_ucr_text,
    read_wesad_subject,
)
from tsinsight.data.sources import DataNotFoundError, Found
from tsinsight.data.synthetic import CHANNELS as SYNTHETIC_CHANNELS
from tsinsight.data.synthetic import GENERATOR_VERSION, generate_splits
from tsinsight.paper import TABLE1

SPLITS = ("train", "val", "test")
UCR_HOW_TO = (
    "point mirror= or $TSINSIGHT_DATA_MIRROR at a folder laid out like the offline mirror (see data/README.md), "
    "or call load(..., download=True) with internet access (tslearn fetches it from timeseriesclassification.com)"
)

# Forest Cover: rows are cut into chunks; each chunk goes wholly to one split and windows never cross chunks.
FOREST_WINDOW = 50
FOREST_CHUNK = 1000
FOREST_ROWS = 286048
# WESAD: one-second windows of the 700 Hz chest signals, one every four seconds of a labelled segment.
WESAD_WINDOW = WESAD_SAMPLING_HZ
WESAD_STRIDE = 4 * WESAD_SAMPLING_HZ
WESAD_CLASSES = {1: "neutral", 3: "amusement", 2: "stress"}  # WESAD's label codes → the paper's class order


@dataclass(frozen=True)
class _Spec:
    name: str
    construction: str  # version of the construction; a cache built by another version is rebuilt
    find: Callable[[str | Path | None], Found | None]
    looked_for: list[str]
    how_to_get: str
    build: Callable[[Found, int, bool], tuple[dict, dict]]
    download: Callable[[], Found] | None = None
    memory_mapped: bool = False  # the large sets: uncompressed .npy files opened as memory maps


# ---------------------------------------------------------------------------------------------- shared steps
def _arrays_of(dataset: Dataset) -> dict[str, np.ndarray]:
    arrays = {}
    for split_name in SPLITS:
        split = getattr(dataset, split_name)
        arrays[f"{split_name}_x"], arrays[f"{split_name}_y"] = split.x, split.y
        if split.evidence is not None:
            arrays[f"{split_name}_evidence"] = split.evidence
    return arrays


def _meta_of(dataset: Dataset) -> dict:
    keys = ("n_classes", "n_channels", "length", "channel_names", "class_names", "source", "substitute", "note")
    return {"dataset": {key: getattr(dataset, key) for key in keys}}


def _assemble(name: str, arrays: dict, meta: dict) -> Dataset:
    """The ``Dataset`` from the arrays of a build or of the cache."""
    splits = {s: Split(arrays[f"{s}_x"], arrays[f"{s}_y"], arrays.get(f"{s}_evidence")) for s in SPLITS}
    return Dataset(name=name, **splits, **meta["dataset"])


def _first(roots: list[Path], find: Callable[[Path], dict | None], variant: str) -> Found | None:
    for root in roots:
        files = find(root)
        if files:
            return Found(files, root, variant)
    return None


def _download_found(fetch: Callable[[], dict], variant: str) -> Callable[[], Found]:
    return lambda: Found(fetch(), sources.downloads_dir(), variant)


# ---------------------------------------------------------------------------------------------- UCR
def _ucr_spec(name: str, archive: str, channel: str, tslearn_name: str | None = None) -> _Spec:
    def build(found: Found, seed: int, progress: bool) -> tuple[dict, dict]:
        x_train, y_train = read_ucr_text(found.files["train"])
        x_test, y_test = read_ucr_text(found.files["test"])
        dataset = from_arrays(
            x_train, y_train, x_test, y_test, name=name, seed=seed, channel_names=[channel],
            source=f"UCR archive {archive} ({found.root})",
        )  # fmt: skip
        return _arrays_of(dataset), _meta_of(dataset)

    return _Spec(
        name=name,
        construction="ucr-2",
        find=lambda mirror: _first(sources.search_roots(mirror), lambda root: sources.find_ucr(root, archive), "ucr"),
        looked_for=sources.ucr_patterns(archive),
        how_to_get=UCR_HOW_TO,
        build=build,
        download=_download_found(lambda: sources.download_ucr(archive, tslearn_name), "ucr"),
    )


# ---------------------------------------------------------------------------------------------- UWave Gesture
def _uwave_find(mirror: str | Path | None) -> Found | None:
    roots = sources.search_roots(mirror)

    def stacked(root: Path) -> dict | None:
        parts = {axis: sources.find_ucr(root, f"UWaveGestureLibrary{axis}") for axis in "XYZ"}
        if not all(parts.values()):
            return None
        return {f"{axis}_{role}": path for axis, files in parts.items() for role, path in files.items()}

    return _first(roots, stacked, "ucr") or _first(
        roots, lambda root: sources.find_uea(root, "UWaveGestureLibrary"), "uea"
    )


def _uwave_download() -> Found:
    files = {}
    for axis in "XYZ":
        for role, path in sources.download_ucr(f"UWaveGestureLibrary{axis}").items():
            files[f"{axis}_{role}"] = path
    return Found(files, sources.downloads_dir(), "ucr")


def _uwave_build(found: Found, seed: int, progress: bool) -> tuple[dict, dict]:
    channels = ["accelerometer x", "accelerometer y", "accelerometer z"]
    if found.variant == "ucr":
        arrays = {}
        for role in ("train", "test"):
            axes = [read_ucr_text(found.files[f"{axis}_{role}"]) for axis in "XYZ"]
            if not all(np.array_equal(axes[0][1], labels) for _, labels in axes):
                raise ValueError(
                    f"UWaveGestureLibrary X, Y and Z {role} files list different labels: not one recording"
                )
            arrays[role] = (np.stack([values for values, _ in axes], axis=1), axes[0][1])
        source, substitute, note = f"UCR archive UWaveGestureLibrary X/Y/Z stacked ({found.root})", False, ""
    else:
        arrays = {}
        for role in ("train", "test"):
            x, y = read_ts(found.files[role])
            std = x.std(axis=2, keepdims=True)
            arrays[role] = ((x - x.mean(axis=2, keepdims=True)) / np.where(std > 0, std, 1.0), y)
        source, substitute = f"UEA archive UWaveGestureLibrary ({found.root})", True
        note = (
            "UEA multivariate UWaveGestureLibrary (120 train / 320 test cases) instead of the paper's UCR X/Y/Z files "
            "(896 / 3582): same recordings and gestures, a smaller official split; each series z-normalised per "
            "channel as in the UCR files; validation = ceil(0.3·n_c) per class from TRAIN"
        )
    dataset = from_arrays(
        *arrays["train"], *arrays["test"], name="uwave_gesture", seed=seed, channel_names=channels,
        source=source, substitute=substitute, note=note,
    )  # fmt: skip
    return _arrays_of(dataset), _meta_of(dataset)


# ---------------------------------------------------------------------------------------------- Character Trajectories
CT_FOLDER = "uci/CharacterTrajectories"
CT_LENGTH = 206
CT_PAPER_SIZES = (1383, 606, 869)


def _ct_find(mirror: str | Path | None) -> Found | None:
    roots = sources.search_roots(mirror)

    def file(name: str) -> Callable[[Path], dict | None]:
        return lambda root: {"all": root / CT_FOLDER / name} if (root / CT_FOLDER / name).is_file() else None

    return _first(roots, file("mixoutALL_shifted.mat"), "uci") or _first(roots, file("labelled_half.mat"), "half")


def _ct_build(found: Found, seed: int, progress: bool) -> tuple[dict, dict]:
    series, labels, letters = read_character_trajectories_mat(found.files["all"])
    if max(s.shape[1] for s in series) > CT_LENGTH:
        raise ValueError(f"{found.files['all']}: a character is longer than the paper's padded length {CT_LENGTH}")
    n = len(series)
    total = sum(CT_PAPER_SIZES)
    n_val, n_test = (
        (CT_PAPER_SIZES[1], CT_PAPER_SIZES[2])
        if n == total
        else (round(n * CT_PAPER_SIZES[1] / total), round(n * CT_PAPER_SIZES[2] / total))
    )
    y = labels - 1
    rest, test = train_test_split(np.arange(n), test_size=n_test, stratify=y, random_state=seed)
    train, val = train_test_split(rest, test_size=n_val, stratify=y[rest], random_state=seed)
    x = np.zeros((n, 3, CT_LENGTH))
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
    dataset = Dataset(
        name="character_trajectories",
        train=Split(x[train], y[train]),
        val=Split(x[val], y[val]),
        test=Split(x[test], y[test]),
        n_classes=len(letters),
        n_channels=3,
        length=CT_LENGTH,
        channel_names=["x", "y", "pen force"],
        class_names=letters,
        source=f"UCI Character Trajectories {found.files['all'].name} ({found.root})",
        substitute=substitute,
        note=note,
    )
    return _arrays_of(dataset), _meta_of(dataset)


# ---------------------------------------------------------------------------------------------- Forest Cover
def _forest_cover_build(found: Found, seed: int, progress: bool) -> tuple[dict, dict]:
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
    chunks = np.array_split(np.arange(len(rows)), max(1, len(rows) // FOREST_CHUNK))
    chunks = [c for c in chunks if len(c) >= FOREST_WINDOW]
    paper = np.array([TABLE1["forest_cover"][s] for s in SPLITS], dtype=float)
    share = paper / paper.sum()
    owner = np.empty(len(chunks), dtype=int)
    has_anomaly = np.array([row_labels[c].any() for c in chunks])
    for stratum in (True, False):
        members = rng.permutation(np.flatnonzero(has_anomaly == stratum))
        counts = np.floor(share * len(members)).astype(int)
        counts[np.argsort(-(share * len(members) - counts), kind="stable")[: len(members) - counts.sum()]] += 1
        owner[members] = np.repeat(np.arange(3), counts)
    windows_hold_anomaly = sliding_window_view(row_labels, FOREST_WINDOW).any(axis=1)
    train_rows = np.concatenate([c for c, o in zip(chunks, owner, strict=True) if o == 0])
    mean, std = rows[train_rows].mean(axis=0), rows[train_rows].std(axis=0)
    # channel-major rows make every window a contiguous run of 50 values: the fastest gather
    channels = np.ascontiguousarray(((rows - mean) / np.where(std > 0, std, 1.0)).T.astype(np.float32))
    arrays = {}
    for index, split_name in enumerate(SPLITS):
        starts = np.concatenate(
            [c[: len(c) - FOREST_WINDOW + 1] for c, o in zip(chunks, owner, strict=True) if o == index]
            or [np.array([], int)]
        )
        wanted = min(len(starts), round(paper[index] * len(rows) / FOREST_ROWS))
        starts = starts[np.round(np.linspace(0, len(starts) - 1, wanted)).astype(int)] if wanted else starts[:0]
        windows = np.take(sliding_window_view(channels, FOREST_WINDOW, axis=1), starts, axis=1)
        arrays[f"{split_name}_x"] = np.ascontiguousarray(windows.transpose(1, 0, 2))
        arrays[f"{split_name}_y"] = windows_hold_anomaly[starts].astype(np.int64)
    exact = len(rows) == FOREST_ROWS
    meta = {
        "dataset": dict(
            n_classes=2,
            n_channels=rows.shape[1],
            length=FOREST_WINDOW,
            channel_names=[f"attribute {k + 1}" for k in range(rows.shape[1])]
            if rows.shape[1] != 10
            else COVER_ATTRIBUTES,
            class_names=["normal", "anomalous"],
            source=f"ODDS cover.mat (UCI covtype classes 2 and 4) ({found.root})",
            substitute=True,
            note=(
                f"{'the paper’s split sizes; ' if exact else ''}our windowing (the paper does not state its): "
                f"{FOREST_CHUNK}-row chunks of the ODDS row order dealt to train/val/test with the seed in Table 1's "
                f"proportions, length-{FOREST_WINDOW} windows inside chunks (no row shared between splits), evenly "
                "spaced starts; a window is anomalous when it holds an anomalous row"
            ),
        )
    }
    return arrays, meta


COVER_ATTRIBUTES = [
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


# ---------------------------------------------------------------------------------------------- WESAD
def _wesad_find(mirror: str | Path | None) -> Found | None:
    return _first(sources.wesad_roots(mirror), sources.find_wesad, "wesad")


def _wesad_build(found: Found, seed: int, progress: bool) -> tuple[dict, dict]:
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
        raise ValueError(f"WESAD needs at least 3 subjects for a subject-wise train/val/test split; found {subjects}")
    windows, labels = {}, {}
    for subject in tqdm(subjects, desc="WESAD subjects", disable=not progress):
        signals, codes = read_wesad_subject(found.files[subject])
        xs, ys = [], []
        change = np.flatnonzero(np.diff(codes)) + 1
        for start, stop in zip(np.r_[0, change], np.r_[change, len(codes)], strict=True):
            if codes[start] in WESAD_CLASSES and stop - start >= WESAD_WINDOW:
                starts = np.arange(start, stop - WESAD_WINDOW + 1, WESAD_STRIDE)
                xs.append(sliding_window_view(signals, WESAD_WINDOW, axis=0)[starts].astype(np.float32))
                ys.append(np.full(len(starts), list(WESAD_CLASSES).index(codes[start])))
        windows[subject] = (
            np.concatenate(xs) if xs else np.zeros((0, len(WESAD_CHEST_CHANNELS), WESAD_WINDOW), np.float32)
        )
        labels[subject] = np.concatenate(ys) if ys else np.zeros(0, np.int64)
    order = np.random.default_rng(seed).permutation(subjects)
    n_test = max(1, round(0.2 * len(subjects)))
    n_val = max(1, round(0.1 * len(subjects)))
    groups = {"test": order[:n_test], "val": order[n_test : n_test + n_val], "train": order[n_test + n_val :]}
    groups = {k: sorted(v, key=subjects.index) for k, v in groups.items()}
    x = {k: np.concatenate([windows[s] for s in v]) for k, v in groups.items()}
    y = {k: np.concatenate([labels[s] for s in v]) for k, v in groups.items()}
    mean, std = channel_standardiser(x["train"])
    dataset = Dataset(
        name="wesad",
        **{k: Split((x[k] - mean[None, :, None]) / std[None, :, None], y[k]) for k in SPLITS},
        n_classes=3,
        n_channels=len(WESAD_CHEST_CHANNELS),
        length=WESAD_WINDOW,
        channel_names=list(WESAD_CHEST_CHANNELS),
        class_names=list(WESAD_CLASSES.values()),
        source=f"WESAD per-subject pickles ({found.root})",
        substitute=True,
        note=(
            "our windowing (the paper does not state its): chest signals, 700-step windows every 2800 steps inside "
            "segments of one label; subject-wise split " + ", ".join(f"{k}: {', '.join(v)}" for k, v in groups.items())
        ),
    )
    return _arrays_of(dataset), _meta_of(dataset)


# ---------------------------------------------------------------------------------------------- synthetic
def _synthetic_build(found: Found, seed: int, progress: bool) -> tuple[dict, dict]:
    info = TABLE1["synthetic_anomaly"]
    arrays = generate_splits(seed, info["train"], info["val"], info["test"])
    meta = {
        "dataset": dict(
            n_classes=2,
            n_channels=len(SYNTHETIC_CHANNELS),
            length=arrays["train_x"].shape[2],
            channel_names=list(SYNTHETIC_CHANNELS),
            class_names=["normal", "anomalous"],
            source=f"generated by tsinsight.data.synthetic ({GENERATOR_VERSION}, seed {seed})",
            substitute=False,
            note="",
        )
    }
    return arrays, meta


# ---------------------------------------------------------------------------------------------- the registry
_SPECS: dict[str, _Spec] = {
    spec.name: spec
    for spec in (
        _Spec(
            name="synthetic_anomaly",
            construction=f"synthetic-{GENERATOR_VERSION}",
            find=lambda mirror: Found({}, Path("."), "generated"),
            looked_for=[],
            how_to_get="it is generated",
            build=_synthetic_build,
            memory_mapped=True,
        ),
        _ucr_spec("electric_devices", "ElectricDevices", "electricity consumption"),
        _Spec(
            name="character_trajectories",
            construction="ct-1",
            find=_ct_find,
            looked_for=[f"{CT_FOLDER}/mixoutALL_shifted.mat", f"{CT_FOLDER}/labelled_half.mat"],
            how_to_get=(
                "point mirror= or $TSINSIGHT_DATA_MIRROR at a folder laid out like the offline mirror, or call "
                f"load(..., download=True) with internet access (fetches {sources.CHARACTER_TRAJECTORIES_URL})"
            ),
            build=_ct_build,
            download=_download_found(lambda: sources.download_character_trajectories(), "uci"),
        ),
        _ucr_spec("ford_a", "FordA", "engine noise"),
        _Spec(
            name="forest_cover",
            construction=f"forest-2-chunk{FOREST_CHUNK}-window{FOREST_WINDOW}",
            find=lambda mirror: _first(
                sources.search_roots(mirror),
                lambda root: {"cover": root / "odds/cover.mat"} if (root / "odds/cover.mat").is_file() else None,
                "odds",
            ),
            looked_for=["odds/cover.mat"],
            how_to_get=(
                "point mirror= or $TSINSIGHT_DATA_MIRROR at a folder laid out like the offline mirror, or call "
                "load(..., download=True) with internet access (scikit-learn's fetch_covtype)"
            ),
            build=_forest_cover_build,
            download=_download_found(lambda: sources.download_cover(), "odds"),
            memory_mapped=True,
        ),
        _Spec(
            name="wesad",
            construction=f"wesad-1-window{WESAD_WINDOW}-stride{WESAD_STRIDE}",
            find=_wesad_find,
            looked_for=["S<k>/S<k>.pkl (the official per-subject pickles, e.g. S2/S2.pkl)"],
            how_to_get=(
                f"download WESAD from {sources.WESAD_URL} (free, about 2 GB), unpack it and set "
                f"${sources.WESAD_ENV} to the folder holding S2/S2.pkl, S3/S3.pkl, …"
            ),
            build=_wesad_build,
            memory_mapped=True,
        ),
        _ucr_spec("ecg_thorax", "NonInvasiveFetalECGThorax1", "thorax ECG", tslearn_name="NonInvasiveFatalECGThorax1"),
        _Spec(
            name="uwave_gesture",
            construction="uwave-1",
            find=_uwave_find,
            looked_for=sources.ucr_patterns("UWaveGestureLibrary{X,Y,Z}")
            + ["uea/UWaveGestureLibrary/UWaveGestureLibrary_{TRAIN,TEST}{.ts.gz,.ts}"],
            how_to_get=UCR_HOW_TO,
            build=_uwave_build,
            download=_uwave_download,
        ),
    )
}


def available() -> list[str]:
    """The names of the paper's eight data sets, in Table 1's order."""
    return list(_SPECS)


def _spec(name: str) -> _Spec:
    if name not in _SPECS:
        raise ValueError(f"unknown data set {name!r}: choose one of {available()}")
    return _SPECS[name]


def _search_description(spec: _Spec, mirror: str | Path | None) -> str:
    roots = sources.wesad_roots(mirror) if spec.name == "wesad" else sources.search_roots(mirror)
    return f"looked for {', '.join(spec.looked_for)} under {', '.join(str(r) for r in roots)}"


def load(
    name: str, *, seed: int = 0, mirror: str | Path | None = None, download: bool = True, progress: bool = True
) -> Dataset:
    """The data set ``name`` with the paper's train / validation / test splits (drawn with ``seed``).

    Uses the processed cache when it is valid, else builds it from a mirror (``mirror`` or
    ``$TSINSIGHT_DATA_MIRROR``), from earlier downloads or, with ``download=True``, from the original archive
    (WESAD only from ``$TSINSIGHT_WESAD_DIR``). Raises :class:`DataNotFoundError` naming the files, the
    places searched and how to get them when nothing is found.
    """
    spec = _spec(name)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
    seed = int(seed)
    found = spec.find(mirror)
    hit = cache.read(
        name, seed, spec.construction, None if found is None else found.files, memory_mapped=spec.memory_mapped
    )
    if hit is not None:
        return _assemble(name, *hit)
    if found is None:
        where = _search_description(spec, mirror)
        if not download or spec.download is None:
            reason = "download=False" if spec.download else "it cannot be downloaded automatically"
            raise DataNotFoundError(
                f"data set {name!r} was not found ({reason}): {where}. To get it: {spec.how_to_get}"
            )
        try:
            found = spec.download()
        except Exception as error:  # any failure to fetch (no network, archive moved) means: not found
            raise DataNotFoundError(
                f"data set {name!r} was not found and downloading it failed ({error}): {where}. To get it: {spec.how_to_get}"
            ) from error
    arrays, meta = spec.build(found, seed, progress)
    cache.write(name, seed, spec.construction, found.files, arrays, meta, memory_mapped=spec.memory_mapped)
    return _assemble(name, arrays, meta)


def is_available(name: str, mirror: str | Path | None = None) -> bool:
    """Whether ``load(name, download=False)`` can succeed: a processed cache or the source files are present."""
    spec = _spec(name)
    # Every cache entry has a .json sidecar, whether its arrays are an .npz or a folder of memory-mapped .npy files.
    cached = any((cache.data_dir() / "cache").glob(f"{name}-seed*.json"))
    return cached or spec.find(mirror) is not None


def summary(mirror: str | Path | None = None, *, seed: int = 0) -> pd.DataFrame:
    """Every data set's split sizes, length, channels, classes and source, beside the paper's Table 1.

    A data set that cannot be loaded without downloading (e.g. WESAD without a user folder) gets a row saying
    "not available" and how to get it.
    """
    rows = []
    for name in available():
        paper = TABLE1[name]
        row = {"dataset": name, "label": paper["label"]}
        if is_available(name, mirror):
            ours = load(name, seed=seed, mirror=mirror, download=False, progress=False).describe()
        else:
            ours = dict(source="not available", substitute=None, note=f"not available: {_SPECS[name].how_to_get}")
        for column in ("train", "val", "test", "length", "channels", "classes"):
            row[f"paper_{column}"] = paper[column]
            row[column] = ours.get(column)
        row.update(source=ours["source"], substitute=ours["substitute"], note=ours["note"])
        rows.append(row)
    table = pd.DataFrame(rows).set_index("dataset")
    counts = [
        c
        for c in table.columns
        if c.removeprefix("paper_") in ("train", "val", "test", "length", "channels", "classes")
    ]
    return table.astype(dict.fromkeys(counts, "Int64"))
