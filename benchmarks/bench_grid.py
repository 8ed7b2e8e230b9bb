"""The book's grid under the smoke profile on this machine: serially, on a 2-worker Dask cluster, and rebuilt with
nothing changed (``python benchmarks/bench_grid.py``: about ten minutes on 2 cores).

It builds in a temporary copy of the package, the notebooks and the book's sources, with fresh artifacts for each
timed build so that both train every model, and the processed data cache warmed first; ``book/`` and
``artifacts/`` here are left untouched. Set ``TSINSIGHT_DATA_MIRROR`` as for ``make book``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIP = shutil.ignore_patterns("__pycache__", "_build", "generated")


def python(copy: Path, artifacts: Path, *args: str) -> float:
    """Run ``python *args`` in the copy with ``artifacts``; the seconds it took (its output goes to a log)."""
    env = {**os.environ, "PYTHONPATH": str(copy), "TSINSIGHT_ARTIFACTS": str(artifacts)}
    env.setdefault("TSINSIGHT_DATA_DIR", str(ROOT / "data"))
    log = copy / "bench.log"
    start = time.perf_counter()
    with open(log, "a") as handle:
        done = subprocess.run([sys.executable, *args], cwd=copy, env=env, stdout=handle, stderr=subprocess.STDOUT)
    if done.returncode:
        sys.exit(f"{' '.join(args)} failed:\n" + "".join(log.read_text().splitlines(True)[-30:]))
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench_grid_") as temp:
        copy = Path(temp)
        for folder in ("tsinsight", "notebooks", "book"):
            shutil.copytree(ROOT / folder, copy / folder, ignore=SKIP)
        build = ("-m", "tsinsight.book", "build", "--profile", "smoke", "--no-html")
        warm = "from tsinsight import book, data; [data.load(name, progress=False) for name in book.book_datasets()]"
        python(copy, copy / "warm", "-c", warm)
        serial = python(copy, copy / "serial", *build)
        parallel = python(copy, copy / "parallel", *build, "--force", "--workers", "2")
        unchanged = python(copy, copy / "parallel", *build)
    print(f"smoke book on {os.cpu_count()} cores:")
    print(f"  serial                     {serial:7.1f} s")
    print(f"  2 Dask workers             {parallel:7.1f} s   (serial / 2 workers = {serial / parallel:.2f}x)")
    print(f"  rebuild, nothing changed   {unchanged:7.1f} s")


if __name__ == "__main__":
    main()
