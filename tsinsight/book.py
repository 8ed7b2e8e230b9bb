"""The book's runner: every notebook run of the book, executed with papermill, then the Jupyter Book build.

A *run* is a notebook and its parameters (``train.ipynb`` × each data set). Runs are executed in order into
``book/generated/`` (git-ignored), each with the profile as a parameter; the runner prints which run is
going and how long it took, and stops with the failing cell's error and a non-zero exit when one fails.

Builds are incremental. Every executed page carries a stamp of what it was computed from (:func:`run_inputs`:
the profile, the notebook, its parameters, the package's code, the data and, for a summary page, the result
tables it reads); a run whose stamp still matches is "up to date" and skipped, any other says what changed and
is executed again (``--force``: all of them). Pages of another profile, or of runs no longer in the book,
are removed before a build. With ``--workers N`` (N > 1) or ``--scheduler ADDRESS`` the runs are executed
on Dask (:mod:`tsinsight.grid`), each run after the runs it :func:`needs`.

Parameters given on the command line are checked against the notebook's own (``papermill.inspect_notebook``)
before any kernel starts: an unknown name, a value of the wrong type or one outside its domain (an unknown data
set or profile, a negative weight) is an error that says what the notebook takes. The HTML build of a partial
book (``make notebook`` in a fresh clone) writes a short "not built yet" page for every page of ``_toc.yml``
under ``generated/`` that was not executed, and says which; every other warning still fails the build.

Command line (what ``make`` calls)::

    python -m tsinsight.book build [--profile P] [--force] [--workers N | --scheduler tcp://HOST:8786]
                                                          # all runs (unless up to date), then jupyter-book build
    python -m tsinsight.book run NB [key=value ...]       # re-execute one notebook, then jupyter-book build
    python -m tsinsight.book list [--profile P]           # the runs of a profile
"""

from __future__ import annotations

import argparse
import ast
import difflib
import hashlib
import json
import math
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pandas as pd
import papermill
import yaml
from papermill.exceptions import PapermillExecutionError

from tsinsight import data, pages
from tsinsight.data import cache, registry
from tsinsight.models import CLASSIFIERS
from tsinsight.profiles import PROFILES, get_profile
from tsinsight.results import results_dir

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "tsinsight"
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
        """``generated/<notebook>/<dataset>.ipynb`` for a page per data set, else ``generated/<notebook>.ipynb``."""
        dataset = self.parameters.get("dataset")
        if dataset and self.notebook in per_dataset_notebooks():
            return GENERATED / self.notebook / f"{dataset}.ipynb"
        return GENERATED / f"{self.notebook}.ipynb"

    def __str__(self) -> str:
        args = " ".join(f"{k}={v}" for k, v in self.parameters.items())
        return f"{self.notebook}.ipynb {args}".strip()


def book_datasets() -> list[str]:
    """The data sets the book runs on: every one of ``tsinsight.data.available()`` found on this machine."""
    return [name for name in data.available() if data.is_available(name)]


def per_dataset_notebooks() -> set[str]:
    """The notebooks that the book executes once per data set (one page each); the others are one page."""
    return {run.notebook for run in book_runs(data.available()) if "dataset" in run.parameters}


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
        Run("robustness"),
        Run("reproduction"),
        Run("rerunning"),
        Run("glance"),
    ]


# The summary pages: the result tables each reads (a name prefix, "" for all) and the notebook whose runs write
# them ("*": every run before it in the book).
SUMMARIES = {
    "table3": ("accuracy_", "train"),
    "suppression_summary": ("suppression_", "suppression"),
    "robustness": ("suppression_", "suppression"),
    "reproduction": ("", "*"),
    "glance": ("", "*"),
}


def needs(run: Run, runs: list[Run]) -> list[Run]:
    """The runs of ``runs`` that must finish before ``run`` starts, all earlier in ``runs``.

    A summary page waits for the runs that write the tables it reads; any other page of a data set waits for
    that data set's ``train`` run, whose models it reuses.
    """
    earlier = runs[: runs.index(run)]
    if run.notebook in SUMMARIES:
        writer = SUMMARIES[run.notebook][1]
        return [other for other in earlier if writer in ("*", other.notebook)]
    dataset = run.parameters.get("dataset")
    if not dataset or run.notebook == "train":
        return []
    return [other for other in earlier if other.notebook == "train" and other.parameters.get("dataset") == dataset]


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


def data_fingerprint(name: str) -> str:
    """A cheap fingerprint of a data set: its source files' names, sizes and modification times and how they are
    built, else (no source found) the processed cache entry's metadata."""
    spec = registry._spec(name)
    found = spec.find(spec.roots(None))
    if found is None:
        sidecar = cache.cache_paths(name, 0, memory_mapped=spec.memory_mapped)[1]
        return _digest(sidecar) if sidecar.exists() else "missing"
    stats = {role: (path.name, path.stat().st_size, path.stat().st_mtime_ns) for role, path in found.files.items()}
    return _digest(spec.construction, json.dumps(stats, sort_keys=True))


def run_inputs(run: Run, profile: str) -> dict[str, str]:
    """What the page of ``run`` is computed from, each part as a short hash: its stamp.

    The data are the run's data set, or for a page of the whole book every data set it can find; a summary
    page (:data:`SUMMARIES`) also depends on the result tables it reads.
    """
    datasets = [run.parameters["dataset"]] if "dataset" in run.parameters else book_datasets()
    inputs = {
        "profile": profile,
        "notebook": _digest(NOTEBOOKS / f"{run.notebook}.ipynb"),
        "parameters": _digest(json.dumps(run.parameters, sort_keys=True, default=str)),
        "code": _digest(*sorted(PACKAGE.rglob("*.py"))),
        "data": _digest(*(f"{name}={data_fingerprint(name)}" for name in datasets)),
    }
    if run.notebook in SUMMARIES:
        inputs["results"] = _digest(*sorted(results_dir(profile).glob(f"{SUMMARIES[run.notebook][0]}*.csv")))
    return inputs


def _stamp(page: Path) -> dict:
    """The stamp an executed page carries (:func:`run_inputs` when it was executed); {} for a page without one."""
    try:
        return json.loads(page.read_text(encoding="utf-8"))["metadata"].get("tsinsight", {})
    except (OSError, ValueError, KeyError, AttributeError):
        return {}


def why_stale(run: Run, profile: str) -> str | None:
    """Why ``run`` must be executed (no page yet, or what changed since), or None when its page is up to date."""
    if not run.output.exists():
        return "not executed yet"
    stamp = _stamp(run.output)
    if not stamp:
        return "its page has no stamp"
    inputs = run_inputs(run, profile)
    changed = [name for name, value in inputs.items() if stamp.get(name) != value]
    return f"{', '.join(changed)} changed" if changed else None


def remove_foreign_pages(runs: list[Run], profile: str) -> None:
    """Remove the executed pages that are not this book's: of another profile, unstamped, or of no run in ``runs``."""
    ours = {run.output for run in runs}
    for page in GENERATED.rglob("*.ipynb"):
        if page not in ours or _stamp(page).get("profile") != profile:
            page.unlink()


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


def declared_parameters(notebook: str) -> dict[str, dict]:
    """The papermill parameters of ``notebooks/<notebook>.ipynb`` (name → inferred type, default, help)."""
    source = NOTEBOOKS / f"{notebook}.ipynb"
    if not source.exists():
        known = sorted(path.stem for path in NOTEBOOKS.glob("*.ipynb"))
        raise FileNotFoundError(f"no notebook {source.name} in {NOTEBOOKS}; the notebooks are: {', '.join(known)}")
    return papermill.inspect_notebook(str(source))


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


CHOICES = {"profile": sorted(PROFILES), "dataset": data.available(), "kind": sorted(CLASSIFIERS)}


def _choice(options):
    return (lambda value: isinstance(value, str) and value in options), f"one of {', '.join(options)}", options[0]


def _weight(value) -> bool:
    return value is None or (_is_number(value) and value >= 0)


def _count(value) -> bool:
    return _is_int(value) and value >= 1


def _seed(value) -> bool:
    return _is_int(value) and value >= 0


def _grid(value) -> bool:
    return isinstance(value, list) and len(value) > 0 and all(_is_number(e) and e >= 0 for e in value)


# The domain of the parameters whose name means the same in every notebook: (accepts, what it takes, an example).
DOMAINS = {
    **{name: _choice(options) for name, options in CHOICES.items()},
    "gamma": (_weight, "a finite number >= 0, or None", 1.0),
    "beta": (_weight, "a finite number >= 0, or None", 0.001),
    "runs": (lambda v: v is None or _count(v), "a positive integer, or None", 2),
    "examples": (_count, "a positive integer", 2),
    "instances": (_count, "a positive integer", 3),
    "seed": (_seed, "an integer >= 0", 0),
    "run": (_seed, "an integer >= 0", 0),
    "direction_seed": (_seed, "an integer >= 0", 0),
    **{
        name: (_grid, "a non-empty list of finite numbers >= 0", [0.0, 0.1]) for name in ("gammas", "betas", "epsilons")
    },
}


def _cli(value) -> str:
    """``value`` as written after ``name=`` on the command line (strings bare, lists without spaces)."""
    return value if isinstance(value, str) else repr(value).replace(" ", "")


def _default_domain(default, annotated: str = "None"):
    """What a parameter without a known domain takes: its annotated type (papermill's inference), else its default's."""
    typed = {"int": 0, "float": 0.0, "str": "", "bool": False, "list": [], "dict": {}}.get(annotated.split("[")[0])
    if typed is not None and not isinstance(default, type(typed)):
        accepts, takes, _ = _default_domain(typed)
        return accepts, takes, default
    if isinstance(default, bool):
        return (lambda v: isinstance(v, bool)), "True or False", default
    if isinstance(default, int):
        return _is_int, "an integer", default
    if isinstance(default, float):
        return _is_number, "a finite number", default
    if isinstance(default, str):
        return (lambda v: isinstance(v, str)), "a string", default
    if isinstance(default, (list, tuple, dict)):
        kind = type(default)
        return (lambda v: isinstance(v, kind)), f"a {kind.__name__} like {default!r}", default
    return (lambda v: True), "anything", default


def _literal(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def check_parameters(notebook: str, parameters: dict) -> None:
    """Raise ``ValueError`` naming every parameter that ``notebook`` does not declare or whose value it cannot take.

    Names and defaults come from papermill's own inference; an unknown name lists the notebook's parameters
    with their defaults, close matches first. Values are checked against :data:`DOMAINS` (data sets, profiles,
    weights, seeds, ...) or else against the type of the default.
    """
    declared = declared_parameters(notebook)
    problems = []
    for name in parameters:
        if name in declared:
            continue
        close = difflib.get_close_matches(name, list(declared), n=3, cutoff=0.6)
        ordered = close + [other for other in declared if other not in close]
        listing = "\n".join(
            f"    {other} = {declared[other]['default']}"
            + (f"  # {declared[other]['help']}" if declared[other]["help"] else "")
            for other in ordered
        )
        hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
        problems.append(f"{notebook}.ipynb has no parameter {name!r}{hint}; its parameters are:\n{listing}")
    for name, value in parameters.items():
        if name not in declared:
            continue
        default = _literal(declared[name]["default"])
        accepts, takes, example = DOMAINS.get(name) or _default_domain(default, declared[name]["inferred_type_name"])
        if name in CHOICES and isinstance(value, str):
            example = (difflib.get_close_matches(value, CHOICES[name], n=1) or [example])[0]
        if not accepts(value):
            problems.append(
                f"{name}={_cli(value)} is not valid for {notebook}.ipynb: {name} takes {takes} (default {default!r}); "
                f'fix it, e.g. make notebook NB={notebook} P="{name}={_cli(example)}"'
            )
    if problems:
        raise ValueError("\n".join(problems))


class NotebookFailed(RuntimeError):
    """A notebook of the book raised; the message holds the failing cell's error."""


def execute(run: Run, profile: str) -> float:
    """Execute ``run`` with papermill into the book's source tree; returns the seconds it took."""
    source = NOTEBOOKS / f"{run.notebook}.ipynb"
    check_parameters(run.notebook, {"profile": profile, **run.parameters})
    inputs = run_inputs(run, profile)  # before it runs: what it reads is what it was computed from
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
    pages.finish(partial, run.notebook, run.parameters, profile)  # first: it reads the title pattern the stamp replaces
    _finish_page(partial, run, profile, seconds, inputs)
    os.replace(partial, run.output)
    placeholder = run.output.with_suffix(".md")
    if _is_placeholder(placeholder):
        placeholder.unlink()
    return seconds


def _finish_page(path: Path, run: Run, profile: str, seconds: float, inputs: dict[str, str]) -> None:
    """Hide the default-parameters cell, state the runtime under the page's title and stamp it with ``inputs``."""
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata["tsinsight"] = inputs
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


def execute_all(runs: list[Run], profile: str, force: bool = False) -> list[tuple[Run, float]]:
    """Execute in order the ``runs`` that are not up to date (``force``: all), printing progress; stops at the first
    failure. Returns the runs executed and their seconds."""
    timings = []
    total = time.perf_counter()
    for index, run in enumerate(runs, 1):
        why = "forced" if force else why_stale(run, profile)
        if why is None:
            print(f"[{index}/{len(runs)}] {run}: up to date", flush=True)
            continue
        print(f"[{index}/{len(runs)}] {run} (profile {profile}): {why}, executing ...", flush=True)
        seconds = execute(run, profile)
        timings.append((run, seconds))
        print(f"[{index}/{len(runs)}] {run} done in {seconds:.1f} s", flush=True)
    print(f"{len(timings)} of {len(runs)} notebooks executed in {time.perf_counter() - total:.0f} s", flush=True)
    return timings


PLACEHOLDER_MARK = "<!-- tsinsight.book: placeholder for a page that was not executed -->"


def toc_generated_pages() -> list[str]:
    """The ``file:`` entries of ``book/_toc.yml`` under ``generated/`` (pages that ``make book`` executes)."""
    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            entry = node.get("file")
            if isinstance(entry, str) and entry.startswith("generated/"):
                found.append(entry)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load((BOOK / "_toc.yml").read_text()))
    return found


def _is_placeholder(path: Path) -> bool:
    try:
        return path.read_text(encoding="utf-8").startswith(PLACEHOLDER_MARK)
    except OSError:
        return False


def _notebook_title(notebook: str) -> str:
    source = NOTEBOOKS / f"{notebook}.ipynb"
    if source.exists():
        for cell in nbformat.read(source, as_version=4).cells:
            if cell.cell_type == "markdown":
                for line in cell.source.splitlines():
                    if line.startswith("# "):
                        return line[2:].strip()
    return notebook


def write_placeholders() -> list[str]:
    """Write a "not built yet" page for each page of the table of contents that was not executed; return them.

    Placeholders of pages that have been executed since are removed first (two sources for one page would be
    a warning). Each placeholder is written atomically, like every page.
    """
    missing = []
    for page in toc_generated_pages():
        stem = BOOK / page
        placeholder, executed = stem.with_suffix(".md"), stem.with_suffix(".ipynb")
        if executed.exists():
            if _is_placeholder(placeholder):
                placeholder.unlink()
            continue
        if placeholder.exists() and not _is_placeholder(placeholder):
            continue  # a real page written as Markdown: not ours to replace
        notebook = stem.relative_to(GENERATED).parts[0]
        text = (
            f"{PLACEHOLDER_MARK}\n# {_notebook_title(notebook)}\n\n"
            f"```{{note}}\nThis page has not been built yet. Execute it with `make notebook NB={notebook}`, "
            "or build the whole book with `make book`.\n```\n"
        )
        placeholder.parent.mkdir(parents=True, exist_ok=True)
        partial = placeholder.with_name(f".{placeholder.name}.tmp")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, placeholder)
        missing.append(page)
    return missing


def build_html() -> Path:
    """``jupyter-book build book`` with execution off and warnings as errors; returns the index page."""
    command = ["jupyter-book", "build", str(BOOK), "--warningiserror", "--keep-going"]
    executable = Path(sys.executable).parent / "jupyter-book"
    if executable.exists():
        command[0] = str(executable)
    missing = write_placeholders()
    if missing:
        print(
            f"{len(missing)} page(s) not executed yet, shown as 'not built yet': {', '.join(missing)} "
            "(make book executes them all)",
            flush=True,
        )
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
    if "dataset" in parameters or not source.exists() or notebook not in per_dataset_notebooks():
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
    build.add_argument("--force", action="store_true", help="execute every run, also those that are up to date")
    where = build.add_mutually_exclusive_group()
    where.add_argument(
        "--workers", type=int, default=1, help="runs at a time, on a local Dask cluster (default 1: no Dask)"
    )
    where.add_argument("--scheduler", help="execute the runs on this Dask cluster, e.g. tcp://HOST:8786")
    one = commands.add_parser("run", help="re-execute one notebook with new parameters, then build the HTML")
    one.add_argument("notebook", help="a notebook name, e.g. train")
    one.add_argument("assignments", nargs="*", help="key=value parameters, e.g. dataset=ford_a beta=0.001")
    one.add_argument("--profile", default=None)
    listing = commands.add_parser("list", help="list the runs of the book")
    listing.add_argument("--profile", default=None)
    args = parser.parse_args(argv)

    try:
        profile = get_profile(args.profile).name
        if args.command == "list":
            for run in book_runs():
                print(run)
        elif args.command == "build":
            if args.workers < 1:
                raise ValueError(f"--workers takes a positive number of workers, got {args.workers}")
            runs = book_runs()
            remove_foreign_pages(runs, profile)  # one profile per book: no stale pages of another
            if args.workers > 1 or args.scheduler:
                from tsinsight import grid  # Dask is imported only for a parallel build

                grid.execute_all(runs, profile, args.force, workers=args.workers, scheduler=args.scheduler)
            else:
                execute_all(runs, profile, args.force)
            if not args.no_html:
                build_html()
        else:
            parameters = parse_assignments(args.assignments)
            if "profile" in parameters and args.profile is not None and parameters["profile"] != args.profile:
                raise ValueError(
                    f'two profiles given: PROFILE={args.profile} and P="profile={parameters["profile"]}"; give one'
                )
            if "profile" in parameters:
                check_parameters(args.notebook, {"profile": parameters["profile"]})
                profile = parameters.pop("profile")
            check_parameters(args.notebook, {"profile": profile, **parameters})  # before any kernel starts
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
