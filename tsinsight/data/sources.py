"""Where the raw files of a data set are found: a mirror directory, earlier downloads, the user's WESAD folder,
or the original archives (downloaded on request).

Every place is laid out like the offline mirror (``ucr/<Name>/<Name>_TRAIN.tsv.gz``, ``uea/…``, ``odds/cover.mat``,
``uci/CharacterTrajectories/…``); downloads are stored under ``<data dir>/downloads`` in that same layout,
so a later load finds them like any mirror and never downloads twice.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.io

from tsinsight.artifacts import atomic_write_bytes
from tsinsight.data.cache import data_dir

MIRROR_ENV = "TSINSIGHT_DATA_MIRROR"
WESAD_ENV = "TSINSIGHT_WESAD_DIR"
CHARACTER_TRAJECTORIES_URL = (
    "https://archive.ics.uci.edu/ml/machine-learning-databases/character-trajectories/mixoutALL_shifted.mat"
)
WESAD_URL = "https://ubicomp.eti.uni-siegen.de/home/datasets/icmi18/"
UCR_SUFFIXES = (".tsv.gz", ".tsv", ".txt.gz", ".txt")
UEA_SUFFIXES = (".ts.gz", ".ts")


class DataNotFoundError(FileNotFoundError):
    """The files of a data set are in none of the places searched and could not (or may not) be downloaded."""


@dataclass(frozen=True)
class Found:
    """Source files of one version of a data set: ``files`` by role, the ``root`` they were found under."""

    files: dict[str, Path]
    root: Path
    variant: str


def downloads_dir() -> Path:
    """``<data dir>/downloads``: downloaded archives, in the mirror's layout."""
    return data_dir() / "downloads"


def search_roots(mirror: str | Path | None) -> list[Path]:
    """The directories searched, in order: ``mirror`` (else ``$TSINSIGHT_DATA_MIRROR``), then the downloads."""
    roots = []
    chosen = mirror if mirror is not None else os.environ.get(MIRROR_ENV)
    if chosen:
        roots.append(Path(chosen).expanduser())
    roots.append(downloads_dir())
    return roots


def find_ucr(root: Path, archive_name: str) -> dict[str, Path] | None:
    """``{"train", "test"}`` files of UCR set ``archive_name`` under ``root/ucr/<archive_name>``, if both exist."""
    return _find_pair(root / "ucr" / archive_name, archive_name, UCR_SUFFIXES)


def find_uea(root: Path, archive_name: str) -> dict[str, Path] | None:
    """``{"train", "test"}`` ``.ts`` files of UEA set ``archive_name`` under ``root/uea/<archive_name>``."""
    return _find_pair(root / "uea" / archive_name, archive_name, UEA_SUFFIXES)


def _find_pair(folder: Path, stem: str, suffixes: tuple[str, ...]) -> dict[str, Path] | None:
    found = {}
    for role, split in (("train", "TRAIN"), ("test", "TEST")):
        candidates = [folder / f"{stem}_{split}{suffix}" for suffix in suffixes]
        hit = next((p for p in candidates if p.is_file()), None)
        if hit is None:
            return None
        found[role] = hit
    return found


def ucr_patterns(archive_name: str) -> list[str]:
    """The relative paths looked for, for error messages."""
    return [f"ucr/{archive_name}/{archive_name}_{{TRAIN,TEST}}{{{','.join(UCR_SUFFIXES)}}}"]


def wesad_roots(mirror: str | Path | None) -> list[Path]:
    """Folders that may hold the WESAD subject folders: ``$TSINSIGHT_WESAD_DIR``, then ``wesad/`` of every root."""
    roots = []
    if os.environ.get(WESAD_ENV):
        roots.append(Path(os.environ[WESAD_ENV]).expanduser())
    roots.extend(root / "wesad" for root in search_roots(mirror))
    return roots


def find_wesad(folder: Path) -> dict[str, Path] | None:
    """The official per-subject pickles ``S<k>/S<k>.pkl`` under ``folder`` by subject id, if any."""
    if not folder.is_dir():
        return None
    subjects = {p.parent.name: p for p in folder.glob("S*/S*.pkl") if p.stem == p.parent.name}
    return dict(sorted(subjects.items(), key=lambda item: int(item[0][1:]) if item[0][1:].isdigit() else 0)) or None


def download_ucr(archive_name: str, tslearn_name: str | None = None) -> dict[str, Path]:
    """Fetch UCR set ``archive_name`` through tslearn and keep its text files under ``downloads/ucr/<name>/``."""
    from tslearn.datasets import UCR_UEA_datasets

    target = downloads_dir() / "ucr" / archive_name
    with tempfile.TemporaryDirectory(dir=_ensure(downloads_dir())) as tmp:
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


def download_cover() -> dict[str, Path]:
    """Build ODDS ``cover.mat`` from scikit-learn's ``fetch_covtype``: classes 2 (normal) and 4 (anomaly), the
    10 quantitative attributes, the original row order; stored under ``downloads/odds/cover.mat``."""
    from sklearn.datasets import fetch_covtype

    covtype = fetch_covtype(data_home=_ensure(downloads_dir() / "sklearn"), download_if_missing=True)
    keep = np.isin(covtype.target, (2, 4))
    x = covtype.data[keep, :10].astype(np.int16)
    y = (covtype.target[keep] == 4).astype(np.uint8)[:, None]
    path = downloads_dir() / "odds" / "cover.mat"
    _ensure(path.parent)
    scipy.io.savemat(path, {"X": x, "y": y})
    return {"cover": path}


def download_character_trajectories() -> dict[str, Path]:
    """Fetch the full UCI file ``mixoutALL_shifted.mat`` into ``downloads/uci/CharacterTrajectories/``."""
    path = downloads_dir() / "uci" / "CharacterTrajectories" / "mixoutALL_shifted.mat"
    _ensure(path.parent)
    try:
        with urllib.request.urlopen(CHARACTER_TRAJECTORIES_URL, timeout=60) as response:
            payload = response.read()
    except OSError as error:
        raise DataNotFoundError(f"downloading {CHARACTER_TRAJECTORIES_URL} failed: {error}") from error
    atomic_write_bytes(path, lambda handle: handle.write(payload))
    return {"all": path}


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
