"""The book's runner: every notebook run of the book, executed with papermill, then the Jupyter Book build.

A *run* is a notebook and its parameters (``train.ipynb`` × each data set). Runs are executed in order into
``book/generated/`` (git-ignored), each with the profile as a parameter; the runner prints which run is
going and how long it took, and stops with the failing cell's error and a non-zero exit when one fails.

Command line (what ``make`` calls)::

    python -m tsinsight.book build [--profile P]          # all runs, then jupyter-book build
    python -m tsinsight.book run NB [key=value ...]       # re-execute one notebook, then jupyter-book build
    python -m tsinsight.book list [--profile P]           # the runs of a profile
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pandas as pd
import papermill
from papermill.exceptions import PapermillExecutionError

from tsinsight import data
from tsinsight.profiles import get_profile

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
BOOK = ROOT / "book"
GENERATED = BOOK / "generated"


@dataclass(frozen=True)
class Run:
    """One executed page: ``notebooks/<notebook>.ipynb`` with ``parameters`` into ``book/generated/<output>``."""

    notebook: str
    parameters: dict = field(default_factory=dict)

    @property
    def output(self) -> Path:
        dataset = self.parameters.get("dataset")
        return GENERATED / self.notebook / f"{dataset}.ipynb" if dataset else GENERATED / f"{self.notebook}.ipynb"

    def __str__(self) -> str:
        args = " ".join(f"{k}={v}" for k, v in self.parameters.items())
        return f"{self.notebook}.ipynb {args}".strip()


def book_datasets() -> list[str]:
    """The data sets the book runs on: every one of ``tsinsight.data.available()`` found on this machine."""
    return [name for name in data.available() if data.is_available(name)]


def book_runs(datasets: list[str] | None = None) -> list[Run]:
    """Every run of the book, in execution order (later pages read the result tables of earlier ones)."""
    datasets = book_datasets() if datasets is None else datasets

    def each(notebook: str, names) -> list[Run]:
        return [Run(notebook, {"dataset": name}) for name in names if name in datasets]

    paper_order = list(datasets)
    return [
        Run("quickstart"),
        Run("datasets"),
        *each("train", paper_order),
        Run("table3"),
        *each("attributions", paper_order),
        *each("suppression", paper_order),
        Run("suppression_summary"),
        *each("ground_truth", ["synthetic_anomaly"]),
        *each("sanity", ["synthetic_anomaly"]),
        *each("jacobian", ["forest_cover"]),
        *each("fgsm", ["character_trajectories", "ecg_thorax", "uwave_gesture"]),
        *each("loss_landscape", ["forest_cover"]),
        *each("architectures", ["synthetic_anomaly"]),
        *each("instance_vs_model", ["synthetic_anomaly"]),
        *each("tradeoff", ["synthetic_anomaly"]),
        Run("reproduction"),
        Run("rerunning"),
    ]


def notebook_parameters() -> pd.DataFrame:
    """Every notebook's papermill parameters with their defaults and help (what ``make help`` prints)."""
    rows = [
        dict(
            notebook=path.stem,
            parameter=name,
            type=spec["inferred_type_name"],
            default=spec["default"],
            help=spec["help"],
        )
        for path in sorted(NOTEBOOKS.glob("*.ipynb"))
        for name, spec in papermill.inspect_notebook(str(path)).items()
    ]
    return pd.DataFrame(rows)


class NotebookFailed(RuntimeError):
    """A notebook of the book raised; the message holds the failing cell's error."""


def execute(run: Run, profile: str) -> float:
    """Execute ``run`` with papermill into the book's source tree; returns the seconds it took."""
    source = NOTEBOOKS / f"{run.notebook}.ipynb"
    if not source.exists():
        known = sorted(path.stem for path in NOTEBOOKS.glob("*.ipynb"))
        raise FileNotFoundError(f"no notebook {source.name} in {NOTEBOOKS}; the notebooks are: {', '.join(known)}")
    # Executed outside the book's sources and moved into place only when it succeeded, so that a failed or
    # interrupted run never leaves a half-executed page in the book.
    partial = BOOK / "_build" / "executing" / run.output.relative_to(GENERATED)
    partial.parent.mkdir(parents=True, exist_ok=True)
    run.output.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(source),
            str(partial),
            parameters={"profile": profile, **run.parameters},
            cwd=str(NOTEBOOKS),
            kernel_name="python3",
            progress_bar=False,
        )
    except PapermillExecutionError as error:
        raise NotebookFailed(
            f"{run} failed in cell {error.exec_count}:\n{error.ename}: {error.evalue}\n"
            + "\n".join(error.traceback[-8:])
            + f"\n(the executed notebook with the error is {partial})"
        ) from None
    seconds = time.perf_counter() - start
    _finish_page(partial, run, profile, seconds)
    os.replace(partial, run.output)
    return seconds


def _finish_page(path: Path, run: Run, profile: str, seconds: float) -> None:
    """Hide the default-parameters cell and state the runtime under the page's title."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        tags = cell.metadata.get("tags", [])
        if "parameters" in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = [*tags, "remove-cell"]
    runtime = nbformat.v4.new_markdown_cell(
        f"*This page was executed by `make book` in {seconds:.0f} s with profile `{profile}`"
        + (f" and parameters {', '.join(f'`{k}={v!r}`' for k, v in run.parameters.items())}" if run.parameters else "")
        + ".*"
    )
    notebook.cells.insert(1, runtime)
    nbformat.write(notebook, path)


def execute_all(runs: list[Run], profile: str) -> list[tuple[Run, float]]:
    """Execute ``runs`` in order, printing progress; stops at the first failure."""
    timings = []
    total = time.perf_counter()
    for index, run in enumerate(runs, 1):
        print(f"[{index}/{len(runs)}] {run} (profile {profile}) ...", flush=True)
        seconds = execute(run, profile)
        timings.append((run, seconds))
        print(f"[{index}/{len(runs)}] {run} done in {seconds:.1f} s", flush=True)
    print(f"all {len(runs)} notebooks executed in {time.perf_counter() - total:.0f} s", flush=True)
    return timings


def build_html() -> Path:
    """``jupyter-book build book`` with execution off and warnings as errors; returns the index page."""
    command = ["jupyter-book", "build", str(BOOK), "--warningiserror", "--keep-going"]
    executable = Path(sys.executable).parent / "jupyter-book"
    if executable.exists():
        command[0] = str(executable)
    print("building the book:", " ".join(command), flush=True)
    subprocess.run(command, check=True)
    index = BOOK / "_build" / "html" / "index.html"
    print(f"the book is at {index}", flush=True)
    return index


def parse_assignments(pairs: list[str]) -> dict:
    """``["beta=0.001", "dataset=ford_a"]`` → ``{"beta": 0.001, "dataset": "ford_a"}`` (Python literals or strings)."""
    parameters = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.isidentifier():
            raise ValueError(f'parameters are key=value pairs, got {pair!r} (example: P="dataset=ford_a beta=0.001")')
        try:
            parameters[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            parameters[key] = value
    return parameters


def with_default_dataset(notebook: str, parameters: dict) -> dict:
    """Name the data set a per-data-set notebook runs on even when the caller left it at its default.

    The page's place in the book (``generated/<notebook>/<dataset>.ipynb``) depends on it.
    """
    source = NOTEBOOKS / f"{notebook}.ipynb"
    if "dataset" in parameters or not source.exists():
        return parameters
    declared = papermill.inspect_notebook(str(source))
    if "dataset" not in declared:
        return parameters
    return {"dataset": ast.literal_eval(declared["dataset"]["default"]), **parameters}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tsinsight.book", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="execute every notebook of the book, then build the HTML")
    build.add_argument("--profile", default=None, help="smoke, cpu or paper (default: paper with CUDA, else cpu)")
    build.add_argument("--no-html", action="store_true", help="execute the notebooks only")
    one = commands.add_parser("run", help="re-execute one notebook with new parameters, then build the HTML")
    one.add_argument("notebook", help="a notebook name, e.g. train")
    one.add_argument("assignments", nargs="*", help="key=value parameters, e.g. dataset=ford_a beta=0.001")
    one.add_argument("--profile", default=None)
    listing = commands.add_parser("list", help="list the runs of the book")
    listing.add_argument("--profile", default=None)
    args = parser.parse_args(argv)

    profile = get_profile(args.profile).name
    try:
        if args.command == "list":
            for run in book_runs():
                print(run)
        elif args.command == "build":
            shutil.rmtree(GENERATED, ignore_errors=True)  # one profile per book: no stale pages of another
            execute_all(book_runs(), profile)
            if not args.no_html:
                build_html()
        else:
            parameters = parse_assignments(args.assignments)
            run = Run(args.notebook, with_default_dataset(args.notebook, parameters))
            print(f"{run} (profile {profile}) ...", flush=True)
            print(f"done in {execute(run, profile):.1f} s -> {run.output.relative_to(ROOT)}", flush=True)
            build_html()
    except (NotebookFailed, FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as error:
        print(f"error: the book build failed (exit {error.returncode}); see the messages above", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
