"""Benchmark of ``tsinsight.data.load``: the first load (an empty cache: read the source files, split, preprocess,
write the cache) and the cached load of every data set on this machine.

    python benchmarks/bench_data.py [--mirror DIR] [--repeats 3]

The first load runs with ``$TSINSIGHT_DATA_DIR`` pointed at an empty temporary folder, so the project's own
cache is never touched; data sets that are not on this machine (no mirror copy, no download allowed) are
reported as not available. No download is attempted.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import pandas as pd

from tsinsight import data


def bench(mirror: str | None, repeats: int) -> pd.DataFrame:
    """One row per data set: first-load seconds, best cached-load seconds of ``repeats``, split sizes."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="tsinsight-bench-data-") as folder:
        previous = os.environ.get("TSINSIGHT_DATA_DIR")
        os.environ["TSINSIGHT_DATA_DIR"] = folder
        try:
            for name in data.available():
                if not data.is_available(name, mirror=mirror):
                    rows.append(dict(dataset=name, first_load_s=None, cached_load_s=None, note="not available"))
                    continue
                start = time.perf_counter()
                dataset = data.load(name, mirror=mirror, download=False, progress=False)
                first = time.perf_counter() - start
                cached = []
                for _ in range(repeats):
                    start = time.perf_counter()
                    data.load(name, mirror=mirror, download=False, progress=False)
                    cached.append(time.perf_counter() - start)
                info = dataset.describe()
                rows.append(
                    dict(
                        dataset=name,
                        first_load_s=round(first, 3),
                        cached_load_s=round(min(cached), 3),
                        sizes=f"{info['train']}/{info['val']}/{info['test']}",
                        shape=f"{info['channels']}×{info['length']}",
                        note="substitute" if info["substitute"] else "",
                    )
                )
        finally:
            if previous is None:
                os.environ.pop("TSINSIGHT_DATA_DIR")
            else:
                os.environ["TSINSIGHT_DATA_DIR"] = previous
    return pd.DataFrame(rows).set_index("dataset")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", default=None, help="mirror folder (default: $TSINSIGHT_DATA_MIRROR)")
    parser.add_argument("--repeats", type=int, default=3, help="cached loads timed per data set (the best is shown)")
    args = parser.parse_args()
    with pd.option_context("display.width", 160):
        print(bench(args.mirror, args.repeats).to_string())


if __name__ == "__main__":
    main()
