"""A content-keyed, atomic cache of everything worth computing once: models, attributions, result tables.

An artifact is keyed by a dict of everything it depends on (data set and source, model kind,
hyperparameters, seed, profile, the code version of what computed it). The key is hashed into a file
name; a JSON sidecar keeps the readable key next to it. Writes go to a temporary file that is renamed
into place, so an interruption never leaves a half-written artifact; an artifact that cannot be read is
recomputed, never trusted. Processes that share the directory (the book's Dask workers, jobs of a cluster)
compute an artifact once: the first takes a file lock per key (under ``.locks/``), the others wait for it and
then read what it stored. A lock dies with its process, so a computation that was killed is simply redone.

Reading an artifact never runs code. Values are stored as plain data: tensors, numpy arrays (as tensors,
dtype kept), pandas DataFrames (each column as a tensor, or a list of strings, with the dtypes and
``attrs``), numbers, strings, None and dicts / lists / tuples of these, saved with ``torch.save`` and read
with ``torch.load(weights_only=True)``, whose unpickler builds nothing but tensors and builtin containers.
A file that is not such a container (a pickle of anything else, a truncated file, another program's file)
is rejected with a warning and recomputed; it is never unpickled freely.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import torch
from filelock import FileLock

T = TypeVar("T")

# Bump when a change to the code makes earlier artifacts wrong; it is part of every key.
# "2": artifacts are stored as plain data (see the module docstring), no longer as arbitrary pickles.
CODE_VERSION = "2"
FORMAT = "tsinsight-artifact/2"
_TAG = "__tsinsight_type__"


class ArtifactWriteError(OSError):
    """The artifacts directory cannot take a new artifact (read-only, full, missing permissions)."""


def artifacts_dir() -> Path:
    """``$TSINSIGHT_ARTIFACTS`` or ``artifacts/`` at the project root."""
    env = os.environ.get("TSINSIGHT_ARTIFACTS")
    path = Path(env) if env else Path(__file__).resolve().parents[1] / "artifacts"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ArtifactWriteError(_write_help(path, error)) from error
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


# ---------------------------------------------------------------------------------------------- plain data
def encode(value: Any) -> Any:
    """``value`` as plain data that ``torch.load(weights_only=True)`` reads back; :func:`decode` inverts it.

    Raises ``TypeError`` for what has no plain form (arbitrary objects, object arrays of non-strings).
    """
    if value is None or type(value) in (bool, int, float, str) or type(value) is torch.Tensor:
        return value
    if isinstance(value, torch.Tensor):  # a subclass (a Parameter): its plain tensor
        return value.detach().as_subclass(torch.Tensor)
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufc":
            raise TypeError(f"cannot store a numpy array of dtype {value.dtype} as an artifact")
        return {_TAG: "ndarray", "data": torch.from_numpy(np.ascontiguousarray(value).copy())}
    if isinstance(value, np.generic):
        return {_TAG: "npscalar", "data": torch.from_numpy(np.asarray(value).reshape(1).copy())}
    if isinstance(value, pd.DataFrame):
        return _encode_frame(value)
    if isinstance(value, (dict, OrderedDict)):
        if not all(isinstance(key, str) for key in value):
            raise TypeError("artifacts store dicts with string keys only")
        if _TAG in value:
            raise TypeError(f"the key {_TAG!r} is reserved in artifacts")
        items = {key: encode(item) for key, item in value.items()}
        return OrderedDict(items) if isinstance(value, OrderedDict) else items
    if isinstance(value, (list, tuple)):
        items = [encode(item) for item in value]
        return {_TAG: "tuple", "items": items} if isinstance(value, tuple) else items
    raise TypeError(f"cannot store a {type(value).__name__} as an artifact: use tensors, arrays, DataFrames, dicts")


def decode(value: Any) -> Any:
    """The value that :func:`encode` turned into ``value``; ``ValueError`` when it is not such plain data."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, list):
        return [decode(item) for item in value]
    if isinstance(value, dict):
        tag = value.get(_TAG)
        if tag is None:
            items = {key: decode(item) for key, item in value.items()}
            return OrderedDict(items) if isinstance(value, OrderedDict) else items
        if tag == "ndarray":
            return value["data"].numpy()
        if tag == "npscalar":
            return value["data"].numpy()[0]
        if tag == "tuple":
            return tuple(decode(item) for item in value["items"])
        if tag == "dataframe":
            return _decode_frame(value)
    raise ValueError(f"not plain artifact data: {type(value).__name__}")


def _encode_frame(frame: pd.DataFrame) -> dict:
    if not all(isinstance(name, str) for name in frame.columns) or frame.columns.duplicated().any():
        raise TypeError("artifacts store DataFrames with unique string column names only")
    index = frame.index
    default_index = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1 and index.name is None
    return {
        _TAG: "dataframe",
        "names": list(frame.columns),
        "columns": [_encode_column(frame[name]) for name in frame.columns],
        "index": None if default_index else _encode_column(index.to_series()),
        "index_name": index.name,
        "length": len(frame),
        "attrs": encode(dict(frame.attrs)),
    }


def _encode_column(column: pd.Series) -> dict:
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
        return {"dtype": str(dtype), "data": torch.from_numpy(np.ascontiguousarray(column.to_numpy()).copy())}
    values = column.tolist()
    if all(item is None or isinstance(item, (str, bool, int, float)) for item in values):
        return {"dtype": str(dtype), "data": values}
    raise TypeError(f"cannot store the column {column.name!r} of dtype {dtype} as an artifact")


def _decode_column(column: dict) -> pd.Series:
    data, dtype = column["data"], column["dtype"]
    if isinstance(data, torch.Tensor):
        return pd.Series(data.numpy(), dtype=dtype)
    if not isinstance(data, list):
        raise ValueError("a stored DataFrame column is neither a tensor nor a list")
    return pd.Series(data, dtype=dtype)


def _decode_frame(value: dict) -> pd.DataFrame:
    if value["index"] is None:
        index = pd.RangeIndex(value["length"])
    else:
        index = pd.Index(_decode_column(value["index"]), name=value["index_name"])

    frame = pd.DataFrame(index=index)
    for name, column in zip(value["names"], value["columns"], strict=True):
        frame[name] = _decode_column(column).set_axis(index)

    frame.attrs.update(decode(value["attrs"]))
    return frame


def save(value: Any, handle) -> None:
    """Write ``value`` as plain data (:func:`encode`) to the open binary ``handle``."""
    torch.save({"format": FORMAT, "value": encode(value)}, handle)


def _save_encoded(encoded: Any, handle) -> None:
    torch.save({"format": FORMAT, "value": encoded}, handle)


def load(path: Path) -> Any:
    """Read an artifact written by :func:`save`; any other file raises (nothing in it is ever executed)."""
    stored = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(stored, dict) or stored.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} file")
    return decode(stored["value"])


# ---------------------------------------------------------------------------------------------- the cache
def _write_help(folder: Path, error: OSError) -> str:
    return (
        f"cannot write artifacts to {folder}: {error.strerror or error}. Make the directory writable, free disk "
        "space, or point TSINSIGHT_ARTIFACTS at a writable directory"
    )


def _stored(path: Path) -> tuple[bool, Any]:
    """``(True, value)`` of the artifact at ``path``; ``(False, None)`` when it is missing or unreadable."""
    if not path.exists():
        return False, None
    try:
        return True, load(path)
    except Exception as error:  # a truncated, tampered or foreign file: recompute rather than trust it
        warnings.warn(f"artifact {path} is unreadable ({error!r}); recomputing it", stacklevel=3)
        return False, None


def count(*, root: Path | None = None) -> int:
    """How many artifacts the cache holds (models, attributions, curves …; result tables aside): 0 before a clean build."""
    root = root or artifacts_dir()
    return sum(1 for _ in root.glob("*/*.pt"))


def stored(kind: str, parts: dict[str, Any], *, root: Path | None = None) -> bool:
    """Whether an artifact of ``kind`` keyed by ``parts`` is stored and readable (what :func:`cached` would return)."""
    return _stored((root or artifacts_dir()) / kind / f"{artifact_key(parts)}.pt")[0]


def cached(kind: str, parts: dict[str, Any], compute: Callable[[], T], *, root: Path | None = None) -> T:
    """Return the artifact of ``kind`` keyed by ``parts``, computing and storing it when missing or broken.

    ``compute`` must return plain data: tensors, numpy arrays, DataFrames, numbers, strings, None and
    dicts (string keys), lists or tuples of these (a state dict, a history table, a result table).
    Another process computing the same artifact is waited for, not duplicated.
    """
    root = root or artifacts_dir()
    folder = root / kind
    key = artifact_key(parts)
    path = folder / f"{key}.pt"
    found, value = _stored(path)
    if found:
        return value
    lock = FileLock(root / ".locks" / f"{kind}-{key}.lock")  # released on return, or by the system if this dies
    try:
        (root / ".locks").mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except OSError as error:
        raise ArtifactWriteError(_write_help(folder, error)) from error
    try:
        found, value = _stored(path)  # another process may have stored it while this one waited
        if found:
            return value
        value = compute()
        encoded = encode(value)  # fails on a value with no plain form before anything is written
        sidecar = json.dumps(
            {"kind": kind, "code_version": CODE_VERSION, **parts}, indent=2, sort_keys=True, default=str
        )
        try:
            atomic_write_bytes(path, lambda handle: _save_encoded(encoded, handle))
            atomic_write_bytes(path.with_suffix(".json"), lambda handle: handle.write(sidecar.encode()))
        except OSError as error:
            raise ArtifactWriteError(_write_help(folder, error)) from error
    finally:
        lock.release()
    return value
