"""The reference edition: one complete build of the book, kept in the repository so that a reader needs no training.

``book/reference/<profile>/`` holds the executed pages (``pages/``, the tree of ``book/generated/``, with their
figures apart in ``figures/``, one file per image named by its hash: :func:`keep_figures_apart`), the result tables
(``results/``), the verdict table (``verdicts.csv`` and ``verdicts.json``, one row per claim) and ``provenance.json``:
the commit whose code produced it, the profile, the device, the package versions, the date, the wall time of every
page, each data set's source, substitute status and checksums, and a hash of every module and notebook.

- :func:`write` (``python -m tsinsight.book edition --profile cpu``) copies a finished build into the edition. It
  refuses a partial build (a run without its page) and a mixed one: every page must carry this profile's stamp and
  come from one version of the code, the commit it names (``HEAD`` by default, checked against the pages' stamps).
- :func:`render` (what ``make book`` does when a reference edition exists and nothing was asked to execute) puts the
  edition's pages into ``book/generated/`` wherever no page was executed locally, each with the edition's
  provenance (:func:`banner`, folded into the page's provenance by :mod:`tsinsight.runner.present`) that names the
  modules and notebooks changed since its commit. A page executed locally stays, and its provenance says so.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd

from tsinsight import claims, data, report
from tsinsight.data import cache, registry
from tsinsight.experiments.accuracy import compare_table3
from tsinsight.results import results_dir
from tsinsight.runner import execute, plan, present, stamps
from tsinsight.runner.plan import Run


def edition_dir(profile: str) -> Path:
    return plan.BOOK / "reference" / profile


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(plan.ROOT), *args], capture_output=True, text=True, check=True).stdout


def _sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()[:16]


def _tracked_sources() -> dict[str, Path]:
    """The package's modules and the notebooks, by their path in the repository."""
    modules = {f"tsinsight/{path.relative_to(plan.PACKAGE).as_posix()}": path for path in plan.PACKAGE.rglob("*.py")}
    return modules | {f"notebooks/{path.name}": path for path in plan.NOTEBOOKS.glob("*.ipynb")}


def source_hashes(commit: str | None = None) -> dict[str, str]:
    """A hash of every module of the package and every notebook, in the working tree or at ``commit``."""
    if commit is None:
        return {name: _sha(path.read_bytes()) for name, path in sorted(_tracked_sources().items())}
    listed = _git("ls-tree", "-r", "--name-only", commit, "tsinsight", "notebooks").split()
    chosen = [name for name in listed if name.endswith(".py") or name.endswith(".ipynb")]
    return {name: _sha(subprocess.run(["git", "-C", str(plan.ROOT), "show", f"{commit}:{name}"],
                                      capture_output=True, check=True).stdout) for name in sorted(chosen)}  # fmt: skip


def _code_stamp_at(commit: str) -> str:
    """The ``code`` part of a page stamp (:func:`tsinsight.runner.stamps.run_inputs`) for the package at ``commit``."""
    names = sorted(n for n in _git("ls-tree", "-r", "--name-only", commit, "tsinsight").split() if n.endswith(".py"))
    digest = hashlib.sha256()
    for name in names:  # the same bytes, in the same order, as stamps._digest of the sorted package files
        content = subprocess.run(["git", "-C", str(plan.ROOT), "show", f"{commit}:{name}"], capture_output=True,
                                 check=True).stdout  # fmt: skip
        digest.update(Path(name).name.encode() + b"\0" + content)
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def _seconds(page: Path) -> float | None:
    stamp = stamps.stamp_of(page)
    if "seconds" in stamp:
        return float(stamp["seconds"])
    for cell in nbformat.read(page, as_version=4).cells[:3]:  # pages stamped before the stamp held the runtime
        if cell.cell_type == "markdown" and "executed by `make book` in " in cell.source:
            return float(cell.source.split("executed by `make book` in ")[1].split(" s")[0])
    return None


def _datasets() -> list[dict]:
    rows = []
    for name in plan.book_datasets():
        spec = registry.source_spec(name)
        found = spec.find(spec.roots(None))
        loaded = data.load(name, progress=False)
        checksums = (
            {}
            if found is None
            else {role: entry["sha256"] for role, entry in cache.source_checksums(found.files).items()}
        )
        rows.append(dict(dataset=name, source=report.public_source(loaded.source), substitute=bool(loaded.substitute),
                         checksums=checksums))  # fmt: skip
    return rows


def verdict_table(profile: str, commit: str):
    """The verdict table of ``profile``: one row per claim, with its rule, the profile and the commit."""
    table = claims.all_claims(profile)
    return table.rename(columns={"why": "rule"}).assign(profile=profile, commit=commit)[
        ["figure", "dataset", "claim", "paper", "ours", "verdict", "rule", "difference", "profile", "commit"]
    ]


def write(profile: str, commit: str = "HEAD") -> Path:
    """Copy the finished ``profile`` build into ``book/reference/<profile>/``; refuses a partial or mixed build."""
    runs = plan.book_runs(profile=profile)
    missing = [str(run) for run in runs if not run.output.exists()]
    if missing:
        raise ValueError(f"refusing to write a partial edition: {len(missing)} run(s) have no page ({', '.join(missing[:5])}"
                         f"{', ...' if len(missing) > 5 else ''}); run make book PROFILE={profile} first")  # fmt: skip
    pages = [(run, stamps.stamp_of(run.output)) for run in runs]
    foreign = [str(run) for run, stamp in pages if stamp.get("profile") != profile]
    if foreign:
        raise ValueError(
            f"refusing to write the {profile} edition: pages of another profile or unstamped: {foreign[:5]}"
        )
    resolved = _git("rev-parse", commit).strip()
    expected = _code_stamp_at(resolved)
    mixed = [str(run) for run, stamp in pages if stamp.get("code") != expected]
    if mixed:
        raise ValueError(f"refusing to write the edition: {len(mixed)} page(s) were not executed by the code of {resolved[:12]} "
                         f"({', '.join(mixed[:3])}...): execute them again (make book PROFILE={profile})")  # fmt: skip
    verdicts = verdict_table(profile, resolved[:12])
    target = edition_dir(profile)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{profile}-", dir=target.parent))
    try:
        for run in runs:
            destination = staging / "pages" / run.output.relative_to(plan.GENERATED)
            destination.parent.mkdir(parents=True, exist_ok=True)
            page = nbformat.read(run.output, as_version=4)
            present.drop_volatile(page)
            keep_figures_apart(page, staging / "figures")
            nbformat.write(page, destination)
        (staging / "results").mkdir()
        for table in sorted(results_dir(profile).glob("*.csv")):
            shutil.copy2(table, staging / "results" / table.name)
        verdicts.to_csv(staging / "verdicts.csv", index=False)
        (staging / "verdicts.json").write_text(verdicts.to_json(orient="records", indent=1, force_ascii=False))
        provenance = dict(
            commit=resolved, profile=profile, device=report.device_name(), versions=report.package_versions(),
            written=f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", pages={str(run): _seconds(run.output) for run in runs},
            cached_at_start=max((stamp.get("cached_at_start", 0) for _, stamp in pages), default=0),
            datasets=_datasets(), sources=source_hashes(resolved),
        )  # fmt: skip
        (staging / "provenance.json").write_text(json.dumps(provenance, indent=1, ensure_ascii=False))
        previous = target.with_name(f".{profile}-previous")
        if target.exists():
            os.replace(target, previous)
        os.replace(staging, target)  # the edition is whole or the previous one stays
        shutil.rmtree(previous, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


FIGURE_KEY = "tsinsight-figures"  # an output's metadata: its images' files in the edition, by MIME type
_FIGURE_TYPES = {"image/png": "png", "image/jpeg": "jpg"}


def keep_figures_apart(page: nbformat.NotebookNode, folder: Path) -> None:
    """Move the images of ``page``'s outputs into ``folder``, one file each named by its content's hash, leaving in
    the output the file's name: a page whose figures did not change then differs from its previous version by text
    only, and a figure that did not change is not stored again (see CONTRIBUTING, "Refreshing an edition")."""
    for cell in page.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for mime, suffix in _FIGURE_TYPES.items():
                if mime not in data:
                    continue
                encoded = data.pop(mime)
                content = base64.b64decode("".join(encoded) if isinstance(encoded, list) else encoded)
                name = f"{hashlib.sha256(content).hexdigest()[:20]}.{suffix}"
                folder.mkdir(parents=True, exist_ok=True)
                if not (folder / name).exists():
                    (folder / name).write_bytes(content)
                output.setdefault("metadata", {}).setdefault(FIGURE_KEY, {})[mime] = name


def bring_figures_back(page: nbformat.NotebookNode, folder: Path) -> None:
    """Put the images that :func:`keep_figures_apart` moved into ``folder`` back into ``page``'s outputs."""
    for cell in page.cells:
        for output in cell.get("outputs", []):
            kept = output.get("metadata", {}).pop(FIGURE_KEY, {})
            for mime, name in kept.items():
                output["data"][mime] = base64.b64encode((folder / name).read_bytes()).decode("ascii")


def provenance(profile: str) -> dict | None:
    path = edition_dir(profile) / "provenance.json"
    return json.loads(path.read_text()) if path.exists() else None


def changed_since(edition: dict) -> list[str]:
    """The modules and notebooks whose content differs from the edition's commit (added and removed ones too)."""
    now, then = source_hashes(), edition["sources"]
    return sorted(name for name in set(now) | set(then) if now.get(name) != then.get(name))


def _reuse(edition: dict) -> str:
    cached = edition.get("cached_at_start")
    return (
        f" (its build began with {cached} artifacts computed by earlier builds: not a clean build's time)"
        if cached
        else ""
    )


def banner(edition: dict, run: Run, *, local: bool) -> tuple[str, list[str]]:
    """What a page of the book built from ``edition`` says about it: the visible line of its provenance and the
    Markdown lines that open its dropdown (:mod:`tsinsight.runner.present`)."""
    seconds = edition["pages"].get(str(run))
    commit, written = edition["commit"][:12], edition["written"]
    lines = [
        f"- **Edition:** `{edition['profile']}`, produced by commit `{commit}` on {edition['device']}, written {written}"
        + (f"; this page took {seconds:.0f} s" if seconds else "")
        + _reuse(edition)
        + ".",
        f"- **Its tables:** {{download}}`verdicts.csv </reference/{edition['profile']}/verdicts.csv>`, "
        f"{{download}}`verdicts.json </reference/{edition['profile']}/verdicts.json>`"
        + "".join(
            f", {{download}}`{t}.csv </reference/{edition['profile']}/results/{t}.csv>`"
            for t in run.writes
            if (edition_dir(edition["profile"]) / "results" / f"{t}.csv").exists()
        ),  # fmt: skip
    ]  # a table the page's notebook writes since the edition was made is linked after the edition's refresh
    changed = changed_since(edition)
    if changed:
        shown = ", ".join(f"`{name}`" for name in changed[:12]) + (
            f" and {len(changed) - 12} more" if len(changed) > 12 else ""
        )
        lines.append(f"- **Code changed since:** {shown}. Re-execute with `make book PROFILE={edition['profile']}`.")
    if not local:
        return f"Profile `{edition['profile']}` · reference edition of commit `{commit}` · {written[:10]}", lines
    summary = f"Profile `{edition['profile']}` · executed on this machine, not taken from the reference edition"
    lines.insert(0, "- This page was **executed on this machine**, not taken from the reference edition; its numbers "
                    "are this machine's (the reference edition's tables are linked below).")  # fmt: skip
    differences = table_differences(edition["profile"], run.writes)
    if differences:
        summary += " · **it disagrees with the reference edition**"
        lines.insert(1, "- **It disagrees with the reference edition:** " + "; ".join(differences) + ".")
    elif run.writes:
        summary += " · its tables agree with the reference edition's"
        lines.insert(1, "- **Its tables agree with the reference edition's** (timing columns aside).")
    return summary, lines


def shown(page: nbformat.NotebookNode, edition: dict, run: Run, verdicts: pd.DataFrame, *, local: bool) -> None:
    """Show ``page`` (of ``run``, in the book built from ``edition``) to a reader: its findings (from ``verdicts``,
    the edition's verdict table, for a page of the edition; judged now for a ``local`` one), its provenance with the
    edition's banner, folded, and its code folded (:func:`tsinsight.runner.present.present`)."""
    summary, first = banner(edition, run, local=local)
    present.drop_volatile(page)
    lines = execute.provenance(page, run, edition["profile"], first)
    findings = (
        present.page_findings(run, edition["profile"])
        if local
        else present.page_findings(run, edition["profile"], verdicts, edition_dir(edition["profile"]) / "results")
    )
    present.present(page, run.notebook, summary, lines, findings)


def render(profile: str) -> list[str]:
    """Fill ``book/generated/`` from the reference edition where no page of ``profile`` was executed locally, each
    page shown with its findings (from the edition's verdict table) and its provenance with the edition's banner."""
    edition = provenance(profile)
    if edition is None:
        raise ValueError(f"no reference edition for profile {profile!r} in {edition_dir(profile)}")
    verdicts = pd.read_csv(edition_dir(profile) / "verdicts.csv")
    rendered = []
    # every data set of the edition, whether or not its data are on this machine: a reader needs none to read the book
    for run in plan.book_runs(data.available(), profile=profile):
        source = edition_dir(profile) / "pages" / run.output.relative_to(plan.GENERATED)
        local = run.output.exists() and stamps.stamp_of(run.output).get("edition") is None
        page = nbformat.read(run.output if local else source, as_version=4) if (local or source.exists()) else None
        if page is None:
            continue
        bring_figures_back(page, edition_dir(profile) / "figures")
        shown(page, edition, run, verdicts, local=local)
        if not local:
            page.metadata.setdefault("tsinsight", {})["edition"] = edition["commit"]
            rendered.append(str(run))
        run.output.parent.mkdir(parents=True, exist_ok=True)
        partial = run.output.with_name(f".{run.output.name}.tmp")
        nbformat.write(page, partial)
        os.replace(partial, run.output)
    return rendered


TIMING_COLUMNS = ("seconds",)  # wall time differs from machine to machine: never a disagreement


def table_differences(profile: str, tables: list[str], rtol: float = 1e-6) -> list[str]:
    """How this machine's result ``tables`` of ``profile`` differ from the reference edition's, one phrase per table
    that differs (a table only one side has, other rows or columns, or values beyond ``rtol``); [] when they agree."""
    found = []
    for table in tables:
        mine, theirs = results_dir(profile) / f"{table}.csv", edition_dir(profile) / "results" / f"{table}.csv"
        if not mine.exists() or not theirs.exists():
            found.append(f"`{table}` {'is not in the edition' if mine.exists() else 'was not written here'}")
            continue
        a, b = (pd.read_csv(path).drop(columns=list(TIMING_COLUMNS), errors="ignore") for path in (mine, theirs))
        if list(a.columns) != list(b.columns) or len(a) != len(b):
            found.append(f"`{table}` has other rows or columns ({a.shape} here, {b.shape} in the edition)")
            continue
        columns = []
        for column in a.columns:
            x, y = a[column], b[column]
            if pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y):
                x, y = x.to_numpy(float), y.to_numpy(float)
                if not np.allclose(x, y, rtol=rtol, atol=0.0, equal_nan=True):
                    gap = np.nanmax(np.abs(x - y))
                    columns.append(f"{column} (largest difference {gap:.3g})")
            elif not x.astype(str).equals(y.astype(str)):
                columns.append(column)
        if columns:
            found.append(
                f"`{table}` in {', '.join(columns[:4])}" + (f" and {len(columns) - 4} more" if len(columns) > 4 else "")
            )
    return found


def side_by_side(profiles: tuple[str, ...] = ("cpu", "paper")) -> dict[str, pd.DataFrame] | None:
    """When the reference editions of ``profiles`` all exist, their verdict counts, their Table 3 and their provenance,
    each a table with one column (group) per edition; None when any is missing."""
    editions = {profile: provenance(profile) for profile in profiles}
    if any(value is None for value in editions.values()):
        return None
    counts, table3, origin = {}, [], {}
    for profile, kept in editions.items():
        folder = edition_dir(profile)
        verdicts = pd.read_csv(folder / "verdicts.csv")
        counts[profile] = verdicts["verdict"].value_counts().reindex(list(claims.VERDICTS.values()), fill_value=0)
        accuracies = [pd.read_csv(path) for path in sorted((folder / "results").glob("accuracy_*.csv"))]
        if accuracies:
            compared = compare_table3(pd.concat(accuracies, ignore_index=True))
            table3.append(compared.assign(edition=profile)[["label", "edition", "runs", "classifier_paper",
                                                            "classifier_ours", "tsinsight_paper", "tsinsight_ours"]])  # fmt: skip
        origin[profile] = {"commit": kept["commit"][:12], "device": kept["device"], "written": kept["written"]}
    count_table = pd.DataFrame(counts).rename_axis("verdict")
    count_table.loc["claims"] = count_table.sum()
    both = pd.concat(table3, ignore_index=True) if table3 else pd.DataFrame()
    if len(both):
        both = both.pivot_table(
            index="label", columns="edition", values=["classifier_ours", "tsinsight_ours"], sort=False
        )
    return {"counts": count_table, "table3": both, "provenance": pd.DataFrame(origin)}


def committed_table3(profile: str = "paper", folder: Path | None = None) -> dict | None:
    """Table 3 as ``tools/paper_table3.py`` committed it under ``results/<profile>/`` (or ``folder``): the paper's own
    γ, β, the profile's budget, every run; None where nothing was committed.

    Returns ``rows`` (``experiments.accuracy.paper_table3``'s, every data set), ``profile`` (theirs), ``table``
    (``compare_table3``: ours beside the paper's, in %), ``claims`` (``claims.table3_claims`` judged with their
    rules), ``provenance`` (per data set: runs, wall seconds, when it ended, the commit) and ``machine`` (what it ran
    on), and ``missing``: the data sets of this machine it does not hold yet.
    """
    folder = plan.COMMITTED / profile if folder is None else Path(folder)
    runs_path, provenance_path = folder / "table3_runs.csv", folder / "provenance.json"
    if not runs_path.exists() or not provenance_path.exists():
        return None
    rows, kept = pd.read_csv(runs_path), json.loads(provenance_path.read_text())
    judged_on = str(rows["profile"].iloc[0])
    judged = claims.table3_claims(rows, judged_on)
    origin = pd.DataFrame(kept["datasets"]).T.rename_axis("dataset")
    machine = pd.Series(kept["machine"], name="machine")
    missing = [name for name in plan.book_datasets() if name not in set(rows["dataset"])]
    return dict(
        rows=rows, profile=judged_on, table=compare_table3(rows), claims=judged, provenance=origin, machine=machine,
        missing=missing,
    )  # fmt: skip
