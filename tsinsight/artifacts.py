"""A content-keyed, atomic cache of everything worth computing once: models, attributions, result tables.

An artifact is keyed by a dict of everything it depends on (data set and source, model kind,
hyperparameters, seed, profile, the code version of what computed it). The key is hashed into a file
name; a JSON sidecar keeps the readable key next to it. Writes go to a temporary file that is renamed
into place, so an interruption never leaves a half-written artifact; an artifact that cannot be read is
recomputed, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch

T = TypeVar("T")

# Bump when a change to the code makes earlier artifacts wrong; it is part of every key.
CODE_VERSION = "1"


def artifacts_dir() -> Path:
    """``$TSINSIGHT_ARTIFACTS`` or ``artifacts/`` at the project root."""
    env = os.environ.get("TSINSIGHT_ARTIFACTS")
    path = Path(env) if env else Path(__file__).resolve().parents[1] / "artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def artifact_key(parts: dict[str, Any]) -> str:
    """A stable hash of ``parts`` (which must be JSON-serialisable) and the code version."""
    payload = json.dumps({"code_version": CODE_VERSION, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def fingerprint(*arrays) -> str:
    """A short content hash of numpy arrays (shape and bytes): part of a key when an artifact depends on data."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()[:16]


def atomic_write_bytes(path: Path, write: Callable[[Any], None]) -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cached(kind: str, parts: dict[str, Any], compute: Callable[[], T], *, root: Path | None = None) -> T:
    """Return the artifact of ``kind`` keyed by ``parts``, computing and storing it when missing or broken.

    ``compute`` must return a picklable object (tensors, state dicts, numpy arrays, DataFrames, dicts).
    """
    folder = (root or artifacts_dir()) / kind
    path = folder / f"{artifact_key(parts)}.pt"
    if path.exists():
        try:
            return torch.load(path, map_location="cpu", weights_only=False)
        except Exception as error:  # a truncated or foreign file: recompute rather than trust it
            warnings.warn(f"artifact {path} is unreadable ({error!r}); recomputing it", stacklevel=2)
    value = compute()
    atomic_write_bytes(path, lambda handle: torch.save(value, handle))
    sidecar = json.dumps({"kind": kind, "code_version": CODE_VERSION, **parts}, indent=2, sort_keys=True, default=str)
    atomic_write_bytes(path.with_suffix(".json"), lambda handle: handle.write(sidecar.encode()))
    return value
