"""Benchmark of what a page's kernel costs around its cells: a notebook that only imports what every page imports
(the package, torch, pandas, matplotlib), executed by papermill as the book executes it, against the same
notebook in a kernel started without the book's arguments (:data:`tsinsight.runner.execute.KERNEL_ARGUMENTS`), and
in a kernel forked from a process that has imported them (:mod:`tsinsight.runner.forked`, as a serial build does).

    python benchmarks/bench_kernel.py [--repeats 5]

Prints, for each, the best and the median wall time of a whole execution and of its cell, and their ratios. The
differences are what the book saves per page (the smoke book has about 30 pages).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
import pandas as pd
import papermill

from tsinsight.runner import forked
from tsinsight.runner.execute import KERNEL_ARGUMENTS

IMPORTS = "import matplotlib.pyplot as plt\nimport pandas as pd\nimport torch\n\nfrom tsinsight import experiments"


def execute(folder: Path, arguments: list[str], kernel: str = "python3") -> tuple[float, float]:
    """Seconds of one execution of the imports notebook, and of its cell."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell(IMPORTS)]
    source, output = folder / "imports.ipynb", folder / "imports.out.ipynb"
    nbformat.write(notebook, source)
    start = time.perf_counter()
    papermill.execute_notebook(
        str(source), str(output), kernel_name=kernel, progress_bar=False, extra_arguments=arguments
    )
    total = time.perf_counter() - start
    return total, nbformat.read(output, as_version=4).cells[0].metadata.papermill.duration


def bench(repeats: int) -> pd.DataFrame:
    rows = []
    with tempfile.TemporaryDirectory(prefix="tsinsight-bench-kernel-") as folder:
        execute(Path(folder), [])  # a first execution writes the bytecode caches: no kernel pays for it
        os.environ[forked.SWITCH] = "1"
        with forked.zygote() as ready:
            if not ready:
                raise SystemExit("no zygote here (Linux only, and tsinsight installed: pip install -e .)")
            for _ in range(repeats):  # alternated, so that a slower minute of the machine falls on all three
                for kernel, arguments, name in (
                    ("plain", [], "python3"),
                    ("book", KERNEL_ARGUMENTS, "python3"),
                    ("forked", KERNEL_ARGUMENTS, forked.KERNEL_NAME),
                ):
                    total, cell = execute(Path(folder), arguments, name)
                    rows.append(dict(kernel=kernel, total_s=total, cell_s=cell, around_cell_s=total - cell))
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    runs = bench(args.repeats)
    summary = runs.groupby("kernel").agg(
        best_total_s=("total_s", "min"),
        median_total_s=("total_s", statistics.median),
        median_cell_s=("cell_s", statistics.median),
        median_around_cell_s=("around_cell_s", statistics.median),
    )
    print(summary.round(2).to_string())
    plain, book, warm = summary.loc["plain"], summary.loc["book"], summary.loc["forked"]
    print(
        f"\nper page, around the cells: {plain.median_around_cell_s:.2f} s -> {book.median_around_cell_s:.2f} s "
        f"(ratio {book.median_around_cell_s / plain.median_around_cell_s:.2f}); whole execution ratio "
        f"{book.median_total_s / plain.median_total_s:.2f}"
    )
    print(
        f"forked from a warm process: a whole execution {book.median_total_s:.2f} s -> {warm.median_total_s:.2f} s "
        f"(ratio {warm.median_total_s / book.median_total_s:.2f}), its imports {book.median_cell_s:.2f} s -> "
        f"{warm.median_cell_s:.2f} s"
    )


if __name__ == "__main__":
    main()
