"""Executing the book's runs with papermill, and what the runner writes into every executed page.

A run is executed outside the book's sources and moved into place only when it succeeded, so that a failed or
interrupted run never leaves a half-executed page. The executed page is then read once and written once with
what the runner adds to it:

- its title, from the notebook's title pattern (``"title": "{label} — training and Table 3"`` in its metadata,
  ``{label}`` being the paper's name of the data set, any other field one of the run's parameters): a notebook
  executed once per data set needs a title per page, since the title is the page's entry in the sidebar;
- the default-parameters cell removed, and the page's stamp (:func:`tsinsight.runner.stamps.run_inputs`) with its
  runtime;
- how a reader sees it (:mod:`tsinsight.runner.present`): what it found under its title, then one folded block of
  provenance (the notebook's provenance box, the runtime, the page's source and the one ``make notebook`` line that
  executes it again), its code folded.

:func:`serially` executes runs one after another and :func:`report` prints their progress, whichever executor
produced them (:mod:`tsinsight.runner.grid` is the other).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import nbformat
import papermill
from papermill.exceptions import PapermillExecutionError

from tsinsight import artifacts, paper
from tsinsight.runner import forked, html, plan, present
from tsinsight.runner.parameters import as_cli, check_parameters
from tsinsight.runner.plan import Run
from tsinsight.runner.stamps import run_inputs, why_stale

# A page's kernel holds torch, pandas and matplotlib: millions of objects that the interpreter's collections walk
# again when the kernel exits, about 1.6 s a page here (2 cores). Frozen at exit (gc.freeze, after the page's
# last cell), they are left to the operating system: the process ends at once. Nothing is lost: the executed page
# and everything it stored were written before.
# (``__import__``: the page's namespace gets no names from it.) benchmarks/bench_kernel.py measures it.
KERNEL_ARGUMENTS = ["--IPKernelApp.exec_lines=[\"__import__('atexit').register(__import__('gc').freeze)\"]"]


class NotebookFailed(RuntimeError):
    """A notebook of the book raised; the message holds the failing cell's error."""


def execute(run: Run, profile: str, cached_at_start: int = 0) -> float:
    """Execute ``run`` with papermill into the book's source tree; returns the seconds it took.

    ``cached_at_start``: the artifacts the cache held when the build began (:func:`tsinsight.artifacts.count`), which
    the page states beside its time: a build that reads models computed by earlier builds is not a clean build.
    """
    source = plan.NOTEBOOKS / f"{run.notebook}.ipynb"
    check_parameters(run.notebook, {"profile": profile, **run.parameters})
    inputs = run_inputs(run, profile)  # before it runs: what it reads is what it was computed from
    partial = plan.BOOK / "_build" / "executing" / run.output.relative_to(plan.GENERATED)
    partial.parent.mkdir(parents=True, exist_ok=True)
    run.output.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(source),
            str(partial),
            parameters={"profile": profile, **run.parameters},
            cwd=str(plan.NOTEBOOKS),
            kernel_name=forked.kernel_name(),
            progress_bar=False,
            extra_arguments=KERNEL_ARGUMENTS,
        )
    except PapermillExecutionError as error:
        raise NotebookFailed(
            f"{run} failed in cell {error.exec_count}:\n{error.ename}: {error.evalue}\n"
            + "\n".join(error.traceback[-8:])
            + f"\n(the executed notebook with the error is {partial})"
        ) from None
    seconds = time.perf_counter() - start
    page = nbformat.read(partial, as_version=4)
    finish(page, run, profile, seconds, inputs, cached_at_start)
    nbformat.write(page, partial)
    os.replace(partial, run.output)
    html.remove_placeholder(run.output)
    return seconds


# ---- what the runner writes into an executed page ----


def page_title(notebook: nbformat.NotebookNode, parameters: dict) -> str | None:
    """The title of a page executed with ``parameters``, from its notebook's title pattern; None without one."""
    pattern = notebook.metadata.get("tsinsight", {}).get("title")
    if pattern is None:
        return None
    fields = dict(parameters)
    if "dataset" in parameters:
        fields["label"] = paper.label(parameters["dataset"])
    try:
        return pattern.format(**fields)
    except KeyError as missing:
        raise ValueError(f"the title pattern {pattern!r} needs the parameter {missing}, not given") from None


def set_title(notebook: nbformat.NotebookNode, title: str) -> None:
    """Replace the first ``# `` heading of the first Markdown cell by ``title``."""
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        for index, line in enumerate(lines):
            if line.startswith("# "):
                lines[index] = f"# {title}"
                cell.source = "\n".join(lines)
                return
        break
    raise ValueError("the notebook has no '# ' title in its first Markdown cell")


def rerun_command(notebook: str, parameters: dict, profile: str) -> str:
    """The ``make notebook`` line that executes ``notebook`` again with ``parameters`` under ``profile``."""
    assignments = " ".join(f"{name}={as_cli(value)}" for name, value in parameters.items())
    return f"make notebook NB={notebook}" + (f' P="{assignments}"' if assignments else "") + f" PROFILE={profile}"


def source_lines(notebook: str, parameters: dict, profile: str) -> list[str]:
    """Where the page comes from and how to execute it again: a download link to ``notebooks/<notebook>.ipynb`` and
    the ``make notebook`` line (Markdown lines of the page's provenance)."""
    # A leading "/" makes the path relative to the book's folder, wherever the page sits under generated/.
    link = f"{{download}}`notebooks/{notebook}.ipynb </../notebooks/{notebook}.ipynb>`"
    return [
        "",
        f"This page is the notebook {link} executed by papermill. To execute it again with the same parameters "
        "(from the repository's top folder):",
        "",
        f"```bash\n{rerun_command(notebook, parameters, profile)}\n```",
    ]


def runtime_line(seconds: float | None, cached_at_start: int = 0) -> str:
    """The page's runtime as a line of its provenance, saying when its build read artifacts of earlier builds."""
    reused = (
        f" Its build began with {cached_at_start} artifacts (models, attributions …) that earlier builds had computed, "
        "read instead of computed again: this is not a clean build's time."
        if cached_at_start
        else ""
    )
    took = f"executed by `make book` in {seconds:.0f} s." if seconds else "executed by `make book`."
    return f"- **Runtime:** {took}{reused}"


def provenance(page: nbformat.NotebookNode, run: Run, profile: str, first: list[str] = ()) -> list[str]:
    """The provenance lines of an executed ``page``: ``first`` (an edition's), the notebook's provenance box, the
    runtime and the source and re-run line."""
    stamp = page.metadata.get("tsinsight", {})
    return [
        *first,
        *present.take_header(page),
        runtime_line(stamp.get("seconds"), stamp.get("cached_at_start", 0)),
        *source_lines(run.notebook, run.parameters, profile),
    ]


def local_summary(page: nbformat.NotebookNode, profile: str) -> str:
    """The visible provenance line of a page executed on this machine: profile, commit, date."""
    when = present.executed(present.take_header(page))
    return f"Profile `{profile}` · executed on this machine" + (
        f" at commit {when['commit']} · {when['date']}" if when else ""
    )


def finish(
    page: nbformat.NotebookNode,
    run: Run,
    profile: str,
    seconds: float,
    inputs: dict[str, str],
    cached_at_start: int = 0,
) -> None:
    """Give the executed ``page`` its title, its stamp ``inputs`` with its runtime (and the artifacts its build began
    with), and show it (:mod:`tsinsight.runner.present`): what it found, its provenance folded, its code folded."""
    title = page_title(page, run.parameters)  # first: the stamp replaces the metadata that holds the pattern
    if title is not None:
        set_title(page, title)
    for cell in page.cells:
        if "parameters" in cell.metadata.get("tags", []):  # the defaults; the injected values are in the re-run line
            present.tag(cell, "remove-cell")
    # the runtime and the cache it began with are provenance, not inputs
    page.metadata["tsinsight"] = {**inputs, "seconds": round(seconds, 1), "cached_at_start": cached_at_start}
    present.drop_volatile(page)
    lines = provenance(page, run, profile)
    present.present(page, run.notebook, local_summary(page, profile), lines, present.page_findings(run, profile))


# ---- progress ----


@dataclass(frozen=True)
class Outcome:
    """What became of one run: ``started`` (about to execute), ``executed`` (``seconds``) or ``up to date``."""

    run: Run
    event: str
    why: str | None = None
    seconds: float | None = None


def serially(runs: list[Run], profile: str, force: bool = False) -> Iterator[Outcome]:
    """Execute in order the ``runs`` that are not up to date (``force``: all); stops at the first failure. Their
    kernels are forked from one warm process (:func:`tsinsight.runner.forked.zygote`), started with the first."""
    cached = artifacts.count()
    with contextlib.ExitStack() as stack:
        warm = False
        for run in runs:
            why = "forced" if force else why_stale(run, profile)
            if why is None:
                yield Outcome(run, "up to date")
                continue
            if not warm:  # only a build that executes something starts one
                stack.enter_context(forked.zygote())
                warm = True
            yield Outcome(run, "started", why)
            yield Outcome(run, "executed", why, execute(run, profile, cached))


def report(outcomes: Iterable[Outcome], total: int, profile: str) -> list[tuple[Run, float]]:
    """Print each run's progress as ``outcomes`` arrive; returns the runs executed and their seconds."""
    timings: list[tuple[Run, float]] = []
    start, finished = time.perf_counter(), 0
    for outcome in outcomes:
        if outcome.event == "started":
            print(
                f"[{finished + 1}/{total}] {outcome.run} (profile {profile}): {outcome.why}, executing ...", flush=True
            )
            continue
        finished += 1
        if outcome.event == "up to date":
            print(f"[{finished}/{total}] {outcome.run}: up to date", flush=True)
        else:
            timings.append((outcome.run, outcome.seconds))
            print(f"[{finished}/{total}] {outcome.run} done in {outcome.seconds:.1f} s ({outcome.why})", flush=True)
    print(f"{len(timings)} of {total} notebooks executed in {time.perf_counter() - start:.0f} s", flush=True)
    return timings


def execute_all(runs: list[Run], profile: str, force: bool = False) -> list[tuple[Run, float]]:
    """Execute in order the ``runs`` that are not up to date (``force``: all), printing progress."""
    return report(serially(runs, profile, force), len(runs), profile)
