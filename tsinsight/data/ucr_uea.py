"""The UCR and UEA archives (timeseriesclassification.com): ``ford_a``, ``electric_devices``, ``ecg_thorax`` and
``uwave_gesture``, with the readers of the archives' text formats.

- **ford_a, electric_devices, ecg_thorax** (UCR 2018): validation = ceil(0.3·n_c) samples of each class c drawn
  from the archive's TRAIN with the seed, test = the archive's TEST (the paper's sizes exactly). The rows are
  z-normalised per series by the archive and are used as they are.
- **uwave_gesture**: the UCR univariate X, Y and Z files stacked as 3 channels, split like the other UCR sets
  (the paper's 624/272/3582). Without them, the UEA multivariate version (120/320 cases of the same
  recordings), each series z-normalised per channel as the UCR files are, split the same way: a substitute.
"""

from __future__ import annotations

import contextlib
import gzip
import shutil
import tempfile
import warnings
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from tsinsight.data.dataset import Dataset, from_arrays
from tsinsight.data.sources import DataNotFoundError, Found, Spec, downloads_dir, ensure, first, how_to_get

UCR_SUFFIXES = (".tsv.gz", ".tsv", ".txt.gz", ".txt")
UEA_SUFFIXES = (".ts.gz", ".ts")
FETCHED_BY = "tslearn fetches it from timeseriesclassification.com"
UWAVE_CHANNELS = ["accelerometer x", "accelerometer y", "accelerometer z"]


# ---------------------------------------------------------------------------------------------- readers
def _open_text(path: Path):
    return gzip.open(path, "rt") if path.suffix == ".gz" else open(path)


@contextlib.contextmanager
def _damaged_file_named(path: Path):
    """A truncated or corrupted file (gzip stream cut short, bad bytes) as a ``ValueError`` naming ``path``."""
    try:
        yield
    except (EOFError, OSError, UnicodeDecodeError, zlib.error) as error:
        raise ValueError(f"{path} is truncated or damaged ({error}); copy it again") from error


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
    if table.isna().to_numpy().any():
        row = int(table.isna().any(axis=1).to_numpy().argmax()) + 1
        raise ValueError(f"{path}: row {row} has missing values: the file is truncated or damaged; copy it again")
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
    with _open_text(path) as handle, _damaged_file_named(path):
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


# ---------------------------------------------------------------------------------------------- finding & fetching
def find_ucr(root: Path, archive_name: str) -> dict[str, Path] | None:
    """``{"train", "test"}`` files of UCR set ``archive_name`` under ``root/ucr/<archive_name>``, if both exist."""
    return _find_pair(root / "ucr" / archive_name, archive_name, UCR_SUFFIXES)


def find_uea(root: Path, archive_name: str) -> dict[str, Path] | None:
    """``{"train", "test"}`` ``.ts`` files of UEA set ``archive_name`` under ``root/uea/<archive_name>``."""
    return _find_pair(root / "uea" / archive_name, archive_name, UEA_SUFFIXES)


def _find_pair(folder: Path, stem: str, suffixes: tuple[str, ...]) -> dict[str, Path] | None:
    found = {}
    for role, split in (("train", "TRAIN"), ("test", "TEST")):
        hit = next((p for p in (folder / f"{stem}_{split}{suffix}" for suffix in suffixes) if p.is_file()), None)
        if hit is None:
            return None
        found[role] = hit
    return found


def ucr_patterns(archive_name: str) -> list[str]:
    """The relative paths looked for, for error messages."""
    return [f"ucr/{archive_name}/{archive_name}_{{TRAIN,TEST}}{{{','.join(UCR_SUFFIXES)}}}"]


def download_ucr(archive_name: str, tslearn_name: str | None = None) -> dict[str, Path]:
    """Fetch UCR set ``archive_name`` through tslearn and keep its text files under ``downloads/ucr/<name>/``."""
    from tslearn.datasets import UCR_UEA_datasets

    target = downloads_dir() / "ucr" / archive_name
    with tempfile.TemporaryDirectory(dir=ensure(downloads_dir())) as tmp:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            x_train, *_ = UCR_UEA_datasets(root_dir=tmp).load_dataset(archive_name)
        if x_train is None:
            reasons = "; ".join(str(w.message) for w in caught) or "no reason given"
            raise DataNotFoundError(f"downloading the UCR set {archive_name} through tslearn failed: {reasons}")
        folder = Path(tmp) / "UCR_UEA" / (tslearn_name or archive_name)
        target.mkdir(parents=True, exist_ok=True)
        for split in ("TRAIN", "TEST"):
            shutil.move(folder / f"{folder.name}_{split}.txt", target / f"{archive_name}_{split}.txt")
    return find_ucr(downloads_dir(), archive_name)


# ---------------------------------------------------------------------------------------------- the UCR sets
def ucr_spec(name: str, archive: str, channel: str, tslearn_name: str | None = None) -> Spec:
    """The spec of the univariate UCR set ``archive`` (``tslearn_name``: tslearn's spelling, when it differs)."""

    def build(found: Found, seed: int, progress: bool) -> Dataset:
        x_train, y_train = read_ucr_text(found.files["train"])
        x_test, y_test = read_ucr_text(found.files["test"])
        return from_arrays(
            x_train, y_train, x_test, y_test, name=name, seed=seed, channel_names=[channel],
            source=f"UCR archive {archive} ({found.root})",
        )  # fmt: skip

    return Spec(
        name=name,
        construction="ucr-2",
        find=lambda roots: first(roots, lambda root: find_ucr(root, archive), "ucr"),
        build=build,
        looked_for=ucr_patterns(archive),
        how_to_get=how_to_get(FETCHED_BY),
        download=lambda: Found(download_ucr(archive, tslearn_name), downloads_dir(), "ucr"),
    )


# ---------------------------------------------------------------------------------------------- UWave Gesture
def _uwave_find(roots: list[Path]) -> Found | None:
    def stacked(root: Path) -> dict | None:
        parts = {axis: find_ucr(root, f"UWaveGestureLibrary{axis}") for axis in "XYZ"}
        if not all(parts.values()):
            return None
        return {f"{axis}_{role}": path for axis, files in parts.items() for role, path in files.items()}

    return first(roots, stacked, "ucr") or first(roots, lambda root: find_uea(root, "UWaveGestureLibrary"), "uea")


def _uwave_download() -> Found:
    files = {}
    for axis in "XYZ":
        for role, path in download_ucr(f"UWaveGestureLibrary{axis}").items():
            files[f"{axis}_{role}"] = path
    return Found(files, downloads_dir(), "ucr")


def _uwave_build(found: Found, seed: int, progress: bool) -> Dataset:
    arrays = {}
    if found.variant == "ucr":
        for role in ("train", "test"):
            axes = [read_ucr_text(found.files[f"{axis}_{role}"]) for axis in "XYZ"]
            if not all(np.array_equal(axes[0][1], labels) for _, labels in axes):
                raise ValueError(
                    f"UWaveGestureLibrary X, Y and Z {role} files list different labels: not one recording"
                )
            arrays[role] = (np.stack([values for values, _ in axes], axis=1), axes[0][1])
        source, substitute, note = f"UCR archive UWaveGestureLibrary X/Y/Z stacked ({found.root})", False, ""
    else:
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
    return from_arrays(
        *arrays["train"], *arrays["test"], name="uwave_gesture", seed=seed, channel_names=UWAVE_CHANNELS,
        source=source, substitute=substitute, note=note,
    )  # fmt: skip


UWAVE = Spec(
    name="uwave_gesture",
    construction="uwave-1",
    find=_uwave_find,
    build=_uwave_build,
    looked_for=ucr_patterns("UWaveGestureLibrary{X,Y,Z}")
    + ["uea/UWaveGestureLibrary/UWaveGestureLibrary_{TRAIN,TEST}{.ts.gz,.ts}"],
    how_to_get=how_to_get(FETCHED_BY),
    download=_uwave_download,
)
