"""Benchmark of what a page's kernel costs around its cells: a notebook that only imports what every page imports
(the package, torch, pandas, matplotlib), executed by papermill as the book executes it, against the same
notebook in a kernel started without the book's arguments (:data:`tsinsight.runner.execute.KERNEL_ARGUMENTS`).

    python benchmarks/bench_kernel.py [--repeats 5]

Prints, for both, the best and the median wall time of a whole execution and of its cell, and their ratio. The
difference between the two is what the book saves per page (the smoke book has about 30 pages).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
import pandas as pd
import papermill

from tsinsight.runner.execute import KERNEL_ARGUMENTS

IMPORTS = "import matplotlib.pyplot as plt\nimport pandas as pd\nimport torch\n\nfrom tsinsight import experiments"


def execute(folder: Path, arguments: list[str]) -> tuple[float, float]:
    """Seconds of one execution of the imports notebook, and of its cell."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell(IMPORTS)]
    source, output = folder / "imports.ipynb", folder / "imports.out.ipynb"
    nbformat.write(notebook, source)
    start = time.perf_counter()
    papermill.execute_notebook(
        str(source), str(output), kernel_name="python3", progress_bar=False, extra_arguments=arguments
    )
    total = time.perf_counter() - start
    return total, nbformat.read(output, as_version=4).cells[0].metadata.papermill.duration


def bench(repeats: int) -> pd.DataFrame:
    rows = []
    with tempfile.TemporaryDirectory(prefix="tsinsight-bench-kernel-") as folder:
        execute(Path(folder), [])  # a first execution writes the bytecode caches: neither kernel pays for it
        for _ in range(repeats):  # alternated, so that a slower minute of the machine falls on both
            for kernel, arguments in (("plain", []), ("book", KERNEL_ARGUMENTS)):
                total, cell = execute(Path(folder), arguments)
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
    plain, book = summary.loc["plain"], summary.loc["book"]
    print(
        f"\nper page, around the cells: {plain.median_around_cell_s:.2f} s -> {book.median_around_cell_s:.2f} s "
        f"(ratio {book.median_around_cell_s / plain.median_around_cell_s:.2f}); whole execution ratio "
        f"{book.median_total_s / plain.median_total_s:.2f}"
    )


if __name__ == "__main__":
    main()
