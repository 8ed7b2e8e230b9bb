"""What every archive module shares: where source files are searched, what was found, and the ``Spec`` by which
an archive module tells the registry how to find, build and download one data set.

Every place searched is laid out like the offline mirror (``ucr/<Name>/<Name>_TRAIN.tsv.gz``, ``uea/…``,
``odds/cover.mat``, ``uci/CharacterTrajectories/…``, ``wesad/S<k>/S<k>.pkl``); downloads are stored under
``<data dir>/downloads`` in that same layout, so a later load finds them like any mirror and never downloads twice.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import scipy.io

from tsinsight.data.cache import data_dir
from tsinsight.data.dataset import Dataset

MIRROR_ENV = "TSINSIGHT_DATA_MIRROR"


class DataNotFoundError(FileNotFoundError):
    """The files of a data set are in none of the places searched and could not (or may not) be downloaded."""


@dataclass(frozen=True)
class Found:
    """Source files of one version (``variant``) of a data set: ``files`` by role, the ``root`` they were found under."""

    files: dict[str, Path]
    root: Path
    variant: str


def downloads_dir() -> Path:
    """``<data dir>/downloads``: downloaded archives, in the mirror's layout."""
    return data_dir() / "downloads"


def search_roots(mirror: str | Path | None) -> list[Path]:
    """The directories searched, in order: ``mirror`` (else ``$TSINSIGHT_DATA_MIRROR``), then the downloads."""
    chosen = mirror if mirror is not None else os.environ.get(MIRROR_ENV)
    return ([Path(chosen).expanduser()] if chosen else []) + [downloads_dir()]


@dataclass(frozen=True)
class Spec:
    """How to get one data set: the roots to search, how to find its files there, build it, or download them.

    ``construction`` versions the build: a cache built by another version is rebuilt. ``memory_mapped``: the
    large sets, cached as uncompressed ``.npy`` files opened as memory maps.
    """

    name: str
    construction: str
    find: Callable[[list[Path]], Found | None]
    build: Callable[[Found, int, bool], Dataset]
    looked_for: list[str]
    how_to_get: str
    roots: Callable[[str | Path | None], list[Path]] = search_roots
    download: Callable[[], Found] | None = None
    memory_mapped: bool = False


def first(roots: list[Path], find: Callable[[Path], dict[str, Path] | None], variant: str) -> Found | None:
    """The files ``find`` finds under the first root that has them, as ``variant``."""
    for root in roots:
        files = find(root)
        if files:
            return Found(files, root, variant)
    return None


def how_to_get(fetched_by: str) -> str:
    """The remedy when a data set is missing: a mirror, or ``download=True`` (``fetched_by`` says from where)."""
    return (
        f"point mirror= or ${MIRROR_ENV} at a folder laid out like the offline mirror (see data/README.md), "
        f"or call load(..., download=True) with internet access ({fetched_by})"
    )


def read_matlab(path: str | Path) -> dict:
    """The variables of a MATLAB v5 file (the archives' ``.mat`` files), without scipy's ``__header__`` entries."""
    try:
        return {k: v for k, v in scipy.io.loadmat(path).items() if not k.startswith("__")}
    except (ValueError, TypeError, OSError, NotImplementedError) as error:
        raise ValueError(f"{path} is not a readable MATLAB v5 file: {error}") from error


def ensure(path: Path) -> Path:
    """``path`` as a directory that exists."""
    path.mkdir(parents=True, exist_ok=True)
    return path
