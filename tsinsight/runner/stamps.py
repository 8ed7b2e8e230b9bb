"""What an executed page was computed from, and whether it is still up to date.

Every executed page carries a stamp (:func:`run_inputs`): the profile, the notebook, its parameters, the package's
code, the data and, for a page that reads result tables, those tables and the ones committed under ``results/``, each
as a short hash. A run whose stamp still matches is "up to date" and skipped; any other says what changed and is
executed again.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

from tsinsight.data import cache, registry
from tsinsight.results import results_dir
from tsinsight.runner import plan
from tsinsight.runner.plan import EVERY_TABLE, Run


def _digest(*parts) -> str:
    """A short hash of strings and files (each file's name and bytes)."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            digest.update(part.name.encode() + b"\0" + part.read_bytes())
        else:
            digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def data_stamp(name: str) -> str:
    """A stamp of a data set: its source files' names and contents (SHA-256) and how they are built, else (no source
    found) the processed cache entry's metadata. Contents, not modification times: a copy of the same mirror on
    another machine (the GPU machine of ``tools/device_run.sh``) gives the same stamp."""
    spec = registry.source_spec(name)
    found = spec.find(spec.roots(None))
    if found is None:
        sidecar = cache.cache_paths(name, 0, memory_mapped=spec.memory_mapped)[1]
        return _digest(sidecar) if sidecar.exists() else "missing"
    sums = {role: (path.name, _content_hash(path, path.stat().st_size, path.stat().st_mtime_ns))
            for role, path in found.files.items()}  # fmt: skip
    return _digest(spec.construction, json.dumps(sums, sort_keys=True))


@functools.lru_cache(maxsize=256)
def _content_hash(path: Path, size: int, mtime_ns: int) -> str:  # size and time only key the memo
    return cache.file_checksum(path)["sha256"]


def _tables_read(run: Run, profile: str) -> list[Path]:
    tables = sorted(results_dir(profile).glob("*.csv"))
    prefixes = run.reads
    return [table for table in tables if any(p == EVERY_TABLE or table.stem.startswith(p) for p in prefixes)]


def run_inputs(run: Run, profile: str) -> dict[str, str]:
    """What the page of ``run`` is computed from, each part as a short hash: its stamp.

    The data are the run's data set, or for a page of the whole book every data set it can find; a page that
    reads result tables also depends on them.
    """
    datasets = [run.parameters["dataset"]] if "dataset" in run.parameters else plan.book_datasets()
    inputs = {
        "profile": profile,
        "notebook": _digest(plan.NOTEBOOKS / f"{run.notebook}.ipynb"),
        "parameters": _digest(json.dumps(run.parameters, sort_keys=True, default=str)),
        "code": _digest(*sorted(plan.PACKAGE.rglob("*.py"))),
        "data": _digest(*(f"{name}={data_stamp(name)}" for name in datasets)),
    }
    if run.reads:
        inputs["results"] = _digest(*_tables_read(run, profile))
        # tables committed with their provenance (the report shows them)
        committed = sorted(path for path in plan.COMMITTED.glob("*/*") if path.is_file())
        if committed:
            inputs["committed"] = _digest(*committed)
    return inputs


def stamp_of(page: Path) -> dict:
    """The stamp an executed page carries (:func:`run_inputs` when it was executed); {} for a page without one."""
    try:
        return json.loads(page.read_text(encoding="utf-8"))["metadata"].get("tsinsight", {})
    except (OSError, ValueError, KeyError, AttributeError):
        return {}


def why_stale(run: Run, profile: str) -> str | None:
    """Why ``run`` must be executed (no page yet, or what changed since), or None when its page is up to date."""
    if not run.output.exists():
        return "not executed yet"
    stamp = stamp_of(run.output)
    if not stamp:
        return "its page has no stamp"
    inputs = run_inputs(run, profile)
    changed = [name for name, value in inputs.items() if stamp.get(name) != value]
    return f"{', '.join(changed)} changed" if changed else None


def remove_foreign_pages(runs: list[Run], profile: str) -> None:
    """Remove the executed pages that are not this book's: of another profile, unstamped, or of no run in ``runs``.

    The page of an optional notebook (a user's own model, executed with ``make notebook``) is kept.
    """
    ours = {run.output for run in runs}
    for page in plan.GENERATED.rglob("*.ipynb"):
        if plan.declaration(page.relative_to(plan.GENERATED).parts[0].removesuffix(".ipynb")).get("optional"):
            continue
        if page not in ours or stamp_of(page).get("profile") != profile:
            page.unlink()
