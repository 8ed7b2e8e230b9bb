"""Result tables that notebooks produce and the reproduction report reads.

A table is a pandas DataFrame stored as CSV under ``<artifacts>/results/<profile>/<name>.csv``, written
atomically: a page that is interrupted leaves the previous table, never half of one.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from tsinsight.artifacts import artifacts_dir, atomic_write_bytes


def results_dir(profile: str) -> Path:
    path = artifacts_dir() / "results" / profile
    path.mkdir(parents=True, exist_ok=True)
    return path


def save(name: str, frame: pd.DataFrame, profile: str) -> Path:
    """Store ``frame`` as the result table ``name`` of ``profile``; returns its path."""
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"a result name is a plain file name, got {name!r}")
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"save() takes a pandas DataFrame, got {type(frame).__name__}")
    path = results_dir(profile) / f"{name}.csv"
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    atomic_write_bytes(path, lambda handle: handle.write(buffer.getvalue().encode()))
    return path


def load(name: str, profile: str) -> pd.DataFrame:
    """The result table ``name`` of ``profile``; a clear error names the notebook run that is missing."""
    path = results_dir(profile) / f"{name}.csv"
    if not path.exists():
        raise FileNotFoundError(
            f"no result table {name!r} for profile {profile!r} at {path}: run the notebook that produces it first "
            f"(`make book PROFILE={profile}` runs them all)"
        )
    return pd.read_csv(path)


def load_all(prefix: str, profile: str) -> pd.DataFrame:
    """All result tables of ``profile`` whose name starts with ``prefix``, concatenated, with a ``table`` column."""
    frames = [pd.read_csv(path).assign(table=path.stem) for path in sorted(results_dir(profile).glob(f"{prefix}*.csv"))]
    if not frames:
        raise FileNotFoundError(f"no result tables starting with {prefix!r} for profile {profile!r}")
    return pd.concat(frames, ignore_index=True)
