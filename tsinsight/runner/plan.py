"""The plan of the book: which notebook runs make it, in which order, and which runs each one waits for.

Every notebook declares in its own metadata what the plan needs to know about it::

    "metadata": {"tsinsight": {
        "title": "{label} — training and Table 3",           # the page title (see :mod:`tsinsight.runner.execute`)
        "datasets": "all",                                  # one page per data set: "all", or a list of names
        "writes": ["accuracy_{dataset}", "weights_{dataset}"],  # the result tables it writes
        "reads": ["accuracy_"],                             # prefixes of the result tables it reads ("*": all)
        "claims": {"Table 3": "accuracy_"},                 # the paper's claims judged from its tables
        "findings": ["Table 3"]                             # what the page's "What this page found" box shows
    }}

``findings`` (:mod:`tsinsight.runner.present`) defaults to the figures of ``claims``; ``"all"`` (every claim, counted)
or ``{"section": "In short"}`` (a page without a claim: its section of that heading comes first) are the others.

A notebook without ``datasets`` is one page. One declared ``"optional": true`` (the page of a user's own model) is not
executed by ``make book``: its page exists once ``make notebook`` has executed it, and later builds keep it. The pages are executed in the reading order of ``book/_toc.yml``,
except that a page comes after every run whose tables it reads and a page of a data set after that data set's
``train`` run, whose models it reuses (:func:`needs`).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tsinsight import data
from tsinsight.profiles import get_profile

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "tsinsight"
NOTEBOOKS = ROOT / "notebooks"
BOOK = ROOT / "book"
# Tables computed outside the book and committed with their provenance, by profile (tools/paper_table3.py)
COMMITTED = ROOT / "results"
GENERATED = BOOK / "generated"
TRAINING = "train"  # the notebook whose models every other page of its data set reuses
EVERY_TABLE = "*"


def declaration(notebook: str) -> dict:
    """What ``notebooks/<notebook>.ipynb`` declares in its metadata (``{}`` for a notebook that declares nothing)."""
    return _declaration(NOTEBOOKS / f"{notebook}.ipynb")


@functools.cache
def _read_declaration(path: Path, mtime_ns: int) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))["metadata"].get("tsinsight", {})


def _declaration(path: Path) -> dict:
    if not path.exists():
        return {}
    return _read_declaration(path, path.stat().st_mtime_ns)


@dataclass(frozen=True)
class Run:
    """One executed page: ``notebooks/<notebook>.ipynb`` with ``parameters`` into ``book/generated/<output>``."""

    notebook: str
    parameters: dict = field(default_factory=dict)

    @property
    def per_dataset(self) -> bool:
        return "datasets" in declaration(self.notebook)

    @property
    def output(self) -> Path:
        """``generated/<notebook>/<dataset>.ipynb`` for a page per data set, else ``generated/<notebook>.ipynb``."""
        dataset = self.parameters.get("dataset")
        if dataset and self.per_dataset:
            return GENERATED / self.notebook / f"{dataset}.ipynb"
        return GENERATED / f"{self.notebook}.ipynb"

    @property
    def writes(self) -> list[str]:
        """The result tables this run writes (the notebook's ``writes`` with the run's parameters filled in)."""
        return [pattern.format(**self.parameters) for pattern in declaration(self.notebook).get("writes", [])]

    @property
    def reads(self) -> list[str]:
        """The prefixes of the result tables this run reads (``"*"``: every table)."""
        return list(declaration(self.notebook).get("reads", []))

    def __str__(self) -> str:
        args = " ".join(f"{k}={v}" for k, v in self.parameters.items())
        return f"{self.notebook}.ipynb {args}".strip()


def book_datasets() -> list[str]:
    """The data sets the book runs on: every one of ``tsinsight.data.available()`` found on this machine."""
    return [name for name in data.available() if data.is_available(name)]


def _toc_entries(keys: tuple[str, ...]) -> list[str]:
    """The entries of ``book/_toc.yml`` under ``generated/`` written with one of ``keys``, in reading order."""
    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            for key in keys:
                entry = node.get(key)
                if isinstance(entry, str) and entry.startswith("generated/"):
                    found.append(entry)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load((BOOK / "_toc.yml").read_text()))
    return found


def toc_generated_pages() -> list[str]:
    """The ``file:`` entries of ``book/_toc.yml`` under ``generated/``: the single pages ``make book`` executes."""
    return _toc_entries(("file",))


def toc_notebooks() -> list[str]:
    """The notebooks of the table of contents' executed pages (``generated/<notebook>...``), in reading order."""
    order: list[str] = []
    for entry in _toc_entries(("file", "glob")):
        notebook = entry.removeprefix("generated/").split("/")[0]
        if notebook not in order:
            order.append(notebook)
    return order


def _runs_of(notebook: str, datasets: list[str], per_dataset: list[str]) -> list[Run]:
    declared = declaration(notebook).get("datasets")
    if declared is None:
        return [Run(notebook)]
    names = per_dataset if declared == "all" else [name for name in declared if name in datasets]
    return [Run(notebook, {"dataset": name}) for name in names]


def book_runs(datasets: list[str] | None = None, profile: str | None = None) -> list[Run]:
    """Every run of the book, in execution order: the table of contents' order, each run after those it needs.

    ``datasets`` (default :func:`book_datasets`) are the data sets there are; a ``profile`` with its own ``datasets``
    (``smoke``) runs the pages made once per data set on those of them only.
    """
    datasets = book_datasets() if datasets is None else datasets
    chosen = get_profile(profile).datasets if profile is not None else None
    per_dataset = datasets if chosen is None else [name for name in datasets if name in chosen]
    notebooks = [notebook for notebook in toc_notebooks() if not declaration(notebook).get("optional")]
    pending = [run for notebook in notebooks for run in _runs_of(notebook, datasets, per_dataset)]
    ordered: list[Run] = []
    while pending:  # a stable topological sort: the first pending run whose needs are all placed goes next
        ready = next(
            (run for run in pending if all(other in ordered for other in _needs(run, pending + ordered))), None
        )
        if ready is None:
            raise ValueError(f"the notebooks' reads and writes form a cycle among {', '.join(map(str, pending))}")
        ordered.append(ready)
        pending.remove(ready)
    return ordered


def without(runs: list[Run], notebooks: list[str]) -> list[Run]:
    """``runs`` (in order) less those of ``notebooks`` and every run that waits for one left out (:func:`needs`)."""
    unknown = sorted(set(notebooks) - {run.notebook for run in runs})
    if unknown:
        raise ValueError(f"no notebook of the book is called {', '.join(unknown)} (see: python -m tsinsight.book list)")
    left_out: list[Run] = []
    for run in runs:
        if run.notebook in notebooks or any(other in left_out for other in needs(run, runs)):
            left_out.append(run)
    return [run for run in runs if run not in left_out]


def _reads_from(reader: Run, writer: Run) -> bool:
    return any(prefix == EVERY_TABLE or table.startswith(prefix) for prefix in reader.reads for table in writer.writes)


def _reuses_models_of(run: Run, other: Run) -> bool:
    return (
        run.per_dataset
        and run.notebook != TRAINING
        and other.notebook == TRAINING
        and other.parameters.get("dataset") == run.parameters.get("dataset")
    )


def _needs(run: Run, runs: list[Run]) -> list[Run]:
    return [other for other in runs if other != run and (_reads_from(run, other) or _reuses_models_of(run, other))]


def needs(run: Run, runs: list[Run]) -> list[Run]:
    """The runs of ``runs`` that must finish before ``run`` starts, all earlier in ``runs``.

    A page waits for the runs that write the tables it reads; any other page of a data set waits for that data
    set's ``train`` run, whose models it reuses.
    """
    return _needs(run, runs[: runs.index(run)])


def claim_sources() -> list[tuple[str, str]]:
    """The paper's figures and tables judged by the claims, each with the prefix of the result tables it is
    judged from, in the book's order (the notebooks' ``claims`` declarations)."""
    notebooks = dict.fromkeys(run.notebook for run in book_runs(data.available()))
    return [
        (figure, prefix) for notebook in notebooks for figure, prefix in declaration(notebook).get("claims", {}).items()
    ]
