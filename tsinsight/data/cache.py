"""The processed-data cache: one ``Dataset`` per data set and seed, flattened to arrays (``train_x``, ``train_y``,
``train_evidence`` …) in an ``.npz``, with a JSON sidecar of its metadata. Arrays are read with
``allow_pickle=False`` and the sidecar is JSON: reading the cache never executes code.

The sidecar records the cache format version, the version of the construction that produced the arrays and
the SHA-256 of every source file. A cache entry is used only when all of these still agree (a source file
whose size and modification time are unchanged keeps its recorded checksum, the way ``git`` and ``make``
avoid rehashing); a stale, truncated or otherwise unreadable entry is rebuilt, never trusted. When no
source can be found (offline, mirror gone) a readable entry of the right versions is used as it is.
Every file is written atomically.

Two layouts: small data sets are one compressed ``.npz``; the large ones (tens to hundreds of MB: synthetic,
Forest Cover's windows, WESAD) are a folder of uncompressed ``.npy`` files opened as copy-on-write memory maps,
so a cached load costs milliseconds and a subsample reads only the samples it keeps. Their sidecar records
each file's size and modification time: a truncated or rewritten file is detected without rehashing them.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
import zipfile
from pathlib import Path

import numpy as np

from tsinsight.artifacts import atomic_write_bytes
from tsinsight.data.dataset import SPLITS, Dataset, Split

# Bump when the layout of the cache files changes.
FORMAT_VERSION = 1
# The Dataset fields the sidecar keeps (besides the name, which names the entry).
_FIELDS = ("n_classes", "n_channels", "length", "channel_names", "class_names", "source", "substitute", "note")


def data_dir() -> Path:
    """``$TSINSIGHT_DATA_DIR`` or ``data/`` at the project root: holds ``cache/`` and ``downloads/``."""
    env = os.environ.get("TSINSIGHT_DATA_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "data"


def cache_paths(name: str, seed: int, *, memory_mapped: bool = False) -> tuple[Path, Path]:
    """The arrays (an ``.npz`` or, ``memory_mapped``, a folder of ``.npy``) and the ``.json`` sidecar of ``name``/``seed``."""
    stem = data_dir() / "cache" / f"{name}-seed{seed}"
    return (stem if memory_mapped else stem.with_suffix(".npz")), stem.with_suffix(".json")


def _stat(path: Path) -> dict:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def file_checksum(path: Path, known: dict | None = None) -> dict:
    """``{"path", "size", "mtime_ns", "sha256"}`` of ``path``; ``known``'s checksum is reused if path, size and
    modification time are the same."""
    stat = path.stat()
    entry = {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    if known and all(known.get(k) == entry[k] for k in ("path", "size", "mtime_ns")) and "sha256" in known:
        return {**entry, "sha256": known["sha256"]}
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {**entry, "sha256": digest.hexdigest()}


def source_checksums(sources: dict[str, Path], known: dict | None = None) -> dict[str, dict]:
    """:func:`file_checksum` of each source file, by role (``"train"``, ``"test"``, a subject id …)."""
    known = known or {}
    return {role: file_checksum(Path(path), known.get(role)) for role, path in sorted(sources.items())}


def has(name: str, seed: int, construction: str, *, memory_mapped: bool = False) -> bool:
    """Whether an entry of ``name``/``seed`` built by ``construction`` is stored (:func:`read` still checks it)."""
    path, json_path = cache_paths(name, seed, memory_mapped=memory_mapped)
    try:
        meta = json.loads(json_path.read_text())
    except (OSError, ValueError):
        return False
    return path.exists() and meta.get("format_version") == FORMAT_VERSION and meta.get("construction") == construction


def read(
    name: str, seed: int, construction: str, sources: dict[str, Path] | None, *, memory_mapped: bool = False
) -> Dataset | None:
    """The cached ``Dataset`` of ``name``/``seed``, or None when missing, stale or unreadable.

    ``sources`` are the source files found now (None: none found, so their checksums cannot be compared).
    """
    npz_path, json_path = cache_paths(name, seed, memory_mapped=memory_mapped)
    if not npz_path.exists() or not json_path.exists():
        return None
    try:
        meta = json.loads(json_path.read_text())
        if meta.get("format_version") != FORMAT_VERSION or meta.get("construction") != construction:
            return None
        if sources is not None:
            current = source_checksums(sources, meta.get("sources"))
            recorded = {role: entry.get("sha256") for role, entry in meta.get("sources", {}).items()}
            if {role: entry["sha256"] for role, entry in current.items()} != recorded:
                return None
            if current != meta["sources"]:  # same content, new path or time: remember it, skip rehashing next time
                meta["sources"] = current
                _write_json(json_path, meta)
        if memory_mapped:
            files = {key: npz_path / f"{key}.npy" for key in meta["arrays"]}
            if any(_stat(path) != meta["arrays"][key] for key, path in files.items()):
                return None
            arrays = {key: np.load(path, mmap_mode="c", allow_pickle=False) for key, path in files.items()}
        else:
            with np.load(npz_path, allow_pickle=False) as archive:
                arrays = {key: archive[key] for key in archive.files}  # reads every member: zip CRCs are checked
        splits = {s: Split(arrays[f"{s}_x"], arrays[f"{s}_y"], arrays.get(f"{s}_evidence")) for s in SPLITS}
        return Dataset(name=name, **splits, **meta["dataset"])
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile, json.JSONDecodeError) as error:
        warnings.warn(f"the cached {name} ({npz_path}) is unreadable ({error!r}); rebuilding it", stacklevel=3)
        return None


def write(
    dataset: Dataset, seed: int, construction: str, sources: dict[str, Path], *, memory_mapped: bool = False
) -> None:
    """Store ``dataset`` under its name and ``seed`` atomically (the arrays first, the sidecar last)."""
    path, json_path = cache_paths(dataset.name, seed, memory_mapped=memory_mapped)
    json_path.unlink(missing_ok=True)  # no sidecar may vouch for arrays half replaced
    arrays = {}
    for split_name in SPLITS:
        split = getattr(dataset, split_name)
        arrays[f"{split_name}_x"], arrays[f"{split_name}_y"] = split.x, split.y
        if split.evidence is not None:
            arrays[f"{split_name}_evidence"] = split.evidence
    full = {
        "dataset": {key: getattr(dataset, key) for key in _FIELDS},
        "format_version": FORMAT_VERSION,
        "construction": construction,
        "sources": source_checksums(sources),
    }
    if memory_mapped:
        full["arrays"] = {}
        for key, array in arrays.items():
            atomic_write_bytes(path / f"{key}.npy", lambda handle, array=array: np.save(handle, array))
            full["arrays"][key] = _stat(path / f"{key}.npy")
    else:
        atomic_write_bytes(path, lambda handle: np.savez_compressed(handle, **arrays))
    _write_json(json_path, full)


def _write_json(path: Path, meta: dict) -> None:
    text = json.dumps(meta, indent=2, sort_keys=True)
    atomic_write_bytes(path, lambda handle: handle.write(text.encode()))
